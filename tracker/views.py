"""Pages: parse the request, ask the models, render.

Status and time left always come from the model (`Withdrawal.get_status`, `get_countdown`),
read against one clock per request; the scripts only tick countdowns and draw.
"""

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django import forms
from django.contrib.admin.views.decorators import staff_member_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.views.decorators.http import require_http_methods, require_safe

from tracker import selectors, services
from tracker.models import (
    Conflict,
    Evidence,
    IngestJob,
    Milestone,
    Party,
    Precision,
    Withdrawal,
    describe_date,
)
from tracker.status import (
    COMPLETED_STATUSES,
    SECTION_BY_KEY,
    SECTION_BY_STATUS,
    SECTIONS,
    STATUS_WORDS,
    Section,
    Status,
)

# ---------------------------------------------------------------------------------------
# Derived values for display. They read the model's fields and methods only; the status
# rules themselves stay on the model.


def status_glyph(status: Status) -> str:
    return SECTION_BY_STATUS[status].glyph


def time_words(withdrawal: Withdrawal, status: Status, countdown) -> str:
    """The model's countdown in words; a completion with no deadline says when it ended."""
    if status in COMPLETED_STATUSES and withdrawal.deadline is None:
        return f"completed {withdrawal.completed_display}"
    return countdown.describe()


def personnel_words(withdrawal: Withdrawal) -> str:
    """Withdrawn against the force at the start, where known: "7,000 of 12,000 withdrawn"."""
    if withdrawal.completed_on:
        size = withdrawal.personnel_display
        return f"all withdrawn ({size})" if size else "all withdrawn"
    if withdrawal.personnel_withdrawn is not None and withdrawal.personnel:
        return f"{withdrawal.personnel_withdrawn:,} of {withdrawal.personnel_display} withdrawn"
    if withdrawal.personnel is not None:
        return f"{withdrawal.personnel_display} at the start"
    if withdrawal.personnel_withdrawn is not None:
        return f"{withdrawal.personnel_withdrawn:,} withdrawn"
    return ""


@dataclass
class Row:
    withdrawal: Withdrawal
    status: Status
    section: Section
    countdown_text: str = ""
    deadline_iso: str = ""
    milestones: list = field(default_factory=list)
    source_count: int = 0
    publisher_count: int = 0
    last_evidence_at: dt.datetime | None = None
    now: dt.datetime | None = None
    url: str = ""
    # How many rows of this row's section the filters keep (for the section heading).
    section_total: int = 0

    @property
    def glyph(self) -> str:
        return status_glyph(self.status)

    @property
    def deadline_words(self) -> str:
        return self.withdrawal.deadline_phrase

    @property
    def personnel_words(self) -> str:
        return personnel_words(self.withdrawal)

    @property
    def updated_words(self) -> str:
        ago = timesince(self.last_update, self.now)
        return "just now" if ago.startswith("0\xa0") else f"{ago} ago"

    @property
    def milestones_done(self) -> int:
        return sum(1 for m in self.milestones if m.status == Milestone.State.DONE)

    @property
    def last_update(self) -> dt.datetime:
        moments = [self.withdrawal.updated_at, self.last_evidence_at]
        moments += [m.updated_at for m in self.milestones]
        return max(moment for moment in moments if moment is not None)

    @property
    def version(self) -> str:
        # Changes whenever anything the card shows changes, apart from the ticking clock.
        return "|".join(
            [
                self.status.value,
                self.last_update.isoformat(),
                str(self.source_count),
                str(len(self.milestones)),
                self.countdown_text if self.countdown_text.startswith("completed") else "",
            ]
        )


def row_add_countdown(row: Row) -> None:
    # Only the rows shown need their time in words; the status was enough to sort the rest.
    countdown = row.withdrawal.get_countdown(now=row.now)
    ticking = countdown.seconds is not None and row.withdrawal.deadline is not None
    row.countdown_text = time_words(row.withdrawal, row.status, countdown)
    row.deadline_iso = row.withdrawal.deadline.isoformat() if ticking else ""


# ---------------------------------------------------------------------------------------
# Dashboard


