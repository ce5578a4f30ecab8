"""Merging extracted facts into records: corroboration, conflicts, deadline revisions,
and a person's edits that no source overwrites."""

import datetime as dt

import pytest

from tracker import services
from tracker.extraction.model import (
    DateFact,
    Evidence,
    ExtractionResult,
    MilestoneFact,
    PartyRef,
    PersonnelFact,
    WithdrawalFact,
)
from tracker.models import (
    Conflict,
    DeadlineRevision,
    Milestone,
    Withdrawal,
)
from tracker.models import (
    Evidence as EvidenceRow,
)

US = PartyRef("US", "United States", "state")
NIGER = PartyRef("NE", "Niger", "state")


def source(text: str, *, publisher: str = "Wire", published: str = "2024-05-20", url: str = ""):
    src, _ = services.ingest.source_get_or_create(
        text=text,
        origin="pasted",
        publisher=publisher,
        url=url,
        published_on=dt.date.fromisoformat(published),
    )
    return src


def said(text: str, phrase: str) -> Evidence:
    start = text.index(phrase)
    return Evidence(phrase, start, start + len(phrase))


def on(day: str, text: str, phrase: str, precision: str = "day") -> DateFact:
    return DateFact(dt.date.fromisoformat(day), precision, phrase, said(text, phrase))


def merge(src, *facts: WithdrawalFact) -> dict:
    return services.source_merge_facts(
        source=src,
        result=ExtractionResult(reference_date=src.published_on, withdrawals=list(facts)),
    )


def niger_fact(text: str, *, troops: int = 1000, deadline: str = "2024-09-15") -> WithdrawalFact:
    return WithdrawalFact(
        deploying=US,
        host=NIGER,
        personnel=PersonnelFact(troops, "approximately", said(text, f"{troops:,} troops")),
        announced_on=on("2024-05-20", text, "agreed on Monday"),
        deadline=on(deadline, text, "by the deadline"),
    )


TEXT_A = "The US agreed on Monday to pull about 1,000 troops out of Niger by the deadline."
TEXT_B = "Washington agreed on Monday it would move its 1,000 troops from Niger by the deadline."
TEXT_C = "Officials said 1,100 troops would leave Niger; the US agreed on Monday, by the deadline."


@pytest.mark.django_db
def test_it_creates_a_withdrawal_with_evidence_for_each_fact():
    src = source(TEXT_A)
    changes = merge(src, niger_fact(TEXT_A))
    withdrawal = Withdrawal.objects.get()
    assert changes["withdrawals_created"] == [withdrawal.pk]
    assert (withdrawal.personnel, withdrawal.personnel_qualifier) == (1000, "approximately")
    assert withdrawal.announced_on == dt.date(2024, 5, 20)
    assert withdrawal.deadline == dt.date(2024, 9, 15)
    quotes = {e.field: e.quote for e in withdrawal.evidence.all()}
    assert quotes["personnel"] == "1,000 troops"
    assert quotes["deadline"] == "by the deadline"
    assert all(TEXT_A[e.start : e.end] == e.quote for e in withdrawal.evidence.all())


@pytest.mark.django_db
def test_it_counts_agreeing_sources_as_corroboration_not_as_changes():
    merge(source(TEXT_A, publisher="Wire"), niger_fact(TEXT_A))
    changes = merge(source(TEXT_B, publisher="Daily"), niger_fact(TEXT_B))
    withdrawal = Withdrawal.objects.get()
    assert changes["withdrawals_created"] == []
    assert changes["conflicts"] == 0
    personnel_sources = withdrawal.evidence.filter(field="personnel").values("source").distinct()
    assert personnel_sources.count() == 2


@pytest.mark.django_db
def test_it_files_a_conflict_instead_of_overwriting_a_disagreeing_value():
    merge(source(TEXT_A), niger_fact(TEXT_A))
    changes = merge(source(TEXT_C), niger_fact(TEXT_C, troops=1100))
    withdrawal = Withdrawal.objects.get()
    assert withdrawal.personnel == 1000
    conflict = Conflict.objects.get()
    assert changes["conflicts"] == 1
    assert (conflict.field, conflict.current_value, conflict.proposed_value) == (
        "personnel",
        "1000",
        "1100",
    )
    assert conflict.reason == Conflict.Reason.DISAGREEMENT


@pytest.mark.django_db
def test_it_records_a_new_deadline_as_a_revision_and_keeps_the_old_one():
    merge(source(TEXT_A, published="2024-05-20"), niger_fact(TEXT_A))
    later = "Later the US agreed on Monday to take 1,000 troops from Niger by the deadline."
    merge(
        source(later, published="2024-07-01"), niger_fact(later, troops=1000, deadline="2024-08-31")
    )
    withdrawal = Withdrawal.objects.get()
    assert withdrawal.deadline == dt.date(2024, 8, 31)
    history = list(
        DeadlineRevision.objects.order_by("stated_on").values_list("deadline", flat=True)
    )
    assert history == [dt.date(2024, 9, 15), dt.date(2024, 8, 31)]


@pytest.mark.django_db
def test_it_keeps_the_latest_stated_deadline_when_an_older_source_arrives_later():
    later = "Later the US agreed on Monday to take 1,000 troops from Niger by the deadline."
    merge(source(later, published="2024-07-01"), niger_fact(later, deadline="2024-08-31"))
    merge(source(TEXT_A, published="2024-05-20"), niger_fact(TEXT_A))
    assert Withdrawal.objects.get().deadline == dt.date(2024, 8, 31)
    assert DeadlineRevision.objects.count() == 2


