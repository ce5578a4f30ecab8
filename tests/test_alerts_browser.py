"""Alerts in a real browser: sign in, watch a withdrawal, send a test email, see it in the
log, and unsubscribe from the email's own link (Debian's chromium through Playwright)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from test_browser import assert_readable, browser, page  # noqa: F401 — shared fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-test-password"


def test_it_signs_in_watches_sends_a_test_and_unsubscribes_from_the_email(
    live_server,
    page,  # noqa: F811 — the fixture imported from test_browser
    niger_withdrawal,
    settings,
):
    settings.TRACKER_SITE_URL = live_server.url
    get_user_model().objects.create_user(username="ana", email="ana@example.org", password=PASSWORD)
    detail = f"/withdrawals/{niger_withdrawal.pk}/"

    page.goto(live_server.url + detail)
    page.get_by_role("link", name="Sign in to watch this withdrawal").click()
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    assert page.url == live_server.url + detail

    page.get_by_role("button", name="Watch this withdrawal").click()
    assert page.get_by_text("Watching — Withdrawal: United States → Niger").is_visible()
    assert page.get_by_role("button", name="Stop watching this withdrawal").is_visible()

    page.get_by_role("link", name="My alerts").first.click()
    assert page.get_by_role("heading", name="My alerts").is_visible()
    assert page.get_by_role("link", name="Withdrawal: United States → Niger").is_visible()
    page.get_by_role("button", name="Send a test").click()
    assert page.get_by_text("A test is on its way to ana@example.org.").is_visible()
    log = page.locator("section", has=page.get_by_role("heading", name="Last deliveries"))
    row = log.get_by_role("row", name=re.compile("Test alert from the troop-withdrawal tracker"))
    assert "sent" in row.inner_text()
    assert_readable(page)

    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    link = re.search(r"Unsubscribe from these emails: (\S+)", body).group(1)
    assert link.startswith(live_server.url + "/alerts/unsubscribe/")
    page.context.clear_cookies()  # the link works for whoever holds the email
    page.goto(link)
    page.get_by_role("button", name="Unsubscribe").click()
    done = "Unsubscribed: no more alerts will be sent to ana@example.org"
    assert page.get_by_text(done).is_visible()

    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    assert page.url == live_server.url + "/alerts/"
    assert page.get_by_text("paused — unsubscribed from an email").is_visible()
