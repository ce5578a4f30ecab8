"""Submissions an attacker shapes (issue 14): text under someone else's URL (attack 4),
publication dates in the future (5), NUL bytes deep in a file (13), NUL bytes and deep
nesting in requests (14), and a per-user submission rate."""

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from localweb import article_html, rss

from tracker import services
from tracker.models import IngestJob, Source, Withdrawal

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


# ---------------------------------------------------------------------------------------
# Attack 5: a source dated in the future would fix the current deadline for good, since the
# deadline stated last wins.


@pytest.mark.django_db
def test_it_refuses_a_source_published_in_the_future_attack_5(client, contributor):
    body = {"text": FAKE, "published_on": "2099-12-31"}
    response = post(client, "/api/sources/", body, **contributor)
    assert response.status_code == 400, response.content
    message = response.json()["error"]["fields"]["published_on"][0]
    assert message == "published on 2099-12-31: that is in the future"
    assert not Source.objects.exists()
    tomorrow = dt.date.today() + dt.timedelta(days=1)  # somewhere it is already tomorrow
    body = {"text": FAKE, "published_on": tomorrow.isoformat()}
    assert post(client, "/api/sources/", body, **contributor).status_code == 202


@pytest.mark.django_db
def test_it_reads_a_feed_items_future_pubdate_as_today_with_a_warning_attack_5(
    web, allow_private, django_capture_on_commit_callbacks
):
    page = web.add("/niger", article_html("US to leave Niger", REAL))
    feed_url = web.add(
        "/world.rss",
        rss("World", [("US to leave Niger", page, "Fri, 31 Dec 2099 10:00:00 GMT")]),
        content_type="application/rss+xml",
    )
    feed = services.feed_add(url=feed_url)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.feed_poll(feed_id=feed.pk) == 1
    job = IngestJob.objects.get(feed=feed)
    today = dt.datetime.now(dt.UTC).date()
    assert job.state == "merged", job.error
    assert job.published_on == today and job.source.published_on == today
    assert any("2099-12-31 is in the future" in warning for warning in job.warnings)
    revision = Withdrawal.objects.get(party__code="US").deadline_revisions.get()
    assert revision.stated_on == today


# ---------------------------------------------------------------------------------------
# Attack 13: a NUL byte after the first 64 KiB.

PADDED_NUL = (REAL + "\n\n") * 600 + "\x00" + REAL


@pytest.mark.django_db
def test_it_refuses_an_upload_with_a_nul_byte_after_64_kib_attack_13(client, staff_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = PADDED_NUL.encode()
    assert data.index(b"\x00") > 65536
    client.force_login(staff_user)
    upload = SimpleUploadedFile("late-nul.txt", data, content_type="text/plain")
    response = client.post("/ingest/", {"mode": "file", "file-file": upload})
    assert response.status_code == 200
    assert "late-nul.txt: looks like a binary file" in response.content.decode()
    assert not Source.objects.exists() and not IngestJob.objects.exists()


@pytest.mark.django_db
def test_it_reports_a_nul_file_and_goes_on_with_the_folder_attack_13(tmp_path):
    from django.core.management.base import CommandError

    (tmp_path / "a.txt").write_text(REAL)
    (tmp_path / "b.txt").write_bytes(PADDED_NUL.encode())
    (tmp_path / "c.txt").write_text(FAKE)
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="1 item"):
        call_command("ingest", "--in-process", str(tmp_path), stdout=out, stderr=err)
    assert "b.txt: looks like a binary file" in err.getvalue()
    assert "2 ingested" in out.getvalue()
    assert Source.objects.count() == 2


# ---------------------------------------------------------------------------------------
# Attack 14: NUL bytes in lookups, deeply nested JSON.


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/parties/%00/",
        "/api/countries/%00/",
        "/api/parties/U%00S/",
        "/api/withdrawals/%00/",
        "/api/feeds/%00/",
    ],
)
def test_it_answers_404_to_a_nul_byte_in_a_lookup_attack_14(client, niger_withdrawal, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_it_answers_400_to_deeply_nested_json_attack_14(client, contributor):
    body = "[" * 100_000 + "]" * 100_000
    response = client.post("/api/sources/", body, content_type="application/json", **contributor)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "JSON parse error - nested too deeply."


# ---------------------------------------------------------------------------------------
# Attack 6: Redis down. A per-user submission rate.


def rates(settings, **overrides) -> None:
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], **overrides}
    settings.REST_FRAMEWORK = rest


def closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.django_db
def test_it_keeps_reads_and_writes_working_with_redis_down_attack_6(
    client, settings, monkeypatch, niger_withdrawal, contributor
):
    from tracker.api import throttles as api_limits

    monkeypatch.setattr(api_limits, "cache_down_until", 0.0)
    monkeypatch.setattr(api_limits, "local_counts", api_limits.LocMemCache("test-fallback", {}))
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    rates(settings, anon_read="3/minute")
    for _ in range(3):
        assert client.get("/api/withdrawals/").status_code == 200
    # Still limited, counted in this process meanwhile.
    assert client.get("/api/withdrawals/").status_code == 429
    response = post(client, "/api/sources/", {"text": REAL}, **contributor)
    assert response.status_code == 202, response.content


@pytest.mark.django_db
def test_it_limits_how_many_sources_a_contributor_submits(
    client, settings, contributor, auth_staff
):
    from django.core.cache import cache

    cache.clear()
    rates(settings, submit="2/hour", write="100/minute")
    for n in range(2):
        body = {"text": f"{FAKE} Report {n}."}
        assert post(client, "/api/sources/", body, **contributor).status_code == 202
    refused = post(client, "/api/sources/", {"text": f"{FAKE} Report 3."}, **contributor)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    feed = post(client, "/api/feeds/", {"url": "https://news.example.org/a.rss"}, **contributor)
    assert feed.status_code == 429
    # Staff bulk loads are not counted.
    for n in range(3):
        body = {"text": f"{FAKE} Staff {n}."}
        assert post(client, "/api/sources/", body, **auth_staff).status_code == 202


@pytest.fixture
def auth_staff(staff_user) -> dict:
    out = io.StringIO()
    call_command("api_token", staff_user.username, stdout=out, stderr=io.StringIO())
    return {"HTTP_AUTHORIZATION": f"Token {out.getvalue().strip()}"}
