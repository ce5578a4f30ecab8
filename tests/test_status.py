"""Status and countdown are derived on the model from the clock; time is injected."""

import datetime as dt

import pytest

from tracker.models import Precision, Status, Withdrawal


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
