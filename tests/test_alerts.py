"""Alerts without a worker: watches on the pages, who may see what, webhook address rules,
the sweep's alarms, one-click unsubscribe, the digest, and a broker outage."""

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command

from tracker import services
from tracker.models import AlertEvent, Channel, Delivery, Watch, WithdrawalAlarm
from tracker.services import alerts

PASSWORD = "a-long-test-password"


@pytest.fixture
def ana(db):
    return get_user_model().objects.create_user(
        username="ana", email="ana@example.org", password=PASSWORD
    )


@pytest.fixture
def ben(db):
    return get_user_model().objects.create_user(
        username="ben", email="ben@example.org", password=PASSWORD
    )


@pytest.fixture
def ana_client(client, ana):
    client.login(username="ana", password=PASSWORD)
    return client


def test_it_offers_watch_buttons_on_the_withdrawal_page(ana_client, niger_withdrawal):
    page = ana_client.get(f"/withdrawals/{niger_withdrawal.pk}/").content.decode()
    assert "Watch this withdrawal" in page
    assert "Watch host country Niger" in page
    assert "Watch United States everywhere" in page


def test_it_asks_anonymous_readers_to_sign_in_to_watch(client, niger_withdrawal):
    page = client.get(f"/withdrawals/{niger_withdrawal.pk}/").content.decode()
    assert "Sign in to watch this withdrawal" in page
    assert client.get("/alerts/").status_code == 302


def test_it_watches_a_withdrawal_from_its_page_and_lists_it(ana_client, ana, niger_withdrawal):
    detail = f"/withdrawals/{niger_withdrawal.pk}/"
    response = ana_client.post(
        "/alerts/watch/",
        {"kind": "withdrawal", "withdrawal": niger_withdrawal.pk, "next": detail},
    )
    assert response.status_code == 302 and response["Location"] == detail
    watch = Watch.objects.get(user=ana)
    assert (watch.kind, watch.withdrawal, watch.lead_days) == (
        "withdrawal",
        niger_withdrawal,
        [7, 1],
    )
    assert Channel.objects.get(user=ana).address == "ana@example.org"
    page = ana_client.get(detail).content.decode()
    assert "Watching this withdrawal ✓" in page
    alerts_page = ana_client.get("/alerts/").content.decode()
    assert "Withdrawal: United States → Niger" in alerts_page
    assert "ana@example.org" in alerts_page


def test_it_watches_the_dashboards_current_view(ana_client, ana, niger_withdrawal):
    page = ana_client.get("/?host=NE&status=due_soon&page=1").content.decode()
    assert "Watch this view" in page
    ana_client.post("/alerts/watch/", {"kind": "view", "query": "host=ne&status=due_soon&page=1"})
    assert Watch.objects.get(user=ana).query == "host=NE&status=due_soon"


def test_it_refuses_a_view_that_names_nothing(ana_client, ana, niger_withdrawal):
    response = ana_client.post("/alerts/watch/", {"kind": "view", "query": "status=soonish"})
    assert response.status_code == 302
    assert not Watch.objects.exists()
    page = ana_client.get("/alerts/").content.decode()
    assert "unknown status" in page


def test_one_user_cannot_see_or_change_anothers_watches_or_channels(
    client, ana, ben, niger_withdrawal
):
    watch, _ = services.watch_create(user=ana, kind="withdrawal", withdrawal=niger_withdrawal)
    channel = Channel.objects.get(user=ana)
    client.login(username="ben", password=PASSWORD)
    page = client.get("/alerts/").content.decode()
    assert "ana@example.org" not in page and "United States from Niger" not in page
    for action in ("delete", "pause"):
        assert client.post(f"/alerts/watches/{watch.pk}/", {"action": action}).status_code == 404
    for action in ("delete", "pause", "test"):
        assert client.post(f"/alerts/channels/{channel.pk}/", {"action": action}).status_code == 404
    watch.refresh_from_db()
    channel.refresh_from_db()
    assert not watch.paused and channel.active
    assert not Delivery.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.0.0.7/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/latest/meta-data",
    ],
)
def test_it_refuses_webhooks_to_internal_addresses(ana, url):
    with pytest.raises(services.AlertError, match="internal address"):
        services.channel_webhook_create(user=ana, url=url)
    assert not Channel.objects.exists()