@dataclass
class DashboardState:
    """What the dashboard shows for one query string: the filters as read, the page's rows,
    the tab counts and the page."""

    params: dict
    rows: list[Row]
    counts: dict
    page: object
    now: dt.datetime
    parties: list[Party]
    # What the query string asked that no filter reads, per parameter (empty: nothing).
    problem: dict = field(default_factory=dict)

    def query_string(self, **overrides) -> str:
        """These filters as a URL query, with some values replaced (None drops one)."""
        params = {name: self.params.get(name) for name in ("party", "host", "status", "q")}
        params.update(overrides)
        return urlencode({name: value for name, value in params.items() if value})

    def tabs(self) -> list[dict]:
        current = self.params.get("status") or ""
        tabs = [
            {
                "key": "",
                "label": "All",
                "count": sum(self.counts.values()),
                "query": self.query_string(status=None),
                "current": current == "",
            }
        ]
        for section in SECTIONS:
            tabs.append(
                {
                    "key": section.key,
                    "label": section.label,
                    "count": self.counts.get(section.key, 0),
                    "query": self.query_string(status=section.key),
                    "current": current == section.key,
                }
            )
        return tabs

    # The filter menus: parties that deploy (or host) any withdrawal, and the status words.
    @property
    def party_menu(self) -> list[tuple[str, str]]:
        return [(p.code, p.name) for p in self.parties if p.deploys_any]

    @property
    def host_menu(self) -> list[tuple[str, str]]:
        return [(p.code, p.name) for p in self.parties if p.hosts_any]

    @property
    def status_menu(self) -> list[tuple[str, str]]:
        return [(section.key, section.label) for section in SECTIONS] + [
            (word, Status(word).label.capitalize())
            for word in STATUS_WORDS
            if word not in SECTION_BY_KEY
        ]


PAGE_SIZE = 50


def dashboard_params(request: HttpRequest) -> dict:
    """The filters as the form shows them back: one value each (a list joins with commas)."""
    return {
        name: ",".join(request.GET.getlist(name)).strip()
        for name in ("party", "host", "status", "q")
        if request.GET.get(name)
    }


def dashboard_state(request: HttpRequest, now: dt.datetime) -> DashboardState:
    """The dashboard's rows for the request's filters, in a fixed number of queries.

    1. Validate the filters (the API's FilterSet; party names may cost one query).
    2. Count each status among the rows the other filters keep: one aggregate, which gives
       the tabs and the number of pages.
    3. Read the page's rows, annotated, filtered and ordered in SQL (1 query), and their
       milestones (1 query). The parties for the menus: 1 query.
    """
    request.tracker_now = now
    params = dashboard_params(request)
    parties = selectors.filter_parties()
    number = page_number(request)
    try:
        filterset = selectors.withdrawal_filterset(request.GET, request=request)
        if number is None:
            raise selectors.FilterError({"page": ["A whole number from 1."]})
    except selectors.FilterError as exc:
        return DashboardState(
            params=params, rows=[], counts={}, page=None, now=now, parties=parties,
            problem=exc.fields,
        )  # fmt: skip
    data = filterset.form.cleaned_data
    unfiltered = selectors.withdrawal_list(
        filterset=filterset, now=now, skip=("status", "ordering")
    )
    status_counts = selectors.withdrawal_status_counts(unfiltered, now)
    wanted = frozenset(data["status"]) if data.get("status") else None
    counts = selectors.section_totals(status_counts)
    kept = selectors.section_totals(status_counts, wanted)

    paginator = Paginator(range(sum(kept.values())), PAGE_SIZE, allow_empty_first_page=True)
    if number > paginator.num_pages:
        raise Http404("There is no such page of withdrawals.")
    page = paginator.page(number)
    listed = selectors.withdrawal_list(filterset=filterset, now=now, skip=("ordering",))
    url = detail_url_maker()
    rows = []
    for withdrawal in selectors.withdrawal_page(listed, (number - 1) * PAGE_SIZE, PAGE_SIZE):
        status = Status(withdrawal.status)
        row = Row(
            withdrawal=withdrawal,
            status=status,
            section=SECTION_BY_STATUS[status],
            now=now,
            url=url(withdrawal.pk),
            milestones=withdrawal.page_milestones,
            source_count=withdrawal.source_count,
            publisher_count=withdrawal.publisher_count,
            last_evidence_at=withdrawal.last_evidence_at,
        )
        row.section_total = kept[row.section.key]
        row_add_countdown(row)
        rows.append(row)
    return DashboardState(
        params=params, rows=rows, counts=counts, page=page, now=now, parties=parties
    )


