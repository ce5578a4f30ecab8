"""One filter set, one answer: the dashboard, its JSON, the API and the CSV export give the same
withdrawals in the same order for every query string (and the same refusal for a bad one)."""

import csv
import datetime as dt
import io
import re

import pytest

from tracker.models import Party, Precision, Withdrawal
from tracker.status import SECTION_BY_STATUS, SECTIONS, STATUS_WORDS, statuses_named

TODAY = dt.datetime.now(dt.UTC).date()


def day(offset: int) -> dt.date:
    return TODAY + dt.timedelta(days=offset)


@pytest.fixture
def world(db):
    parties = {
        code: Party.objects.create(code=code, name=name, kind=kind)
        for code, name, kind in [
            ("US", "United States", "state"),
            ("FR", "France", "state"),
            ("GB", "United Kingdom", "state"),
            ("MINUSMA", "United Nations Multidimensional Integrated Stabilization Mission "
             "in Mali", "organisation"),
            ("NE", "Niger", "state"),
            ("NG", "Nigeria", "state"),
            ("ML", "Mali", "state"),
            ("TD", "Chad", "state"),
            ("IQ", "Iraq", "state"),
        ]
    }  # fmt: skip

    def make(party: str, host: str, **fields) -> Withdrawal:
        return Withdrawal.objects.create(party=parties[party], host=parties[host], **fields)

    make("US", "NE", deadline=day(-20), summary="Air Base 201 in Agadez")  # overdue
    make("US", "IQ", deadline=day(10), started_on=day(-30))  # due soon
    make("FR", "ML", deadline=day(-400), completed_on=day(-410))  # completed early
    make("FR", "TD", deadline=day(-100), completed_on=day(-100))  # completed on time
    make("FR", "NE", deadline=day(-300), completed_on=day(-250))  # completed late
    make("MINUSMA", "ML", deadline=day(-30), completed_on=day(-31),
         deadline_precision=Precision.MONTH)  # fmt: skip
    make("US", "TD", started_on=day(-5), deadline=day(200))  # in progress
    make("GB", "IQ", announced_on=day(-3))  # announced, no deadline
    make("FR", "NG", deadline=day(90), announced_on=day(-10))  # announced
    make("US", "ML", cancelled_on=day(-7), deadline=day(30))  # cancelled
    make("MINUSMA", "TD", completed_on=day(-60))  # completed, no deadline
    make("FR", "IQ", deadline=day(0), summary="The UN mission hands over")  # due soon
    make("US", "NG", deadline=day(-1), personnel=100, personnel_withdrawn=10)  # overdue
    return parties


QUERIES = [
    # each parameter alone
    "party=US", "party=FR", "party=MINUSMA", "host=NE", "host=ML", "host=TD", "host=IQ",
    "status=overdue", "status=due_soon", "status=in_progress", "status=announced",
    "status=completed", "status=completed_early", "status=completed_on_time",
    "status=completed_late", "status=cancelled",
    "search=Niger", "search=chad", "search=Agadez", "q=UN", "search=Mali",
    "deadline_after=" + day(0).isoformat(), "announced_before=" + day(-5).isoformat(),
    # pairs
    "party=US&host=NE", "party=FR&status=completed", "host=ML&status=completed",
    "status=overdue&search=Niger", "party=MINUSMA&host=TD", "host=TD&status=in_progress",
    # repeated and comma-separated values
    "status=overdue&status=due_soon", "status=overdue,due_soon", "host=NE,ML", "host=NE&host=TD",
    "party=US,FR&status=completed,cancelled", "status=completed_early&status=completed_late",
    # aliases: short names, names, demonyms, acronyms, letter case
    "party=USA", "party=America", "party=United%20States", "party=American", "party=UK",
    "party=French", "host=Nigerien", "party=minusma", "host=ne", "host=Chad,Iraq",
    # well-formed codes with no data: empty
    "party=DE", "host=IQ&party=MINUSMA", "status=cancelled&party=FR", "host=NE&status=in_progress",
    # names that name nothing: refused everywhere
    "party=Atlantis", "status=lost", "host=ZZZ", "status=overdue,lost", "host=NE&party=Narnia",
    # empty values mean "any" (the dashboard form's "Any")
    "party=&host=&status=&q=",
]  # fmt: skip


def dashboard_ids(client, query: str) -> tuple[int, list[int]]:
    response = client.get(f"/?{query}")
    page = response.content.decode()
    return response.status_code, [int(pk) for pk in re.findall(r'id="withdrawal-(\d+)"', page)]


def dashboard_json_ids(client, query: str) -> tuple[int, list[int]]:
    response = client.get(f"/dashboard.json?{query}")
    if response.status_code != 200:
        return response.status_code, []
    return 200, [row["id"] for row in response.json()["rows"]]


def api_ids(client, query: str) -> tuple[int, list[int]]:
    response = client.get(f"/api/withdrawals/?page_size=200&{query}")
    if response.status_code != 200:
        return response.status_code, []
    return 200, [row["id"] for row in response.json()["results"]]


def csv_ids(client, query: str) -> tuple[int, list[int]]:
    response = client.get(f"/api/withdrawals/?format=csv&{query}")
    if response.status_code != 200:
        return response.status_code, []
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return 200, [int(row["id"]) for row in csv.DictReader(io.StringIO(body.decode()))]


@pytest.mark.django_db
@pytest.mark.parametrize("query", QUERIES)
def test_it_gives_the_same_withdrawals_in_the_same_order_on_every_surface(client, world, query):
    api = api_ids(client, query)
    assert dashboard_ids(client, query) == api, "dashboard"
    assert dashboard_json_ids(client, query) == api, "dashboard.json"
    assert csv_ids(client, query) == api, "csv"
    if api[0] == 200:
        # The order, worked out in Python from each row's own status, not from any surface.
        rows = Withdrawal.objects.in_bulk(api[1])
        assert api[1] == sorted(api[1], key=lambda pk: urgency(rows[pk]))


def urgency(withdrawal: Withdrawal) -> tuple:
    section = SECTION_BY_STATUS[withdrawal.get_status()]
    rank = SECTIONS.index(section)
    if section.key in ("completed", "cancelled"):
        end = withdrawal.completed_on if section.key == "completed" else withdrawal.cancelled_on
        return (rank, 0, -(end or dt.date.min).toordinal(), withdrawal.pk)
    return (rank, (withdrawal.deadline or dt.date.max).toordinal(), 0, withdrawal.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("word", STATUS_WORDS)
def test_it_keeps_exactly_the_rows_of_a_status_word(client, world, word):
    wanted = statuses_named(word)
    expected = {w.pk for w in Withdrawal.objects.all() if w.get_status() in wanted}
    assert expected, "the world has a row of every status"
    assert set(api_ids(client, f"status={word}")[1]) == expected


def test_it_covers_enough_combinations():
    assert len(QUERIES) >= 40