@pytest.mark.django_db
def test_it_changes_nothing_when_the_same_source_is_merged_again():
    src = source(TEXT_A)
    merge(src, niger_fact(TEXT_A))
    before = (
        EvidenceRow.objects.count(),
        DeadlineRevision.objects.count(),
        Conflict.objects.count(),
    )
    changes = merge(src, niger_fact(TEXT_A))
    after = (
        EvidenceRow.objects.count(),
        DeadlineRevision.objects.count(),
        Conflict.objects.count(),
    )
    assert before == after
    assert changes["evidence_added"] == 0
    assert changes["fields_set"] == []


@pytest.mark.django_db
def test_it_never_overwrites_a_locked_milestone_and_suggests_the_change_instead():
    text = "U.S. forces handed over Air Base 101 on July 7, the Pentagon said."
    fact = WithdrawalFact(
        deploying=US,
        host=NIGER,
        milestones=[
            MilestoneFact(
                "completion",
                on("2024-08-05", text, "on July 7"),
                "Withdrawal completed",
                said(text, "handed over Air Base 101 on July 7"),
            )
        ],
    )
    merge(source(text, published="2024-08-05"), fact)
    milestone = Milestone.objects.get(kind="completion")
    milestone.date = dt.date(2024, 8, 6)
    services.milestone_save_by_person(milestone=milestone)
    contradicting = "The last U.S. troops left on August 5, the Pentagon said on July 7."
    fact2 = WithdrawalFact(
        deploying=US,
        host=NIGER,
        milestones=[
            MilestoneFact(
                "completion",
                on("2024-08-05", contradicting, "on August 5"),
                "Completed",
                said(contradicting, "The last U.S. troops left on August 5"),
            )
        ],
    )
    merge(source(contradicting, published="2024-08-07"), fact2)
    milestone.refresh_from_db()
    assert milestone.date == dt.date(2024, 8, 6)
    suggestion = Conflict.objects.get(milestone=milestone)
    assert suggestion.reason == Conflict.Reason.LOCKED
    assert suggestion.proposed_value == "2024-08-05"
    assert milestone.evidence.count() == 2


@pytest.mark.django_db
def test_it_only_suggests_changes_to_a_withdrawal_field_a_person_edited():
    merge(source(TEXT_A), niger_fact(TEXT_A))
    withdrawal = Withdrawal.objects.get()
    withdrawal.personnel = 950
    withdrawal.locked_fields = ["personnel"]
    withdrawal.save()
    merge(source(TEXT_B), niger_fact(TEXT_B))
    withdrawal.refresh_from_db()
    assert withdrawal.personnel == 950
    assert Conflict.objects.get().reason == Conflict.Reason.LOCKED


@pytest.mark.django_db
def test_it_treats_the_same_text_with_other_whitespace_as_the_same_source():
    first, created = services.ingest.source_get_or_create(
        text="Troops  leave\nNiger.", origin="pasted"
    )
    second, created_again = services.ingest.source_get_or_create(
        text="  Troops leave Niger.  ", origin="pasted"
    )
    assert created and not created_again
    assert first.pk == second.pk


@pytest.mark.django_db
def test_it_keeps_the_current_deadline_as_a_planned_milestone_and_cancels_a_replaced_one():
    text = "Biden said troops would leave by September 11 but later moved it to August 31."
    fact = WithdrawalFact(
        deploying=US,
        host=PartyRef("AF", "Afghanistan", "state"),
        deadline=on("2021-08-31", text, "to August 31"),
        milestones=[
            MilestoneFact(
                "deadline", on("2021-09-11", text, "by September 11"), "old", said(text, text)
            ),
            MilestoneFact(
                "deadline", on("2021-08-31", text, "to August 31"), "new", said(text, text)
            ),
        ],
    )
    merge(source(text, published="2021-07-08"), fact)
    states = dict(Milestone.objects.values_list("date", "status"))
    assert states == {dt.date(2021, 9, 11): "cancelled", dt.date(2021, 8, 31): "planned"}
    assert Milestone.objects.get(date=dt.date(2021, 8, 31)).title == "Deadline (to August 31)"


@pytest.mark.django_db
def test_it_keeps_corroboration_counts_on_the_withdrawal_as_sources_arrive():
    merge(source(TEXT_A, publisher="Reuters"), niger_fact(TEXT_A))
    # The same wire story on another site: a second source, but still one publisher.
    merge(source(TEXT_B, publisher="Reuters", url="https://site.example/x"), niger_fact(TEXT_B))
    merge(source(TEXT_C, publisher="Daily"), niger_fact(TEXT_C, troops=1100))
    withdrawal = Withdrawal.objects.get()
    assert (withdrawal.source_count, withdrawal.publisher_count) == (3, 2)
    assert withdrawal.evidence_count == withdrawal.evidence.count()
    assert withdrawal.open_conflict_count == 1


@pytest.mark.django_db
def test_it_recounts_open_conflicts_when_a_person_reviews_one_in_the_admin(client, staff_user):
    merge(source(TEXT_A), niger_fact(TEXT_A))
    merge(source(TEXT_C), niger_fact(TEXT_C, troops=1100))
    conflict = Conflict.objects.get()
    client.force_login(staff_user)
    response = client.post(
        "/admin/tracker/conflict/",
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(conflict.pk),
            "form-0-state": "rejected",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    assert Withdrawal.objects.get().open_conflict_count == 0
