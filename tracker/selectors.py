"""Reads that several surfaces share: pages, the API and the feeds call these and build no
queries of their own ("services push, selectors pull").

Each list is annotated with its status in SQL (`tracker.status`), filtered by its FilterSet
(`tracker.filters`), ordered and paged in the database: a page costs the same few queries at
100 withdrawals or 100,000 (tests/test_dashboard.py and tests/test_api.py count them).
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet, Subquery

from tracker.filters import WithdrawalFilter
from tracker.models import (
    Conflict,
    DeadlineRevision,
    Evidence,
    Milestone,
    Party,
    Withdrawal,
    describe_date,
)
from tracker.status import (
    SECTIONS,
    Status,
    urgency_order,
    withdrawals_annotate,
)


class FilterError(Exception):
    """The query string names something no filter reads; `fields` says what, per parameter."""

    def __init__(self, fields: dict[str, list[str]]):
        self.fields = fields
        super().__init__(
            "; ".join(f"{name}: {' '.join(messages)}" for name, messages in fields.items())
        )


def withdrawal_filterset(data, *, request=None) -> WithdrawalFilter:
    """The validated filters of a query string, or FilterError."""
    filterset = WithdrawalFilter(data, queryset=Withdrawal.objects.all(), request=request)
    if not filterset.is_valid():
        raise FilterError({name: list(errors) for name, errors in filterset.errors.items()})
    return filterset


def withdrawal_list(
    *, filterset: WithdrawalFilter | None = None, now: dt.datetime, skip: tuple = ()
) -> QuerySet[Withdrawal]:
    """Withdrawals with `status` and `section_rank`, filtered, most urgent first.

    `skip` leaves some filters out (the dashboard counts its tabs without ?status=).
    `?ordering=` replaces the default order where the filterset has one.
    """
    queryset = withdrawals_annotate(Withdrawal.objects.all(), now).order_by(*urgency_order())
    if filterset is None:
        return queryset
    for name, value in filterset.form.cleaned_data.items():
        if name not in skip:
            queryset = filterset.filters[name].filter(queryset, value)
    return queryset


def withdrawal_status_counts(queryset: QuerySet[Withdrawal], now: dt.datetime) -> dict:
    """How many rows have each status: one query, grouped by the status annotation (each
    row's CASE is evaluated once, not once per status)."""
    counts = dict.fromkeys(Status, 0)
    grouped = withdrawals_annotate(queryset.order_by(), now).values("status")
    for row in grouped.annotate(count=Count("pk")).order_by():
        counts[Status(row["status"])] = row["count"]
    return counts


def section_totals(status_counts: dict, wanted: frozenset | None = None) -> dict[str, int]:
    """Per section, how many rows it has among the statuses wanted (all when None)."""
    return {
        section.key: sum(
            count
            for status, count in status_counts.items()
            if status in section.statuses and (wanted is None or status in wanted)
        )
        for section in SECTIONS
    }


def withdrawal_page(
    queryset: QuerySet[Withdrawal], offset: int, limit: int, now: dt.datetime
) -> list[Withdrawal]:
    """One page of a withdrawal list, read in full for cards and chart.

    1. The page's ids, in the list's order (the sort reads only the columns it orders by).
    2. Those rows with their parties and when their latest evidence arrived: the correlated
       subquery runs for the page's rows only, not for every row the sort reads.
    3. Their milestones, for progress on the cards and points on the chart.
    """
    ids = list(queryset.values_list("pk", flat=True)[offset : offset + limit])
    last_evidence = (
        Evidence.objects.filter(withdrawal=OuterRef("pk"))
        .order_by("-created_at")
        .values("created_at")
    )
    by_id = {
        withdrawal.pk: withdrawal
        for withdrawal in withdrawals_annotate(Withdrawal.objects.filter(pk__in=ids), now)
        .select_related("party", "host")
        .annotate(last_evidence_at=Subquery(last_evidence[:1]))
    }
    # Page order; a withdrawal deleted between the two reads is left out.
    rows = [by_id[pk] for pk in ids if pk in by_id]
    for withdrawal in rows:
        withdrawal.page_milestones = []
    for milestone in Milestone.objects.filter(withdrawal_id__in=ids).only(
        "withdrawal_id", "title", "kind", "date", "date_precision", "status", "updated_at"
    ):
        by_id[milestone.withdrawal_id].page_milestones.append(milestone)
    return rows


def filter_parties() -> list[Party]:
    """Parties that deploy or host any withdrawal: the filter menus. One query."""
    return list(
        Party.objects.annotate(
            deploys_any=Exists(Withdrawal.objects.filter(party=OuterRef("pk"))),
            hosts_any=Exists(Withdrawal.objects.filter(host=OuterRef("pk"))),
        )
        .filter(Q(deploys_any=True) | Q(hosts_any=True))
        .only("code", "name")
        .order_by("name")
    )


def withdrawal_detail(pk: int) -> Withdrawal:
    """One withdrawal with everything its page and its API detail show, in five queries."""
    return withdrawal_detail_queryset().get(pk=pk)


def withdrawal_detail_queryset() -> QuerySet[Withdrawal]:
    return Withdrawal.objects.select_related("party", "host").prefetch_related(
        Prefetch("milestones", queryset=Milestone.objects.order_by("date", "id")),
        Prefetch(
            "deadline_revisions",
            queryset=DeadlineRevision.objects.select_related("source", "recorded_by").order_by(
                "stated_on", "recorded_at", "id"
            ),
        ),
        # The whole evidence in reading order, with its source and milestone: one query.
        Prefetch(
            "evidence",
            queryset=Evidence.objects.select_related("source", "milestone").order_by(
                "source_id", "start", "id"
            ),
        ),
        Prefetch(
            "conflicts",
            queryset=Conflict.objects.select_related("source", "milestone").order_by(
                "-created_at", "-id"
            ),
        ),
    )


# ---------------------------------------------------------------------------------------
# Feeds


def selection(withdrawals: QuerySet[Withdrawal] | None):
    """field -> the lookup restricting rows to the selected withdrawals (a subquery), or no
    lookup when nothing is filtered: a feed of everything needs no semi-join over every
    withdrawal (benchmarks/read_side.py)."""
    if withdrawals is None:
        return lambda field: {}
    subquery = withdrawals.order_by().values("pk")
    return lambda field: {f"{field}__in": subquery}


@dataclass(frozen=True)
class Change:
    """One entry of the change list: what happened, to which withdrawal, when it was recorded
    and when its source was published (None: no source says)."""

    key: str
    title: str
    description: str
    withdrawal_id: int
    recorded_at: dt.datetime
    published_on: dt.date | None


def _first_published(**match) -> Subquery:
    # The earliest publication date among the sources of a row's evidence.
    return Subquery(
        Evidence.objects.filter(**match, source__published_on__isnull=False)
        .order_by("source__published_on")
        .values("source__published_on")[:1]
    )


def withdrawal_changes(withdrawals: QuerySet[Withdrawal] | None, limit: int) -> list[Change]:
    """The latest changes of the selected withdrawals, newest first: new withdrawals, deadline
    revisions, completed milestones and conflicts. One query per kind (two for withdrawals
    and milestones: their newest ids, then those rows)."""
    selected = selection(withdrawals)
    changes = []
    # The newest ids first, then the first-publication subquery for those rows only (not
    # for every row the sort reads).
    newest = list(
        Withdrawal.objects.filter(**selected("pk"))
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)[:limit]
    )
    for withdrawal in (
        Withdrawal.objects.filter(pk__in=newest)
        .select_related("party", "host")
        .annotate(published_on_=_first_published(withdrawal=OuterRef("pk")))
        .order_by("-created_at", "-id")
    ):
        deadline = f" by {withdrawal.deadline_display}" if withdrawal.deadline else ""
        changes.append(
            Change(
                key=f"withdrawal/{withdrawal.pk}",
                title=f"New withdrawal: {withdrawal}{deadline}",
                description=withdrawal.summary,
                withdrawal_id=withdrawal.pk,
                recorded_at=withdrawal.created_at,
                published_on=withdrawal.published_on_,
            )
        )
    for revision in (
        DeadlineRevision.objects.filter(**selected("withdrawal"))
        .select_related("withdrawal__party", "withdrawal__host", "source")
        .order_by("-recorded_at", "-id")[:limit]
    ):
        phrase = f' ("{revision.phrase}")' if revision.phrase else ""
        stated = f" on {revision.stated_on.isoformat()}" if revision.stated_on else ""
        changes.append(
            Change(
                key=f"deadline-revision/{revision.pk}",
                title=f"Deadline: {revision.withdrawal} by "
                f"{describe_date(revision.deadline, revision.precision)}",
                description=f"Deadline stated{phrase}{stated}.",
                withdrawal_id=revision.withdrawal_id,
                recorded_at=revision.recorded_at,
                published_on=revision.source.published_on if revision.source else None,
            )
        )
    newest = list(
        Milestone.objects.filter(**selected("withdrawal"), status=Milestone.State.DONE)
        .order_by("-updated_at", "-id")
        .values_list("pk", flat=True)[:limit]
    )
    for milestone in (
        Milestone.objects.filter(pk__in=newest)
        .select_related("withdrawal__party", "withdrawal__host")
        .annotate(published_on_=_first_published(milestone=OuterRef("pk")))
        .order_by("-updated_at", "-id")
    ):
        changes.append(
            Change(
                key=f"milestone/{milestone.pk}/done",
                title=f"Milestone done: {milestone.withdrawal}: {milestone.title}",
                description=f"{milestone.date_display}. {milestone.description}".strip(". "),
                withdrawal_id=milestone.withdrawal_id,
                recorded_at=milestone.updated_at,
                published_on=milestone.published_on_,
            )
        )
    for conflict in (
        Conflict.objects.filter(**selected("withdrawal"))
        .select_related("withdrawal__party", "withdrawal__host", "source")
        .order_by("-created_at", "-id")[:limit]
    ):
        changes.append(
            Change(
                key=f"conflict/{conflict.pk}",
                title=f"Conflict on {conflict.withdrawal}: {conflict.field} "
                f"{conflict.current_value or '(none)'} vs {conflict.proposed_value}",
                description=f"{conflict.get_reason_display()}. {conflict.quote}".strip(),
                withdrawal_id=conflict.withdrawal_id,
                recorded_at=conflict.created_at,
                published_on=conflict.source.published_on,
            )
        )
    changes.sort(key=lambda change: (change.recorded_at, change.key), reverse=True)
    return changes[:limit]


