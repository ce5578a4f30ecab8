"""API writes: tokens, milestone edits that lock, source submission, feeds, bad input,
and throttling (counted in Redis when it is configured)."""

import datetime as dt
import io
import json
import uuid

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from tracker import services
from tracker.models import Feed, IngestJob, Milestone, Source


@pytest.fixture
def token(staff_user) -> str:
    out = io.StringIO()
    call_command("api_token", staff_user.username, stdout=out)
    return out.getvalue().strip()


@pytest.fixture
def auth(token) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {token}"}


def post(client, url, body, **extra):
    return client.post(url, json.dumps(body), content_type="application/json", **extra)


def patch(client, url, body, **extra):
    return client.patch(url, json.dumps(body), content_type="application/json", **extra)


def milestone_body(target, **changes) -> dict:
    body = {
        "withdrawal": target.pk,
        "kind": "base_handover",
        "title": "Air Base 201 handed over",
        "date": "2024-08-05",
        "date_precision": "day",
        "status": "done",
    }
    return {**body, **changes}


@pytest.mark.django_db
def test_it_prints_the_same_token_for_a_user_until_rotated(staff_user, token):
    again = io.StringIO()
    call_command("api_token", staff_user.username, stdout=again)
    assert again.getvalue().strip() == token == Token.objects.get(user=staff_user).key
    rotated = io.StringIO()
    call_command("api_token", staff_user.username, "--rotate", stdout=rotated)
    assert rotated.getvalue().strip() != token


@pytest.mark.django_db
def test_it_creates_a_milestone_locked_like_an_admin_edit(client, niger_withdrawal, auth):
    response = post(client, "/api/milestones/", milestone_body(niger_withdrawal), **auth)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["locked"] is True and body["date"] == "2024-08-05"
    milestone = Milestone.objects.get(pk=body["id"])
    assert milestone.locked and milestone.history.count() == 1


@pytest.mark.django_db
def test_it_updates_a_milestone_and_locks_it(client, niger_withdrawal, auth):
    milestone = niger_withdrawal.milestones.get(kind="base_handover")
    assert not milestone.locked
    url = f"/api/milestones/{milestone.pk}/"
    response = patch(client, url, {"status": "done", "date": "2024-07-08"}, **auth)
    assert response.status_code == 200, response.content
    milestone.refresh_from_db()
    assert milestone.locked and milestone.status == "done"
    assert milestone.date == dt.date(2024, 7, 8)
    moved = patch(client, url, {"withdrawal": niger_withdrawal.pk + 1000}, **auth)
    assert moved.status_code == 400


@pytest.mark.django_db
def test_it_refuses_anonymous_and_wrong_token_writes_and_writes_nothing(client, niger_withdrawal):
    before = Milestone.objects.count()
    anonymous = post(client, "/api/milestones/", milestone_body(niger_withdrawal))
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_authenticated"
    assert anonymous["WWW-Authenticate"] == "Token"
    wrong = post(
        client,
        "/api/milestones/",
        milestone_body(niger_withdrawal),
        HTTP_AUTHORIZATION="Token not-a-token",
    )
    assert wrong.status_code == 401
    assert wrong.json() == {
        "error": {"status": 401, "code": "authentication_failed", "message": "Invalid token."}
    }
    assert post(client, "/api/sources/", {"text": "x"}).status_code == 401
    assert post(client, "/api/feeds/", {"url": "https://example.org/f"}).status_code == 401
    assert Milestone.objects.count() == before and not Source.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body,field,code",
    [
        ({"titel": "typo"}, "titel", "unknown_field"),
        ({"date": "2024-02-30"}, "date", "invalid"),
        ({"status": "finished"}, "status", "invalid"),
        ({"withdrawal": 424242}, "withdrawal", "invalid"),
        ({"withdrawal": "abc"}, "withdrawal", "invalid"),
        ({"title": ""}, "title", "invalid"),
        ({"title": "a\x00b"}, "title", "invalid"),
        ({"title": 0}, "title", "invalid"),
        ({"withdrawal": "1"}, "withdrawal", "invalid"),
    ],
)
def test_it_answers_400_for_a_bad_milestone_and_writes_nothing(
    client, niger_withdrawal, auth, body, field, code
):
    before = Milestone.objects.count()
    response = post(client, "/api/milestones/", milestone_body(niger_withdrawal, **body), **auth)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == code and field in error["fields"]
    assert Milestone.objects.count() == before


