"""Ingestion through a real Redis broker and real `celery worker` processes: feeds polled and
their entries ingested end to end, retries with backoff, a worker killed mid-task, and
Redis wiped with work queued."""

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
from django.db import connection
from localweb import article_html, rss

from tracker import services
from tracker.models import Evidence, IngestJob, Source, Withdrawal

ROOT = Path(__file__).resolve().parent.parent
SEED = (ROOT / "seeds" / "00_niger_seed.txt").read_text(encoding="utf-8")
NIGER = "The United States agreed to withdraw about 1,000 troops from Niger by September 15, 2024."
CHAD = "France agreed on Monday to withdraw its 1,000 troops from Chad by January 31, 2025."
MALI = "Germany agreed on Monday to withdraw its 1,200 troops from Mali by December 31, 2023."


def test_database_url() -> str:
    """The URL of the database this test run uses, for a worker in another process."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    user = s.get("USER") or "postgres"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


def worker_process(redis_url: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": redis_url,
        "DEBUG": "1",
        # The test web is on 127.0.0.1; retries wait about a second, not minutes.
        "TRACKER_FETCH_ALLOW_PRIVATE": "1",
        "TRACKER_RETRY_BACKOFF_BASE": "1",
        "TRACKER_RETRY_BACKOFF_MAX": "2",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--queues",
            "tracker",
            "--loglevel",
            "WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture
def start_worker(redis_url, transactional_db):
    # Redis database 15 belongs to the tests: start every test with an empty broker.
    redis.Redis.from_url(redis_url).flushdb()
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        process = worker_process(redis_url)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    redis.Redis.from_url(redis_url).flushdb()


@pytest.fixture
def worker(start_worker):
    return start_worker()


def wait_for(job: IngestJob, process, seconds: float = 60) -> IngestJob:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            return job
        if process.poll() is not None:
            pytest.fail(f"the worker exited early:\n{process.stdout.read()}")
        time.sleep(0.1)
    pytest.fail(f"job {job.pk} still {job.state} after {seconds}s: {job.error}")


@pytest.mark.worker
def test_it_ingests_an_article_through_redis_and_a_worker_process(worker, settings):
    assert not settings.CELERY_TASK_ALWAYS_EAGER, "REDIS_URL must select the real broker"
    source, job = services.source_submit_text(
        text=SEED, origin="pasted", label="seed", published_on=None
    )
    job = wait_for(job, worker)
    assert job.state == IngestJob.State.MERGED, job.error
    assert job.attempts == 1
    withdrawal = Withdrawal.objects.get(party__code="US", host__code="NE")
    assert withdrawal.personnel == 1000
    assert withdrawal.deadline.isoformat() == "2024-09-15"
    assert withdrawal.evidence.filter(source=source, field="deadline").exists()
    assert Withdrawal.objects.filter(party__code="FR", host__code="NE").exists()


@pytest.mark.worker
def test_it_polls_a_feed_and_ingests_its_entries_end_to_end(worker, web):
    for path, text in (("/chad", CHAD), ("/mali", MALI)):
        web.add(path, article_html(path, text, site="Wire"))
    items = [(p, web.url(p), "Mon, 20 May 2024 10:00:00 GMT") for p in ("/chad", "/mali")]
    feed_url = web.add(
        "/feed.xml", rss("Wire", items), content_type="application/rss+xml", headers={"ETag": "v1"}
    )
    feed = services.feed_add(url=feed_url, interval_minutes=15)
    # What the beat does every minute: the due feed's poll goes through Redis to the worker,
    # which queues one job per entry, which the worker then fetches and merges.
    assert services.feeds_poll_due() == 1
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        jobs = list(IngestJob.objects.filter(feed=feed))
        if len(jobs) == 2 and all(j.is_finished for j in jobs):
            break
        time.sleep(0.2)
    assert [(j.state, j.error) for j in jobs] == [("merged", "")] * 2
    assert {j.kind for j in jobs} == {"feed_entry"}
    assert Source.objects.filter(origin="feed").count() == 2
    assert Withdrawal.objects.filter(party__code="FR", host__code="TD").exists()
    assert Withdrawal.objects.filter(party__code="DE", host__code="ML").exists()
    feed.refresh_from_db()
    assert (feed.etag, feed.last_error, feed.title) == ("v1", "", "Wire")
    assert feed.next_poll_at > feed.last_polled_at + dt.timedelta(minutes=14)


@pytest.mark.worker
def test_it_retries_a_flaky_server_with_backoff_through_the_broker(worker, web):
    answers = iter([503, 503])
    page = article_html("Niger", NIGER).encode()

    def flaky(request) -> None:
        status = next(answers, 200)
        body = page if status == 200 else b"busy"
        request.send_response(status)
        request.send_header("Content-Type", "text/html")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    web.add("/flaky", handler=flaky)
    started = time.monotonic()
    job = wait_for(services.source_submit_url(url=web.url("/flaky")), worker)
    assert (job.state, job.attempts, job.error) == ("merged", 3, "")
    # Two backoffs of about 1 and 2 seconds (with jitter: at least half of each).
    assert time.monotonic() - started >= 1.5


@pytest.mark.worker
def test_a_worker_killed_mid_task_leaves_no_duplicate_and_the_work_completes(start_worker, web):
    release = threading.Event()
    page = article_html("Niger", NIGER).encode()

    def stalls_until_released(request) -> None:
        release.wait(30)
        request.send_response(200)
        request.send_header("Content-Type", "text/html")
        request.send_header("Content-Length", str(len(page)))
        request.end_headers()
        request.wfile.write(page)

    web.add("/niger", handler=stalls_until_released)
    first = start_worker()
    job = services.source_submit_url(url=web.url("/niger"))
    deadline = time.monotonic() + 30
    while job.state != IngestJob.State.FETCHING and time.monotonic() < deadline:
        time.sleep(0.05)
        job.refresh_from_db()
    assert job.state == IngestJob.State.FETCHING
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    release.set()

    second = start_worker()
    # The sweep finds the job by its heartbeat, which stopped with the worker.
    deadline = time.monotonic() + 60
    while not services.ingest_jobs_requeue_stale() and time.monotonic() < deadline:
        time.sleep(1)
    job = wait_for(job, second)
    assert (job.state, job.attempts, job.error) == ("merged", 2, "")
    assert Source.objects.count() == 1 and IngestJob.objects.count() == 1
    assert Evidence.objects.count() == job.changes["evidence_added"]


@pytest.mark.worker
def test_it_loses_nothing_when_redis_is_wiped_with_work_queued(start_worker, redis_url):
    source, job = services.source_submit_text(text=NIGER, origin="pasted")
    assert redis.Redis.from_url(redis_url).llen("tracker") == 1
    redis.Redis.from_url(redis_url).flushdb()  # the broker loses everything
    worker = start_worker()
    time.sleep(2)
    job.refresh_from_db()
    assert job.state == IngestJob.State.QUEUED  # the row was kept
    # The periodic sweep finds the stale job and sends it again.
    IngestJob.objects.filter(pk=job.pk).update(queued_at=job.queued_at - dt.timedelta(hours=1))
    assert services.ingest_jobs_requeue_stale() == 1
    job = wait_for(job, worker)
    assert job.state == IngestJob.State.MERGED, job.error
