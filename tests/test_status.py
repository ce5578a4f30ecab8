"""Status and countdown are derived on the model from the clock; time is injected."""

import datetime as dt

import pytest
from django.conf import settings

from tracker.models import Party, Precision, Withdrawal
from tracker.status import (
    SECTIONS,
    Status,
    section_counts_aggregate,
    status_filter,
    withdrawals_annotate,
)

NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()


def day(offset: int) -> dt.date:
    return TODAY + dt.timedelta(days=offset)


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=dt.UTC)


def withdrawal(**fields) -> Withdrawal:
    return Withdrawal(**fields)


def test_it_is_announced_before_anything_starts():
    w = withdrawal(announced_on=dt.date(2024, 5, 20), deadline=dt.date(2024, 9, 15))
    assert w.get_status(now=at("2024-06-01")) == Status.ANNOUNCED


def test_it_is_in_progress_once_started():
    w = withdrawal(started_on=dt.date(2024, 6, 10), deadline=dt.date(2024, 9, 15))
    assert w.get_status(now=at("2024-06-01")) == Status.ANNOUNCED
    assert w.get_status(now=at("2024-06-11")) == Status.IN_PROGRESS


def test_it_is_due_soon_within_thirty_days_and_overdue_the_day_after_the_deadline():
    w = withdrawal(deadline=dt.date(2024, 9, 15))
    assert w.get_status(now=at("2024-08-15")) == Status.ANNOUNCED
    assert w.get_status(now=at("2024-08-16")) == Status.DUE_SOON
    assert w.get_status(now=at("2024-09-15", 23)) == Status.DUE_SOON
    assert w.get_status(now=at("2024-09-16", 0)) == Status.OVERDUE


@pytest.mark.parametrize(
    ("completed", "deadline", "precision", "expected"),
    [
        ("2024-08-05", "2024-09-15", Precision.DAY, Status.COMPLETED_EARLY),
        ("2024-09-15", "2024-09-15", Precision.DAY, Status.COMPLETED_ON_TIME),
        ("2024-09-16", "2024-09-15", Precision.DAY, Status.COMPLETED_LATE),
        # "by September 2025": any day of September is on time, August is early.
        ("2025-09-10", "2025-09-30", Precision.MONTH, Status.COMPLETED_ON_TIME),
        ("2025-08-31", "2025-09-30", Precision.MONTH, Status.COMPLETED_EARLY),
        ("2025-10-01", "2025-09-30", Precision.MONTH, Status.COMPLETED_LATE),
    ],
)
def test_it_grades_completion_against_the_deadline_at_its_precision(
    completed, deadline, precision, expected
):
    w = withdrawal(
        completed_on=dt.date.fromisoformat(completed),
        deadline=dt.date.fromisoformat(deadline),
        deadline_precision=precision,
    )
    assert w.get_status(now=at("2026-01-01")) == expected


def test_it_is_completed_without_a_grade_when_no_deadline_was_known():
    w = withdrawal(completed_on=dt.date(2011, 12, 18))
    assert w.get_status(now=at("2012-01-01")) == Status.COMPLETED


def test_it_is_cancelled_whatever_the_deadline():
    w = withdrawal(deadline=dt.date(2024, 9, 15), cancelled_on=dt.date(2024, 6, 1))
    assert w.get_status(now=at("2024-10-01")) == Status.CANCELLED


def test_it_counts_down_to_the_end_of_the_deadline_day():
    w = withdrawal(deadline=dt.date(2024, 9, 15))
    countdown = w.get_countdown(now=at("2024-09-13", 12))
    assert countdown.seconds == 2 * 86400 + 12 * 3600
    assert countdown.describe() == "2 days, 12 hours left"


def test_it_says_how_far_past_the_deadline():
    w = withdrawal(deadline=dt.date(2024, 9, 15))
    assert w.get_countdown(now=at("2024-09-19", 1)).describe() == "3 days past deadline"


def test_it_says_how_early_a_withdrawal_completed():
    w = withdrawal(deadline=dt.date(2024, 9, 15), completed_on=dt.date(2024, 8, 5))
    assert w.get_countdown(now=at("2024-09-01")).describe() == "completed 41 days early"


