"""Attack 3 (issue 14): a stale edit is refused with a clear message, never silently
reverts a merge. The admin's change forms and the API carry the updated_at they read."""

import datetime as dt
import io
import json
from html.parser import HTMLParser

import pytest
from django.core.management import call_command

from tracker import services
from tracker.models import Milestone, Withdrawal

COMPLETED = (
    "NIAMEY — The United States completed the withdrawal of its troops from Niger on "
    "August 5, 2024, the Pentagon said."
)


class FormReader(HTMLParser):
    """The values a browser would send back for the page's main form."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") == "checkbox" and "checked" not in attrs:
                return
            self.values[name] = attrs.get("value") or ""
        elif tag == "select" and name:
            self.select = name
            self.values.setdefault(name, "")
        elif tag == "option" and self.select and "selected" in attrs:
            self.values[self.select] = attrs.get("value") or ""
        elif tag == "textarea" and name:
            self.textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.values[self.textarea] += (
                data.lstrip("\n") if not self.values[self.textarea] else data
            )


def form_values(response) -> dict:
    reader = FormReader()
    reader.feed(response.content.decode())
    return reader.values


def merge(text: str, published_on: dt.date) -> None:
    _, job = services.source_submit_text(
        text=text, origin="pasted", published_on=published_on, enqueue=False
    )
    services.ingest_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == "merged", job.error


@pytest.mark.django_db
def test_it_refuses_a_stale_admin_form_saved_after_a_merge_attack_3(
    client, staff_user, niger_withdrawal
):
    client.force_login(staff_user)
    url = f"/admin/tracker/withdrawal/{niger_withdrawal.pk}/change/"
    opened = form_values(client.get(url))
    assert opened["completed_on"] == ""
    # While the form is open, a source says the withdrawal is complete.
    merge(COMPLETED, dt.date(2024, 8, 6))
    opened["history_note"] = "Nothing new"
    merged = Withdrawal.objects.get(pk=niger_withdrawal.pk)
    assert merged.completed_on == dt.date(2024, 8, 5)
    response = client.post(url, opened)
    assert response.status_code == 200  # the form again, with the reason
    page = response.content.decode()
    assert "after you read it (by a merge or another person)" in page
    after = Withdrawal.objects.get(pk=niger_withdrawal.pk)
    assert after.completed_on == dt.date(2024, 8, 5)
    assert after.locked_fields == merged.locked_fields == []
    # Reloaded, the same edit goes through.
    fresh = form_values(client.get(url))
    fresh["summary"] = "Checked by a person."
    fresh["history_note"] = "Read the summary against the sources"
    response = client.post(url, fresh)
    assert response.status_code == 302, response.content.decode()[:2000]
    after = Withdrawal.objects.get(pk=niger_withdrawal.pk)
    assert after.summary == "Checked by a person." and after.completed_on == dt.date(2024, 8, 5)
    assert after.locked_fields == ["summary"]


@pytest.mark.django_db
def test_it_refuses_a_stale_milestone_form_attack_3(client, staff_user, niger_withdrawal):
    client.force_login(staff_user)
    milestone = niger_withdrawal.milestones.get(kind="base_handover")
    url = f"/admin/tracker/milestone/{milestone.pk}/change/"
    opened = form_values(client.get(url))
    Milestone.objects.filter(pk=milestone.pk).update(
        status="done", updated_at=dt.datetime.now(dt.UTC)
    )
    opened["title"] = "Air Base 101 handed over to Niger"
    opened["history_note"] = "Named after the base"
    response = client.post(url, opened)
    assert response.status_code == 200
    assert "after you read it" in response.content.decode()
    milestone.refresh_from_db()
    assert milestone.status == "done" and milestone.title == "Air Base 101 handed over"
    assert not milestone.locked


@pytest.fixture
def editor(db) -> dict:
    out = io.StringIO()
    call_command(
        "api_token", "ed", "--create", "--role", "editor", stdout=out, stderr=io.StringIO()
    )
    return {"HTTP_AUTHORIZATION": f"Token {out.getvalue().strip()}"}


def patch(client, url, body, **extra):
    return client.patch(url, json.dumps(body), content_type="application/json", **extra)


@pytest.mark.django_db
def test_it_refuses_a_stale_api_edit_with_409_attack_3(client, niger_withdrawal, editor):
    milestone = niger_withdrawal.milestones.get(kind="base_handover")
    url = f"/api/milestones/{milestone.pk}/"
    read = client.get(url).json()
    Milestone.objects.filter(pk=milestone.pk).update(
        date=dt.date(2024, 7, 9), updated_at=dt.datetime.now(dt.UTC)
    )
    stale = patch(client, url, {"status": "done", "updated_at": read["updated_at"]}, **editor)
    assert stale.status_code == 409, stale.content
    error = stale.json()["error"]
    assert error["code"] == "edit_conflict" and "reload the milestone" in error["message"]
    milestone.refresh_from_db()
    assert milestone.status == "planned" and not milestone.locked
    current = client.get(url).json()
    fresh = patch(client, url, {"status": "done", "updated_at": current["updated_at"]}, **editor)
    assert fresh.status_code == 200, fresh.content
    milestone.refresh_from_db()
    assert milestone.status == "done" and milestone.date == dt.date(2024, 7, 9)


@pytest.mark.django_db(transaction=True)
def test_it_never_merges_over_a_concurrent_api_edit_attack_17(postgres, niger_withdrawal):
    """A person's edit of an undated milestone and a merge dating it, at the same moment:
    the merge waits for the edit, then files its date as a suggestion."""
    import threading

    from django.db import connection, transaction

    from tracker import extraction

    milestone = Milestone.objects.create(
        withdrawal=niger_withdrawal, kind=Milestone.Kind.COMPLETION, title="Completion"
    )
    _, job = services.source_submit_text(
        text=COMPLETED, origin="pasted", published_on=dt.date(2024, 8, 6), enqueue=False
    )
    extraction.extract(COMPLETED)  # loaded before the race: the merge must start in time
    holding, done = threading.Event(), threading.Event()

    def person_edits():
        try:
            with transaction.atomic():
                edited = Milestone.objects.get(pk=milestone.pk)
                edited.title = "Completion (checked by a person)"
                services.milestone_save_by_person(milestone=edited, fields=["title"])
                holding.set()
                # The merge starts while the edit is uncommitted (and, when it waits for
                # the edit as it should, cannot say when it is done).
                done.wait(timeout=3)
        finally:
            connection.close()

    editor = threading.Thread(target=person_edits)
    editor.start()
    assert holding.wait(timeout=10)
    services.ingest_job_run(job_id=job.pk)
    done.set()
    editor.join()
    milestone.refresh_from_db()
    assert milestone.locked and milestone.title == "Completion (checked by a person)"
    assert milestone.date is None  # the person's undated milestone stands
    suggestion = milestone.conflicts.get()
    assert suggestion.proposed_value == "2024-08-05" and suggestion.reason == "locked"