def calendar_version(
    withdrawals: QuerySet[Withdrawal] | None, start: dt.date, end: dt.date
) -> tuple[int, dt.datetime | None]:
    """How many events the calendar window holds and when the latest of them changed: what
    its ETag and Last-Modified are made of. Two aggregates over indexed columns."""
    selected = selection(withdrawals)
    deadlines = Withdrawal.objects.filter(
        **selected("pk"), deadline__gte=start, deadline__lte=end
    ).aggregate(count=Count("pk"), latest=Max("updated_at"))
    milestones = Milestone.objects.filter(
        **selected("withdrawal"), date__gte=start, date__lte=end
    ).aggregate(count=Count("pk"), latest=Max("updated_at"))
    latest = [m for m in (deadlines["latest"], milestones["latest"]) if m is not None]
    return deadlines["count"] + milestones["count"], max(latest, default=None)


def calendar_events(withdrawals: QuerySet[Withdrawal] | None, start: dt.date, end: dt.date):
    """The deadlines and dated milestones of the selected withdrawals within [start, end]:
    (withdrawals with party and host, milestones with their withdrawal's), by date."""
    selected = selection(withdrawals)
    deadlines = (
        Withdrawal.objects.filter(**selected("pk"), deadline__gte=start, deadline__lte=end)
        .select_related("party", "host")
        .order_by("deadline", "id")
    )
    milestones = (
        Milestone.objects.filter(**selected("withdrawal"), date__gte=start, date__lte=end)
        .select_related("withdrawal__party", "withdrawal__host")
        .order_by("date", "id")
    )
    return deadlines, milestones
