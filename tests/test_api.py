"""The read-only JSON API."""

import pytest


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
def test_it_lists_withdrawals_in_a_fixed_number_of_queries(
    client, niger_withdrawal, django_assert_num_queries
):
    # 1: count for pagination; 2: the page, joined with party and host.
    with django_assert_num_queries(2):
        client.get("/api/withdrawals/")


@pytest.mark.django_db
def test_it_details_a_withdrawal_with_milestones_and_deadline_history(client, niger_withdrawal):
    body = client.get(f"/api/withdrawals/{niger_withdrawal.pk}/").json()
    assert [m["title"] for m in body["milestones"]] == [
        "Agreement to withdraw announced",
        "Air Base 101 handed over",
    ]
    assert [r["deadline"] for r in body["deadline_revisions"]] == ["2024-09-15"]


@pytest.mark.django_db
def test_it_pages_milestones_and_caps_the_page_size(client, niger_withdrawal):
    body = client.get("/api/milestones/?page_size=1").json()
    assert body["count"] == 2 and len(body["results"]) == 1 and body["next"]
    capped = client.get("/api/milestones/?page_size=100000")
    assert capped.status_code == 200


@pytest.mark.django_db
def test_it_refuses_anonymous_writes(client, niger_withdrawal):
    response = client.post("/api/milestones/", {"title": "x"}, content_type="application/json")
    assert response.status_code in (401, 403, 405)
    assert client.get("/api/sources/").status_code == 200


@pytest.mark.django_db
def test_it_answers_404_for_an_unknown_withdrawal(client):
    assert client.get("/api/withdrawals/424242/").status_code == 404
