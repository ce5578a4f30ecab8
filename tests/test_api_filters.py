"""API filters: codes, derived status, date ranges, search, ordering, and 400s for bad values."""

import datetime as dt

import pytest

from tracker.models import Milestone, Party, Withdrawal

NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()


def day(offset: int) -> dt.date:
    return TODAY + dt.timedelta(days=offset)


@pytest.fixture
def parties(db):
    return {
        code: Party.objects.create(code=code, name=name)
        for code, name in [
            ("US", "United States"),
            ("FR", "France"),
            ("NE", "Niger"),
            ("ML", "Mali"),
            ("TD", "Chad"),
        ]
    }


@pytest.fixture
def world(parties):
    us_ne = Withdrawal.objects.create(
        party=parties["US"],
        host=parties["NE"],
        deadline=dt.date(2024, 9, 15),
        announced_on=dt.date(2024, 5, 20),
        summary="Air Base 201 in Agadez",
    )
    fr_ml = Withdrawal.objects.create(
        party=parties["FR"],
        host=parties["ML"],
        deadline=dt.date(2022, 8, 31),
        completed_on=dt.date(2022, 8, 15),
        announced_on=dt.date(2022, 2, 17),
    )
    fr_td = Withdrawal.objects.create(
        party=parties["FR"],
        host=parties["TD"],
        deadline=dt.date(2025, 1, 31),
        announced_on=dt.date(2024, 11, 28),
    )
    Milestone.objects.create(
        withdrawal=us_ne,
        kind="base_handover",
        title="Air Base 101",
        date=dt.date(2024, 7, 7),
        status="done",
    )
    Milestone.objects.create(
        withdrawal=fr_ml,
        kind="completion",
        title="Last soldier leaves",
        date=dt.date(2022, 8, 15),
        status="done",
    )
    Milestone.objects.create(
        withdrawal=fr_td,
        kind="base_handover",
        title="Faya base",
        date=dt.date(2024, 12, 26),
        status="planned",
    )
    return {"us_ne": us_ne, "fr_ml": fr_ml, "fr_td": fr_td}  # fmt: skip


def ids(client, url: str) -> list[int]:
    response = client.get(url)
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.django_db
def test_it_filters_withdrawals_by_party_and_host_codes(client, world):
    assert ids(client, "/api/withdrawals/?party=US&host=NE") == [world["us_ne"].pk]
    # Most urgent first: the open withdrawal from Chad before the one completed in Mali.
    assert ids(client, "/api/withdrawals/?party=fr") == [world["fr_td"].pk, world["fr_ml"].pk]
    # A real country nobody has left yet: an empty list, not an error.
    assert ids(client, "/api/withdrawals/?party=GB") == []


@pytest.mark.django_db
def test_it_reads_common_names_demonyms_and_several_values_for_a_party(client, world):
    us_ne = [world["us_ne"].pk]
    for value in ("USA", "America", "United%20States", "American", "U.S."):
        assert ids(client, f"/api/withdrawals/?party={value}") == us_ne, value
    assert ids(client, "/api/withdrawals/?host=Nigerien") == us_ne
    both = ids(client, "/api/withdrawals/?host=NE,TD")
    assert sorted(both) == sorted([world["us_ne"].pk, world["fr_td"].pk])
    assert ids(client, "/api/withdrawals/?host=NE&host=Chad") == both
    assert ids(client, "/api/withdrawals/?party=UK") == []


@pytest.mark.django_db
def test_it_answers_400_listing_what_is_accepted_for_a_party_that_names_nothing(client, world):
    response = client.get("/api/withdrawals/?party=Atlantis")
    assert response.status_code == 400
    message = response.json()["error"]["fields"]["party"][0]
    assert "Atlantis" in message and "names nothing" in message and "USA" in message


@pytest.mark.django_db
def test_it_means_every_completion_by_completed_with_the_grade_alongside(client, world):
    rows = client.get("/api/withdrawals/?status=completed").json()["results"]
    assert [(r["id"], r["status"], r["status_detail"]) for r in rows] == [
        (world["fr_ml"].pk, "completed", "completed_early")
    ]
    assert ids(client, "/api/withdrawals/?status=completed_late") == []
    several = ids(client, "/api/withdrawals/?status=completed&status=overdue,announced")
    assert sorted(several) == sorted(w.pk for w in world.values())


