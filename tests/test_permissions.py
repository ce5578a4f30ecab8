"""Attack 2 (issue 14): a token is not a licence to write. Readers read; contributors
submit sources, URLs and feeds; editors edit and lock facts; staff keep everything."""

import io
import json

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from tracker import permissions, services
from tracker.models import Feed, IngestJob, Milestone, Source

ARTICLE = "The United States agreed to withdraw its 1,000 troops from Niger by September 15, 2024."


def token_for(username: str, *args: str) -> tuple[str, str]:
    """(token, what api_token said the user may do), as an operator would run it."""
    out, err = io.StringIO(), io.StringIO()
    call_command("api_token", username, "--create", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def auth(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {token}"}


def send(client, method, url, body, **extra):
    return getattr(client, method)(url, json.dumps(body), content_type="application/json", **extra)


@pytest.fixture
def plain(db) -> dict:
    # `api_token NAME --create`: a user with no staff flag and no permissions ($TP).
    return auth(token_for("plain")[0])


@pytest.fixture
def contributor(db) -> dict:
    return auth(token_for("contrib", "--role", "contributor")[0])


@pytest.fixture
def editor(db) -> dict:
    return auth(token_for("ed", "--role", "editor")[0])


@pytest.mark.django_db
def test_it_refuses_a_plain_token_patching_a_milestone_attack_2(client, niger_withdrawal, plain):
    milestone = niger_withdrawal.milestones.get(kind="base_handover")
    response = send(
        client,
        "patch",
        f"/api/milestones/{milestone.pk}/",
        {"title": "PWNED", "status": "cancelled"},
        **plain,
    )
    assert response.status_code == 403, response.content
    error = response.json()["error"]
    assert error["code"] == "permission_denied"
    assert "editor role" in error["message"]
    milestone.refresh_from_db()
    assert milestone.title == "Air Base 101 handed over" and not milestone.locked


@pytest.mark.django_db
def test_it_refuses_a_plain_token_creating_a_milestone_attack_2(client, niger_withdrawal, plain):
    body = {"withdrawal": niger_withdrawal.pk, "kind": "other", "title": "PWNED"}
    response = send(client, "post", "/api/milestones/", body, **plain)
    assert response.status_code == 403
    assert not Milestone.objects.filter(title="PWNED").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body", [{"text": ARTICLE}, {"url": "https://news.example.org/us-niger"}], ids=["text", "url"]
)
def test_it_refuses_a_plain_token_submitting_a_source_attack_2(client, plain, body):
    response = send(client, "post", "/api/sources/", body, **plain)
    assert response.status_code == 403
    assert "contributor role" in response.json()["error"]["message"]
    assert not Source.objects.exists() and not IngestJob.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_plain_token_following_a_feed_attack_2(client, plain):
    body = {"url": "https://news.example.org/world.atom"}
    response = send(client, "post", "/api/feeds/", body, **plain)
    assert response.status_code == 403
    assert not Feed.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_signed_in_reader_writing_through_the_session_attack_2(
    client, niger_withdrawal, reader
):
    client.force_login(reader)
    milestone = niger_withdrawal.milestones.get(kind="base_handover")
    response = send(client, "patch", f"/api/milestones/{milestone.pk}/", {"title": "PWNED"})
    assert response.status_code == 403
    assert send(client, "post", "/api/sources/", {"text": ARTICLE}).status_code == 403


@pytest.mark.django_db
def test_it_asks_anonymous_writers_for_a_token(client, niger_withdrawal):
    response = send(client, "post", "/api/sources/", {"text": ARTICLE})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.django_db
def test_it_lets_a_contributor_submit_sources_and_feeds_but_not_edit_facts(
    client, niger_withdrawal, contributor
):
    assert send(client, "post", "/api/sources/", {"text": ARTICLE}, **contributor).status_code in (
        200,
        202,
    )
    feed = {"url": "https://news.example.org/world.atom"}
    assert send(client, "post", "/api/feeds/", feed, **contributor).status_code == 201
    milestone = niger_withdrawal.milestones.get(kind="base_handover")
    response = send(
        client, "patch", f"/api/milestones/{milestone.pk}/", {"status": "done"}, **contributor
    )
    assert response.status_code == 403


@pytest.mark.django_db
def test_it_lets_an_editor_edit_and_lock_a_milestone(client, niger_withdrawal, editor):
    milestone = niger_withdrawal.milestones.get(kind="base_handover")
    response = send(
        client, "patch", f"/api/milestones/{milestone.pk}/", {"status": "done"}, **editor
    )
    assert response.status_code == 200, response.content
    milestone.refresh_from_db()
    assert milestone.status == "done" and milestone.locked


@pytest.mark.django_db
def test_it_keeps_reads_open_to_everyone(client, niger_withdrawal, plain):
    for path in ("/api/withdrawals/", "/api/milestones/", "/api/sources/", "/api/feeds/"):
        assert client.get(path).status_code == 200
        assert client.get(path, **plain).status_code == 200


@pytest.mark.django_db
def test_it_says_what_a_user_may_do_when_printing_a_token():
    _, said = token_for("plain")
    assert "read everything public" in said and "read-only" in said
    _, said = token_for("contrib", "--role", "contributor")
    assert "submit sources" in said and "edit and lock facts" not in said
    _, said = token_for("rev", "--role", "reviewer")
    assert "submit sources" in said and "edit and lock facts" in said
    assert "verify machine-read facts" in said


@pytest.mark.django_db
def test_it_creates_the_role_groups_with_their_permissions():
    for role, (group_name, codes) in permissions.ROLES.items():
        group = Group.objects.get(name=group_name)
        held = {f"tracker.{p.codename}" for p in group.permissions.all()}
        assert held == set(codes), role


@pytest.mark.django_db
def test_it_gives_staff_every_role(staff_user, reader):
    assert permissions.user_can_submit(staff_user) and permissions.user_can_edit(staff_user)
    assert permissions.user_can_review(staff_user)
    assert not permissions.user_can_submit(reader) and not permissions.user_can_edit(reader)


# ---------------------------------------------------------------------------------------
# Attack 15: /api/ingest-jobs/ follows the HTML job pages' rule.


@pytest.mark.django_db
def test_it_hides_ingest_jobs_from_readers_attack_15(client, plain, contributor, staff_user):
    from django.contrib.auth import get_user_model

    mine = services.source_submit_text(
        text=ARTICLE,
        origin="upload",
        label="secret-memo.txt",
        user=get_user_model().objects.get(username="contrib"),
        enqueue=False,
    )[1]
    theirs = IngestJob.objects.create(kind="url", label="https://intranet.example/x")
    assert client.get("/api/ingest-jobs/").status_code == 401
    assert client.get(f"/api/ingest-jobs/{mine.pk}/").status_code == 401
    refused = client.get("/api/ingest-jobs/", **plain)
    assert refused.status_code == 403
    assert "contributor role" in refused.json()["error"]["message"]
    # A contributor watches the jobs they submitted, not everyone's.
    listed = client.get("/api/ingest-jobs/", **contributor).json()["results"]
    assert [job["id"] for job in listed] == [mine.pk]
    assert client.get(f"/api/ingest-jobs/{theirs.pk}/", **contributor).status_code == 404
    client.force_login(staff_user)
    assert {job["id"] for job in client.get("/api/ingest-jobs/").json()["results"]} == {
        mine.pk,
        theirs.pk,
    }


@pytest.mark.django_db
def test_it_keeps_raw_internal_errors_out_of_the_job_attack_15(client, monkeypatch, contributor):
    from tracker import extraction

    def broken(text, published=None):
        raise RuntimeError("could not open /srv/tracker/secret.key on db-internal-7")

    monkeypatch.setattr(extraction, "extract", broken)
    response = send(client, "post", "/api/sources/", {"text": ARTICLE}, **contributor)
    job = IngestJob.objects.get(pk=response.json()["id"])
    services.ingest_job_run(job_id=job.pk)
    body = client.get(f"/api/ingest-jobs/{job.pk}/", **contributor).json()
    assert body["state"] == "failed"
    assert "secret.key" not in body["error"] and "db-internal" not in body["error"]
    assert body["error"].startswith("internal error (RuntimeError)")


def test_it_documents_every_role_and_permission_in_the_security_guide():
    from pathlib import Path

    guide = (Path(__file__).resolve().parent.parent / "docs" / "security.md").read_text()
    for role, (group_name, codes) in permissions.ROLES.items():
        assert f"{role} (`{group_name}`)" in guide
        for code in codes:
            assert f"`{code}`" in guide
    assert "## Reporting a vulnerability" in guide


@pytest.mark.django_db
def test_it_keeps_database_hosts_out_of_a_retried_job_attack_15(monkeypatch, contributor, client):
    from django.db import OperationalError

    from tracker import extraction

    def down(text, published=None):
        raise OperationalError('connection to server at "db-internal-7" (10.1.2.3) failed')

    monkeypatch.setattr(extraction, "extract", down)
    response = send(client, "post", "/api/sources/", {"text": ARTICLE}, **contributor)
    job = IngestJob.objects.get(pk=response.json()["id"])
    services.ingest_job_run(job_id=job.pk, retry=False)
    body = client.get(f"/api/ingest-jobs/{job.pk}/", **contributor).json()
    assert body["state"] == "failed" and body["error"] == "database busy (OperationalError)"