def page_number(request: HttpRequest) -> int | None:
    raw = request.GET.get("page") or "1"
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) < 10**9 else None


def detail_url_maker():
    # One reverse() per page instead of one per row: a measurable share of the render.
    marker = 987654321
    pattern = reverse("tracker:withdrawal-detail", args=[marker]).replace(str(marker), "{}")
    return pattern.format


def timeline_data(rows: list[Row]) -> list[dict]:
    """What the chart draws: a bar from announcement to deadline or completion per row."""
    data = []
    for row in rows:
        withdrawal = row.withdrawal
        start = withdrawal.announced_on or withdrawal.started_on or withdrawal.deadline
        end = withdrawal.completed_on or withdrawal.deadline
        if start is None and end is None:
            continue
        data.append(
            {
                "id": withdrawal.pk,
                "label": f"{withdrawal.party.name} → {withdrawal.host.name}",
                "start": (start or end).isoformat(),
                "end": (end or start).isoformat(),
                "open_ended": end is None,
                "status": row.status.value,
                "status_label": row.status.label,
                "section": row.section.key,
                "announced": withdrawal.announced_display,
                "deadline": row.deadline_words,
                "completed": withdrawal.completed_display,
                "countdown": row.countdown_text,
                "url": row.url,
                "milestones": [
                    {
                        "date": milestone.date.isoformat(),
                        "when": milestone.date_display,
                        "title": milestone.title,
                        "state": milestone.get_status_display(),
                    }
                    for milestone in row.milestones
                    if milestone.date is not None
                ],
            }
        )
    return data


def bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "400.html", {"message": message}, status=400)


@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    state = dashboard_state(request, now)
    # A filter that names nothing is answered on the dashboard itself, with what is accepted
    # and the menus to pick from, never a bare error page.
    return render(
        request,
        "tracker/dashboard.html",
        {
            "state": state,
            "rows": state.rows,
            "now": now,
            "timeline": timeline_data(state.rows),
            "poll_url": dashboard_json_url(request),
        },
        status=400 if state.problem else 200,
    )


def problem_message(problem: dict) -> str:
    return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in problem.items())


def dashboard_json_url(request: HttpRequest) -> str:
    query = request.GET.urlencode()
    return reverse("tracker:dashboard-json") + (f"?{query}" if query else "")


@require_safe
def dashboard_json(request: HttpRequest) -> HttpResponse:
    """The dashboard's current rows for the same filters; the page patches what changed."""
    now = timezone.now()
    state = dashboard_state(request, now)
    if state.problem:
        return JsonResponse(
            {"error": problem_message(state.problem), "fields": state.problem}, status=400
        )
    list_html = render_to_string(
        "tracker/_withdrawal_list.html", {"state": state, "rows": state.rows}, request=request
    )
    return JsonResponse(
        {
            "generated_at": now.isoformat(),
            "rows": [{"id": row.withdrawal.pk, "version": row.version} for row in state.rows],
            "counts": {tab["key"] or "all": tab["count"] for tab in state.tabs()},
            "list_html": list_html,
            "timeline": timeline_data(state.rows),
        }
    )


# ---------------------------------------------------------------------------------------
# Detail


@dataclass
class Corroboration:
    field: str
    value: str
    sources: set = field(default_factory=set)
    publishers: set = field(default_factory=set)


def value_words(value: str) -> str:
    """A stated value for people: ISO dates as "15 September 2024", counts with commas."""
    if value.isdigit():
        return f"{int(value):,}"
    try:
        return describe_date(dt.date.fromisoformat(value), Precision.DAY)
    except ValueError:
        return value