def test_it_refuses_a_host_name_that_resolves_to_a_private_address(ana, monkeypatch):
    import socket

    def resolve(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.168.1.20", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(services.AlertError, match="resolves to 192.168.1.20, an internal"):
        services.channel_webhook_create(user=ana, url="https://hooks.example.org/x")


def test_it_refuses_plain_http_and_other_schemes(ana):
    for url, problem in [
        ("http://93.184.215.14/hook", "must use https"),
        ("ftp://93.184.215.14/hook", "only http and https"),
        ("https://user:pw@93.184.215.14/hook", "user name or password"),
    ]:
        with pytest.raises(services.AlertError, match=problem):
            services.channel_webhook_create(user=ana, url=url)


def test_it_allows_private_webhooks_when_private_fetching_is_allowed(ana, settings):
    settings.TRACKER_FETCH_ALLOW_PRIVATE = True
    channel = services.channel_webhook_create(user=ana, url="http://127.0.0.1:18799/hook")
    assert channel.kind == "webhook" and len(channel.secret) >= 40


def test_the_webhook_page_form_shows_the_refusal(ana_client):
    ana_client.post("/alerts/channels/", {"url": "https://127.0.0.1/hook"})
    page = ana_client.get("/alerts/").content.decode()
    assert "That webhook cannot be added: 127.0.0.1 is an internal address: refused." in page


def test_the_unsubscribe_link_works_without_signing_in(client, ana, niger_withdrawal):
    services.watch_create(user=ana, kind="withdrawal", withdrawal=niger_withdrawal)
    channel = Channel.objects.get(user=ana)
    url = f"/alerts/unsubscribe/{alerts.channel_unsubscribe_token(channel)}/"
    assert "Stop all alerts to" in client.get(url).content.decode()
    channel.refresh_from_db()
    assert channel.active  # a link scanner's GET changes nothing
    # RFC 8058: the mail program POSTs, with no session and no CSRF token.
    response = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert "Unsubscribed" in response.content.decode()
    channel.refresh_from_db()
    assert not channel.active and channel.paused_reason == "unsubscribed from an email"


def test_a_tampered_unsubscribe_link_is_refused(client, ana, niger_withdrawal):
    services.watch_create(user=ana, kind="withdrawal", withdrawal=niger_withdrawal)
    channel = Channel.objects.get(user=ana)
    token = alerts.channel_unsubscribe_token(channel)
    response = client.post(f"/alerts/unsubscribe/{token[:-2]}xx/")
    assert response.status_code == 404
    channel.refresh_from_db()
    assert channel.active


def test_the_sweep_fires_each_threshold_once(
    ana, niger_withdrawal, django_capture_on_commit_callbacks
):
    services.watch_create(
        user=ana, kind="withdrawal", withdrawal=niger_withdrawal, lead_days=[30, 7]
    )
    start = dt.datetime(2024, 8, 1, tzinfo=dt.UTC)
    alerts.alarms_refresh(withdrawal_ids=[niger_withdrawal.pk], now=start)
    alarm = WithdrawalAlarm.objects.get()
    assert alarm.alert_after == dt.datetime(2024, 8, 16, tzinfo=dt.UTC)  # 30 days before
    assert alerts.alarms_sweep(now=dt.datetime(2024, 8, 15, 23, tzinfo=dt.UTC)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert alerts.alarms_sweep(now=dt.datetime(2024, 8, 16, 0, 5, tzinfo=dt.UTC)) == 1
        assert alerts.alarms_sweep(now=dt.datetime(2024, 8, 16, 0, 6, tzinfo=dt.UTC)) == 0
        # The beat was down for a month: only "passed" fires, not "in 7 days" as well.
        assert alerts.alarms_sweep(now=dt.datetime(2024, 9, 20, tzinfo=dt.UTC)) == 1
    assert list(
        AlertEvent.objects.order_by("id").values_list("kind", "data__facts__days_left")
    ) == [
        ("deadline_soon", 30),
        ("deadline_passed", None),
    ]
    assert not WithdrawalAlarm.objects.exists()  # nothing left to fire
    assert [m.subject for m in mail.outbox] == [
        "[Tracker] Deadline in 30 days: United States from Niger",
        "[Tracker] Deadline passed with no completion reported: United States from Niger",
    ]


def test_an_idle_sweep_is_one_query(ana, niger_withdrawal, django_assert_num_queries):
    services.watch_create(user=ana, kind="withdrawal", withdrawal=niger_withdrawal)
    alerts.alarms_refresh(
        withdrawal_ids=[niger_withdrawal.pk], now=dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
    )
    # The alarm_alert_after_idx probe, and nothing else.
    with django_assert_num_queries(1):
        assert alerts.alarms_sweep(now=dt.datetime(2024, 6, 2, tzinfo=dt.UTC)) == 0


def test_a_completed_or_unwatched_withdrawal_has_no_alarm(ana, niger_withdrawal):
    watch, _ = services.watch_create(user=ana, kind="withdrawal", withdrawal=niger_withdrawal)
    now = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
    alerts.alarms_refresh(withdrawal_ids=[niger_withdrawal.pk], now=now)
    assert WithdrawalAlarm.objects.count() == 1
    niger_withdrawal.completed_on = dt.date(2024, 9, 1)
    niger_withdrawal.save()
    alerts.alarms_refresh(withdrawal_ids=[niger_withdrawal.pk], now=now)
    assert not WithdrawalAlarm.objects.exists()


def test_the_daily_digest_gathers_a_channels_alerts_in_one_email(
    ana, niger_withdrawal, django_capture_on_commit_callbacks
):
    services.watch_create(user=ana, kind="withdrawal", withdrawal=niger_withdrawal)
    channel = Channel.objects.get(user=ana)
    services.channel_update(channel=channel, digest=True)
    alerts.alarms_refresh(
        withdrawal_ids=[niger_withdrawal.pk], now=dt.datetime(2024, 9, 1, tzinfo=dt.UTC)
    )
    with django_capture_on_commit_callbacks(execute=True):
        alerts.alarms_sweep(now=dt.datetime(2024, 9, 8, 1, tzinfo=dt.UTC))
        alerts.alarms_sweep(now=dt.datetime(2024, 9, 14, 1, tzinfo=dt.UTC))
    assert mail.outbox == []  # waiting for the digest
    with django_capture_on_commit_callbacks(execute=True):
        assert services.digests_send() == 1
    assert len(mail.outbox) == 1
    digest = mail.outbox[0]
    assert digest.subject == "[Tracker] Daily digest: 2 updates on what you watch"
    assert "Deadline in 7 days: United States from Niger" in digest.body
    assert "Deadline in 1 day: United States from Niger" in digest.body
    assert set(Delivery.objects.values_list("state", flat=True)) == {"digested", "sent"}


def test_a_broker_outage_delays_deliveries_and_never_drops_them(
    ana, niger_withdrawal, monkeypatch, django_capture_on_commit_callbacks
):
    from tracker import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.delivery_send_task, "apply_async", broker_down)
    services.watch_create(user=ana, kind="withdrawal", withdrawal=niger_withdrawal)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.channel_send_test(channel=Channel.objects.get(user=ana))
    delivery.refresh_from_db()
    assert delivery.state == "pending" and mail.outbox == []
    monkeypatch.undo()
    # Two minutes on, the beat's sweep finds it waiting and queues it (the broker is back).
    two_minutes_ago = delivery.next_attempt_at - dt.timedelta(minutes=2)
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=two_minutes_ago)
    assert services.deliveries_requeue_due() == 1
    delivery.refresh_from_db()
    assert delivery.state == "sent" and len(mail.outbox) == 1


