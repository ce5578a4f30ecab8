"""Feeds: subscribed once, polled with conditional GETs, each new entry queued as a job,
errors kept on the feed; the beat only polls feeds that are due."""

import datetime as dt

import pytest
from django.test import TestCase
from django.utils import timezone
from localweb import article_html, rss

from tracker import services, tasks
from tracker.models import Feed, IngestJob, Source

ARTICLES = {
    "/a1": "France agreed on Monday to withdraw its 1,000 troops from Chad by January 31, 2025.",
    "/a2": "Germany agreed on Monday to withdraw its 1,200 troops from Mali by December 31, 2023.",
}


@pytest.fixture
def allow_private(settings):
    settings.TRACKER_FETCH_ALLOW_PRIVATE = True


def serve_feed(web, paths, etag='"v1"') -> str:
    for path in paths:
        web.add(path, article_html(path, ARTICLES[path]))
    items = [(p, web.url(p), "Mon, 20 May 2024 10:00:00 GMT") for p in paths]
    return web.add(
        "/feed.xml", rss("Wire", items), content_type="application/rss+xml", headers={"ETag": etag}
    )


def poll(feed: Feed) -> int:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.feed_poll(feed_id=feed.pk)


@pytest.mark.django_db
def test_it_subscribes_to_a_feed_once_per_url():
    feed = services.feed_add(url="https://News.Example.org/feed.xml?utm_source=x")
    again = services.feed_add(url="https://news.example.org/feed.xml", interval_minutes=30)
    assert feed.pk == again.pk and Feed.objects.count() == 1
    assert again.url == "https://news.example.org/feed.xml"
    assert again.interval_minutes == 30
    with pytest.raises(services.IngestError, match="only http and https"):
        services.feed_add(url="file:///etc/passwd")
    with pytest.raises(services.IngestError, match="between 5 minutes and a week"):
        services.feed_add(url="https://example.org/rss", interval_minutes=1)


@pytest.mark.django_db
def test_it_queues_each_new_entry_once_and_uses_conditional_gets(web, allow_private):
    feed = services.feed_add(url=serve_feed(web, ["/a1"]))
    assert poll(feed) == 1
    feed.refresh_from_db()
    assert (feed.title, feed.etag, feed.last_error) == ("Wire", '"v1"', "")
    assert feed.next_poll_at > timezone.now() + dt.timedelta(minutes=59)
    job = IngestJob.objects.get()
    assert (job.kind, job.feed, job.published_on) == ("feed_entry", feed, dt.date(2024, 5, 20))
    assert job.state == IngestJob.State.MERGED, job.error
    assert job.source.origin == Source.Origin.FEED

    # Unchanged feed: the server answers 304 to If-None-Match, nothing is queued.
    assert poll(feed) == 0
    assert web.requests[-1][1].get("If-None-Match") == '"v1"'
    # A new entry appears: only it is queued.
    serve_feed(web, ["/a1", "/a2"], etag='"v2"')
    assert poll(feed) == 1
    assert IngestJob.objects.count() == 2 and Source.objects.count() == 2
    assert web.hits("/a1") == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        ("<html><body>Moved<br></body></html>", "text/html", "serves text/html, not a feed"),
        ("<p>not xml<br></p>", "application/xml", "not well-formed XML"),
        (
            '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
            "<rss><channel><title>&b;</title></channel></rss>",
            "application/rss+xml",
            "declares XML entities",
        ),
        ("gone", "text/plain", None),
    ],
)
def test_it_keeps_a_feed_error_on_the_feed_and_queues_nothing(
    web, allow_private, body, content_type, message
):
    url = web.add("/feed.xml", body, content_type=content_type, status=404 if not message else 200)
    feed = services.feed_add(url=url)
    assert poll(feed) == 0
    feed.refresh_from_db()
    assert (message or "the server answered 404") in feed.last_error
    assert feed.last_polled_at is not None and feed.next_poll_at > timezone.now()
    assert IngestJob.objects.count() == 0


@pytest.mark.django_db
def test_it_refuses_a_feed_on_an_internal_address(web):
    feed = services.feed_add(url=serve_feed(web, ["/a1"]))
    assert poll(feed) == 0
    feed.refresh_from_db()
    assert "internal address: refused" in feed.last_error
    assert web.hits("/feed.xml") == 0


@pytest.mark.django_db
def test_it_skips_feed_links_that_are_not_web_pages(web, allow_private):
    items = [("x", "javascript:alert(1)", ""), ("y", "ftp://example.org/a", "")]
    feed = services.feed_add(
        url=web.add("/feed.xml", rss("Odd", items), content_type="application/rss+xml")
    )
    assert poll(feed) == 0
    feed.refresh_from_db()
    assert feed.last_error == ""


@pytest.mark.django_db
def test_the_beat_polls_only_due_active_feeds_and_claims_each_once(monkeypatch):
    now = timezone.now()
    due = Feed.objects.create(url="https://a.example.org/rss", next_poll_at=now)
    Feed.objects.create(url="https://b.example.org/rss", next_poll_at=now + dt.timedelta(hours=1))
    Feed.objects.create(url="https://c.example.org/rss", next_poll_at=now, active=False)
    sent = []
    monkeypatch.setattr(tasks.feed_poll_task, "apply_async", lambda args: sent.append(args))
    assert services.feeds_poll_due(now=now) == 1
    assert services.feeds_poll_due(now=now) == 0  # claimed: the next beat leaves it
    assert sent == [[due.pk]]
    due.refresh_from_db()
    assert due.next_poll_at == now + dt.timedelta(minutes=60)


def test_the_beat_schedule_names_its_cadence(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["feeds-poll-due-every-minute"]["schedule"] == 60.0
    assert schedule["ingest-jobs-requeue-stale-every-15-seconds"]["task"] == (
        "tracker.tasks.ingest_jobs_requeue_stale_task"
    )


@pytest.mark.django_db
def test_it_queues_a_15000_item_feed_100_newest_entries_per_poll(web, allow_private, monkeypatch):
    # The attack: one followed feed with 15,000 items. Jobs are counted, not run.
    monkeypatch.setattr(tasks.source_ingest_task, "apply_async", lambda *a, **k: None)
    start = dt.datetime(2024, 1, 1)
    items = [
        (
            f"item {n}",
            web.url(f"/items/{n}"),
            (start + dt.timedelta(hours=n)).strftime("%a, %d %b %Y %H:%M:%S GMT"),
        )
        for n in range(15_000)
    ]
    feed_url = web.add(
        "/big.xml",
        rss("Wire", items),
        content_type="application/rss+xml",
        headers={"ETag": '"big"'},
    )
    feed = services.feed_add(url=feed_url)
    assert poll(feed) == 100
    jobs = IngestJob.objects.filter(feed=feed)
    assert jobs.count() == 100
    oldest_queued = (start + dt.timedelta(hours=14_900)).date()
    assert min(jobs.values_list("published_on", flat=True)) >= oldest_queued
    assert jobs.filter(url=web.url("/items/14999")).exists()
    feed.refresh_from_db()
    # The rest come on the next poll, a minute later, with the whole feed read again.
    assert feed.etag == "" and feed.next_poll_at < timezone.now() + dt.timedelta(minutes=2)
    assert poll(feed) == 100
    assert web.requests[-1][1].get("If-None-Match") is None
    assert IngestJob.objects.filter(feed=feed).count() == 200
    assert not IngestJob.objects.filter(url=web.url("/items/0")).exists()
