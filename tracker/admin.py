"""The admin is where people correct the record: one screen per withdrawal, in the site's words.

Every save here is a person's edit: it locks what it touched against merging, and it carries a
short note that the history keeps beside the person's name (tracker/history.py).

Change forms carry the row's updated_at as it was when the form opened: a save made on an
older copy (a merge or another person changed the row since) is refused with a message,
never written over what happened in between.
"""

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from simple_history.admin import SimpleHistoryAdmin

from tracker import history, permissions, services
from tracker.display import value_words
from tracker.models import (
    Channel,
    Conflict,
    DeadlineRevision,
    Delivery,
    Deployment,
    Evidence,
    Feed,
    IngestJob,
    Milestone,
    Party,
    Source,
    Watch,
    Withdrawal,
    describe_date,
)
from tracker.status import Status, status_filter

# The sidebar takes a quarter of a 1280 px screen that the withdrawal's facts need; the home
# page and the breadcrumbs lead everywhere it did.
admin.site.enable_nav_sidebar = False
admin.site.site_header = "Withdrawal tracker"
admin.site.site_title = "Withdrawal tracker admin"
admin.site.index_title = "Records"

# Fields of a withdrawal that merging fills in; a person's edit of any of them locks it.
MERGED_FIELDS = (
    "announced_on",
    "announced_precision",
    "started_on",
    "started_precision",
    "completed_on",
    "completed_precision",
    "cancelled_on",
    "personnel",
    "personnel_qualifier",
    "personnel_withdrawn",
    "summary",
)
# A long sentence list folds away; the first sentence stays in view.
EVIDENCE_FOLD_CHARS = 220
NOTE_HELP = (
    "Why, and on whose word: “AFP, 9 July: the handover was on the 8th”. Kept in the history."
)


def field_label(name: str) -> str:
    return capfirst(Withdrawal._meta.get_field(name).verbose_name)


def date_words(value: dt.date | None, precision: str = "day") -> str:
    return describe_date(value, precision) or "—"


def source_line(source: Source | None) -> str:
    if source is None:
        return "no source"
    when = describe_date(source.published_on, "day") if source.published_on else "undated"
    return f"{source.publisher or 'unknown publisher'}, {when}"


def evidence_sentences(evidence: list[Evidence]) -> str:
    """Each sentence with its source and date; folded when there is more than a glance of it."""
    if not evidence:
        return mark_safe('<span class="muted">No sentence yet.</span>')
    items = format_html_join(
        "",
        '<li><q>{}</q> <span class="evidence-source">— <a href="{}">{}</a>: {}</span></li>',
        (
            (
                e.quote,
                reverse("admin:tracker_source_change", args=[e.source_id]),
                source_line(e.source),
                e.source.title,
            )
            for e in evidence
        ),
    )
    listed = format_html('<ul class="evidence-list">{}</ul>', items)
    if len(evidence) == 1 and len(evidence[0].quote) <= EVIDENCE_FOLD_CHARS:
        return listed
    first = evidence[0].quote
    if len(first) > EVIDENCE_FOLD_CHARS:
        first = first[:EVIDENCE_FOLD_CHARS].rsplit(" ", 1)[0] + "…"
    return format_html(
        '<details class="evidence"><summary><q>{}</q> <span class="muted">({} sentence{})</span>'
        "</summary>{}</details>",
        first,
        len(evidence),
        "" if len(evidence) == 1 else "s",
        listed,
    )


def lock_words(lock: history.Lock | None) -> str:
    if lock is None:
        return "locked (who and why are not recorded)"
    when = f"{lock.when:%-d %B %Y, %H:%M}"
    note = f": “{lock.note}”" if lock.note else ""
    return f"locked by {lock.person}, {when}{note}"


def is_editor(request) -> bool:
    # The Editors role (tracker/permissions.py): staff who hold it edit facts here.
    return request.user.is_staff and request.user.has_perm(permissions.EDIT_FACTS)


