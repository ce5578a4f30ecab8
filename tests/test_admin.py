"""The admin, where people correct milestones."""

import datetime as dt

import pytest

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


@pytest.mark.django_db
def test_it_locks_withdrawal_fields_a_person_edits(client, staff_user, niger_withdrawal):
    client.force_login(staff_user)
    url = f"/admin/tracker/withdrawal/{niger_withdrawal.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        data[name] = "" if value is None else value
    data["personnel"] = 950
    data["party"] = niger_withdrawal.party_id
    data["host"] = niger_withdrawal.host_id
    for date_field in ("announced_on", "started_on", "completed_on", "cancelled_on"):
        value = data.get(date_field)
        data[date_field] = value.isoformat() if isinstance(value, dt.date) else (value or "")
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[f"{inline.formset.prefix}-{name}"] = management.initial.get(name, 0)
        for index, sub in enumerate(inline.formset.forms):
            for name, field in sub.fields.items():
                value = sub.initial.get(name, field.initial)
                if hasattr(value, "pk"):
                    value = value.pk
                if isinstance(value, dt.datetime):
                    value = value.strftime("%Y-%m-%d %H:%M:%S")
                if isinstance(value, dt.date):
                    value = value.isoformat()
                data[f"{inline.formset.prefix}-{index}-{name}"] = "" if value is None else value
    response = client.post(url, data)
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    niger_withdrawal.refresh_from_db()
    assert niger_withdrawal.personnel == 950
    assert "personnel" in niger_withdrawal.locked_fields
