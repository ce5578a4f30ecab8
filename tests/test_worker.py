"""The ingest task travels through a real Redis broker to a real `celery worker` process."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from tracker import services
from tracker.models import IngestJob, Withdrawal

ROOT = Path(__file__).resolve().parent.parent
SEED = (ROOT / "seeds" / "00_niger_seed.txt").read_text(encoding="utf-8")


def test_database_url() -> str:
    """The URL of the database this test run uses, for a worker in another process."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    user = s.get("USER") or "postgres"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


@pytest.fixture
def worker(redis_url, transactional_db):
    env = {**os.environ, "DATABASE_URL": test_database_url(), "REDIS_URL": redis_url, "DEBUG": "1"}
    process = subprocess.Popen(
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
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def wait_for(job: IngestJob, process, seconds: float = 60) -> IngestJob:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            return job
        if process.poll() is not None:
            pytest.fail(f"the worker exited early:\n{process.stdout.read()}")
        time.sleep(0.25)
    pytest.fail(f"job {job.pk} still {job.state} after {seconds}s")


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
