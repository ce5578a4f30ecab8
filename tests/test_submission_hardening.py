"""Submissions an attacker shapes (issue 14): text under someone else's URL (attack 4),
publication dates in the future (5), NUL bytes deep in a file (13), NUL bytes and deep
nesting in requests (14), and a per-user submission rate."""

import io
import json

import pytest
from django.core.management import call_command
from localweb import article_html

from tracker.models import IngestJob

REAL = (
    "NIAMEY, Niger (AP) — The United States agreed to withdraw about 1,000 troops from Niger "
    "by September 15, 2024, officials said on Monday."
)
FAKE = "The United States agreed to withdraw its troops from Niger by January 1, 2030."


def post(client, url, body, **extra):
    return client.post(url, json.dumps(body), content_type="application/json", **extra)


@pytest.fixture
def contributor(db) -> dict:
    out = io.StringIO()
    call_command(
        "api_token",
        "contrib",
        "--create",
        "--role",
        "contributor",
        stdout=out,
        stderr=io.StringIO(),
    )
    return {"HTTP_AUTHORIZATION": f"Token {out.getvalue().strip()}"}


@pytest.fixture
def allow_private(settings):
    settings.TRACKER_FETCH_ALLOW_PRIVATE = True


@pytest.mark.django_db
def test_it_never_stores_pasted_text_under_the_url_it_names_attack_4(
    client, contributor, web, allow_private, django_capture_on_commit_callbacks
):
    url = web.add("/niger", article_html("US to leave Niger", REAL, date="2024-05-20"))
    with django_capture_on_commit_callbacks(execute=True):
        pasted = post(client, "/api/sources/", {"text": FAKE, "url": url}, **contributor)
    assert pasted.status_code == 202, pasted.content
    fake = IngestJob.objects.get(pk=pasted.json()["id"]).source
    # The URL is kept as what the sender said, not as the page the text was read from.
    assert (fake.url, fake.stated_url) == ("", url)
    # The real page, submitted later, is fetched and read, not answered "unchanged".
    with django_capture_on_commit_callbacks(execute=True):
        fetched = post(client, "/api/sources/", {"url": url}, **contributor)
    job = IngestJob.objects.get(pk=fetched.json()["id"])
    assert job.state == "merged" and job.changes.get("unchanged") is not True, job.changes
    assert job.source_id != fake.pk
    assert job.source.url == url and "NIAMEY" in job.source.text and "2030" not in job.source.text
    body = client.get(f"/api/sources/{fake.pk}/").json()
    assert body["url"] == "" and body["stated_url"] == url