@pytest.mark.django_db
def test_it_answers_400_for_malformed_json(client, niger_withdrawal, auth):
    response = client.post(
        "/api/milestones/", '{"title": ', content_type="application/json", **auth
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    not_an_object = post(client, "/api/milestones/", ["a", "list"], **auth)
    assert not_an_object.status_code == 400


@pytest.mark.django_db
def test_it_answers_415_for_a_body_that_is_not_json(client, niger_withdrawal, auth):
    response = client.post("/api/milestones/", "title=x", content_type="text/plain", **auth)
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


@pytest.mark.django_db
def test_it_answers_413_for_an_oversized_body(client, niger_withdrawal, auth, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post(client, "/api/sources/", {"text": "x" * 2000}, **auth)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert not Source.objects.exists()


@pytest.mark.django_db
def test_it_answers_404_when_updating_a_milestone_that_does_not_exist(client, auth):
    response = patch(client, "/api/milestones/424242/", {"status": "done"}, **auth)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_it_answers_405_for_deleting_a_milestone(client, niger_withdrawal, auth):
    milestone = niger_withdrawal.milestones.first()
    response = client.delete(f"/api/milestones/{milestone.pk}/", **auth)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.django_db
def test_it_accepts_a_text_and_answers_202_with_the_job_to_watch(client, auth, staff_user):
    text = "The United States agreed to withdraw its troops from Niger by September 15, 2024."
    response = post(
        client,
        "/api/sources/",
        {"text": text, "title": "US to leave Niger", "published_on": "2024-05-20"},
        **auth,
    )
    assert response.status_code == 202, response.content
    job = response.json()
    assert job["state"] == "queued" and job["kind"] == "text"
    assert response["Location"] == job["url"]
    assert client.get(job["url"], **auth).json()["id"] == job["id"]
    stored = IngestJob.objects.get(pk=job["id"])
    assert stored.created_by == staff_user
    assert stored.source.title == "US to leave Niger"
    assert stored.source.published_on == dt.date(2024, 5, 20)


@pytest.mark.django_db
def test_it_answers_200_with_no_job_for_a_text_already_read(client, auth, monkeypatch):
    source = Source.objects.create(text="Read before.", content_hash="h", origin="pasted")

    def unchanged(**kwargs):
        return source, None

    monkeypatch.setattr(services, "source_submit_text", unchanged)
    response = post(client, "/api/sources/", {"text": "Read before."}, **auth)
    assert response.status_code == 200
    assert response.json()["id"] == source.pk


@pytest.mark.django_db
def test_it_accepts_a_url_and_answers_202_with_the_job(client, auth, monkeypatch, staff_user):
    # The contract of services.source_submit_url(*, url, user) -> IngestJob.
    calls = []

    def submit_url(*, url, user=None):
        calls.append((url, user))
        return IngestJob.objects.create(kind=IngestJob.Kind.URL, label=url, url=url)

    monkeypatch.setattr(services, "source_submit_url", submit_url, raising=False)
    response = post(client, "/api/sources/", {"url": "https://news.example.org/a"}, **auth)
    assert response.status_code == 202
    assert response.json()["submitted_url"] == "https://news.example.org/a"
    assert calls == [("https://news.example.org/a", staff_user)]


@pytest.mark.django_db
def test_it_answers_400_with_the_services_message_for_a_bad_url(client, auth, monkeypatch):
    def refuse(*, url, user=None):
        raise services.IngestError("127.0.0.1 is a private address")

    monkeypatch.setattr(services, "source_submit_url", refuse, raising=False)
    response = post(client, "/api/sources/", {"url": "http://127.0.0.1/"}, **auth)
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"url": ["127.0.0.1 is a private address"]}
    assert post(client, "/api/sources/", {"url": "not a url"}, **auth).status_code == 400
    assert post(client, "/api/sources/", {}, **auth).status_code == 400
    assert post(client, "/api/sources/", {"text": "   "}, **auth).status_code == 400
    assert not IngestJob.objects.exists()


@pytest.mark.django_db
def test_it_adds_a_feed(client, auth, monkeypatch):
    if not hasattr(services, "feed_add"):
        # The contract of services.feed_add(*, url, interval_minutes=60) -> Feed.
        def feed_add(*, url, interval_minutes=60):
            return Feed.objects.create(url=url, interval_minutes=interval_minutes)

        monkeypatch.setattr(services, "feed_add", feed_add, raising=False)
    body = {"url": "https://news.example.org/world.atom", "interval_minutes": 30}
    response = post(client, "/api/feeds/", body, **auth)
    assert response.status_code == 201, response.content
    assert response.json()["interval_minutes"] == 30
    again = post(client, "/api/feeds/", body, **auth)
    assert again.status_code == 200 and again.json()["id"] == response.json()["id"]
    assert post(client, "/api/feeds/", {"url": "x", "y": 1}, **auth).status_code == 400
    assert Feed.objects.count() == 1


# ---------------------------------------------------------------------------------------
# Throttling


def rates(settings, **overrides) -> None:
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], **overrides}
    settings.REST_FRAMEWORK = rest