def corroboration_of(evidence: list[Evidence]) -> list[Corroboration]:
    """How many distinct sources (and publishers) state each fact, value by value."""
    found: dict[tuple[str, str], Corroboration] = {}
    for item in evidence:
        if item.field == Evidence.Field.MILESTONE:
            key = (evidence_label(item), "")
        else:
            key = (item.get_field_display(), value_words(item.value))
        entry = found.setdefault(key, Corroboration(field=key[0], value=key[1]))
        entry.sources.add(item.source_id)
        # Counted by who really published it: a syndicated wire story is one publisher.
        if item.source.publisher_key:
            entry.publishers.add(item.source.publisher_key)
    return sorted(found.values(), key=lambda c: (-len(c.sources), c.field, c.value))


def timeline_entries(withdrawal: Withdrawal, milestones: list[Milestone], now) -> list[dict]:
    """Milestones in date order, with today and the deadline placed among them."""
    entries = [
        {
            "kind": "milestone",
            "date": milestone.date,
            "when": milestone.date_display or "date unknown",
            "milestone": milestone,
        }
        for milestone in milestones
    ]
    if withdrawal.deadline:
        entries.append(
            {
                "kind": "deadline",
                "date": withdrawal.deadline,
                "when": withdrawal.deadline_phrase,
            }
        )
    today = Withdrawal.today(now)
    entries.append({"kind": "today", "date": today, "when": describe_date(today, "day")})
    # Undated milestones go last; on a tie today comes after what happened that day.
    rank = {"milestone": 0, "deadline": 1, "today": 2}
    entries.sort(key=lambda e: (e["date"] is None, e["date"] or dt.date.min, rank[e["kind"]]))
    return entries


def evidence_label(item: Evidence) -> str:
    if item.milestone_id:
        title = item.milestone.title
        return f"milestone “{title[:57] + '…' if len(title) > 60 else title}”"
    return item.get_field_display()


def evidence_paragraphs(evidence: list[Evidence]) -> tuple[dict, dict[int, int]]:
    """Each source's paragraphs once, with every evidence sentence in them highlighted.

    Several facts often rest on one sentence: overlapping spans merge into one highlight
    that lists them all. Returns ({source: [paragraph]}, {evidence id: anchor id}).
    """
    paragraphs: dict = {}
    for item in evidence:
        before, _, after = item.source.sentence_context(item.start, item.end)
        key = (item.start - len(before), item.end + len(after))
        paragraphs.setdefault(item.source, {}).setdefault(key, []).append(item)
    by_source: dict = {}
    anchors: dict[int, int] = {}
    for source, found in paragraphs.items():
        for (start, end), items in sorted(found.items(), key=lambda pair: pair[0]):
            items.sort(key=lambda e: (e.start, e.end))
            clusters: list[dict] = []
            for item in items:
                if clusters and item.start < clusters[-1]["end"]:
                    cluster = clusters[-1]
                    cluster["end"] = max(cluster["end"], item.end)
                else:
                    cluster = {"start": item.start, "end": item.end, "labels": [], "id": item.pk}
                    clusters.append(cluster)
                label = evidence_label(item)
                if label not in cluster["labels"]:
                    cluster["labels"].append(label)
                anchors[item.pk] = cluster["id"]
            segments = []
            cursor = start
            for number, cluster in enumerate(clusters, start=1):
                segments.append({"text": source.text[cursor : cluster["start"]]})
                segments.append(
                    {
                        "text": source.text[cluster["start"] : cluster["end"]],
                        "mark": True,
                        "number": number if len(clusters) > 1 else None,
                        "id": cluster["id"],
                    }
                )
                cursor = cluster["end"]
            segments.append({"text": source.text[cursor:end]})
            by_source.setdefault(source, []).append({"segments": segments, "clusters": clusters})
    return by_source, anchors


def personnel_points(
    withdrawal: Withdrawal, evidence: list[Evidence], anchors: dict[int, int]
) -> list[dict]:
    """Force sizes the sources state, dated by publication, plus the withdrawn count."""
    points = []
    for item in evidence:
        if item.field != Evidence.Field.PERSONNEL or not item.value.isdigit():
            continue
        points.append(
            {
                "date": item.source.published_on,
                "value": int(item.value),
                "value_words": f"{int(item.value):,}",
                "what": "force stated",
                "source": item.source,
                "evidence_id": anchors.get(item.pk, item.pk),
            }
        )
    if withdrawal.personnel_withdrawn is not None:
        points.append(
            {
                "date": withdrawal.updated_at.date(),
                "value": withdrawal.personnel_withdrawn,
                "value_words": f"{withdrawal.personnel_withdrawn:,}",
                "what": "withdrawn so far",
                "source": None,
                "evidence_id": None,
            }
        )
    points.sort(key=lambda p: (p["date"] is None, p["date"] or dt.date.min))
    return points