@pytest.mark.django_db
def test_it_searches_whole_names_not_substrings(client, world):
    # "UN" is not in "United States"; "Niger" is not "Nigeria".
    assert ids(client, "/api/withdrawals/?search=UN") == []
    assert ids(client, "/api/withdrawals/?search=USA") == [world["us_ne"].pk]
    assert ids(client, "/api/withdrawals/?search=Nig") == []


@pytest.mark.django_db
def test_it_filters_withdrawals_by_status(client, world):
    assert ids(client, "/api/withdrawals/?status=completed_early") == [world["fr_ml"].pk]


@pytest.mark.django_db
def test_it_filters_withdrawals_by_dates(client, world):
    assert ids(
        client, "/api/withdrawals/?deadline_after=2024-01-01&deadline_before=2024-12-31"
    ) == [world["us_ne"].pk]
    assert ids(client, "/api/withdrawals/?announced_after=2024-06-01") == [world["fr_td"].pk]
    assert ids(client, "/api/withdrawals/?announced_before=2022-12-31") == [world["fr_ml"].pk]
    assert len(ids(client, "/api/withdrawals/?updated_since=2000-01-01T00:00:00Z")) == 3
    assert ids(client, "/api/withdrawals/?updated_since=2100-01-01") == []


@pytest.mark.django_db
def test_it_searches_and_orders_withdrawals(client, world):
    assert ids(client, "/api/withdrawals/?search=agadez") == [world["us_ne"].pk]
    assert ids(client, "/api/withdrawals/?search=chad") == [world["fr_td"].pk]
    assert ids(client, "/api/withdrawals/?ordering=-deadline") == [
        world["fr_td"].pk, world["us_ne"].pk, world["fr_ml"].pk,
    ]  # fmt: skip
    assert ids(client, "/api/withdrawals/?ordering=announced_on")[0] == world["fr_ml"].pk


@pytest.mark.django_db
def test_it_filters_milestones_and_revisions(client, world):
    titles = [
        m["title"] for m in client.get("/api/milestones/?party=FR&status=done").json()["results"]
    ]
    assert titles == ["Last soldier leaves"]
    assert len(ids(client, "/api/milestones/?host=TD&kind=base_handover")) == 1
    assert len(ids(client, "/api/milestones/?date_after=2024-07-01&search=base")) == 2
    assert len(ids(client, f"/api/milestones/?withdrawal={world['us_ne'].pk}")) == 1
    assert ids(client, "/api/deadline-revisions/?party=US") == []


BAD_QUERIES = [
    ("/api/withdrawals/?deadline_after=2024-02-30", "deadline_after"),
    ("/api/withdrawals/?deadline_before=yesterday", "deadline_before"),
    ("/api/withdrawals/?announced_after=%00", "announced_after"),
    ("/api/withdrawals/?updated_since=not-a-time", "updated_since"),
    ("/api/withdrawals/?status=lost", "status"),
    ("/api/withdrawals/?party=U%00S", "party"),
    ("/api/withdrawals/?search=%00", "search"),
    ("/api/withdrawals/?ordering=password", "ordering"),
    ("/api/milestones/?withdrawal=abc", "withdrawal"),
    ("/api/milestones/?withdrawal=1.5", "withdrawal"),
    ("/api/milestones/?status=maybe", "status"),
    ("/api/sources/?published_after=2023-13-01", "published_after"),
    ("/api/ingest-jobs/?source=x", "source"),
    ("/api/feeds/?active=perhaps", "active"),
    ("/api/withdrawals/?page=abc", "page"),
    ("/api/withdrawals/?page_size=-1", "page_size"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("url,field", BAD_QUERIES)
def test_it_answers_400_with_the_field_for_a_bad_query_value(client, world, url, field, staff_user):
    if url.startswith("/api/ingest-jobs/"):
        client.force_login(staff_user)  # not public
    response = client.get(url)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["status"] == 400 and error["code"] == "invalid"
    assert field in error["fields"]
    assert error["message"].startswith(field)


@pytest.mark.django_db
def test_it_answers_404_for_a_page_past_the_end(client, world):
    response = client.get("/api/withdrawals/?page=9")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value",
    ["0120-01-19T14:30:14%2B16:50", "0001-01-01T00:00:00%2B01:00", "9999-12-31T23:59:59-01:00"],
)
def test_it_takes_any_utc_offset_in_updated_since(client, world, value):
    assert client.get(f"/api/withdrawals/?updated_since={value}").status_code in (200, 400)
