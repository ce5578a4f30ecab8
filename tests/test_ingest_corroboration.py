"""Corroboration: agreeing values count distinct sources and distinct publishers; a wire
story syndicated by two sites is two sources but one publisher."""

import datetime as dt

import pytest

from tracker import services
from tracker.display import corroboration_of
from tracker.extraction.model import (
    DateFact,
    Evidence,
    ExtractionResult,
    PartyRef,
    PersonnelFact,
    WithdrawalFact,
)
from tracker.models import Evidence as EvidenceRow
from tracker.models import Source, Withdrawal

US = PartyRef("US", "United States", "state")
NIGER = PartyRef("NE", "Niger", "state")
AP_STORY = (
    "NIAMEY, Niger (AP) — The United States will pull its 1,000 troops out of Niger by "
    "September 15, officials said."
)


def merged_source(text: str, *, publisher: str = "", url: str = "", troops: int = 1000):
    source, _ = services.ingest.source_get_or_create(
        text=text, origin="url", publisher=publisher, url=url, published_on=dt.date(2024, 5, 20)
    )
    phrase = f"{troops:,} troops"
    start = text.index(phrase)
    evidence = Evidence(phrase, start, start + len(phrase))
    fact = WithdrawalFact(
        deploying=US,
        host=NIGER,
        personnel=PersonnelFact(troops, "exact", evidence),
        deadline=DateFact(dt.date(2024, 9, 15), "day", "by September 15", evidence),
    )
    result = ExtractionResult(reference_date=dt.date(2024, 5, 20), withdrawals=[fact])
    services.source_merge_facts(source=source, result=result)
    return source


@pytest.mark.parametrize(
    ("publisher", "url", "text", "key"),
    [
        ("ABC News", "https://abcnews.go.com/x", AP_STORY, "associated press"),
        ("Yahoo News", "https://news.yahoo.com/y", AP_STORY + " ", "associated press"),
        ("The Associated Press", "", "Troops leave.", "associated press"),
        ("", "", "Troops leave Niger.\n© 2024 Reuters", "reuters"),
        ("Le Monde", "https://lemonde.fr/a", "Troops go (AFP) — says.", "agence france-presse"),
        ("The Guardian", "https://www.theguardian.com/a", "Troops leave.", "guardian"),
        ("", "https://www.aljazeera.com/news/a", "Troops leave.", "aljazeera.com"),
    ],
)
def test_it_names_the_publisher_a_story_counts_for(publisher, url, text, key):
    assert Source.publisher_key_for(publisher=publisher, url=url, text=text) == key


def test_it_counts_each_unknown_publisher_once():
    a = Source.publisher_key_for(publisher="", url="", text="One pasted text.")
    b = Source.publisher_key_for(publisher="", url="", text="Another pasted text.")
    assert a != b and a.startswith("unknown:")


@pytest.mark.django_db
def test_it_counts_a_syndicated_wire_story_as_one_publisher():
    merged_source(AP_STORY, publisher="ABC News", url="https://abcnews.go.com/niger")
    merged_source(
        AP_STORY.replace("officials said.", "officials said on Monday."),
        publisher="Yahoo News",
        url="https://news.yahoo.com/niger",
    )
    reuters = "The United States will move its 1,000 troops out of Niger, Reuters reported."
    merged_source(reuters, publisher="Reuters", url="https://www.reuters.com/niger")
    withdrawal = Withdrawal.objects.get()
    # The stored counts every list shows, and the detail page's count for the force size.
    assert (withdrawal.source_count, withdrawal.publisher_count) == (3, 2)
    assert counts_for(withdrawal, "personnel") == (3, 2)


@pytest.mark.django_db
def test_it_counts_only_agreeing_values_for_a_field():
    merged_source(AP_STORY, publisher="ABC News")
    disagreeing = "Officials said 1,100 troops would leave Niger by September 15."
    merged_source(disagreeing, publisher="Daily", troops=1100)
    withdrawal = Withdrawal.objects.get()
    assert withdrawal.personnel == 1000
    assert counts_for(withdrawal, "personnel", "1,000") == (1, 1)
    assert counts_for(withdrawal, "deadline") == (2, 2)


def counts_for(withdrawal: Withdrawal, field: str, value: str | None = None) -> tuple[int, int]:
    """(sources, publishers) behind one fact, as the detail page counts them."""
    evidence = list(withdrawal.evidence.select_related("source", "milestone"))
    for entry in corroboration_of(evidence):
        if entry.field == EvidenceRow.Field(field).label and value in (None, entry.value):
            return len(entry.sources), len(entry.publishers)
    return 0, 0
