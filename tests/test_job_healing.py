"""Jobs heal from faults: a worker that died is noticed by its job's heartbeat, a duplicate
delivery runs nothing twice, a late retry never revives a failed job, and a worker that
cannot reach the database retries instead of dropping the task."""

import datetime as dt
import threading
import time

import pytest
from django.db import OperationalError
from django.utils import timezone

from tracker import services, tasks
from tracker.models import IngestJob

NIGER = "The United States agreed to withdraw about 1,000 troops from Niger by September 15, 2024."


def running_job(*, beat_seconds_ago: float) -> IngestJob:
    source, job = services.source_submit_text(text=NIGER, origin="pasted", enqueue=False)
    beat = timezone.now() - dt.timedelta(seconds=beat_seconds_ago)
    IngestJob.objects.filter(pk=job.pk).update(
        state=IngestJob.State.EXTRACTING, attempts=1, started_at=beat, heartbeat_at=beat
    )
    job.refresh_from_db()
    return job


@pytest.mark.django_db
def test_it_requeues_a_job_whose_worker_stopped_beating_within_a_minute(
    settings, django_capture_on_commit_callbacks
):
    # The attack: a whole worker killed mid-job left it "extracting" for 10 minutes or more.
    assert settings.TRACKER_JOB_STALE_SECONDS + 15 <= 60  # stale + one sweep period
    assert (
        settings.CELERY_BEAT_SCHEDULE["ingest-jobs-requeue-stale-every-15-seconds"]["schedule"]
        == 15.0
    )
    alive = running_job(beat_seconds_ago=settings.TRACKER_JOB_HEARTBEAT_SECONDS)
    assert services.ingest_jobs_requeue_stale() == 0  # its worker is alive
    dead = running_job(beat_seconds_ago=settings.TRACKER_JOB_STALE_SECONDS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.ingest_jobs_requeue_stale() == 1
    alive.refresh_from_db()
    dead.refresh_from_db()
    assert alive.state == IngestJob.State.EXTRACTING
    assert dead.state == IngestJob.State.MERGED and dead.attempts == 2


@pytest.mark.django_db
def test_it_runs_nothing_when_a_job_a_live_worker_holds_is_delivered_again():
    job = running_job(beat_seconds_ago=1)
    services.ingest_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.state, job.attempts) == (IngestJob.State.EXTRACTING, 1)


@pytest.mark.django_db
def test_a_late_retry_does_not_reset_a_failed_job_to_queued():
    # The attack: a retry after the job had failed put it back to "queued".
    job = running_job(beat_seconds_ago=1)
    IngestJob.objects.filter(pk=job.pk).update(state=IngestJob.State.FAILED, error="gave up")
    services.ingest.ingest_job_retry_or_fail(job=job, error="the server answered 503", retry=True)
    job.refresh_from_db()
    assert (job.state, job.error) == (IngestJob.State.FAILED, "gave up")


@pytest.mark.django_db
def test_a_worker_that_cannot_reach_the_database_retries_the_task_instead_of_dropping_it(
    monkeypatch, settings
):
    settings.TRACKER_JOB_HEARTBEAT_SECONDS = (
        600  # no heartbeat thread inside the test's transaction
    )
    # The attack: the first query ran outside any handler, so the task was acknowledged and
    # dropped, leaving the job "queued" for good.
    source, job = services.source_submit_text(text=NIGER, origin="pasted", enqueue=False)
    calls = []
    real = services.ingest_job_run

    def database_away_once(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise OperationalError("could not connect to server: Connection refused")
        return real(**kwargs)

    monkeypatch.setattr(services, "ingest_job_run", database_away_once)
    retried = []
    monkeypatch.setattr(
        tasks.source_ingest_task,
        "retry",
        lambda **kwargs: retried.append(kwargs) or RuntimeError("retry raised"),
    )
    # As a worker runs it (not eagerly): the retry is scheduled, not swallowed.
    with pytest.raises(RuntimeError, match="retry raised"):
        tasks.source_ingest_task.run(job.pk)
    assert retried and isinstance(retried[0]["exc"], OperationalError)
    assert retried[0]["countdown"] > 0
    assert tasks.source_ingest_task.max_retries is None  # the database decides, not the count
    tasks.source_ingest_task.run(job.pk)
    job.refresh_from_db()
    assert job.state == IngestJob.State.MERGED


@pytest.mark.django_db(transaction=True)
def test_the_in_process_runner_stops_a_task_at_the_soft_time_limit(settings, monkeypatch):
    # The embedded default (no broker) enforces the workers' time limit in its own threads.
    import time

    from config import runner
    from tracker import extraction

    settings.CELERY_TASK_SOFT_TIME_LIMIT, settings.CELERY_TASK_TIME_LIMIT = 1, 5

    def endless(text, published=None):
        while True:  # pure Python: the limit interrupts it between two instructions
            time.sleep(0.01)

    monkeypatch.setattr(extraction, "extract", endless)
    source, job = services.source_submit_text(text=NIGER, origin="pasted", enqueue=False)
    started = time.monotonic()
    runner.submit(tasks.source_ingest_task, [job.pk], None, None).result(timeout=10)
    assert time.monotonic() - started < 4
    job.refresh_from_db()
    assert (job.state, job.error) == ("failed", "took longer than the time limit (1 s)")


@pytest.mark.django_db(transaction=True)
def test_the_in_process_runner_gives_a_stuck_task_up_at_the_hard_limit(settings, monkeypatch):
    import threading

    from config import runner
    from tracker import extraction

    settings.CELERY_TASK_SOFT_TIME_LIMIT, settings.CELERY_TASK_TIME_LIMIT = 30, 1
    release = threading.Event()

    # Blocked in a call the soft limit cannot interrupt (as C code would be).
    def blocked(text, published=None):
        release.wait(20)
        raise services.IngestError("released")

    monkeypatch.setattr(extraction, "extract", blocked)
    source, job = services.source_submit_text(text=NIGER, origin="pasted", enqueue=False)
    runner.submit(tasks.source_ingest_task, [job.pk], None, None)
    deadline = time.monotonic() + 10
    while IngestJob.objects.get(pk=job.pk).state != "failed" and time.monotonic() < deadline:
        time.sleep(0.1)
    job.refresh_from_db()
    assert (job.state, job.error) == ("failed", "took longer than the time limit (1 s)")
    release.set()
    time.sleep(0.5)  # the stuck thread ends before the test's data is cleared


@pytest.mark.django_db(transaction=True)
def test_in_the_embedded_default_a_url_is_fetched_by_the_runner_not_the_web_request(
    client, staff_user, settings, monkeypatch
):
    # The attack: with no broker, the fetch ran inside the API request with no time limit.
    from rest_framework.authtoken.models import Token

    from config import runner
    from config.celery import app as celery_app
    from tracker import fetching

    settings.TRACKER_TASKS_IN_PROCESS = True
    celery_app.conf.task_always_eager = False  # the autouse fixture restores it
    fetched_in = []

    def fetch(url, **kwargs):
        fetched_in.append(threading.current_thread().name)
        raise fetching.FetchError("the server answered 404 Not Found")

    monkeypatch.setattr(fetching, "fetch", fetch)
    token = Token.objects.create(user=staff_user).key
    response = client.post(
        "/api/sources/",
        {"url": "https://news.example.org/niger"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token}",
    )
    assert response.status_code == 202, response.content
    runner.wait_all()
    assert len(fetched_in) == 1 and fetched_in[0].startswith("task")
    job = IngestJob.objects.get()
    assert (job.state, job.error) == ("failed", "the server answered 404 Not Found")
