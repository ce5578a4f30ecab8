"""The JSON API: resources, their shapes (golden JSON), and a fixed number of queries per list."""

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from tracker import services
from tracker.models import (
    Conflict,
    DeadlineRevision,
    Deployment,
    Evidence,
    Feed,
    IngestJob,
    Milestone,
    Party,
    Source,
    Withdrawal,
)

GOLDEN = Path(__file__).parent / "golden"
NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen_now(monkeypatch):
    # The API reads the clock once per request through tracker.api's timezone.now.
    monkeypatch.setattr("tracker.api.views.timezone.now", lambda: NOW)
    return NOW


@pytest.fixture
def corroborated(niger_withdrawal):
    """Two publishers' articles (three sources) backing the Niger withdrawal, one conflict."""
    sources = [
        Source.objects.create(
            text=f"Article {n}: the US will leave Niger by September 15.",
            content_hash=f"hash-{n}",
            origin=Source.Origin.PASTED,
            title=f"Article {n}",
            publisher=publisher,
            publisher_key=publisher.lower(),
            published_on=dt.date(2024, 5, 20 + n),
        )
        for n, publisher in enumerate(["Reuters", "Reuters", "AP"])
    ]
    for source in sources:
        Evidence.objects.create(
            source=source,
            withdrawal=niger_withdrawal,
            field=Evidence.Field.DEADLINE,
            value="2024-09-15",
            quote="the US will leave Niger by September 15",
            start=11,
            end=50,
        )
    Conflict.objects.create(
        withdrawal=niger_withdrawal,
        field="personnel",
        current_value="1000",
        proposed_value="1100",
        reason=Conflict.Reason.DISAGREEMENT,
        source=sources[2],
        quote="some 1,100 troops",
    )
    services.withdrawals_recount(withdrawal_ids=[niger_withdrawal.pk])
    niger_withdrawal.refresh_from_db()
    return niger_withdrawal


def normalise(value, key: str = ""):
    """Replace what changes from run to run (ids, timestamps, hashes) with placeholders."""
    if isinstance(value, dict):
        return {k: normalise(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v, key) for v in value]
    if value is None:
        return None
    if key in {"id", "withdrawal", "source", "milestone"} and isinstance(value, int):
        return "<id>"
    if key.endswith("_at"):
        return "<timestamp>"
    if key == "url" and isinstance(value, str) and value.startswith("http://testserver/api/"):
        return value.rsplit("/", 2)[0] + "/<id>/"
    return value


def assert_golden(name: str, data) -> None:
    path = GOLDEN / name
    data = normalise(data)
    if os.environ.get("UPDATE_GOLDEN") or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    assert data == json.loads(path.read_text()), f"{name} changed (UPDATE_GOLDEN=1 to accept)"