class EditorsRead:
    """Editors see what the facts rest on (sources, parties, evidence, conflicts)."""

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or is_editor(request)

    def has_module_permission(self, request):
        return super().has_module_permission(request) or is_editor(request)


class EditorsEdit(EditorsRead):
    """Editors add and change facts: withdrawals, their milestones and deadline revisions."""

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) or is_editor(request)

    def has_add_permission(self, request, *args):
        return super().has_add_permission(request, *args) or is_editor(request)


class NamedAutocompleteSelect(AutocompleteSelect):
    """An autocomplete that says what to do while empty: select2 names its box after the
    shown text, and an empty box has no name for a screen reader."""

    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = super().build_attrs(base_attrs, extra_attrs)
        attrs["data-placeholder"] = f"Type to find a {self.field.verbose_name}"
        return attrs


class LabelledFields:
    """Every input gets an accessible name, including those in table rows (inline and list
    forms), where the column header is the only visible label."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request):
            kwargs.setdefault(
                "widget",
                NamedAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using")),
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None:
            formfield.widget.attrs.setdefault("aria-label", capfirst(formfield.label or ""))
        return formfield


class FreshEditForm(forms.ModelForm):
    """Optimistic concurrency for a change form (services.record_check_fresh)."""

    seen_updated_at = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.updated_at:
            self.fields["seen_updated_at"].initial = self.instance.updated_at.isoformat()

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk:
            return cleaned
        try:
            seen = dt.datetime.fromisoformat(cleaned.get("seen_updated_at") or "")
        except ValueError:
            raise forms.ValidationError(
                "This form does not say which version of the record it was opened on: "
                "reload the page and make your change again."
            ) from None
        try:
            # The admin saves in one transaction: the row stays locked until it commits.
            services.record_check_fresh(model=type(self.instance), pk=self.instance.pk, seen=seen)
        except services.StaleEdit as exc:
            raise forms.ValidationError(str(exc), code="stale") from None
        return cleaned


class NotedForm(FreshEditForm):
    """A change form that asks for the note the history keeps."""

    history_note = forms.CharField(
        label="Note on this change",
        max_length=500,
        help_text=NOTE_HELP,
        widget=forms.TextInput(attrs={"class": "vLargeTextField", "autocomplete": "off"}),
    )


class NotedChanges:
    """Wraps each save of the change form in the person's note (tracker/history.py)."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        note = request.POST.get("history_note", "") if request.method == "POST" else ""
        with history.attributed_to(note=note):
            return super().changeform_view(request, object_id, form_url, extra_context)


class NoteActionForm(ActionForm):
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": "why (kept in the history)"}),
    )


def action_note(modeladmin, request) -> str | None:
    note = request.POST.get("note", "").strip()
    if not note:
        modeladmin.message_user(
            request, "Say why in the note next to the action: it is kept in the history.",
            level=messages.ERROR,
        )  # fmt: skip
        return None
    return note


# ---------------------------------------------------------------------------------------
# List filters


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Status.choices

    def queryset(self, request, queryset):
        if self.value() in Status.values:
            return queryset.filter(status_filter(frozenset({Status(self.value())})))
        return queryset


