"""API filters: codes, derived status, date ranges, search, ordering, and 400s for bad values."""

import datetime as dt

import pytest
from django.conf import settings

from tracker.filters import withdrawals_with_status
from tracker.models import Milestone, Party, Precision, Status, Withdrawal

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


@pytest.mark.django_db
def test_it_filters_each_status_exactly_as_get_status_derives_it(parties):
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
        found = set(
            withdrawals_with_status(Withdrawal.objects.all(), status, NOW).values_list(
                "pk", flat=True
            )
        )
        assert found == expected, status
    # The cases reach every status.
    assert seen == set(Status)


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
    assert ids(client, "/api/withdrawals/?party=fr") == [world["fr_ml"].pk, world["fr_td"].pk]
    assert ids(client, "/api/withdrawals/?party=ZZ") == []


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
