"""The admin is where people correct milestones; every save there locks what it touched.

Change forms carry the row's updated_at as it was when the form opened: a save made on an
older copy (a merge or another person changed the row since) is refused with a message,
never written over what happened in between.
"""

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from tracker import services
from tracker.models import (
    Conflict,
    DeadlineRevision,
    Deployment,
    Evidence,
    Feed,
    IngestJob,
    Milestone,
    Party,
    Source,
    Withdrawal,
)

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


def evidence_list(evidence) -> str:
    items = [(e.get_field_display(), e.source, e.quote) for e in evidence]
    if not items:
        return "—"
    return format_html(
        "<ul>{}</ul>",
        format_html_join("", "<li><b>{}</b> ({}): “{}”</li>", items),
    )


class MilestoneInline(admin.TabularInline):
    model = Milestone
    form = FreshEditForm
    extra = 0
    fields = ("kind", "title", "date", "date_precision", "status", "locked", "seen_updated_at")
    readonly_fields = ("locked",)
    show_change_link = True


class DeadlineRevisionInline(admin.TabularInline):
    model = DeadlineRevision
    extra = 0
    fields = ("deadline", "precision", "phrase", "source", "stated_on", "recorded_at")
    readonly_fields = ("recorded_at",)
    ordering = ("stated_on", "recorded_at")


class ConflictInline(admin.TabularInline):
    model = Conflict
    fk_name = "withdrawal"
    extra = 0
    fields = ("field", "current_value", "proposed_value", "reason", "state", "source", "quote")
    readonly_fields = ("field", "current_value", "proposed_value", "reason", "source", "quote")
    can_delete = False


@admin.register(Withdrawal)
class WithdrawalAdmin(SimpleHistoryAdmin):
    list_display = (
        "__str__",
        "status_display",
        "deadline_display",
        "personnel_display",
        "announced_on",
        "completed_on",
        "updated_at",
    )
    list_filter = ("party", "host")
    search_fields = ("party__name", "party__code", "host__name", "host__code", "summary")
    list_select_related = ("party", "host")
    inlines = [DeadlineRevisionInline, MilestoneInline, ConflictInline]
    form = FreshEditForm
    readonly_fields = ("deadline", "deadline_precision", "locked_fields", "evidence_display")
    fieldsets = (
        (None, {"fields": ("party", "host", "summary", "seen_updated_at")}),
        (
            "Dates",
            {
                "fields": (
                    ("announced_on", "announced_precision"),
                    ("started_on", "started_precision"),
                    ("deadline", "deadline_precision"),
                    ("completed_on", "completed_precision"),
                    "cancelled_on",
                ),
                "description": "The deadline changes through its revisions below.",
            },
        ),
        ("Force", {"fields": (("personnel", "personnel_qualifier"), "personnel_withdrawn")}),
        ("Provenance", {"fields": ("locked_fields", "evidence_display")}),
    )

    @admin.display(description="status")
    def status_display(self, obj: Withdrawal) -> str:
        return obj.get_status().label

    @admin.display(description="evidence")
    def evidence_display(self, obj: Withdrawal) -> str:
        return evidence_list(obj.evidence.select_related("source").filter(milestone=None))

    def save_model(self, request, obj, form, change):
        # Whatever a person changes here is theirs: merging will only suggest changes to it.
        edited = [name for name in form.changed_data if name in MERGED_FIELDS]
        if change and edited:
            obj.locked_fields = sorted(set(obj.locked_fields) | set(edited))
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
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()
        if formset.model is Conflict:
            services.withdrawals_recount(withdrawal_ids=[form.instance.pk])
        if formset.model is DeadlineRevision:
            withdrawal = form.instance
            services.withdrawal_apply_current_deadline(
                withdrawal=withdrawal, revisions=list(withdrawal.deadline_revisions.all())
            )
            withdrawal.save(update_fields=["deadline", "deadline_precision", "updated_at"])


@admin.register(Milestone)
class MilestoneAdmin(SimpleHistoryAdmin):
    list_display = ("title", "withdrawal", "kind", "date", "date_precision", "status", "locked")
    list_editable = ("date", "status")
    list_filter = (
        "kind",
        "status",
        "locked",
        ("withdrawal__host", admin.RelatedOnlyFieldListFilter),
        ("withdrawal__party", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("title", "description", "withdrawal__party__name", "withdrawal__host__name")
    date_hierarchy = "date"
    list_select_related = ("withdrawal__party", "withdrawal__host")
    form = FreshEditForm
    readonly_fields = ("locked", "evidence_display")
    fields = (
        "withdrawal",
        "kind",
        "title",
        ("date", "date_precision"),
        "status",
        "description",
        "locked",
        "evidence_display",
        "seen_updated_at",
    )

    @admin.display(description="evidence")
    def evidence_display(self, obj: Milestone) -> str:
        return evidence_list(obj.evidence.select_related("source"))

    def save_model(self, request, obj, form, change):
        services.milestone_save_by_person(milestone=obj)


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
class SourceAdmin(KeepsCorroborationCounts, admin.ModelAdmin):
    list_display = ("__str__", "publisher", "published_on", "origin", "fetched_at")
    list_filter = ("origin", "publisher")
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
class EvidenceAdmin(KeepsCorroborationCounts, admin.ModelAdmin):
    list_display = ("withdrawal", "field", "value", "quote", "source")
    list_filter = ("field",)
    list_select_related = ("withdrawal__party", "withdrawal__host", "source")
    search_fields = ("quote",)
    readonly_fields = [f.name for f in Evidence._meta.fields]


@admin.register(Conflict)
class ConflictAdmin(KeepsCorroborationCounts, admin.ModelAdmin):
    list_display = ("withdrawal", "field", "current_value", "proposed_value", "reason", "state")
    list_filter = ("state", "reason")
    list_editable = ("state",)
    list_select_related = ("withdrawal__party", "withdrawal__host")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.withdrawals_recount(withdrawal_ids=[obj.withdrawal_id])


@admin.register(Party)
class PartyAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind")
    list_filter = ("kind",)
    search_fields = ("name", "code")


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):
    list_display = ("party", "host", "personnel", "since")
    list_select_related = ("party", "host")


@admin.register(Feed)
class FeedAdmin(admin.ModelAdmin):
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
class IngestJobAdmin(admin.ModelAdmin):
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
