"""Ingestion through the services: URLs, uploads and pasted text become sources whose facts
are merged; jobs record their states, timings, attempts, errors and changes."""

import datetime as dt
import threading

import pytest
from django.db import connection
from kombu.exceptions import OperationalError as BrokerDown
from localweb import article_html

from tracker import services, tasks
from tracker.models import Conflict, Evidence, IngestJob, Milestone, Source, Withdrawal

NIGER = (
    "NIAMEY, Niger (AP) — The United States agreed to withdraw about 1,000 troops from Niger "
    "by September 15, 2024, officials said on Monday."
)
COMPLETED = (
    "The United States completed the withdrawal of its troops from Niger on August 5, 2024, "
    "the Pentagon said."
)
CONTRADICTS = "The last U.S. troops left Niger on August 9, 2024, the Pentagon said on Wednesday."


@pytest.fixture
def allow_private(settings):
    settings.TRACKER_FETCH_ALLOW_PRIVATE = True


def submit_url(url: str, **kwargs) -> IngestJob:
    # Tests run inside a transaction: run the on-commit enqueue (eager) by hand.
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        job = services.source_submit_url(url=url, **kwargs)
    job.refresh_from_db()
    return job


@pytest.mark.django_db
def test_it_fetches_a_url_and_merges_its_facts(web, allow_private):
    url = web.add(
        "/niger", article_html("US to leave Niger", NIGER, site="AP News", date="2024-05-20")
    )
    job = submit_url(url)
    assert job.state == IngestJob.State.MERGED, job.error
    assert (job.kind, job.attempts, job.error) == (IngestJob.Kind.URL, 1, "")
    assert set(job.timings) == {"fetch_ms", "extract_ms", "merge_ms"}
    assert job.started_at and job.finished_at and job.duration is not None
    source = job.source
    assert (source.url, source.origin, source.publisher) == (url, "url", "AP News")
    assert source.title == "US to leave Niger"
    assert source.published_on == dt.date(2024, 5, 20)
    assert "Home" not in source.text  # the page's navigation is not the article
    withdrawal = Withdrawal.objects.get(party__code="US", host__code="NE")
    assert job.changes["withdrawals_created"] == [withdrawal.pk]
    assert withdrawal.deadline == dt.date(2024, 9, 15)


@pytest.mark.django_db
def test_it_changes_nothing_when_the_same_url_or_article_comes_again(web, allow_private):
    url = web.add("/niger", article_html("US to leave Niger", NIGER))
    first = submit_url(url)
    counts = (Source.objects.count(), Evidence.objects.count(), Withdrawal.objects.count())
    # The same URL spelled differently: upper-case scheme, tracking parameters, a fragment.
    again = submit_url(url.replace("http:", "HTTP:") + "?utm_source=feed#top")
    assert again.state == IngestJob.State.MERGED
    assert again.changes == {"unchanged": True}
    assert again.source_id == first.source_id
    assert web.hits("/niger") == 1  # not even fetched again
    # The same article at another address, re-wrapped: the text hash finds it.
    copy = web.add("/copy", article_html("US to leave Niger", NIGER.replace(" ", "\n  ", 3)))
    third = submit_url(copy)
    assert third.changes == {"unchanged": True}
    assert counts == (Source.objects.count(), Evidence.objects.count(), Withdrawal.objects.count())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.org/a.txt", "only http and https"),
        ("javascript:alert(1)", "only http and https"),
        ("https://user:pass@example.org/a", "user name or password"),
        ("", "the URL is empty"),
    ],
)
def test_it_refuses_a_bad_url_before_writing_anything(url, message):
    with pytest.raises(services.IngestError, match=message):
        services.source_submit_url(url=url)
    assert IngestJob.objects.count() == 0