@require_safe
def withdrawal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    now = timezone.now()
    try:
        withdrawal = selectors.withdrawal_detail(pk)
    except Withdrawal.DoesNotExist:
        raise Http404("There is no such withdrawal.") from None
    evidence = list(withdrawal.evidence.all())
    milestones = list(withdrawal.milestones.all())
    revisions = list(withdrawal.deadline_revisions.all())
    # Grouped by state (open among them), newest first within each.
    conflicts = sorted(withdrawal.conflicts.all(), key=lambda conflict: conflict.state)
    evidence_by_source, anchors = evidence_paragraphs(evidence)
    status = withdrawal.get_status(now=now)
    countdown = withdrawal.get_countdown(now=now)
    current_revision = services.current_revision(revisions) if revisions else None
    milestones_done = sum(1 for m in milestones if m.status == Milestone.State.DONE)
    points = personnel_points(withdrawal, evidence, anchors)
    return render(
        request,
        "tracker/withdrawal_detail.html",
        {
            "withdrawal": withdrawal,
            "status": status,
            "glyph": status_glyph(status),
            "countdown": countdown,
            "countdown_text": time_words(withdrawal, status, countdown),
            "ticking": countdown.seconds is not None and withdrawal.deadline is not None,
            "deadline_words": withdrawal.deadline_phrase,
            "progress": withdrawal.personnel_progress(),
            "personnel_words": personnel_words(withdrawal),
            "milestones": milestones,
            "milestones_done": milestones_done,
            "timeline": timeline_entries(withdrawal, milestones, now),
            "revisions": revisions,
            "current_revision": current_revision,
            "personnel_points": points,
            "personnel_chart": [
                {"date": p["date"].isoformat(), "value": p["value"], "what": p["what"]}
                for p in points
                if p["date"] is not None
            ],
            "conflicts": conflicts,
            "open_conflicts": sum(1 for c in conflicts if c.state == Conflict.State.OPEN),
            "corroboration": corroboration_of(evidence),
            "evidence_by_source": evidence_by_source,
            "source_count": withdrawal.source_count,
            "publisher_count": withdrawal.publisher_count,
            "now": now,
        },
    )


# ---------------------------------------------------------------------------------------
# Ingest (staff only)

UPLOAD_MAX_BYTES = 5 * 1024 * 1024


class TextForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 10}), strip=False)
    title = forms.CharField(required=False, max_length=500)
    url = forms.URLField(
        required=False, max_length=2000, label="Where it was published", assume_scheme="https"
    )
    publisher = forms.CharField(required=False, max_length=200)
    published_on = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Published on"
    )

    def clean_text(self) -> str:
        text = self.cleaned_data["text"]
        if not text.strip():
            raise forms.ValidationError("Paste the article's text.")
        return text


class UrlForm(forms.Form):
    url = forms.URLField(max_length=2000, label="Article URL", assume_scheme="https")


