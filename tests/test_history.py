"""A withdrawal's history: changes to it, its milestones, deadline revisions and evidence, merged
into one story that says old → new, when, and who (a person, with their note) or which source."""

import datetime as dt

import pytest

from tracker import history, services
from tracker.extraction.model import (
    DateFact,
    ExtractionResult,
    MilestoneFact,
    PartyRef,
    PersonnelFact,
    WithdrawalFact,
)
from tracker.extraction.model import Evidence as Said
from tracker.models import Milestone, Source, Withdrawal

TEXT = (
    "The United States agreed on 20 May 2024 to withdraw about 1,000 troops from Niger by "
    "15 September 2024. Air Base 101 will be handed over on 7 July."
)


def said(phrase: str) -> Said:
    start = TEXT.index(phrase)
    return Said(phrase, start, start + len(phrase))


def read_source(*, publisher: str = "AP", title: str = "US to leave Niger") -> Source:
    source, _ = services.ingest.source_get_or_create(
        text=TEXT if publisher == "AP" else f"{TEXT}\n({publisher})",
        origin="pasted",
        publisher=publisher,
        title=title,
        url="",
        published_on=dt.date(2024, 5, 20),
    )
    fact = WithdrawalFact(
        deploying=PartyRef("US", "United States", "state"),
        host=PartyRef("NE", "Niger", "state"),
        personnel=PersonnelFact(1000, "approximately", said("about 1,000 troops")),
        announced_on=DateFact(dt.date(2024, 5, 20), "day", "on 20 May 2024", said("agreed")),
        deadline=DateFact(
            dt.date(2024, 9, 15), "day", "by 15 September 2024", said("by 15 September 2024")
        ),
        milestones=[
            MilestoneFact(
                kind="base_handover",
                date=DateFact(dt.date(2024, 7, 7), "day", "on 7 July", said("on 7 July")),
                summary="Air Base 101 handed over",
                evidence=said("Air Base 101 will be handed over on 7 July."),
            )
        ],
    )
    services.source_merge_facts(
        source=source,
        result=ExtractionResult(reference_date=source.published_on, withdrawals=[fact]),
    )
    return source


@pytest.mark.django_db
def test_it_names_the_source_behind_every_change_merging_made():
    source = read_source()
    withdrawal = Withdrawal.objects.get()
    entries = history.withdrawal_history(withdrawal)
    assert {e.subject for e in entries} >= {
        "Withdrawal",
        "Deadline revision",
        "Evidence",
    }
    assert any(e.subject.startswith("Milestone “Base handover") for e in entries)
    for entry in entries:
        assert entry.source == "AP, 20 May 2024 — US to leave Niger", entry
        assert entry.source_id == source.pk
        assert entry.action == "added"
    created = next(e for e in entries if e.subject == "Withdrawal")
    assert history.Change("Deadline", "", "15 September 2024") in created.changes
    assert history.Change("Personnel", "", "about 1,000") in created.changes
    # One row for the sentences one source added, not one per sentence.
    evidence = [e for e in entries if e.subject == "Evidence"]
    assert len(evidence) == 1
    assert "“Air Base 101 will be handed over on 7 July.”" in [c.new for c in evidence[0].changes]


@pytest.mark.django_db
def test_it_shows_a_persons_edit_as_old_to_new_with_their_name_and_note(django_user_model):
    read_source()
    editor = django_user_model.objects.create_user(
        username="amina", first_name="Amina", last_name="Diallo"
    )
    milestone = Milestone.objects.get(kind="base_handover")
    milestone.date = dt.date(2024, 7, 8)
    milestone._history_user = editor
    with history.attributed_to(note="The handover ceremony was on the 8th (AFP, 9 July)."):
        services.milestone_save_by_person(milestone=milestone)

    latest = history.withdrawal_history(milestone.withdrawal_id)[0]
    assert latest.subject == f"Milestone “{milestone.title}”"
    assert latest.action == "changed"
    assert history.Change("Date", "7 July 2024", "8 July 2024") in latest.changes
    assert history.Change("Locked", "", "locked by a person") in latest.changes
    assert latest.person == "Amina Diallo"
    assert latest.by == "Amina Diallo"
    assert latest.source == ""
    assert latest.note == "The handover ceremony was on the 8th (AFP, 9 July)."
    lock = history.locks_of(milestone.withdrawal_id)[("milestone", milestone.pk)]
    assert (lock.person, lock.note) == ("Amina Diallo", latest.note)


@pytest.mark.django_db
def test_it_leaves_out_saves_that_changed_nothing_a_reader_sees():
    read_source()
    withdrawal = Withdrawal.objects.get()
    before = len(history.withdrawal_history(withdrawal))
    withdrawal.save()
    withdrawal.summary = withdrawal.summary
    withdrawal.save()
    assert len(history.withdrawal_history(withdrawal)) == before
    withdrawal.personnel = 1100
    withdrawal.save()
    entries = history.withdrawal_history(withdrawal)
    assert len(entries) == before + 1
    assert entries[0].changes == [history.Change("Personnel", "about 1,000", "about 1,100")]


@pytest.mark.django_db
def test_it_still_names_a_source_after_it_is_deleted():
    source = read_source()
    withdrawal = Withdrawal.objects.get()
    source.delete()
    entries = history.withdrawal_history(withdrawal)
    created = next(e for e in entries if e.subject == "Withdrawal")
    assert created.source == "AP, 20 May 2024 — US to leave Niger"
    assert created.source_id is None
    # Its evidence went with it, and the history says so.
    removed = [e for e in entries if e.kind == "evidence" and e.action == "removed"]
    assert removed and all(e.changes for e in removed)


@pytest.mark.django_db
def test_it_reads_a_long_history_in_a_fixed_number_of_queries(django_assert_num_queries):
    read_source()
    read_source(publisher="Reuters", title="Niger: US pull-out by mid-September")
    withdrawal = Withdrawal.objects.get()
    for personnel in range(900, 920):
        withdrawal.personnel = personnel
        with history.attributed_to(note=f"Count {personnel} from the briefing"):
            withdrawal.save()
    # One query per historical table, one for party names, one for source names.
    with django_assert_num_queries(6):
        entries = history.withdrawal_history(withdrawal.pk)
    assert len([e for e in entries if e.subject == "Withdrawal"]) == 21


@pytest.mark.django_db
def test_it_tells_a_run_of_saves_by_the_same_hand_as_one_change():
    read_source()
    withdrawal = Withdrawal.objects.get()
    with history.attributed_to(note="Pentagon briefing"):
        withdrawal.personnel = 1100
        withdrawal.save()
        withdrawal.personnel_withdrawn = 400
        withdrawal.save()
    latest = history.withdrawal_history(withdrawal)[0]
    assert latest.changes == [
        history.Change("Personnel", "about 1,000", "about 1,100"),
        history.Change("Personnel withdrawn", "", "400"),
    ]