def test_emails_carry_text_html_and_unsubscribe_headers(
    ana, niger_withdrawal, django_capture_on_commit_callbacks
):
    services.watch_create(user=ana, kind="withdrawal", withdrawal=niger_withdrawal)
    with django_capture_on_commit_callbacks(execute=True):
        services.channel_send_test(channel=Channel.objects.get(user=ana))
    message = mail.outbox[0]
    assert message.to == ["ana@example.org"]
    assert message.alternatives[0][1] == "text/html"
    unsubscribe = message.extra_headers["List-Unsubscribe"]
    assert re.fullmatch(r"<http://127\.0\.0\.1:8000/alerts/unsubscribe/[\w:-]+/>", unsubscribe)
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_invite_user_creates_an_account_and_emails_a_password_link(db):
    call_command("invite_user", "cleo@example.org")
    user = get_user_model().objects.get(username="cleo")
    assert user.email == "cleo@example.org" and not user.has_usable_password()
    assert mail.outbox[0].to == ["cleo@example.org"]
    assert "/accounts/reset/" in mail.outbox[0].body


def test_password_reset_sends_a_working_link(client, ana):
    client.post("/accounts/password_reset/", {"email": "ana@example.org"})
    link = re.search(r"https?://[^\s]+/accounts/reset/\S+", mail.outbox[0].body).group(0)
    path = link.split("testserver", 1)[-1]
    form_page = client.get(path, follow=True)
    assert "Choose a password" in form_page.content.decode()
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "another-long-password-9", "new_password2": "another-long-password-9"},
        follow=True,
    )
    assert "Password saved" in response.content.decode()
    assert client.login(username="ana", password="another-long-password-9")