@pytest.mark.django_db
def test_it_fails_the_job_clearly_for_internal_and_unresolvable_hosts(web):
    internal = submit_url(web.add("/a", article_html("x", NIGER)))
    assert internal.state == IngestJob.State.FAILED
    assert "internal address: refused" in internal.error
    nowhere = submit_url("http://no-such-host.invalid/article")
    assert nowhere.state == IngestJob.State.FAILED
    assert "does not resolve" in nowhere.error
    assert Source.objects.count() == 0 and web.hits("/a") == 0


@pytest.mark.django_db
def test_it_reads_a_page_with_invalid_utf8_and_says_so_on_the_job(web, allow_private):
    page = article_html("Niger", NIGER).encode().replace(b"officials", b"offi\xffcials")
    job = submit_url(web.add("/bad-bytes", page, content_type="text/html; charset=utf-8"))
    assert job.state == IngestJob.State.MERGED, job.error
    assert job.warnings == ["invalid UTF-8 bytes were replaced with \ufffd"]
    assert "offi\ufffdcials" in job.source.text


@pytest.mark.django_db
def test_it_fails_a_job_whose_page_is_not_html(web, allow_private):
    job = submit_url(web.add("/file.pdf", b"%PDF-1.4 ...", content_type="application/pdf"))
    assert job.state == IngestJob.State.FAILED
    assert job.error == "the URL serves application/pdf, not a web page"


@pytest.mark.django_db
def test_it_retries_network_errors_then_gives_up_after_max_attempts(web, allow_private):
    url = web.add("/busy", "try later", status=503, content_type="text/plain")
    job = services.source_submit_url(url=url, enqueue=False)
    for attempt in range(1, IngestJob.MAX_ATTEMPTS):
        with pytest.raises(services.IngestRetry) as caught:
            services.ingest_job_run(job_id=job.pk)
        job.refresh_from_db()
        assert (job.state, job.attempts) == (IngestJob.State.QUEUED, attempt)
        assert "failed, retrying in" in job.error and "503" in job.error
        assert 0 < caught.value.delay <= 300
    services.ingest_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == IngestJob.State.FAILED
    assert job.error == f"the server answered 503 after {IngestJob.MAX_ATTEMPTS} attempts"
    assert web.hits("/busy") == IngestJob.MAX_ATTEMPTS


def test_it_backs_off_exponentially_with_jitter_up_to_a_cap(settings):
    settings.TRACKER_RETRY_BACKOFF_BASE, settings.TRACKER_RETRY_BACKOFF_MAX = 20, 300
    for attempt, ceiling in [(1, 20), (2, 40), (3, 80), (4, 160), (5, 300), (9, 300)]:
        delays = {services.ingest.retry_delay(attempt) for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jitter


@pytest.mark.django_db
def test_it_stops_a_poison_job_by_its_attempts_in_the_database():
    source, job = services.source_submit_text(text=COMPLETED, origin="pasted", enqueue=False)
    # A job whose worker died MAX_ATTEMPTS times mid-task.
    IngestJob.objects.filter(pk=job.pk).update(
        attempts=IngestJob.MAX_ATTEMPTS, state=IngestJob.State.EXTRACTING
    )
    services.ingest_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == IngestJob.State.FAILED
    assert job.error.startswith(f"gave up after {IngestJob.MAX_ATTEMPTS} attempts")
    assert Withdrawal.objects.count() == 0


@pytest.mark.django_db
def test_it_records_a_bug_on_the_job_without_retrying_or_half_writing(monkeypatch):
    from tracker import extraction

    def broken(text, published=None):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(extraction, "extract", broken)
    source, job = services.source_submit_text(text=COMPLETED, origin="pasted", enqueue=False)
    services.ingest_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.state, job.attempts) == (IngestJob.State.FAILED, 1)
    # The exception's text stays in the log: it can name hosts, paths or queries.
    assert (
        job.error
        == f"internal error (ZeroDivisionError): logged for the administrators as job {job.pk}"
    )
    assert Withdrawal.objects.count() == 0 and Evidence.objects.count() == 0