class YesNoFilter(admin.SimpleListFilter):
    condition: Q

    def lookups(self, request, model_admin):
        return [("yes", "yes"), ("no", "no")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(self.condition)
        if self.value() == "no":
            return queryset.exclude(self.condition)
        return queryset


class HasConflictsFilter(YesNoFilter):
    title = "open conflicts"
    parameter_name = "has_conflicts"
    condition = Q(open_conflict_count__gt=0)


class LockedFieldsFilter(YesNoFilter):
    title = "locked by a person"
    parameter_name = "locked"
    condition = ~Q(locked_fields=[])


class DateRangeFilter(admin.FieldListFilter):
    """From / to date inputs (ISO dates) on one date field: "deadlines in 2025"."""

    template = "admin/tracker/date_range_filter.html"

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.lookup_since = f"{field_path}__gte"
        self.lookup_until = f"{field_path}__lte"
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = f"{field.verbose_name} between"
        self.errors = []
        self.values = {}
        for lookup in (self.lookup_since, self.lookup_until):
            raw = self.used_parameters.get(lookup, "")
            raw = (raw[-1] if raw else "") if isinstance(raw, list) else raw
            self.used_parameters[lookup] = raw
            if not raw:
                continue
            try:
                self.values[lookup] = dt.date.fromisoformat(raw)
            except ValueError:
                self.errors.append(f"“{raw}” is not a date like 2025-09-30.")

    def expected_parameters(self):
        return [self.lookup_since, self.lookup_until]

    def queryset(self, request, queryset):
        return queryset.filter(**self.values)

    def choices(self, changelist):
        # One "choice": the form, with the other filters kept as hidden fields.
        kept = {
            key: value
            for key, value in changelist.get_filters_params().items()
            if key not in self.expected_parameters()
        }
        yield {
            "since_name": self.lookup_since,
            "until_name": self.lookup_until,
            "since": self.used_parameters.get(self.lookup_since, ""),
            "until": self.used_parameters.get(self.lookup_until, ""),
            "kept": [(k, v[-1] if isinstance(v, list) else v) for k, v in kept.items()],
            "errors": self.errors,
            "field": self.field_path,
            "query": changelist.get_query_string(remove=self.expected_parameters()),
        }


# ---------------------------------------------------------------------------------------
# The withdrawal: one screen with its facts, deadline revisions, milestones and conflicts


class DeadlineRevisionInline(EditorsEdit, LabelledFields, admin.StackedInline):
    model = DeadlineRevision
    extra = 0
    fields = (("deadline", "precision", "phrase"), ("stated_on", "said_by"))
    readonly_fields = ("said_by",)
    ordering = ("stated_on", "recorded_at")
    verbose_name = "deadline revision"
    verbose_name_plural = "Deadline revisions (the latest stated is the deadline)"
    classes = ("compact-inline",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("source", "recorded_by")

    @admin.display(description="Said by")
    def said_by(self, obj: DeadlineRevision) -> str:
        if obj.source_id:
            return format_html(
                '<a href="{}">{}</a>',
                reverse("admin:tracker_source_change", args=[obj.source_id]),
                source_line(obj.source),
            )
        if obj.recorded_by_id:
            return history.person_name(obj.recorded_by)
        return "—" if obj.pk else "you"


class MilestoneInlineForm(FreshEditForm):
    unlock = forms.BooleanField(required=False, label="Unlock: let sources update it again")

    class Meta:
        model = Milestone
        fields = ("kind", "title", "date", "date_precision", "status")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only a locked milestone can be unlocked; elsewhere the row stays out of the way.
        if not self.instance.locked:
            self.fields["unlock"].widget = forms.HiddenInput()


class MilestoneInline(EditorsEdit, LabelledFields, admin.StackedInline):
    model = Milestone
    form = MilestoneInlineForm
    extra = 0
    fieldsets = (
        (None, {"fields": (("kind", "title"), ("date", "date_precision", "status"))}),
        (None, {"fields": ("evidence_display", "about", "unlock", "seen_updated_at")}),
    )
    readonly_fields = ("evidence_display", "about")
    show_change_link = True
    classes = ("milestones", "compact-inline")

    def get_queryset(self, request):
        # Each row shows its sentences: one query for all of them, not one per milestone.
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch("evidence", queryset=Evidence.objects.select_related("source"))
            )
        )

    def get_fieldsets(self, request, obj=None):
        # Who locked which milestone, read once for the whole inline.
        self.locks = history.locks_of(obj) if obj is not None else {}
        return super().get_fieldsets(request, obj)

    @admin.display(description="Evidence")
    def evidence_display(self, obj: Milestone) -> str:
        if obj.pk is None:
            return "A milestone you add is yours: say on whose word in the note."
        return evidence_sentences(list(obj.evidence.all()))

    @admin.display(description="Record")
    def about(self, obj: Milestone) -> str:
        if obj.pk is None:
            return "—"
        public = reverse("tracker:withdrawal-detail", args=[obj.withdrawal_id])
        lock = ""
        if obj.locked:
            words = lock_words(getattr(self, "locks", {}).get(("milestone", obj.pk)))
            lock = format_html('<span class="locked">{}</span> · ', capfirst(words))
        return format_html('{}<a href="{}#milestones-heading">on the public page</a>', lock, public)


