"""Attack 1 (issue 14): one date far in the future or past must never take the site down.

Dates are bounded where they enter (extraction output, the API, forms, the admin, feeds,
published_on) and every computation that displays or exports a date is safe anyway.
"""

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command

from tracker.models import IngestJob, Milestone, Withdrawal

BELGIUM_BENIN = (
    "Belgium agreed to withdraw its 300 troops from Benin by 9999-12-31, the ministry said."
)
PAGES = [
    "/",
    "/dashboard.json",
    "/api/withdrawals/",
    "/api/withdrawals/?format=csv",
    "/api/milestones/",
    "/feeds/deadlines.ics",
    "/feeds/changes.atom",
]


@pytest.fixture
def auth(staff_user) -> dict:
    out = io.StringIO()
    call_command("api_token", staff_user.username, stdout=out)
    return {"HTTP_AUTHORIZATION": f"Token {out.getvalue().strip()}"}


def post(client, url, body, **extra):
    return client.post(url, json.dumps(body), content_type="application/json", **extra)


def assert_site_up(client):
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)


@pytest.mark.django_db
def test_it_keeps_the_site_up_after_a_deadline_in_year_9999_attack_1(
    client, auth, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            client, "/api/sources/", {"text": BELGIUM_BENIN, "published_on": "2026-11-01"}, **auth
        )
    assert response.status_code == 202, response.content
    job = IngestJob.objects.get(pk=response.json()["id"])
    assert Withdrawal.objects.filter(party__code="BE", host__code="BJ").exists()
    assert job.state == IngestJob.State.MERGED, job.error
    # The date is refused where it enters the records, and the job says so.
    assert not Withdrawal.objects.filter(deadline__year__gt=2200).exists()
    assert any("9999-12-31" in warning for warning in job.warnings), job.warnings
    assert_site_up(client)


@pytest.mark.django_db
def test_it_refuses_a_milestone_dated_9999_attack_1(client, niger_withdrawal, auth):
    body = {
        "withdrawal": niger_withdrawal.pk,
        "kind": "other",
        "title": "Far future",
        "date": "9999-12-31",
        "date_precision": "day",
        "status": "planned",
    }
    response = post(client, "/api/milestones/", body, **auth)
    assert response.status_code == 400, response.content
    assert "date" in response.json()["error"]["fields"]
    assert not Milestone.objects.filter(title="Far future").exists()
    assert_site_up(client)


@pytest.mark.django_db
@pytest.mark.parametrize("published_on", ["9999-12-31", "0001-01-01"])
def test_it_refuses_a_source_published_at_the_end_of_time_attack_1(client, auth, published_on):
    response = post(
        client,
        "/api/sources/",
        {"text": BELGIUM_BENIN.replace("9999-12-31", "2027"), "published_on": published_on},
        **auth,
    )
    assert response.status_code == 400, response.content
    message = response.json()["error"]["fields"]["published_on"][0]
    assert "between" in message
    assert not IngestJob.objects.exists()


@pytest.mark.django_db
def test_it_shows_pages_even_with_extreme_dates_already_stored_attack_1(client, niger_withdrawal):
    # Rows written before the bounds existed (or by hand) still render everywhere.
    Withdrawal.objects.filter(pk=niger_withdrawal.pk).update(deadline=dt.date.max)
    niger_withdrawal.deadline_revisions.update(deadline=dt.date.max)
    niger_withdrawal.milestones.update(date=dt.date.max)
    assert_site_up(client)
    Withdrawal.objects.filter(pk=niger_withdrawal.pk).update(
        deadline=dt.date.min, announced_on=dt.date.min
    )
    niger_withdrawal.milestones.update(date=dt.date.min)
    assert_site_up(client)
    response = client.get(f"/withdrawals/{niger_withdrawal.pk}/")
    assert response.status_code == 200


@pytest.mark.django_db
def test_it_refuses_a_9999_date_in_the_admin_attack_1(client, staff_user, niger_withdrawal):
    client.force_login(staff_user)
    milestone = niger_withdrawal.milestones.get(kind="base_handover")
    response = client.post(
        f"/admin/tracker/milestone/{milestone.pk}/change/",
        {
            "withdrawal": niger_withdrawal.pk,
            "kind": milestone.kind,
            "title": milestone.title,
            "date": "9999-12-31",
            "date_precision": "day",
            "status": "planned",
            "description": "",
        },
    )
    assert response.status_code == 200  # the form again, with its error
    assert "Enter a date between 1900-01-01 and 2100-12-31." in response.content.decode()
    milestone.refresh_from_db()
    assert milestone.date == dt.date(2024, 7, 7)


@pytest.mark.django_db
@pytest.mark.parametrize("published_on", ["9999-12-31", "0001-01-01"])
def test_it_refuses_the_end_of_time_on_the_ingest_page_attack_1(client, staff_user, published_on):
    client.force_login(staff_user)
    response = client.post(
        "/ingest/",
        {"mode": "text", "text-text": BELGIUM_BENIN, "text-published_on": published_on},
    )
    assert response.status_code == 200
    assert f"published on {published_on}: Enter a date between" in response.content.decode()
    assert not IngestJob.objects.exists()


@pytest.mark.django_db
def test_it_refuses_the_end_of_time_on_the_command_line_attack_1(tmp_path):
    article = tmp_path / "benin.txt"
    article.write_text(BELGIUM_BENIN.replace("9999-12-31", "2027"))
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(
            "ingest",
            str(article),
            "--in-process",
            "--published",
            "9999-12-31",
            stdout=out,
            stderr=err,
        )
    except Exception as exc:  # a CommandError is a clear refusal too
        assert "9999-12-31" in str(exc) and "between" in str(exc)
    else:
        assert "between" in out.getvalue() + err.getvalue()
    assert not IngestJob.objects.exists()


def test_it_bounds_every_extracted_date_before_merging_attack_1():
    from tracker import services
    from tracker.extraction.model import (
        DateFact,
        Evidence,
        ExtractionResult,
        MilestoneFact,
        PartyRef,
        PhaseFact,
        WithdrawalFact,
    )

    said = Evidence(text="by 9999-12-31", start=0, end=13)
    far = DateFact(
        date=dt.date(9999, 12, 31), precision="day", phrase="by 9999-12-31", evidence=said
    )
    near = DateFact(date=dt.date(2027, 1, 31), precision="day", phrase="by 2027", evidence=said)
    fact = WithdrawalFact(
        deploying=PartyRef(code="BE", name="Belgium", kind="state"),
        host=PartyRef(code="BJ", name="Benin", kind="state"),
        announced_on=near,
        deadline=far,
        milestones=[
            MilestoneFact(kind="deadline", date=far, summary="", evidence=said),
            MilestoneFact(kind="agreement", date=near, summary="", evidence=said),
        ],
        phases=[
            PhaseFact(scope="the first 100", deadline=far, completed_on=None, personnel=None,
                      evidence=said),
        ],
    )  # fmt: skip
    result = ExtractionResult(reference_date=dt.date(2026, 11, 1), withdrawals=[fact])
    warnings = services.merging.result_bound_dates(result)
    assert fact.deadline is None and fact.announced_on == near
    assert [m.kind for m in fact.milestones] == ["agreement"]
    assert fact.phases[0].deadline is None and fact.phases[0].scope == "the first 100"
    assert len(warnings) == 3 and all("9999-12-31" in w for w in warnings)
    assert services.merging.result_bound_dates(result) == []