@pytest.mark.django_db
def test_it_fails_a_job_that_overruns_its_time_limit_with_a_clear_error(monkeypatch, settings):
    from celery.exceptions import SoftTimeLimitExceeded

    from tracker import extraction

    def slow(text, published=None):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(extraction, "extract", slow)
    source, job = services.source_submit_text(text=COMPLETED, origin="pasted", enqueue=False)
    services.ingest_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == IngestJob.State.FAILED
    limit = settings.CELERY_TASK_SOFT_TIME_LIMIT
    assert job.error == f"took longer than the time limit ({limit} s)"


def test_it_sets_time_limits_prefetch_and_a_visibility_timeout_just_past_the_hard_limit(settings):
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    assert settings.TRACKER_FETCH_TOTAL_TIMEOUT < settings.CELERY_TASK_SOFT_TIME_LIMIT
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT
    # A task still running is never handed to a second worker; a dead worker's task comes
    # back within minutes, not the hour it used to take.
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert settings.CELERY_TASK_TIME_LIMIT < visibility <= settings.CELERY_TASK_TIME_LIMIT + 60
    assert tasks.source_ingest_task.acks_late and tasks.source_ingest_task.reject_on_worker_lost


@pytest.mark.django_db
def test_it_keeps_the_job_queued_when_the_broker_is_down_and_the_sweep_sends_it(
    monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise BrokerDown("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with monkeypatch.context() as patch:
        patch.setattr(tasks.source_ingest_task, "apply_async", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            source, job = services.source_submit_text(text=COMPLETED, origin="pasted")
    job.refresh_from_db()
    assert job.state == IngestJob.State.QUEUED
    assert job.error.startswith("waiting for the task queue")
    assert services.ingest_jobs_requeue_stale() == 0  # not stale yet
    IngestJob.objects.filter(pk=job.pk).update(queued_at=job.queued_at - dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.ingest_jobs_requeue_stale() == 1
    job.refresh_from_db()
    assert job.state == IngestJob.State.MERGED, job.error
    assert job.task_id


@pytest.mark.django_db
def test_it_leaves_a_recently_started_job_to_its_worker():
    source, job = services.source_submit_text(text=COMPLETED, origin="pasted", enqueue=False)
    an_hour_ago = job.queued_at - dt.timedelta(hours=1)
    IngestJob.objects.filter(pk=job.pk).update(
        state=IngestJob.State.FETCHING, queued_at=an_hour_ago, started_at=job.queued_at
    )
    assert services.ingest_jobs_requeue_stale() == 0


@pytest.mark.django_db
def test_it_reads_an_uploaded_html_file_as_text_without_its_scripts():
    html = (
        b"<html><head><title>Chad</title><script>steal()</script></head><body>"
        b'<article><p onmouseover="steal()">France completed the withdrawal of its 1,000 '
        b"troops from Chad on January 30, 2025, a day before the January 31 deadline.</p>"
        b"<p>The last French soldiers flew out of N'Djamena on a military aircraft.</p>"
        b"</article></body></html>"
    )
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        source, job = services.source_submit_upload(name="chad.html", data=html)
    assert source is None  # the markup is read by the task, not here
    job.refresh_from_db()
    assert job.state == IngestJob.State.MERGED, job.error
    source = job.source
    assert "France completed" in source.text and "steal" not in source.text
    assert "<" not in source.text
    assert (source.origin, job.kind, job.label) == ("upload", "file", "chad.html")
    assert job.upload_html == "" and "parse_ms" in job.timings


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("report.pdf", b"%PDF-1.4", "only .txt, .md and .html files can be ingested (not .pdf)"),
        ("photo.jpg", b"\xff\xd8\xff", "only .txt, .md and .html files"),
        ("notes", b"text", "only .txt, .md and .html files"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00", "looks like a binary file"),
        ("empty.md", b"  \n ", "the file is empty"),
        ("latin.txt", "d\u00e9part \u00e0 l'\u00e9t\u00e9 ".encode("latin-1") * 20, "not UTF-8"),
    ],
)
def test_it_refuses_uploads_it_cannot_read(name, data, message):
    with pytest.raises(services.IngestError, match=message.replace("(", r"\(").replace(")", r"\)")):
        services.source_submit_upload(name=name, data=data)
    assert Source.objects.count() == 0 and IngestJob.objects.count() == 0


@pytest.mark.django_db
def test_it_replaces_stray_invalid_utf8_and_says_so():
    data = COMPLETED.encode() + b" \xff\xfe"
    source, job = services.source_submit_upload(name="niger.txt", data=data, enqueue=False)
    assert "\ufffd" in source.text
    assert job.warnings == ["invalid UTF-8 bytes were replaced with \ufffd"]


@pytest.mark.django_db
def test_it_keeps_pasted_markup_as_text_and_the_admin_escapes_it(client, staff_user):
    text = COMPLETED + '\n<script>alert("x")</script><img src=x onerror="alert(1)">'
    source, _ = services.source_submit_text(text=text, origin="pasted", enqueue=False)
    assert source.text == text
    client.force_login(staff_user)
    page = client.get(f"/admin/tracker/source/{source.pk}/change/").content.decode()
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;" in page


@pytest.mark.django_db(transaction=True)
def test_it_stores_one_source_when_the_same_url_is_submitted_20_times_at_once(web, allow_private):
    url = web.add("/niger", article_html("US to leave Niger", NIGER))
    barrier = threading.Barrier(20)
    errors = []

    def submit() -> None:
        try:
            barrier.wait()
            services.source_submit_url(url=url)  # autocommit: enqueued (eagerly) at once
        except Exception as exc:  # pragma: no cover — reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert Source.objects.count() == 1
    assert Withdrawal.objects.count() == 1
    states = set(IngestJob.objects.values_list("state", flat=True))
    assert states == {IngestJob.State.MERGED}
    merged = [j for j in IngestJob.objects.all() if not j.changes.get("unchanged")]
    assert len(merged) == 1
    # The evidence of one reading, not twenty.
    assert Evidence.objects.count() == merged[0].changes["evidence_added"]


@pytest.mark.django_db
def test_an_admin_edited_milestone_survives_a_source_that_contradicts_it(
    web, allow_private, client, staff_user
):
    first = submit_url(web.add("/done", article_html("Done", COMPLETED, date="2024-08-05")))
    assert first.state == IngestJob.State.MERGED, first.error
    milestone = Milestone.objects.get(kind=Milestone.Kind.COMPLETION)
    client.force_login(staff_user)
    response = client.post(
        f"/admin/tracker/milestone/{milestone.pk}/change/",
        {
            "withdrawal": milestone.withdrawal_id,
            "kind": milestone.kind,
            "title": "Last US troops leave Niger (checked)",
            "date": "2024-08-06",
            "date_precision": "day",
            "status": "done",
            "description": milestone.description,
            "seen_updated_at": milestone.updated_at.isoformat(),
            "history_note": "Checked against the Pentagon's statement",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    milestone.refresh_from_db()
    assert milestone.locked and milestone.date == dt.date(2024, 8, 6)
    second = submit_url(web.add("/later", article_html("Later", CONTRADICTS, date="2024-08-10")))
    assert second.state == IngestJob.State.MERGED, second.error
    milestone.refresh_from_db()
    assert milestone.date == dt.date(2024, 8, 6)
    assert milestone.title == "Last US troops leave Niger (checked)"
    suggestion = Conflict.objects.get(milestone=milestone)
    assert (suggestion.reason, suggestion.proposed_value) == (Conflict.Reason.LOCKED, "2024-08-09")
    assert milestone.evidence.filter(source=second.source).exists()