def test_it_shows_a_deadline_at_its_real_precision():
    assert withdrawal(
        deadline=dt.date(2025, 9, 30), deadline_precision="month"
    ).deadline_display == ("September 2025")
    assert withdrawal(deadline=dt.date(2024, 9, 15)).deadline_display == "15 September 2024"


# Every branch of Withdrawal.get_status, and its edges (today, the due-soon boundary,
# month and year precision, cancellations and completions in the future).
STATUS_CASES = [
    {},
    {"announced_on": day(-10)},
    {"deadline": day(200)},
    {"deadline": day(200), "started_on": day(-1)},
    {"deadline": day(200), "started_on": day(1)},
    {"deadline": day(200), "personnel_withdrawn": 10, "personnel": 100},
    {"deadline": day(200), "personnel_withdrawn": 0, "personnel": 100},
    {"started_on": day(0)},
    {"deadline": day(0)},
    {"deadline": day(-1)},
    {"deadline": day(settings.TRACKER_DUE_SOON_DAYS)},
    {"deadline": day(settings.TRACKER_DUE_SOON_DAYS + 1)},
    {"deadline": day(settings.TRACKER_DUE_SOON_DAYS + 1), "started_on": day(-3)},
    {"deadline": day(-5), "completed_on": day(-5)},
    {"deadline": day(-5), "completed_on": day(-6)},
    {"deadline": day(-5), "completed_on": day(-2)},
    {"deadline": day(10), "completed_on": day(1)},
    {"completed_on": day(-1)},
    {"cancelled_on": day(-1), "deadline": day(-30)},
    {"cancelled_on": day(3), "deadline": day(-30)},
    {"cancelled_on": day(0), "completed_on": day(-3)},
    # "by May 2024" (stored as the period's last day) met on 2 May, or in April.
    {"deadline": dt.date(2024, 5, 31), "deadline_precision": Precision.MONTH,
     "completed_on": dt.date(2024, 5, 2)},
    {"deadline": dt.date(2024, 5, 31), "deadline_precision": Precision.MONTH,
     "completed_on": dt.date(2024, 4, 30)},
    {"deadline": dt.date(2024, 12, 31), "deadline_precision": Precision.YEAR,
     "completed_on": dt.date(2024, 1, 1)},
    {"deadline": dt.date(2024, 12, 31), "deadline_precision": Precision.YEAR,
     "completed_on": dt.date(2023, 12, 31)},
]  # fmt: skip


@pytest.fixture
def parties(db):
    return {
        code: Party.objects.create(code=code, name=name)
        for code, name in [("US", "United States"), ("FR", "France"), ("NE", "Niger"),
                           ("ML", "Mali"), ("TD", "Chad")]
    }  # fmt: skip


@pytest.mark.django_db
def test_it_filters_and_counts_each_status_exactly_as_get_status_derives_it(parties):
    hosts = list(parties.values())
    for n, fields in enumerate(STATUS_CASES):
        Withdrawal.objects.create(
            party=Party.objects.create(code=f"X{n}", name=f"X{n}"), host=hosts[n % 5], **fields
        )
    withdrawals = list(Withdrawal.objects.all())
    seen = set()
    for status in Status:
        expected = {w.pk for w in withdrawals if w.get_status(now=NOW) == status}
        seen |= {status} if expected else set()
        # The filter, the annotation and the section counts: every SQL use of the rules.
        found = set(
            Withdrawal.objects.filter(status_filter(frozenset({status}), NOW)).values_list(
                "pk", flat=True
            )
        )
        assert found == expected, status
        annotated = withdrawals_annotate(Withdrawal.objects.all(), NOW).filter(status=status)
        assert set(annotated.values_list("pk", flat=True)) == expected, status
    counts = section_counts_aggregate(Withdrawal.objects.all(), NOW)
    for section in SECTIONS:
        expected = [w for w in withdrawals if w.get_status(now=NOW) in section.statuses]
        assert counts[section.key] == len(expected), section.key
    # The cases reach every status.
    assert seen == set(Status)
