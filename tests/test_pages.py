"""The dashboard and detail pages, server-rendered (the browser tests drive the scripts)."""

import datetime as dt

import pytest
from django.utils import timezone

from tracker import services
from tracker.models import Evidence, Source


@pytest.mark.django_db
def test_it_lists_withdrawals_with_status_and_time_past_the_deadline(client, niger_withdrawal):
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "United States → Niger" in page
    assert "by 15 September 2024" in page
    # The deadline passed long before today, with no completion recorded.
    assert "overdue" in page
    assert "past deadline" in page


@pytest.mark.django_db
def test_it_renders_the_dashboard_with_a_constant_number_of_queries(
    client, niger_withdrawal, django_assert_num_queries
):
    # Parties for the filter menus, every matching withdrawal's status columns, and for the
    # page: its withdrawals with their parties, milestones, and source/publisher counts.
    with django_assert_num_queries(5):
        client.get("/")


@pytest.mark.django_db
def test_it_shows_a_withdrawal_with_its_milestones_and_highlighted_evidence(
    client, niger_withdrawal
):
    text = (
        "On Monday the US agreed to withdraw from Niger by September 15. <script>alert(1)</script>"
    )
    source = Source.objects.create(
        text=text, content_hash=Source.hash_text(text), origin="pasted", title="Wire story"
    )
    start = text.index("On Monday")
    Evidence.objects.create(
        source=source,
        withdrawal=niger_withdrawal,
        field="deadline",
        quote=text[start : text.index("15.") + 3],
        start=start,
        end=text.index("15.") + 3,
    )
    response = client.get(f"/withdrawals/{niger_withdrawal.pk}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Air Base 101 handed over" in page
    evidence = Evidence.objects.get(source=source)
    assert (
        f'<mark id="evidence-{evidence.pk}">'
        "On Monday the US agreed to withdraw from Niger by September 15.</mark>"
    ) in page
    # Article text is data, never markup.
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.django_db
def test_it_answers_404_for_a_withdrawal_that_does_not_exist(client):
    assert client.get("/withdrawals/999999/").status_code == 404


@pytest.mark.django_db
def test_it_offers_staff_an_edit_link_and_hides_it_from_readers(
    client, niger_withdrawal, staff_user
):
    url = f"/withdrawals/{niger_withdrawal.pk}/"
    assert "Edit in admin" not in client.get(url).content.decode()
    client.force_login(staff_user)
    assert "Edit in admin" in client.get(url).content.decode()


@pytest.mark.django_db
def test_it_shows_a_completed_withdrawal_with_its_margin(client, niger_withdrawal):
    niger_withdrawal.completed_on = dt.date(2024, 8, 5)
    niger_withdrawal.save()
    page = client.get("/").content.decode()
    assert "completed early" in page
    assert "completed 41 days early" in page


@pytest.mark.django_db
def test_it_serves_the_vendored_chart_library_from_staticfiles(client):
    page = client.get("/").content.decode()
    assert "/static/vendor/chartjs/chart.umd.min.js" in page
    assert "cdn" not in page.lower()


def test_services_is_importable_without_a_request():
    # Domain writes are plain functions: callable from tests, tasks and commands alike.
    assert callable(services.withdrawal_merge_fact)
    assert timezone.now()
