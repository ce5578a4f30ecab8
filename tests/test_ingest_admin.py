"""Jobs and feeds in the admin: state, attempts, timings and errors visible; failed jobs
queued again and feeds polled from there."""

import io
import threading

import pytest
from django.core.management import CommandError, call_command
from django.test import TestCase
from localweb import article_html, rss

from tracker import services
from tracker.models import Feed, IngestJob

TEXT = "France agreed on Monday to withdraw its 1,000 troops from Chad by January 31, 2025."


@pytest.mark.django_db
def test_it_lists_jobs_with_their_state_attempts_and_errors(client, staff_user):
    services.source_submit_text(text=TEXT, origin="pasted", enqueue=False)
    job = services.source_submit_url(url="https://example.org/a", enqueue=False)
    services.ingest.ingest_job_fail(job=job, error="the server answered 404 Not Found")
    client.force_login(staff_user)
    page = client.get("/admin/tracker/ingestjob/").content.decode()
    assert "the server answered 404 Not Found" in page
    assert "failed" in page and "queued" in page
    assert client.get(f"/admin/tracker/ingestjob/{job.pk}/change/").status_code == 200
    assert client.get("/admin/tracker/ingestjob/add/").status_code == 403


@pytest.mark.django_db
def test_it_queues_failed_jobs_again_from_the_admin(client, staff_user):
    source, job = services.source_submit_text(text=TEXT, origin="pasted", enqueue=False)
    IngestJob.objects.filter(pk=job.pk).update(state="failed", attempts=5, error="boom")
    client.force_login(staff_user)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            "/admin/tracker/ingestjob/", {"action": "requeue", "_selected_action": [job.pk]}
        )
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.state, job.attempts, job.error) == ("merged", 1, "")


@pytest.mark.django_db
def test_it_polls_a_feed_from_the_admin_and_shows_its_error(client, staff_user, web, settings):
    settings.TRACKER_FETCH_ALLOW_PRIVATE = True
    web.add("/a", article_html("Chad", TEXT))
    good = services.feed_add(
        url=web.add(
            "/feed.xml",
            rss("Wire", [("Chad", web.url("/a"), "")]),
            content_type="application/rss+xml",
        )
    )
    bad = services.feed_add(url=web.add("/broken.xml", "<rss><channel>", content_type="text/xml"))
    client.force_login(staff_user)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            "/admin/tracker/feed/",
            {"action": "poll_now", "_selected_action": [good.pk, bad.pk]},
            follow=True,
        )
    page = response.content.decode()
    assert "2 feed poll(s) queued" in page
    # Tests run tasks inline: the polls have run, the error waits on its feed.
    assert IngestJob.objects.get().state == "merged"
    assert "not well-formed XML" in Feed.objects.get(pk=bad.pk).last_error


@pytest.mark.django_db(transaction=True)
def test_the_admin_poll_action_never_fetches_in_the_web_request(
    client, staff_user, settings, monkeypatch
):
    # The attack: "Poll the selected feeds now" ran the polls in the request and died at the
    # gunicorn timeout. In the embedded default it goes to the in-process runner's threads.
    from config import runner
    from config.celery import app as celery_app

    settings.TRACKER_TASKS_IN_PROCESS = True
    celery_app.conf.task_always_eager = False  # the autouse fixture restores it
    polled_in = []
    monkeypatch.setattr(
        services, "feed_poll", lambda feed_id: polled_in.append(threading.current_thread().name)
    )
    feed = services.feed_add(url="https://news.example.org/feed.xml")
    client.force_login(staff_user)
    response = client.post(
        "/admin/tracker/feed/", {"action": "poll_now", "_selected_action": [feed.pk]}, follow=True
    )
    assert "1 feed poll(s) queued" in response.content.decode()
    runner.wait_all()
    assert len(polled_in) == 1 and polled_in[0].startswith("task")


@pytest.mark.django_db
def test_the_poll_feeds_command_polls_due_feeds_and_reports_errors(web, settings):
    settings.TRACKER_FETCH_ALLOW_PRIVATE = True
    web.add("/a", article_html("Chad", TEXT))
    services.feed_add(
        url=web.add(
            "/feed.xml",
            rss("Wire", [("Chad", web.url("/a"), "")]),
            content_type="application/rss+xml",
        )
    )
    services.feed_add(url=web.add("/gone.xml", "gone", status=410, content_type="text/plain"))
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError), TestCase.captureOnCommitCallbacks(execute=True):
        call_command("poll_feeds", stdout=out, stderr=err)
    assert "/feed.xml: 1 new entries queued" in out.getvalue()
    assert "/gone.xml: the server answered 410" in err.getvalue()


@pytest.mark.django_db(transaction=True)
def test_an_upload_of_150k_attributes_is_parsed_in_a_task_not_the_web_request(
    client, staff_user, settings, monkeypatch
):
    # The attack: three such uploads parsed inside requests starved every gunicorn worker.
    from django.core.files.uploadedfile import SimpleUploadedFile

    from config import runner
    from config.celery import app as celery_app
    from tracker import fetching

    settings.TRACKER_TASKS_IN_PROCESS = True
    celery_app.conf.task_always_eager = False  # the autouse fixture restores it
    parsed_in = []
    real = fetching.article_from_html

    def recording(html, **kwargs):
        parsed_in.append(threading.current_thread().name)
        return real(html, **kwargs)

    monkeypatch.setattr(fetching, "article_from_html", recording)
    attributes = " ".join(f"d{i}=va" for i in range(150_000))
    bomb = (
        f"<html><body><article><p {attributes}>Troops</p><p>{TEXT}</p></article></body></html>"
    ).encode()
    client.force_login(staff_user)
    response = client.post(
        "/ingest/",
        {"mode": "file", "file-file": SimpleUploadedFile("bomb.html", bomb, "text/html")},
    )
    assert response.status_code == 302
    job = IngestJob.objects.get()
    assert response["Location"].endswith(f"/ingest/jobs/{job.pk}/")
    runner.wait_all()
    assert len(parsed_in) == 1 and parsed_in[0].startswith("task")
    job.refresh_from_db()
    assert job.state == IngestJob.State.MERGED, job.error
    assert any("markup is too heavy" in warning for warning in job.warnings)
    assert "Chad" in job.source.text