def unique_ip() -> str:
    # A fresh address per run: counters live in a shared cache (Redis in CI) for a minute.
    a, b, c = uuid.uuid4().bytes[:3]
    return f"10.{a}.{b}.{c}"


@pytest.mark.django_db
def test_it_throttles_anonymous_reads(client, settings, niger_withdrawal):
    rates(settings, anon_read="2/minute")
    ip = unique_ip()
    for _ in range(2):
        assert client.get("/api/withdrawals/", REMOTE_ADDR=ip).status_code == 200
    response = client.get("/api/withdrawals/", REMOTE_ADDR=ip)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["error"]["code"] == "throttled"


@pytest.mark.django_db
def test_it_throttles_writes_per_user_but_not_their_reads(
    client, settings, niger_withdrawal, auth, staff_user
):
    from django.core.cache import cache

    cache.delete(f"throttle_write_user-{staff_user.pk}")
    rates(settings, write="1/minute", anon_read="1/minute")
    body = milestone_body(niger_withdrawal)
    assert post(client, "/api/milestones/", body, **auth).status_code == 201
    assert post(client, "/api/milestones/", body, **auth).status_code == 429
    for _ in range(3):
        assert client.get("/api/milestones/", **auth).status_code == 200


@pytest.mark.django_db
def test_it_counts_requests_in_redis_when_redis_is_configured(
    client, settings, redis_url, niger_withdrawal
):
    import redis

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url or "redis://127.0.0.1:6379/15",
            "KEY_PREFIX": "tracker",
        }
    }
    rates(settings, anon_read="5/minute")
    ip = unique_ip()
    assert client.get("/api/withdrawals/", REMOTE_ADDR=ip).status_code == 200
    connection = redis.Redis.from_url(redis_url or "redis://127.0.0.1:6379/15")
    keys = connection.keys(f"tracker:*throttle_anon_read_{ip}")
    assert len(keys) == 1
    connection.delete(*keys)


def test_it_keeps_the_throttle_counters_in_redis_when_redis_url_is_set():
    from django.conf import settings

    backend = settings.CACHES["default"]["BACKEND"]
    if settings.REDIS_URL:
        assert backend == "django.core.cache.backends.redis.RedisCache"
    else:
        assert backend == "django.core.cache.backends.locmem.LocMemCache"
