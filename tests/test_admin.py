"""The admin, where people correct milestones."""

import datetime as dt

import pytest
from django.forms import MultipleChoiceField

from tracker.models import Milestone


@pytest.mark.django_db
def test_it_locks_a_milestone_a_person_saves_and_keeps_its_history(
    client, staff_user, niger_withdrawal
):
    client.force_login(staff_user)
    milestone = Milestone.objects.get(kind="base_handover")
    response = client.post(
        f"/admin/tracker/milestone/{milestone.pk}/change/",
        {
            "withdrawal": niger_withdrawal.pk,
            "kind": "base_handover",
            "title": "Air Base 101 handed over to Niger",
            "date": "2024-07-07",
            "date_precision": "day",
            "status": "done",
            "description": "",
            "history_note": "Renamed after the base",
            # The version the form was opened on (a stale one is refused: test_edit_concurrency).
            "seen_updated_at": milestone.updated_at.isoformat(),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    milestone.refresh_from_db()
    assert milestone.locked
    assert milestone.status == "done"
    history = client.get(f"/admin/tracker/milestone/{milestone.pk}/history/").content.decode()
    assert "editor" in history


@pytest.mark.django_db
def test_it_lists_milestones_with_filters_and_search(client, staff_user, niger_withdrawal):
    client.force_login(staff_user)
    page = client.get("/admin/tracker/milestone/?kind=base_handover&q=Air").content.decode()
    assert "Air Base 101 handed over" in page
    assert "Agreement to withdraw announced" not in page


def change_form_data(page) -> dict:
    """What the browser would post back from an admin change page, unchanged."""
    data = {}

    def plain(value):
        if hasattr(value, "pk"):
            value = value.pk
        if isinstance(value, dt.datetime):
            value = value.strftime("%Y-%m-%d %H:%M:%S")
        if isinstance(value, dt.date):
            value = value.isoformat()
        if isinstance(value, list):
            return value
        return "" if value is None else value

    form = page.context["adminform"].form
    for name, field in form.fields.items():
        value = plain(form.initial.get(name, field.initial))
        if value == "" and isinstance(field, MultipleChoiceField):
            continue  # nothing ticked is not posted
        data[name] = value
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[f"{inline.formset.prefix}-{name}"] = management.initial.get(name, 0)
        for index, sub in enumerate(inline.formset.forms):
            for name, field in sub.fields.items():
                value = plain(sub.initial.get(name, field.initial))
                if value is False:
                    continue  # an unticked checkbox is not posted
                data[f"{inline.formset.prefix}-{index}-{name}"] = value
    return {k: v for k, v in data.items() if v != []}


def milestone_prefix(page, kind: str) -> str:
    inline = next(i for i in page.context["inline_admin_formsets"] if i.formset.model is Milestone)
    index = next(n for n, f in enumerate(inline.formset.forms) if f.instance.kind == kind)
    return f"{inline.formset.prefix}-{index}"


@pytest.mark.django_db
def test_it_locks_withdrawal_fields_a_person_edits(client, staff_user, niger_withdrawal):
    client.force_login(staff_user)
    url = f"/admin/tracker/withdrawal/{niger_withdrawal.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    data = change_form_data(page)
    data["personnel"] = 950
    data["history_note"] = "Pentagon briefing, 3 June"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    niger_withdrawal.refresh_from_db()
    assert niger_withdrawal.personnel == 950
    assert "personnel" in niger_withdrawal.locked_fields

    # Who locked it and why is on the page, with a way to undo it.
    page = client.get(url)
    content = page.content.decode()
    assert "locked by editor" in content
    assert "Pentagon briefing, 3 June" in content
    data = change_form_data(page)
    data["unlock_fields"] = ["personnel"]
    data["history_note"] = "Locked by mistake"
    assert client.post(url, data).status_code == 302
    niger_withdrawal.refresh_from_db()
    assert niger_withdrawal.locked_fields == []
    assert niger_withdrawal.personnel == 950


@pytest.mark.django_db
def test_it_refuses_an_edit_without_a_note_and_changes_nothing(
    client, staff_user, niger_withdrawal
):
    client.force_login(staff_user)
    url = f"/admin/tracker/withdrawal/{niger_withdrawal.pk}/change/"
    page = client.get(url)
    data = change_form_data(page)
    data[f"{milestone_prefix(page, 'base_handover')}-date"] = "2024-07-08"
    data["history_note"] = "  "
    response = client.post(url, data)
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    milestone = Milestone.objects.get(kind="base_handover")
    assert milestone.date == dt.date(2024, 7, 7)
    assert not milestone.locked


@pytest.mark.django_db
def test_it_tells_a_milestone_edit_in_the_withdrawals_history(client, staff_user, niger_withdrawal):
    staff_user.first_name, staff_user.last_name = "Amina", "Diallo"
    staff_user.save()
    client.force_login(staff_user)
    url = f"/admin/tracker/withdrawal/{niger_withdrawal.pk}/change/"
    page = client.get(url)
    data = change_form_data(page)
    data[f"{milestone_prefix(page, 'base_handover')}-date"] = "2024-07-08"
    data["history_note"] = "The handover ceremony was on the 8th (AFP, 9 July)"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["errors"] if response.context else ""

    story = client.get(f"/admin/tracker/withdrawal/{niger_withdrawal.pk}/history/")
    assert story.status_code == 200
    text = " ".join(story.content.decode().split())
    assert "Milestone “Air Base 101 handed over”" in text
    assert '<span class="old">7 July 2024</span> → <span class="new">8 July 2024</span>' in text
    assert "Amina Diallo" in text
    assert "The handover ceremony was on the 8th (AFP, 9 July)" in text
    # No empty rows: every row says what changed.
    for entry in story.context["entries"]:
        assert entry.changes


@pytest.mark.django_db
def test_it_marks_milestones_done_only_with_a_note(client, staff_user, niger_withdrawal):
    client.force_login(staff_user)
    milestone = Milestone.objects.get(kind="base_handover")
    action = {"action": "mark_done", "_selected_action": [milestone.pk], "index": 0}
    client.post("/admin/tracker/milestone/", {**action, "note": ""})
    milestone.refresh_from_db()
    assert milestone.status == "planned"
    client.post("/admin/tracker/milestone/", {**action, "note": "Handover confirmed by AFRICOM"})
    milestone.refresh_from_db()
    assert (milestone.status, milestone.locked) == ("done", True)
    page = client.get(f"/admin/tracker/milestone/{milestone.pk}/change/").content.decode()
    assert "Handover confirmed by AFRICOM" in page

    client.post(
        "/admin/tracker/milestone/",
        {"action": "unlock", "_selected_action": [milestone.pk], "index": 0, "note": "Mistake"},
    )
    milestone.refresh_from_db()
    assert not milestone.locked


@pytest.mark.django_db
def test_it_lists_withdrawals_in_the_sites_words(client, staff_user, niger_withdrawal):
    client.force_login(staff_user)
    page = client.get("/admin/tracker/withdrawal/").content.decode()
    assert "United States → Niger" in page
    assert "15 September 2024" in page
    assert "about 1,000" in page
    assert "Deadline" in page and "Personnel" in page
    assert "DEADLINE DISPLAY" not in page.upper()
    assert "a.m." not in page and "p.m." not in page
    assert "All times are UTC." in page


@pytest.mark.django_db
def test_it_filters_and_searches_withdrawals(client, staff_user, niger_withdrawal):
    from tracker.models import Party, Source, Withdrawal

    france = Party.objects.create(code="FR", name="France", aliases=["French"])
    chad = Party.objects.create(code="TD", name="Chad")
    Withdrawal.objects.create(
        party=france, host=chad, deadline=dt.date(2025, 1, 31), open_conflict_count=1
    )
    source = Source.objects.create(
        text="t", content_hash="h", origin="pasted", title="Paris pulls out of N'Djamena"
    )
    chad_withdrawal = Withdrawal.objects.get(party=france)
    chad_withdrawal.evidence.create(source=source, field="pair", quote="t", start=0, end=1)
    client.force_login(staff_user)

    def listed(query: str) -> set[str]:
        response = client.get(f"/admin/tracker/withdrawal/{query}")
        assert response.status_code == 200
        return {str(w) for w in response.context["cl"].result_list}

    assert listed("?q=French") == {"France → Chad"}
    assert listed("?q=N%27Djamena") == {"France → Chad"}
    assert listed("?q=Nigerien") == {"United States → Niger"}
    assert listed("?has_conflicts=yes") == {"France → Chad"}
    assert listed("?deadline__gte=2025-01-01&deadline__lte=2025-12-31") == {"France → Chad"}
    assert listed("?deadline__lte=2024-12-31") == {"United States → Niger"}
    assert listed("?status=overdue") == {"France → Chad", "United States → Niger"}
    assert listed("?locked=yes") == set()
    bad = client.get("/admin/tracker/withdrawal/?deadline__gte=next+week")
    assert bad.status_code == 200
    assert "is not a date like 2025-09-30" in bad.content.decode()


@pytest.mark.django_db
def test_it_offers_only_states_as_hosts(client, staff_user, niger_withdrawal):
    from tracker.models import Party

    Party.objects.create(code="NATO", name="NATO", kind="organisation")
    Party.objects.create(code="NA", name="Namibia")
    client.force_login(staff_user)
    base = "/admin/autocomplete/?app_label=tracker&model_name=withdrawal&term=N"
    hosts = client.get(f"{base}&field_name=host").json()["results"]
    parties = client.get(f"{base}&field_name=party").json()["results"]
    assert "NATO" not in {r["text"] for r in hosts}
    assert {"Namibia", "Niger"} <= {r["text"] for r in hosts}
    assert "NATO" in {r["text"] for r in parties}