@pytest.mark.django_db
def test_it_lists_withdrawals_with_status_countdown_and_precision(client, niger_withdrawal):
    response = client.get("/api/withdrawals/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["party"] == {"code": "US", "name": "United States", "kind": "state"}
    assert row["host"]["code"] == "NE"
    assert row["deadline"] == "2024-09-15"
    assert row["deadline_precision"] == "day"
    assert row["status"] == "overdue"
    assert row["countdown"]["seconds"] < 0
    assert row["personnel"] == 1000 and row["personnel_qualifier"] == "approximately"


@pytest.mark.django_db
def test_it_counts_distinct_sources_and_publishers_as_corroboration(client, corroborated):
    row = client.get("/api/withdrawals/").json()["results"][0]
    assert row["evidence_count"] == 3
    assert row["source_count"] == 3
    assert row["publisher_count"] == 2
    assert row["open_conflict_count"] == 1


@pytest.mark.django_db
def test_it_shows_a_withdrawal_list_row_as_in_the_golden_file(client, corroborated, frozen_now):
    row = client.get("/api/withdrawals/").json()["results"][0]
    assert row["status"] == "announced"
    assert_golden("withdrawal_list_row.json", row)


@pytest.mark.django_db
def test_it_details_a_withdrawal_as_in_the_golden_file(client, corroborated, frozen_now):
    body = client.get(f"/api/withdrawals/{corroborated.pk}/").json()
    assert [m["title"] for m in body["milestones"]] == [
        "Agreement to withdraw announced",
        "Air Base 101 handed over",
    ]
    assert [r["deadline"] for r in body["deadline_revisions"]] == ["2024-09-15"]
    assert len(body["evidence"]) == 3
    assert body["conflicts"][0]["proposed_value"] == "1100"
    assert body["countdown"] == {
        "seconds": 9201600,
        "completed_days_early": None,
        "text": "106 days, 12 hours left",
    }
    assert_golden("withdrawal_detail.json", body)


@pytest.mark.django_db
def test_it_details_a_source_with_the_facts_read_from_it(client, corroborated):
    source = Source.objects.get(title="Article 2")
    listed = client.get("/api/sources/").json()["results"]
    assert "text" not in listed[0]
    body = client.get(f"/api/sources/{source.pk}/").json()
    assert body["text"].startswith("Article 2")
    assert body["evidence"][0]["field"] == "deadline"
    assert body["evidence"][0]["withdrawal"] == corroborated.pk
    assert body["conflicts"][0]["field"] == "personnel"
    assert_golden("source_detail.json", body)


@pytest.mark.django_db
def test_it_lists_parties_countries_deployments_feeds_and_jobs(
    client, niger_withdrawal, staff_user
):
    Party.objects.create(code="MINUSMA", name="MINUSMA", kind=Party.Kind.ORGANISATION)
    Deployment.objects.create(
        party=niger_withdrawal.party, host=niger_withdrawal.host, personnel=1100
    )
    Feed.objects.create(url="https://news.example.org/feed.xml")
    IngestJob.objects.create(
        kind=IngestJob.Kind.TEXT,
        label="pasted text",
        warnings=["invalid UTF-8 bytes were replaced"],
        timings={"extracting": 0.012},
    )

    parties = client.get("/api/parties/").json()["results"]
    assert {p["code"] for p in parties} == {"US", "NE", "MINUSMA"}
    assert client.get("/api/parties/US/").json()["name"] == "United States"
    countries = {c["code"]: c for c in client.get("/api/countries/").json()["results"]}
    assert set(countries) == {"US", "NE"}
    assert countries["NE"]["withdrawals_hosted"] == 1
    assert countries["NE"]["deployments_hosted"] == 1
    deployment = client.get("/api/deployments/").json()["results"][0]
    assert deployment["party"]["code"] == "US" and deployment["personnel"] == 1100
    assert client.get("/api/feeds/").json()["results"][0]["url"].endswith("feed.xml")
    client.force_login(staff_user)  # ingest jobs are for staff and their contributors
    job = client.get("/api/ingest-jobs/").json()["results"][0]
    assert job["state"] == "queued"
    assert job["warnings"] == ["invalid UTF-8 bytes were replaced"]
    assert job["timings"] == {"extracting": 0.012}
    assert client.get(job["url"]).json()["id"] == job["id"]
    revisions = client.get("/api/deadline-revisions/").json()["results"]
    assert revisions[0]["deadline"] == "2024-09-15" and revisions[0]["precision"] == "day"


@pytest.mark.django_db
def test_it_pages_milestones_and_caps_the_page_size(client, niger_withdrawal):
    body = client.get("/api/milestones/?page_size=1").json()
    assert body["count"] == 2 and len(body["results"]) == 1 and body["next"]
    capped = client.get("/api/milestones/?page_size=100000")
    assert capped.status_code == 200


@pytest.mark.django_db
def test_it_answers_404_for_an_unknown_withdrawal(client):
    response = client.get("/api/withdrawals/424242/")
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "status": 404,
            "code": "not_found",
            "message": "No Withdrawal matches the given query.",
        }
    }
    assert client.get("/api/withdrawals/abc/").status_code == 404
    assert client.get("/api/withdrawals/99999999999999999999999/").status_code == 404


# ---------------------------------------------------------------------------------------
# Query counts: the same for one row and for a full page.


def make_world(count: int) -> None:
    """count withdrawals, each with two milestones, a revision, evidence and a conflict."""
    parties = Party.objects.bulk_create(
        [Party(code=f"P{n}", name=f"Party {n}") for n in range(count)]
        + [Party(code=f"H{n}", name=f"Host {n}") for n in range(count)]
    )
    deploying, hosts = parties[:count], parties[count:]
    now = timezone.now()
    withdrawals = Withdrawal.objects.bulk_create(
        [
            Withdrawal(party=p, host=h, deadline=dt.date(2030, 1, 1) + dt.timedelta(days=n))
            for n, (p, h) in enumerate(zip(deploying, hosts, strict=True))
        ]
    )
    Deployment.objects.bulk_create(
        [Deployment(party=w.party, host=w.host, personnel=100) for w in withdrawals]
    )
    source = Source.objects.create(text="t", content_hash="h", origin="pasted", publisher="AP")
    Milestone.objects.bulk_create(
        [
            Milestone(withdrawal=w, kind="other", title=f"M{n}", date=now.date())
            for w in withdrawals
            for n in range(2)
        ]
    )
    DeadlineRevision.objects.bulk_create(
        [DeadlineRevision(withdrawal=w, deadline=w.deadline, source=source) for w in withdrawals]
    )
    Evidence.objects.bulk_create(
        [
            Evidence(source=source, withdrawal=w, field="deadline", quote="q", start=0, end=1)
            for w in withdrawals
        ]
    )
    Conflict.objects.bulk_create(
        [
            Conflict(withdrawal=w, field="personnel", proposed_value="1", reason="disagreement",
                     source=source)
            for w in withdrawals
        ]
    )  # fmt: skip
    Feed.objects.bulk_create([Feed(url=f"https://f.example/{n}") for n in range(count)])
    IngestJob.objects.bulk_create(
        [IngestJob(kind="text", label=f"j{n}", source=source) for n in range(count)]
    )
    Source.objects.bulk_create(
        [
            Source(text=f"s{n}", content_hash=f"h{n}", origin="pasted", title=f"S{n}")
            for n in range(count)
        ]
    )