# ---------------------------------------------------------------------------------------
# API


@pytest.fixture
def api_as():
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    def make(user) -> APIClient:
        client = APIClient()
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


def test_the_api_creates_and_lists_only_your_own_watches(api_as, ana, ben, niger_withdrawal):
    ana_api, ben_api = api_as(ana), api_as(ben)
    created = ana_api.post(
        "/api/watches/", {"kind": "host", "party": "NE", "lead_days": [14, 3]}, format="json"
    )
    assert created.status_code == 201, created.content
    watch = created.json()
    assert (watch["kind"], watch["party"], watch["lead_days"]) == ("host", "NE", [14, 3])
    again = ana_api.post("/api/watches/", {"kind": "host", "party": "NE"}, format="json")
    assert again.status_code == 200 and again.json()["id"] == watch["id"]
    assert [w["id"] for w in ana_api.get("/api/watches/").json()["results"]] == [watch["id"]]
    assert ben_api.get("/api/watches/").json()["results"] == []
    url = f"/api/watches/{watch['id']}/"
    assert ben_api.get(url).status_code == 404
    assert ben_api.patch(url, {"paused": True}, format="json").status_code == 404
    assert ben_api.delete(url).status_code == 404
    assert ana_api.patch(url, {"paused": True}, format="json").json()["paused"] is True
    assert ana_api.delete(url).status_code == 204
    assert not Watch.objects.exists()


def test_the_api_refuses_anonymous_callers(client, niger_withdrawal):
    for path in ("/api/watches/", "/api/channels/", "/api/deliveries/"):
        assert client.get(path).status_code in (401, 403)


def test_the_api_explains_a_watch_it_cannot_make(api_as, ana, niger_withdrawal):
    response = api_as(ana).post(
        "/api/watches/", {"kind": "view", "query": "status=soonish"}, format="json"
    )
    assert response.status_code == 400
    assert "unknown status 'soonish'" in response.content.decode()
    response = api_as(ana).post("/api/watches/", {"kind": "withdrawal"}, format="json")
    assert response.status_code == 400 and "which withdrawal" in response.content.decode()


def test_the_api_adds_webhooks_with_the_same_address_rules(api_as, ana, ben, settings):
    ana_api = api_as(ana)
    refused = ana_api.post(
        "/api/channels/", {"kind": "webhook", "address": "https://127.0.0.1/x"}, format="json"
    )
    assert refused.status_code == 400 and "internal address" in refused.content.decode()
    settings.TRACKER_FETCH_ALLOW_PRIVATE = True
    created = ana_api.post(
        "/api/channels/", {"kind": "webhook", "address": "https://127.0.0.1/x"}, format="json"
    )
    assert created.status_code == 201 and len(created.json()["secret"]) >= 40
    channel_id = created.json()["id"]
    ben_api = api_as(ben)
    assert ben_api.get(f"/api/channels/{channel_id}/").status_code == 404
    assert ben_api.post(f"/api/channels/{channel_id}/test/").status_code == 404
    assert ben_api.get("/api/channels/").json()["results"] == []


def test_the_delivery_log_is_readable_by_its_owner_only(
    api_as, ana, ben, niger_withdrawal, django_capture_on_commit_callbacks
):
    services.watch_create(user=ana, kind="withdrawal", withdrawal=niger_withdrawal)
    channel = Channel.objects.get(user=ana)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(ana).post(f"/api/channels/{channel.pk}/test/")
    assert response.status_code == 202
    log = api_as(ana).get("/api/deliveries/").json()["results"]
    assert [(d["state"], d["event"]["type"]) for d in log] == [("sent", "test")]
    assert log[0]["event"]["summary"] == "Test alert from the troop-withdrawal tracker"
    assert api_as(ben).get("/api/deliveries/").json()["results"] == []
    assert api_as(ben).get(f"/api/deliveries/{log[0]['id']}/").status_code == 404
