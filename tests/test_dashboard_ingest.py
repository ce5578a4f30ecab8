"""The staff ingest page: paste, URL, upload; the job page and its JSON status."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tracker import services
from tracker.models import IngestJob, Source

ARTICLE = (
    "On Monday, May 20th, the United States announced an agreement to withdraw its troops "
    "from Niger by September 15th. Approximately 1,000 American military personnel will leave."
)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/ingest/", "/ingest/jobs/1/", "/ingest/jobs/1.json"])
def test_it_sends_anonymous_visitors_and_readers_to_log_in(client, reader, url):
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(reader)
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_it_offers_staff_three_ways_to_submit(client, staff_user):
    client.force_login(staff_user)
    page = client.get("/ingest/").content.decode()
    assert 'name="text-text"' in page
    assert 'name="url-url"' in page
    assert 'name="file-file"' in page and 'enctype="multipart/form-data"' in page


@pytest.mark.django_db
def test_it_reads_pasted_text_and_shows_what_changed(
    client, staff_user, django_capture_on_commit_callbacks
):
    client.force_login(staff_user)
    # The task is queued on commit and runs in-process here.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/ingest/",
            {"mode": "text", "text-text": ARTICLE, "text-title": "Wire <b>story</b>"},
        )
    job = IngestJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/ingest/jobs/{job.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "Wire &lt;b&gt;story&lt;/b&gt;" in page
    status = client.get(f"/ingest/jobs/{job.pk}.json").json()
    assert status["state"] == "merged", status
    assert status["finished"] is True
    assert status["withdrawals"], status
    assert status["withdrawals"][0] in status["html"]


@pytest.mark.django_db
def test_it_says_when_pasted_text_was_read_before(
    client, staff_user, django_capture_on_commit_callbacks
):
    client.force_login(staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/ingest/", {"mode": "text", "text-text": ARTICLE})
    response = client.post("/ingest/", {"mode": "text", "text-text": ARTICLE})
    assert response.status_code == 200
    assert "read before" in response.content.decode()


@pytest.mark.django_db
def test_it_shows_form_errors_instead_of_failing(client, staff_user):
    client.force_login(staff_user)
    response = client.post("/ingest/", {"mode": "text", "text-text": "   "})
    assert response.status_code == 200
    assert "Paste the article" in response.content.decode()
    response = client.post("/ingest/", {"mode": "url", "url-url": "not a url at all"})
    assert response.status_code == 200
    assert "Enter a valid URL" in response.content.decode()
    assert client.post("/ingest/", {"mode": "other"}).status_code == 400


@pytest.mark.django_db
def test_it_shows_the_services_message_when_a_url_is_refused(client, staff_user, monkeypatch):
    def refuse(**kwargs):
        raise services.IngestError("the address is internal: <refused>")

    monkeypatch.setattr(services, "source_submit_url", refuse)
    client.force_login(staff_user)
    response = client.post("/ingest/", {"mode": "url", "url-url": "http://10.0.0.1/"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "the address is internal: &lt;refused&gt;" in page


@pytest.mark.django_db
def test_it_queues_an_uploaded_file(client, staff_user, monkeypatch):
    seen = {}

    def submit(*, name, data, user=None):
        seen.update(name=name, data=data, user=user)
        source = Source.objects.create(
            text="x", content_hash=Source.hash_text("x"), origin="upload"
        )
        return source, IngestJob.objects.create(kind="file", label=name, source=source)

    monkeypatch.setattr(services, "source_submit_upload", submit)
    client.force_login(staff_user)
    upload = SimpleUploadedFile("story.txt", ARTICLE.encode(), content_type="text/plain")
    response = client.post("/ingest/", {"mode": "file", "file-file": upload})
    assert response.status_code == 302
    assert seen["name"] == "story.txt" and seen["data"] == ARTICLE.encode()
    assert seen["user"] == staff_user


@pytest.mark.django_db
def test_it_refuses_a_file_the_service_cannot_read(client, staff_user):
    client.force_login(staff_user)
    upload = SimpleUploadedFile("photo.png", b"\x89PNG\x00\x00", content_type="image/png")
    response = client.post("/ingest/", {"mode": "file", "file-file": upload})
    assert response.status_code == 200
    assert "photo.png" in response.content.decode()


@pytest.mark.django_db
def test_it_reports_a_failed_job_and_links_what_a_merged_one_changed(
    client, staff_user, niger_withdrawal
):
    client.force_login(staff_user)
    failed = IngestJob.objects.create(kind="url", state="failed", error="timed out <again>")
    body = client.get(f"/ingest/jobs/{failed.pk}.json").json()
    assert body["finished"] and "timed out &lt;again&gt;" in body["html"]
    merged = IngestJob.objects.create(
        kind="text",
        state="merged",
        changes={"withdrawals_created": [niger_withdrawal.pk], "evidence_added": 3},
    )
    page = client.get(f"/ingest/jobs/{merged.pk}/").content.decode()
    assert f'href="/withdrawals/{niger_withdrawal.pk}/"' in page
    assert "new withdrawal" in page and "3 evidence sentences added" in page
    assert client.get("/ingest/jobs/999999/").status_code == 404
    assert client.get("/ingest/jobs/999999.json").status_code == 404