class ConflictInline(EditorsRead, LabelledFields, admin.StackedInline):
    model = Conflict
    fk_name = "withdrawal"
    extra = 0
    fields = (("fact", "record_says", "proposed"), "said", "state")
    readonly_fields = ("fact", "record_says", "proposed", "said")
    can_delete = False
    verbose_name_plural = "Conflicts (a source disagrees with the record)"
    classes = ("compact-inline",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("source", "milestone")

    def has_add_permission(self, request, obj=None):
        return False  # conflicts come from sources

    @admin.display(description="Fact")
    def fact(self, obj: Conflict) -> str:
        if obj.milestone_id:
            return f"{obj.milestone}"
        return obj.field.replace("_", " ")

    @admin.display(description="The record says")
    def record_says(self, obj: Conflict) -> str:
        edited = " (edited by a person)" if obj.reason == Conflict.Reason.LOCKED else ""
        return f"{value_words(obj.current_value) or 'nothing'}{edited}"

    @admin.display(description="The source says")
    def proposed(self, obj: Conflict) -> str:
        return value_words(obj.proposed_value)

    @admin.display(description="Source")
    def said(self, obj: Conflict) -> str:
        return format_html(
            '<a href="{}">{}</a>{}',
            reverse("admin:tracker_source_change", args=[obj.source_id]),
            source_line(obj.source),
            format_html(": <q>{}</q>", obj.quote) if obj.quote else "",
        )


class WithdrawalForm(NotedForm):
    unlock_fields = forms.MultipleChoiceField(
        label="Unlock",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Let sources update these fields again.",
    )

    class Meta:
        model = Withdrawal
        fields = ("party", "host", *MERGED_FIELDS)
        widgets = {"summary": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        labels = {
            name: capfirst(Withdrawal._meta.get_field(name).verbose_name)
            for name in MERGED_FIELDS + ("deadline",)
        }
        self.fields["unlock_fields"].choices = [
            (name, labels.get(name, name)) for name in self.instance.locked_fields
        ]


@admin.register(Withdrawal)
class WithdrawalAdmin(NotedChanges, EditorsEdit, LabelledFields, SimpleHistoryAdmin):
    form = WithdrawalForm
    list_display = (
        "__str__",
        "status_display",
        "deadline_words",
        "personnel_words",
        "announced_words",
        "completed_words",
        "open_conflict_count",
        "updated_at",
    )
    list_filter = (
        StatusFilter,
        ("party__kind", admin.ChoicesFieldListFilter),
        LockedFieldsFilter,
        HasConflictsFilter,
        ("deadline", DateRangeFilter),
    )
    search_fields = (
        "party__name",
        "party__code",
        "party__aliases",
        "host__name",
        "host__code",
        "host__aliases",
        "summary",
        "evidence__source__title",
    )
    search_help_text = "Party, host (or another name for them), summary or a source's title."
    list_select_related = ("party", "host")
    autocomplete_fields = ("party", "host")
    inlines = [DeadlineRevisionInline, MilestoneInline, ConflictInline]
    readonly_fields = ("deadline_display_line", "locks_display", "evidence_display")
    action_form = NoteActionForm
    actions = ["unlock_all_fields"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not obj.locked_fields:
            # Nothing to unlock: the Locks section only says so.
            fieldsets = [
                (
                    name,
                    {**options, "fields": [f for f in options["fields"] if f != "unlock_fields"]},
                )
                for name, options in fieldsets
            ]
        return fieldsets

    fieldsets = (
        ("Facts", {"fields": (("party", "host"), "summary", "seen_updated_at")}),
        (
            "Dates",
            {
                "fields": (
                    ("announced_on", "announced_precision"),
                    ("started_on", "started_precision"),
                    "deadline_display_line",
                    ("completed_on", "completed_precision"),
                    "cancelled_on",
                ),
            },
        ),
        ("Personnel", {"fields": (("personnel", "personnel_qualifier"), "personnel_withdrawn")}),
        ("Locks", {"fields": ("locks_display", "unlock_fields")}),
        ("Evidence for the facts above", {"fields": ("evidence_display",)}),
    )

    @admin.display(description="Status")
    def status_display(self, obj: Withdrawal) -> str:
        return obj.get_status().label

    @admin.display(description="Deadline", ordering="deadline")
    def deadline_words(self, obj: Withdrawal) -> str:
        return obj.deadline_display or "—"

    @admin.display(description="Personnel", ordering="personnel")
    def personnel_words(self, obj: Withdrawal) -> str:
        return obj.personnel_display or "—"

    @admin.display(description="Announced", ordering="announced_on")
    def announced_words(self, obj: Withdrawal) -> str:
        return obj.announced_display or "—"

    @admin.display(description="Completed", ordering="completed_on")
    def completed_words(self, obj: Withdrawal) -> str:
        return obj.completed_display or "—"

    @admin.display(description="Deadline")
    def deadline_display_line(self, obj: Withdrawal) -> str:
        words = obj.deadline_display or "none known"
        return f"{words} (the latest revision stated, below)"

    @admin.display(description="Locked")
    def locks_display(self, obj: Withdrawal) -> str:
        if not obj.locked_fields:
            return "Nothing: sources may fill and update every field."
        locks = history.locks_of(obj)
        return format_html(
            '<ul class="locks">{}</ul>',
            format_html_join(
                "",
                "<li><b>{}</b>: {}</li>",
                (
                    (
                        capfirst(Withdrawal._meta.get_field(name).verbose_name),
                        lock_words(locks.get(name)),
                    )
                    for name in obj.locked_fields
                ),
            ),
        )

    @admin.display(description="Sentences")
    def evidence_display(self, obj: Withdrawal) -> str:
        evidence = list(obj.evidence.select_related("source").filter(milestone=None))
        by_fact: dict[str, list[Evidence]] = {}
        for item in evidence:
            by_fact.setdefault(capfirst(item.get_field_display()), []).append(item)
        if not by_fact:
            return "No sentence yet."
        return format_html(
            '<dl class="evidence-facts">{}</dl>',
            format_html_join(
                "",
                "<dt>{}</dt><dd>{}</dd>",
                ((f, evidence_sentences(e)) for f, e in by_fact.items()),
            ),
        )

    def save_model(self, request, obj, form, change):
        # Whatever a person changes here is theirs: merging will only suggest changes to it.
        edited = [name for name in form.changed_data if name in MERGED_FIELDS]
        unlock = form.cleaned_data.get("unlock_fields") or []
        if change:
            services.withdrawal_set_locked_fields(withdrawal=obj, lock=edited, unlock=unlock)
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for instance in instances:
            if isinstance(instance, Milestone):
                services.milestone_save_by_person(milestone=instance)
            elif isinstance(instance, DeadlineRevision):
                instance.recorded_by = request.user
                instance.save()
            else:
                instance.save()
        if formset.model is Milestone:
            unlocked = [f.instance for f in formset.forms if f.cleaned_data.get("unlock")]
            services.milestones_set_locked(milestones=unlocked, locked=False)
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()
        if formset.model is Conflict:
            services.withdrawals_recount(withdrawal_ids=[form.instance.pk])
        if formset.model is DeadlineRevision:
            withdrawal = form.instance
            if services.withdrawal_apply_current_deadline(
                withdrawal=withdrawal, revisions=list(withdrawal.deadline_revisions.all())
            ):
                withdrawal.save(update_fields=["deadline", "deadline_precision", "updated_at"])

    @admin.action(description="Unlock every field of the selected withdrawals")
    def unlock_all_fields(self, request, queryset):
        note = action_note(self, request)
        if note is None:
            return
        count = 0
        with history.attributed_to(note=note):
            for withdrawal in queryset:
                unlock = list(withdrawal.locked_fields)
                if services.withdrawal_set_locked_fields(withdrawal=withdrawal, unlock=unlock):
                    withdrawal.save(update_fields=["locked_fields", "updated_at"])
                    count += 1
        self.message_user(request, f"Unlocked the fields of {count} withdrawal(s).")

    def history_view(self, request: HttpRequest, object_id, extra_context=None) -> HttpResponse:
        withdrawal = get_object_or_404(
            Withdrawal.objects.select_related("party", "host"), pk=object_id
        )
        if not self.has_view_or_change_permission(request, withdrawal):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": f"History of {withdrawal}",
            "subtitle": None,
            "opts": self.model._meta,
            "object": withdrawal,
            "entries": history.withdrawal_history(withdrawal),
            "public_url": reverse("tracker:withdrawal-detail", args=[withdrawal.pk]),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/tracker/withdrawal/story.html", context)


# ---------------------------------------------------------------------------------------
# Milestones on their own: lists to act on many at once


class MilestoneForm(NotedForm):
    class Meta:
        model = Milestone
        fields = ("withdrawal", "kind", "title", "date", "date_precision", "status", "description")


@admin.register(Milestone)
class MilestoneAdmin(NotedChanges, EditorsEdit, LabelledFields, SimpleHistoryAdmin):
    form = MilestoneForm
    list_display = ("title", "withdrawal", "kind", "date_words", "status", "locked")
    list_filter = (
        "kind",
        "status",
        "locked",
        ("date", DateRangeFilter),
        ("withdrawal__host", admin.RelatedOnlyFieldListFilter),
        ("withdrawal__party", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = (
        "title",
        "description",
        "withdrawal__party__name",
        "withdrawal__party__aliases",
        "withdrawal__host__name",
        "withdrawal__host__aliases",
        "evidence__source__title",
    )
    search_help_text = "Title, party, host (or another name for them) or a source's title."
    list_select_related = ("withdrawal__party", "withdrawal__host")
    autocomplete_fields = ("withdrawal",)
    readonly_fields = ("locked_display", "evidence_display")
    action_form = NoteActionForm
    actions = ["mark_done", "lock", "unlock"]
    fields = (
        "withdrawal",
        ("kind", "title"),
        ("date", "date_precision", "status"),
        "description",
        "locked_display",
        "evidence_display",
        "seen_updated_at",
    )

    @admin.display(description="Date", ordering="date")
    def date_words(self, obj: Milestone) -> str:
        return obj.date_display or "—"

    @admin.display(description="Locked")
    def locked_display(self, obj: Milestone) -> str:
        if not obj.locked:
            return "No: sources may update it."
        return capfirst(lock_words(history.locks_of(obj.withdrawal_id).get(("milestone", obj.pk))))

    @admin.display(description="Evidence")
    def evidence_display(self, obj: Milestone) -> str:
        return evidence_sentences(list(obj.evidence.select_related("source")))

    def save_model(self, request, obj, form, change):
        services.milestone_save_by_person(milestone=obj)

    def acted(self, request, count: int, words: str) -> None:
        self.message_user(request, f"{count} milestone(s) {words}.")

    @admin.action(description="Mark the selected milestones done")
    def mark_done(self, request, queryset):
        if (note := action_note(self, request)) is not None:
            with history.attributed_to(note=note):
                self.acted(
                    request, services.milestones_mark_done(milestones=queryset), "marked done"
                )

    @admin.action(description="Lock the selected milestones against sources")
    def lock(self, request, queryset):
        if (note := action_note(self, request)) is not None:
            with history.attributed_to(note=note):
                count = services.milestones_set_locked(milestones=queryset, locked=True)
            self.acted(request, count, "locked")

    @admin.action(description="Unlock the selected milestones")
    def unlock(self, request, queryset):
        if (note := action_note(self, request)) is not None:
            with history.attributed_to(note=note):
                count = services.milestones_set_locked(milestones=queryset, locked=False)
            self.acted(request, count, "unlocked")


class KeepsCorroborationCounts:
    """Admin edits that change evidence or conflicts recount the withdrawals they touch."""

    def withdrawal_ids(self, queryset) -> set[int]:
        return set(queryset.values_list("withdrawal_id", flat=True))

    def delete_model(self, request, obj):
        ids = self.withdrawal_ids(self.model.objects.filter(pk=obj.pk))
        super().delete_model(request, obj)
        services.withdrawals_recount(withdrawal_ids=ids)

    def delete_queryset(self, request, queryset):
        ids = self.withdrawal_ids(queryset)
        super().delete_queryset(request, queryset)
        services.withdrawals_recount(withdrawal_ids=ids)


@admin.register(Source)
class SourceAdmin(KeepsCorroborationCounts, EditorsRead, LabelledFields, admin.ModelAdmin):
    list_display = ("__str__", "publisher", "published_words", "origin", "fetched_at")
    list_filter = ("origin", ("published_on", DateRangeFilter), "publisher")
    search_fields = ("title", "url", "publisher", "text")
    date_hierarchy = "published_on"
    # Read-mostly: the text and its hash are what evidence offsets point into.
    readonly_fields = ("text", "content_hash", "origin", "fetched_at", "url")
    fields = (
        "title",
        "url",
        "publisher",
        "published_on",
        "language",
        "origin",
        "fetched_at",
        "content_hash",
        "text",
    )

    @admin.display(description="Published", ordering="published_on")
    def published_words(self, obj: Source) -> str:
        return date_words(obj.published_on)

    def has_add_permission(self, request):
        return False

    def withdrawal_ids(self, queryset) -> set[int]:
        # Deleting a source takes its evidence and the conflicts it raised with it.
        sources = list(queryset.values_list("pk", flat=True))
        return set(
            Evidence.objects.filter(source__in=sources).values_list("withdrawal_id", flat=True)
        ) | set(Conflict.objects.filter(source__in=sources).values_list("withdrawal_id", flat=True))

    def save_model(self, request, obj, form, change):
        # A corrected publisher changes who the story counts for.
        obj.publisher_key = Source.publisher_key_for(
            publisher=obj.publisher, url=obj.url, text=obj.text
        )
        super().save_model(request, obj, form, change)
        services.withdrawals_recount(
            withdrawal_ids=obj.evidence.values_list("withdrawal_id", flat=True)
        )


@admin.register(Evidence)
class EvidenceAdmin(KeepsCorroborationCounts, EditorsRead, LabelledFields, SimpleHistoryAdmin):
    list_display = ("withdrawal", "field", "value", "quote", "source")
    list_filter = ("field",)
    list_select_related = ("withdrawal__party", "withdrawal__host", "source")
    search_fields = ("quote", "source__title")
    readonly_fields = [f.name for f in Evidence._meta.fields]


@admin.register(Conflict)
class ConflictAdmin(KeepsCorroborationCounts, EditorsRead, LabelledFields, admin.ModelAdmin):
    list_display = ("withdrawal", "field", "current_value", "proposed_value", "reason", "state")
    list_filter = ("state", "reason")
    list_editable = ("state",)
    list_select_related = ("withdrawal__party", "withdrawal__host")
    search_fields = ("withdrawal__party__name", "withdrawal__host__name", "source__title", "quote")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.withdrawals_recount(withdrawal_ids=[obj.withdrawal_id])


@admin.register(Party)
class PartyAdmin(EditorsRead, LabelledFields, admin.ModelAdmin):
    list_display = ("name", "code", "kind")
    list_filter = ("kind",)
    search_fields = ("name", "code", "aliases")

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # The host field's autocomplete offers states only (Withdrawal.host's limit).
        if request.GET.get("field_name") == "host":
            queryset = queryset.filter(kind=Party.Kind.STATE)
        return queryset, may_have_duplicates


@admin.register(Deployment)
class DeploymentAdmin(LabelledFields, admin.ModelAdmin):
    list_display = ("party", "host", "personnel", "since")
    list_select_related = ("party", "host")
    autocomplete_fields = ("party", "host")


@admin.register(Feed)
class FeedAdmin(LabelledFields, admin.ModelAdmin):
    list_display = (
        "__str__",
        "active",
        "interval_minutes",
        "last_polled_at",
        "next_poll_at",
        "last_error",
    )
    list_filter = ("active",)
    search_fields = ("url", "title")
    # What polling writes is shown, not edited: a hand-set ETag would hide new entries.
    readonly_fields = ("etag", "last_modified", "last_polled_at", "last_error", "created_at")
    actions = ["poll_now"]

    @admin.action(description="Poll the selected feeds now")
    def poll_now(self, request, queryset):
        # Never in the request: a slow or hostile feed would hold a web worker. Each poll
        # is a task; its entries and errors show on the feed and the ingest jobs.
        queued, problems = services.feeds_poll_now(
            feed_ids=list(queryset.values_list("pk", flat=True))
        )
        self.message_user(
            request,
            f"{queued} feed poll(s) queued: new entries appear as ingest jobs, "
            "and errors on the feed, in a moment.",
        )
        for problem in problems:
            self.message_user(request, problem, level=messages.WARNING)


@admin.register(IngestJob)
class IngestJobAdmin(LabelledFields, admin.ModelAdmin):
    list_display = (
        "pk",
        "kind",
        "label",
        "state",
        "attempts",
        "queued_at",
        "duration_display",
        "error",
    )
    list_filter = ("state", "kind", ("feed", admin.RelatedOnlyFieldListFilter))
    search_fields = ("label", "url", "error")
    list_select_related = ("source",)
    readonly_fields = [f.name for f in IngestJob._meta.fields]
    actions = ["requeue"]

    def has_add_permission(self, request):
        return False  # jobs come from submissions, feeds and the ingest command

    @admin.display(description="took")
    def duration_display(self, obj: IngestJob) -> str:
        took = obj.duration
        return f"{took.total_seconds():.1f} s" if took is not None else "—"

    @admin.action(description="Queue the selected failed jobs again")
    def requeue(self, request, queryset):
        count = services.ingest_jobs_retry(job_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} job(s) queued again.")


# ---------------------------------------------------------------------------------------
# Alerts: staff see watches, channels and the delivery log; people manage their own under
# My alerts. Deliveries are never edited here (their state is the sending machinery's).


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("address", "kind", "user", "active", "digest", "consecutive_failures")
    list_filter = ("kind", "active", "digest")
    search_fields = ("address", "user__username", "user__email")
    list_select_related = ("user",)
    readonly_fields = ("secret", "consecutive_failures", "paused_reason")


@admin.register(Watch)
class WatchAdmin(admin.ModelAdmin):
    list_display = ("label", "user", "lead_days", "paused", "created_at")
    list_filter = ("kind", "paused")
    search_fields = ("user__username", "query")
    list_select_related = ("user", "withdrawal__party", "withdrawal__host", "party")
    raw_id_fields = ("withdrawal",)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("event", "channel", "state", "attempts", "last_error", "created_at")
    list_filter = ("state", "event__kind")
    list_select_related = ("event", "channel")
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
