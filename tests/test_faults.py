"""Fault injection on PostgreSQL, Redis and a real worker (with its embedded beat): 200
ingest jobs in flight, the whole worker killed with SIGKILL twice at random points and
restarted; all 200 jobs must be merged exactly once within 2 minutes of the last restart,
none stuck, no evidence twice. A second run also restarts Redis empty in the middle.

The worker runs with a shorter heartbeat (2 s, stale after 10 s) and backoff than the
defaults, so the test takes a minute or two; the defaults are checked in
tests/test_job_healing.py to heal within a minute."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.db.models import Count
from test_worker import test_database_url

from config.celery import app as celery_app
from tracker import services, tasks
from tracker.models import Evidence, IngestJob

ROOT = Path(__file__).resolve().parent.parent
JOBS = 200
PARTIES = ["France", "Germany", "Italy", "Spain", "Belgium", "Canada", "Japan", "Norway"]
HOSTS = ["Chad", "Mali", "Niger", "Iraq", "Kosovo", "Somalia", "Lebanon", "Jordan"]
MONTHS = ["January", "March", "May", "July", "September", "November"]


def articles() -> list[str]:
    # 200 different articles: a party leaving a host with a force size and deadline each.
    texts = []
    for number in range(JOBS):
        party = PARTIES[number % len(PARTIES)]
        host = HOSTS[(number // len(PARTIES)) % len(HOSTS)]
        month = MONTHS[number % len(MONTHS)]
        texts.append(
            f"{party} agreed on Monday to withdraw its {100 + number * 7:,} troops from "
            f"{host} by {month} {1 + number % 28}, 2025, the defence ministry said."
        )
    return texts


def worker_group(redis_url: str, schedule: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": redis_url,
        "DEBUG": "1",
        "TRACKER_JOB_HEARTBEAT_SECONDS": "2",
        "TRACKER_JOB_STALE_SECONDS": "10",
        "TRACKER_RETRY_BACKOFF_BASE": "1",
        "TRACKER_RETRY_BACKOFF_MAX": "2",
        "LOG_LEVEL": "WARNING",
    }
    # Its own session: SIGKILL to the group kills the main process, its pool and its beat.
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--beat",
            "--schedule",
            str(schedule),
            "--concurrency",
            "2",
            "--queues",
            "tracker",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)
    # The pool's children die with the group; wait until none is left.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)


def merged() -> int:
    return IngestJob.objects.filter(state=IngestJob.State.MERGED).count()


def wait_until_merged(at_least: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while merged() < at_least and time.monotonic() < deadline:
        time.sleep(0.2)


def own_redis(port: int, directory: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            return process
        except redis.ConnectionError:
            time.sleep(0.05)
    pytest.fail(f"redis-server on port {port} did not start")


def run_faults(redis_url: str, tmp_path: Path, *, restart_redis=None) -> None:
    randomly = random.Random()
    jobs = []
    for number, text in enumerate(articles()):
        source, job = services.source_submit_text(
            text=text, origin="pasted", label=f"a{number}", enqueue=False
        )
        jobs.append(job)
    assert len(jobs) == JOBS and all(job is not None for job in jobs)
    # All 200 in flight at once, on the broker under test.
    with celery_app.connection_for_write(redis_url) as connection:
        for job in jobs:
            tasks.source_ingest_task.apply_async(args=[job.pk], connection=connection)
    started: list[subprocess.Popen] = []
    try:
        for kill in range(2):
            started.append(worker_group(redis_url, tmp_path / f"beat-{kill}"))
            # A random point while jobs are in flight: after some merged, before all.
            wait_until_merged(randomly.randint(10, 60) * (kill + 1), seconds=60)
            time.sleep(randomly.uniform(0, 2))
            assert merged() < JOBS, "the jobs finished before the worker could be killed"
            kill_group(started[-1])
            if kill == 0 and restart_redis is not None:
                restart_redis()  # the broker comes back empty: every message is lost
        started.append(worker_group(redis_url, tmp_path / "beat-last"))
        last_restart = time.monotonic()
        deadline = last_restart + 120
        while time.monotonic() < deadline:
            if not IngestJob.objects.exclude(state=IngestJob.State.MERGED).exists():
                break
            time.sleep(0.5)
        healed_in = time.monotonic() - last_restart
    finally:
        for process in started:
            kill_group(process)

    states = dict(IngestJob.objects.values_list("state").annotate(n=Count("pk")))
    assert states == {IngestJob.State.MERGED: JOBS}, f"after {healed_in:.0f} s: {states}"
    # Exactly once: one merged job per source, no job merged as "unchanged" twice over.
    assert IngestJob.objects.values("source").distinct().count() == JOBS
    assert not IngestJob.objects.filter(changes__unchanged=True).exists()
    # No evidence twice, and every job's evidence is what it says it added.
    twice = (
        Evidence.objects.values("source", "withdrawal", "milestone", "field", "start", "end")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    assert not twice.exists(), list(twice[:5])
    for job in IngestJob.objects.all():
        assert Evidence.objects.filter(source=job.source_id).count() == job.changes.get(
            "evidence_added"
        ), job.pk


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_it_merges_200_jobs_exactly_once_when_the_whole_worker_is_killed_twice(redis_url, tmp_path):
    redis.Redis.from_url(redis_url).flushdb()
    try:
        run_faults(redis_url, tmp_path)
    finally:
        redis.Redis.from_url(redis_url).flushdb()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_it_merges_200_jobs_exactly_once_when_redis_restarts_empty_in_the_middle(
    redis_url, tmp_path
):
    # Our own redis-server on a port in this project's test range: the shared one stays up.
    port = 18210
    servers = [own_redis(port, tmp_path)]

    def restart_empty() -> None:
        servers[-1].kill()
        servers[-1].wait(10)
        servers.append(own_redis(port, tmp_path))

    try:
        run_faults(f"redis://127.0.0.1:{port}/0", tmp_path, restart_redis=restart_empty)
    finally:
        for server in servers:
            server.kill()
            server.wait(10)