class UploadForm(forms.Form):
    file = forms.FileField(
        label="A .txt, .md or .html file",
        widget=forms.ClearableFileInput(attrs={"accept": ".txt,.md,.html,.htm"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > UPLOAD_MAX_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB.")
        return upload


INGEST_FORMS = {"text": TextForm, "url": UrlForm, "file": UploadForm}


def ingest_submit(mode: str, form: forms.Form, user) -> tuple[IngestJob | None, str]:
    """Hand the form to the ingestion service; (job, message when nothing was queued)."""
    data = form.cleaned_data
    if mode == "text":
        _, job = services.source_submit_text(
            text=data["text"],
            origin="pasted",
            label=data["title"] or "pasted text",
            title=data["title"],
            url=data["url"],
            publisher=data["publisher"],
            published_on=data["published_on"],
            user=user,
        )
        return job, "" if job else "This text has been read before: nothing new to do."
    if mode == "url":
        return services.source_submit_url(url=data["url"], user=user), ""
    upload = data["file"]
    _, job = services.source_submit_upload(name=upload.name, data=upload.read(), user=user)
    return job, "" if job else "This file has been read before: nothing new to do."


@staff_member_required
@require_http_methods(["GET", "POST"])
def ingest(request: HttpRequest) -> HttpResponse:
    mode = request.POST.get("mode", "text") if request.method == "POST" else "text"
    if mode not in INGEST_FORMS:
        return bad_request(request, "Choose text, a URL or a file to ingest.")
    forms_by_mode = {name: form_class(prefix=name) for name, form_class in INGEST_FORMS.items()}
    notice = ""
    if request.method == "POST":
        form = INGEST_FORMS[mode](request.POST, request.FILES, prefix=mode)
        forms_by_mode[mode] = form
        if form.is_valid():
            try:
                job, notice = ingest_submit(mode, form, request.user)
            except services.IngestError as exc:
                form.add_error(None, str(exc))
            else:
                if job is not None:
                    return redirect("tracker:ingest-job", pk=job.pk)
    recent = IngestJob.objects.select_related("source").order_by("-queued_at")[:10]
    return render(
        request,
        "tracker/ingest.html",
        {"forms": forms_by_mode, "mode": mode, "notice": notice, "recent": recent},
    )


JOB_STEPS = [
    (IngestJob.State.QUEUED, "Queued"),
    (IngestJob.State.FETCHING, "Fetching"),
    (IngestJob.State.EXTRACTING, "Reading the text"),
    (IngestJob.State.MERGED, "Merged into the records"),
]


def job_context(job: IngestJob) -> dict:
    """A job's steps and what it changed, with links to the withdrawals its source touched."""
    changes = job.changes or {}
    created = {int(pk) for pk in changes.get("withdrawals_created", [])}
    updated = {int(pk) for pk in changes.get("withdrawals_updated", [])}
    # Fields set on existing records are listed as "pk:field"; those changed too.
    for item in changes.get("fields_set", []):
        head = str(item).split(":", 1)[0]
        if head.isdigit():
            updated.add(int(head))
    touched = Withdrawal.objects.filter(
        Q(pk__in=created | updated) | Q(evidence__source_id=job.source_id)
        if job.source_id
        else Q(pk__in=created | updated)
    )
    changed = [
        {
            "withdrawal": withdrawal,
            "how": "new withdrawal"
            if withdrawal.pk in created
            else "updated"
            if withdrawal.pk in updated
            else "corroborated",
        }
        for withdrawal in touched.distinct().select_related("party", "host").order_by("pk")
    ]
    needs_fetch = job.kind in (IngestJob.Kind.URL, IngestJob.Kind.FEED_ENTRY)
    wanted = [(state, label) for state, label in JOB_STEPS]
    if not needs_fetch:
        wanted = [step for step in wanted if step[0] != IngestJob.State.FETCHING]
    order = [state for state, _ in wanted]
    reached = order.index(job.state) if job.state in order else -1
    steps = [
        {
            "label": label,
            "done": index < reached or job.state == IngestJob.State.MERGED,
            "current": index == reached and not job.is_finished,
        }
        for index, (_, label) in enumerate(wanted)
    ]
    return {"job": job, "changes": changes, "changed": changed, "steps": steps}


@staff_member_required
@require_safe
def ingest_job(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(IngestJob.objects.select_related("source"), pk=pk)
    return render(request, "tracker/ingest_job.html", job_context(job))


@staff_member_required
@require_safe
def ingest_job_status(request: HttpRequest, pk: int) -> HttpResponse:
    job = IngestJob.objects.select_related("source").filter(pk=pk).first()
    if job is None:
        return JsonResponse({"error": "There is no such ingest job."}, status=404)
    context = job_context(job)
    return JsonResponse(
        {
            "id": job.pk,
            "state": job.state,
            "state_label": job.get_state_display(),
            "finished": job.is_finished,
            "error": job.error,
            "changes": job.changes or {},
            "withdrawals": [
                reverse("tracker:withdrawal-detail", args=[item["withdrawal"].pk])
                for item in context["changed"]
            ],
            "html": render_to_string("tracker/_job_status.html", context, request=request),
        }
    )
