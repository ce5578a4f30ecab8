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
    # Parties for the filter menus, the tab counts (one aggregate), and for the page: its ids
    # in order, its withdrawals with their parties and counts, its milestones.
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
    assert callable(services.merging.withdrawal_merge_fact)
    assert timezone.now()


def add_evidence(withdrawal, text: str, field: str, value: str = "", publisher: str = ""):
    source = Source.objects.create(
        text=text,
        content_hash=Source.hash_text(text),
        origin="pasted",
        title=text[:30],
        publisher=publisher,
        publisher_key=Source.publisher_key_for(publisher=publisher, url="", text=text),
        published_on=dt.date(2024, 5, 20),
    )
    evidence = Evidence.objects.create(
        source=source, withdrawal=withdrawal, field=field, value=value,
        quote=text, start=0, end=len(text),
    )  # fmt: skip
    services.withdrawals_recount(withdrawal_ids=[withdrawal.pk])
    return source, evidence


@pytest.mark.django_db
def test_it_shows_the_deadline_history_with_who_said_what(client, niger_withdrawal):
    from tracker.models import DeadlineRevision

    source, _ = add_evidence(niger_withdrawal, "Troops will leave by September.", "deadline")
    DeadlineRevision.objects.create(
        withdrawal=niger_withdrawal,
        deadline=dt.date(2024, 9, 30),
        precision="month",
        phrase="by <b>September</b>",
        source=source,
        stated_on=dt.date(2024, 6, 1),
    )
    page = client.get(f"/withdrawals/{niger_withdrawal.pk}/").content.decode()
    history = page[page.index('id="deadline-heading"') : page.index('id="personnel-heading"')]
    # Oldest first: the day deadline was replaced by the month one, stated later.
    assert history.index("<td>15 September 2024 ") < history.index("<td>September 2024 ")
    assert "replaced" in history and "current" in history
    assert "“by &lt;b&gt;September&lt;/b&gt;”" in history
    assert f'href="#source-{source.pk}"' in history


@pytest.mark.django_db
def test_it_counts_sources_and_publishers_behind_each_fact(client, niger_withdrawal):
    add_evidence(niger_withdrawal, "About 1,000 troops.", "personnel", "1000", "Reuters")
    add_evidence(niger_withdrawal, "Some 1,000 soldiers.", "personnel", "1000", "Reuters")
    add_evidence(niger_withdrawal, "A force of 1,000.", "personnel", "1000", "AP")
    add_evidence(niger_withdrawal, "By 15 September.", "deadline", "2024-09-15", "AP")
    page = client.get(f"/withdrawals/{niger_withdrawal.pk}/").content.decode()
    assert "<strong>personnel</strong> 1,000</td><td" in page
    assert "3 sources · 2 publishers" in page
    assert "<strong>deadline</strong> 15 September 2024" in page
    assert "4 from 2 publishers" in page


@pytest.mark.django_db
def test_it_counts_a_syndicated_wire_story_as_one_publisher(client, niger_withdrawal):
    add_evidence(
        niger_withdrawal, "NIAMEY (Reuters) - 1,000 troops.", "personnel", "1000", "Reuters"
    )
    # The same wire story republished by a newspaper's site, with the agency's dateline.
    add_evidence(
        niger_withdrawal, "NIAMEY (Reuters) - About 1,000 troops.", "personnel", "1000", "Courier"
    )
    page = client.get(f"/withdrawals/{niger_withdrawal.pk}/").content.decode()
    assert "2 sources · 1 publisher" in page
    assert "2 from 1 publisher" in page


@pytest.mark.django_db
def test_it_lists_conflicts_for_review(client, niger_withdrawal):
    from tracker.models import Conflict

    source, _ = add_evidence(niger_withdrawal, "Some 1,100 troops.", "personnel", "1100")
    Conflict.objects.create(
        withdrawal=niger_withdrawal,
        field="personnel",
        current_value="1000",
        proposed_value="1100",
        reason="disagreement",
        source=source,
        quote="Some 1,100 troops.",
    )
    page = client.get(f"/withdrawals/{niger_withdrawal.pk}/").content.decode()
    assert '<a href="#conflicts-heading">1 open</a>' in page
    assert "the record says 1000" in page and "says 1100" in page


@pytest.mark.django_db
def test_it_shows_personnel_over_time_and_passes_it_to_the_chart(client, niger_withdrawal):
    add_evidence(niger_withdrawal, "About 1,000 troops.", "personnel", "1000")
    niger_withdrawal.personnel_withdrawn = 400
    niger_withdrawal.save()
    page = client.get(f"/withdrawals/{niger_withdrawal.pk}/").content.decode()
    assert '<td class="num">1,000</td><td>force stated</td>' in page
    assert '<td class="num">400</td><td>withdrawn so far</td>' in page
    assert '<script id="personnel-data" type="application/json">' in page
    assert 'id="personnel-chart"' in page
    assert "400 of about 1,000 withdrawn" in page


@pytest.mark.django_db
def test_it_places_today_and_the_deadline_among_the_milestones(client, niger_withdrawal):
    page = client.get(f"/withdrawals/{niger_withdrawal.pk}/").content.decode()
    timeline = page[page.index('<ol class="timeline">') :]
    assert (
        timeline.index("Agreement to withdraw announced")
        < timeline.index("Air Base 101 handed over")
        < timeline.index("tl-deadline")
        < timeline.index("tl-today")
    )


@pytest.mark.django_db
def test_it_renders_a_detail_page_with_a_fixed_number_of_queries(
    client, niger_withdrawal, django_assert_num_queries
):
    for n in range(3):
        add_evidence(niger_withdrawal, f"Sentence number {n}.", "pair", publisher=f"P{n}")
    # The withdrawal with its parties, then one query each for milestones, deadline
    # revisions, evidence (with sources and milestones) and conflicts.
    with django_assert_num_queries(5):
        client.get(f"/withdrawals/{niger_withdrawal.pk}/")


@pytest.mark.django_db
def test_it_answers_a_friendly_404_page(client):
    response = client.get("/withdrawals/0/")
    assert response.status_code == 404
    assert "Back to all withdrawals" in response.content.decode()
    assert client.get("/withdrawals/abc/").status_code == 404