# Each list: 1 query to count the rows for pagination, 1 for the page itself. Withdrawals:
# the page computes its counts in correlated subqueries, and 3: the page's parties in one
# query (cheaper than joining party and host into the sort of every matching row).
# Deployments join party and host; the others have no relations in their list shape.
LIST_QUERIES = {
    "/api/withdrawals/": 3,
    # +1: "P0" is no code or name the gazetteer knows, so the parties on record are asked.
    "/api/withdrawals/?status=announced&party=P0&search=Party": 4,
    "/api/milestones/": 2,
    "/api/milestones/?party=P0&host=H0": 2,
    "/api/deadline-revisions/": 2,
    "/api/sources/": 2,
    "/api/sources/?party=P0": 2,
    "/api/parties/": 2,
    "/api/countries/": 2,
    "/api/deployments/": 2,
    "/api/feeds/": 2,
    # +1: the staff token and its user (ingest jobs are not public).
    "/api/ingest-jobs/": 3,
}


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 100])
@pytest.mark.parametrize("url", list(LIST_QUERIES))
def test_it_lists_in_the_same_number_of_queries_for_one_row_and_a_full_page(
    client, django_assert_num_queries, count, url, staff_user
):
    make_world(count)
    headers = {}
    if url.startswith("/api/ingest-jobs/"):
        token = Token.objects.create(user=staff_user)
        headers = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    with django_assert_num_queries(LIST_QUERIES[url]):
        response = client.get(url + ("&" if "?" in url else "?") + "page_size=100", **headers)
    assert response.status_code == 200


@pytest.mark.django_db
def test_it_details_a_withdrawal_in_a_fixed_number_of_queries(
    client, corroborated, django_assert_num_queries
):
    # 1: the withdrawal with party, host and its counts; 2: milestones; 3: deadline
    # revisions; 4: evidence; 5: conflicts.
    with django_assert_num_queries(5):
        client.get(f"/api/withdrawals/{corroborated.pk}/")


@pytest.mark.django_db
def test_it_details_a_source_in_a_fixed_number_of_queries(
    client, corroborated, django_assert_num_queries
):
    source = Source.objects.get(title="Article 2")
    # 1: the source; 2: its evidence; 3: its deadline revisions; 4: its conflicts.
    with django_assert_num_queries(4):
        client.get(f"/api/sources/{source.pk}/")


@pytest.mark.django_db
def test_it_renders_list_rows_as_drf_renders_the_declared_fields(
    client, corroborated, rf, frozen_now
):
    """The list's fast rows equal DRF's generic rendering of the same declared fields."""
    from rest_framework import serializers as drf_serializers

    from tracker.api.serializers import MilestoneSerializer, WithdrawalSerializer

    for n, fields in enumerate(
        [
            {"completed_on": dt.date(2024, 5, 1)},
            {"cancelled_on": dt.date(2024, 5, 1), "started_on": dt.date(2024, 4, 1)},
            {"deadline": None, "personnel_withdrawn": 10, "personnel": 20},
        ]
    ):
        Withdrawal.objects.create(
            party=Party.objects.create(code=f"Z{n}", name=f"Z{n}"),
            host=corroborated.host,
            **fields,
        )
    rows = {row["id"]: row for row in client.get("/api/withdrawals/").json()["results"]}
    request = rf.get("/api/withdrawals/")
    for withdrawal in Withdrawal.objects.all():
        generic = WithdrawalSerializer(withdrawal, context={"request": request, "now": NOW}).data
        assert generic == rows[withdrawal.pk]
    milestones = client.get("/api/milestones/").json()["results"]
    for row in milestones:
        generic = drf_serializers.ModelSerializer.to_representation(
            MilestoneSerializer(), Milestone.objects.get(pk=row["id"])
        )
        assert generic == row


@pytest.mark.django_db
def test_it_answers_unknown_api_urls_in_the_error_shape(client):
    response = client.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"status": 404, "code": "not_found", "message": "Not found."}
    }
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_it_links_the_api_root_to_the_docs_with_withdrawals_first(client):
    root = client.get("/api/").json()
    assert root["docs"].endswith("/api/docs/") and root["schema"].endswith("/api/schema/")
    resources = [key for key in root if key not in ("docs", "schema")]
    assert resources[0] == "withdrawals"
    assert client.get(root["docs"]).status_code == 200
