"""Pages: parse the request, call a selector or a service, present (tracker/display.py), render.

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
from django.views.decorators.http import require_http_methods, require_safe

from tracker import selectors, services
from tracker.display import (
    Row,
    corroboration_of,
    detail_url_maker,
    evidence_paragraphs,
    personnel_points,
    personnel_words,
    row_add_countdown,
    status_glyph,
    time_words,
    timeline_data,
    timeline_entries,
)
from tracker.forms import INGEST_FORMS
from tracker.models import (
    Conflict,
    IngestJob,
    Milestone,
    Party,
    Withdrawal,
)
from tracker.status import (
    SECTION_BY_KEY,
    SECTION_BY_STATUS,
    SECTIONS,
    STATUS_WORDS,
    Status,
)

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
    for withdrawal in selectors.withdrawal_page(listed, (number - 1) * PAGE_SIZE, PAGE_SIZE, now):
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
