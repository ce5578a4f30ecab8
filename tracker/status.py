"""A withdrawal's status, defined once: its words, order and section, in SQL and in Python.

Status is derived from stored dates against one clock reading (`now=` for tests), never
stored. Two forms sit side by side here and must agree (tests/test_status.py checks every
branch and edge):

- `status_conditions(today)`: one `Q` per status, mutually exclusive, for the database. Every
  list, count and filter uses them: the `Case/When` annotation (`withdrawals_annotate`), the
  section counts (`section_counts_aggregate`) and `?status=` (`status_filter`).
- `status_of(withdrawal, today)`: the same rules for one object (`Withdrawal.get_status`).

Words: `Status` holds the nine fine values. The six sections (overdue, due soon, in progress,
announced, completed, cancelled) are what the dashboard's tabs, the API's `status` and
`?status=` speak of; "completed" means every completion (early, on time, late, or with no
deadline to grade it against), and the fine value travels alongside (`status_detail`).
"""

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.db import models
from django.db.models import Case, Count, F, Q, Value, When
from django.db.models.functions import TruncMonth, TruncYear
from django.utils import timezone


class Status(models.TextChoices):
    ANNOUNCED = "announced", "announced"
    IN_PROGRESS = "in_progress", "in progress"
    DUE_SOON = "due_soon", "due soon"
    OVERDUE = "overdue", "overdue"
    COMPLETED = "completed", "completed"
    COMPLETED_EARLY = "completed_early", "completed early"
    COMPLETED_ON_TIME = "completed_on_time", "completed on time"
    COMPLETED_LATE = "completed_late", "completed late"
    CANCELLED = "cancelled", "cancelled"


COMPLETED_STATUSES = frozenset(
    {Status.COMPLETED, Status.COMPLETED_EARLY, Status.COMPLETED_ON_TIME, Status.COMPLETED_LATE}
)


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    statuses: frozenset
    # A glyph beside the badge's words, so the status never rests on colour alone.
    glyph: str


# The sections, most urgent first: the dashboard's tabs and order, the API's `status`.
SECTIONS = (
    Section("overdue", "Overdue", frozenset({Status.OVERDUE}), "!"),
    Section("due_soon", "Due soon", frozenset({Status.DUE_SOON}), "◷"),
    Section("in_progress", "In progress", frozenset({Status.IN_PROGRESS}), "▸"),
    Section("announced", "Announced", frozenset({Status.ANNOUNCED}), "○"),
    Section("completed", "Completed", COMPLETED_STATUSES, "✓"),
    Section("cancelled", "Cancelled", frozenset({Status.CANCELLED}), "×"),
)
SECTION_BY_KEY = {section.key: section for section in SECTIONS}
SECTION_CHOICES = [(section.key, section.label.lower()) for section in SECTIONS]
SECTION_BY_STATUS = {status: section for section in SECTIONS for status in section.statuses}
SECTION_RANK = {section.key: rank for rank, section in enumerate(SECTIONS)}
# Sections whose rows are ordered by deadline, soonest first; the others (completed,
# cancelled) by when they ended, most recent first.
OPEN_SECTIONS = ("overdue", "due_soon", "in_progress", "announced")


def statuses_named(word: str) -> frozenset:
    """The fine statuses a ?status= word selects: a section's, or one fine status.

    "completed" is the section (every completion); the other words are one status each.
    Raises KeyError for a word that names nothing.
    """
    if word in SECTION_BY_KEY:
        return SECTION_BY_KEY[word].statuses
    if word not in Status.values:
        raise KeyError(word)
    return frozenset({Status(word)})


# Every word ?status= accepts, in the order a person reads them.
STATUS_WORDS = [section.key for section in SECTIONS] + [
    status.value for status in Status if status.value not in SECTION_BY_KEY
]


def today_of(now: dt.datetime | None = None) -> dt.date:
    """The day (UTC) that status is judged against: one clock reading per request."""
    return (now or timezone.now()).astimezone(dt.UTC).date()


# ---------------------------------------------------------------------------------------
# Python: one withdrawal.


class HasStatusFields(Protocol):
    started_on: dt.date | None
    deadline: dt.date | None
    deadline_precision: str
    completed_on: dt.date | None
    cancelled_on: dt.date | None
    personnel_withdrawn: int | None


def period_start(day: dt.date, precision: str) -> dt.date:
    if precision == "year":
        return day.replace(month=1, day=1)
    if precision == "month":
        return day.replace(day=1)
    return day


