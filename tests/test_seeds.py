"""The seed articles give a new user several withdrawals in different states."""

import datetime as dt
import io

import pytest
from django.core.management import call_command

from tracker.models import DeadlineRevision, Evidence, Source, Status, Withdrawal

TODAY = dt.datetime(2026, 11, 27, 12, tzinfo=dt.UTC)


def load() -> None:
    call_command("load_seeds", stdout=io.StringIO())


@pytest.mark.django_db
def test_it_reads_the_seed_article_right():
    load()
    niger = Withdrawal.objects.get(party__code="US", host__code="NE")
    assert niger.announced_on == dt.date(2024, 5, 20)
    assert niger.personnel == 1000
    # The seed's URL is where its text was published (stated), not a page fetched here.
    seed = Source.objects.get(stated_url__contains="Nigerien_coup")
    revision = DeadlineRevision.objects.get(withdrawal=niger, source=seed)
    assert revision.deadline == dt.date(2024, 9, 15)
    deadline_quote = Evidence.objects.get(withdrawal=niger, source=seed, field="deadline").quote
    assert "by September 15th" in deadline_quote
    assert Withdrawal.objects.filter(party__code="FR", host__code="NE").exists()


@pytest.mark.django_db
def test_it_shows_withdrawals_in_several_states():
    load()
    statuses = {w.get_status(now=TODAY) for w in Withdrawal.objects.all()}
    assert Status.COMPLETED_EARLY in statuses or Status.COMPLETED_ON_TIME in statuses
    assert Status.OVERDUE in statuses
    assert Status.ANNOUNCED in statuses or Status.IN_PROGRESS in statuses


@pytest.mark.django_db
def test_it_changes_nothing_when_loaded_again():
    load()
    before = (Source.objects.count(), Withdrawal.objects.count(), Evidence.objects.count())
    load()
    assert before == (Source.objects.count(), Withdrawal.objects.count(), Evidence.objects.count())