def status_of(w: HasStatusFields, today: dt.date) -> Status:
    if w.cancelled_on and w.cancelled_on <= today:
        return Status.CANCELLED
    if w.completed_on and w.completed_on <= today:
        if w.deadline is None:
            return Status.COMPLETED
        # "by September 2025" is met by any day of September: compare with the period.
        if w.completed_on > w.deadline:
            return Status.COMPLETED_LATE
        if w.completed_on < period_start(w.deadline, w.deadline_precision):
            return Status.COMPLETED_EARLY
        if w.deadline_precision == "day" and w.completed_on < w.deadline:
            return Status.COMPLETED_EARLY
        return Status.COMPLETED_ON_TIME
    if w.deadline is not None:
        if w.deadline < today:
            return Status.OVERDUE
        if (w.deadline - today).days <= settings.TRACKER_DUE_SOON_DAYS:
            return Status.DUE_SOON
    if (w.started_on and w.started_on <= today) or w.personnel_withdrawn:
        return Status.IN_PROGRESS
    return Status.ANNOUNCED


# ---------------------------------------------------------------------------------------
# SQL: every list, count and filter.


def status_conditions(today: dt.date) -> dict[Status, Q]:
    """The stored-date condition under which `status_of` gives each status, branch by branch.

    Each condition holds only when the earlier branches of `status_of` do not, so they are
    mutually exclusive and a row matches exactly one.
    """
    due_soon_until = today + dt.timedelta(days=settings.TRACKER_DUE_SOON_DAYS)
    not_cancelled = Q(cancelled_on__isnull=True) | Q(cancelled_on__gt=today)
    completed = not_cancelled & Q(completed_on__lte=today)
    graded = completed & Q(deadline__isnull=False) & Q(completed_on__lte=F("deadline"))
    early = (
        Q(deadline_precision="day", completed_on__lt=F("deadline"))
        | Q(deadline_precision="month", completed_on__lt=TruncMonth("deadline"))
        | Q(deadline_precision="year", completed_on__lt=TruncYear("deadline"))
    )
    open_ = not_cancelled & (Q(completed_on__isnull=True) | Q(completed_on__gt=today))
    not_due = Q(deadline__isnull=True) | Q(deadline__gt=due_soon_until)
    started = Q(started_on__lte=today) | Q(personnel_withdrawn__gt=0)
    return {
        Status.CANCELLED: Q(cancelled_on__lte=today),
        Status.COMPLETED: completed & Q(deadline__isnull=True),
        Status.COMPLETED_LATE: completed & Q(completed_on__gt=F("deadline")),
        Status.COMPLETED_EARLY: graded & early,
        Status.COMPLETED_ON_TIME: graded & ~early,
        Status.OVERDUE: open_ & Q(deadline__lt=today),
        Status.DUE_SOON: open_ & Q(deadline__gte=today, deadline__lte=due_soon_until),
        Status.IN_PROGRESS: open_ & not_due & started,
        Status.ANNOUNCED: open_ & not_due & ~started,
    }


def section_conditions(today: dt.date) -> dict[str, Q]:
    conditions = status_conditions(today)
    found = {}
    for section in SECTIONS:
        condition = Q()
        for status in Status:
            if status in section.statuses:
                condition |= conditions[status]
        found[section.key] = condition
    return found


def status_filter(statuses: frozenset, now: dt.datetime | None = None) -> Q:
    """Rows whose status is one of `statuses` (a disjunction the planner can index)."""
    conditions = status_conditions(today_of(now))
    condition = Q(pk__in=[])
    for status in Status:
        if status in statuses:
            condition |= conditions[status]
    return condition


def withdrawals_annotate(queryset, now: dt.datetime | None = None):
    """Each row's `status` (fine word) and `section_rank` (0 = overdue … 5 = cancelled)."""
    today = today_of(now)
    conditions = status_conditions(today)
    # The section only: one CASE of six branches (the three gradings of a completion share
    # a rank), cheaper than ranking the fine status.
    return queryset.annotate(
        status=Case(
            *(When(conditions[status], then=Value(status.value)) for status in Status),
            output_field=models.CharField(),
        ),
        section_rank=Case(
            *(
                When(condition, then=Value(SECTION_RANK[key]))
                for key, condition in section_conditions(today).items()
            ),
            output_field=models.IntegerField(),
        ),
    )


def urgency_order() -> list:
    """The one default order of withdrawal lists (dashboard, API, exports): by section, most
    urgent first; open ones by deadline (unknown last), ended ones most recent first; then id.

    Reads `section_rank` from `withdrawals_annotate`.
    """
    open_ranks = [SECTION_RANK[key] for key in OPEN_SECTIONS]
    by_deadline = Case(When(section_rank__in=open_ranks, then=F("deadline")))
    by_end = Case(
        When(section_rank=SECTION_RANK["completed"], then=F("completed_on")),
        When(section_rank=SECTION_RANK["cancelled"], then=F("cancelled_on")),
    )
    return [
        F("section_rank").asc(),
        by_deadline.asc(nulls_last=True),
        by_end.desc(nulls_last=True),
        F("id").asc(),
    ]


def section_counts_aggregate(queryset, now: dt.datetime | None = None) -> dict[str, int]:
    """How many rows of the queryset fall in each section: one aggregate query."""
    counts = queryset.aggregate(
        **{
            key: Count("pk", filter=condition)
            for key, condition in section_conditions(today_of(now)).items()
        }
    )
    return {key: counts[key] or 0 for key in SECTION_BY_KEY}
