"""Alerts through Redis and real `celery worker` processes, to a real SMTP server (aiosmtpd,
in its own process) and a local HTTPS receiver: every event type arrives by email, webhooks
are signed as docs/alerts.md says, failures back off and pause the channel, and a worker
killed in the middle of 100 emails loses none and sends none twice."""

import datetime as dt
import email
import email.policy
import json
import mailbox
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis
from django.contrib.auth import get_user_model
from test_worker import test_database_url

from tracker import services
from tracker.models import AlertEvent, Channel, Delivery, Milestone, Party, Watch, Withdrawal
from tracker.services import alerts

ROOT = Path(__file__).resolve().parent.parent
TLS = Path(__file__).resolve().parent / "tls"
DOCS = ROOT / "docs" / "alerts.md"

CHAD = "France agreed on Monday to withdraw its 1,000 troops from Chad by January 31, 2025."
CHAD_MOVED = (
    "France said on Tuesday that its 1,100 troops would now leave Chad by March 31, 2025. "
    "French troops handed over the Abeche base to the Chadian army on December 10, 2024."
)
CHAD_DONE = "France completed the withdrawal of its troops from Chad on March 20, 2025."

pytestmark = pytest.mark.worker


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited: {process.stdout.read()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"nothing listens on {port}")


class Outbox:
    """An aiosmtpd process that stores every message it accepts in a Maildir."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                f"127.0.0.1:{self.port}",
                "-c",
                "aiosmtpd.handlers.Mailbox",
                str(directory),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        wait_for_port(self.port, self.process)

    def messages(self) -> list[email.message.EmailMessage]:
        box = mailbox.Maildir(self.directory, factory=None, create=False)
        return [
            email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
            for key in box.keys()
        ]

    def count(self) -> int:
        return len(os.listdir(self.directory / "new")) + len(os.listdir(self.directory / "cur"))

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture
def outbox(tmp_path):
    box = Outbox(tmp_path / "maildir")
    yield box
    box.close()


class Receiver:
    """An HTTPS webhook receiver on localhost: records each request, answers `status`."""

    def __init__(self) -> None:
        self.requests: list[tuple[float, dict, bytes]] = []
        self.status = 204
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 — the name http.server calls
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.requests.append((time.monotonic(), dict(self.headers), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(TLS / "localhost.pem", TLS / "localhost-key.pem")
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"https://localhost:{self.port}/hooks/tracker"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def alert_worker(redis_url, transactional_db, outbox, settings):
    """Start celery workers that send mail to the outbox; stopped at the end."""
    settings.TRACKER_FETCH_ALLOW_PRIVATE = True  # the receiver is on 127.0.0.1
    redis.Redis.from_url(redis_url).flushdb()
    started: list[subprocess.Popen] = []

    def start(**extra: str) -> subprocess.Popen:
        env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": redis_url,
            "DEBUG": "1",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(outbox.port),
            "DEFAULT_FROM_EMAIL": "alerts@tracker.test",
            "TRACKER_SITE_URL": "https://tracker.test",
            "TRACKER_FETCH_ALLOW_PRIVATE": "1",
            "TRACKER_CA_BUNDLE": str(TLS / "localhost.pem"),
            "TRACKER_RETRY_BACKOFF_BASE": "1",
            "TRACKER_RETRY_BACKOFF_MAX": "4",
            **extra,
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo"]
            + ["--queues", "tracker", "--loglevel", "WARNING", "--without-heartbeat"]
            + ["--without-gossip", "--without-mingle"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    redis.Redis.from_url(redis_url).flushdb()


def until(condition, seconds: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what or condition}")


def settled() -> bool:
    return not Delivery.objects.filter(state__in=["pending", "sending"]).exists()


def ingest(text: str, published: dt.date) -> None:
    _, job = services.source_submit_text(text=text, origin="pasted", published_on=published)
    until(lambda: (job.refresh_from_db(), job.is_finished)[1], what=f"job {job.pk}")
    assert job.state == "merged", job.error


@pytest.fixture
def ana(db):
    return get_user_model().objects.create_user(
        username="ana", email="ana@example.org", password="a-long-test-password"
    )


def test_it_emails_every_event_type_through_a_real_smtp_server(alert_worker, outbox, ana):
    worker = alert_worker()
    chad = Party.objects.create(code="TD", name="Chad")
    services.watch_create(user=ana, kind=Watch.Kind.HOST, party=chad)

    ingest(CHAD, dt.date(2024, 12, 2))  # withdrawal_new
    withdrawal = Withdrawal.objects.get(party__code="FR", host=chad)
    ingest(CHAD_MOVED, dt.date(2025, 1, 7))  # deadline_changed, conflict_new, phase_met
    # The sweep, as the beat runs it, 7 days before and just after the new deadline.
    deadline = dt.datetime(2025, 3, 31, tzinfo=dt.UTC)
    alerts.alarms_refresh(withdrawal_ids=[withdrawal.pk], now=deadline - dt.timedelta(days=20))
    assert alerts.alarms_sweep(now=deadline - dt.timedelta(days=6, hours=23)) == 1
    assert alerts.alarms_sweep(now=deadline - dt.timedelta(days=6)) == 0  # nothing new
    assert alerts.alarms_sweep(now=deadline + dt.timedelta(days=1, hours=1)) == 1
    ingest(CHAD_DONE, dt.date(2025, 4, 2))  # completed
    services.record_verified_on_commit(withdrawal_id=withdrawal.pk, user=ana, note="Checked.")
    handover = Milestone.objects.create(
        withdrawal=withdrawal, kind="equipment_removal", title="Equipment removed"
    )
    handover.status = Milestone.State.MISSED
    services.milestone_save_by_person(milestone=handover, fields=["status"])  # phase_missed
    services.channel_send_test(channel=Channel.objects.get(user=ana))

    kinds = set(AlertEvent.Kind.values) - {"digest"}
    until(lambda: set(AlertEvent.objects.values_list("kind", flat=True)) >= kinds, what="events")
    until(settled, what="deliveries")
    sent = Delivery.objects.filter(state="sent").count()
    until(lambda: outbox.count() >= sent, what="emails")
    assert worker.poll() is None

    messages = outbox.messages()
    assert len(messages) == sent == AlertEvent.objects.count()
    by_kind = {m["X-Tracker-Event"]: m for m in messages}
    assert set(by_kind) == kinds
    assert len({m["Message-ID"] for m in messages}) == len(messages)
    for message in messages:
        assert message["To"] == "ana@example.org"
        unsubscribe = message["List-Unsubscribe"].strip()
        assert unsubscribe.startswith("<https://tracker.test/alerts/unsubscribe/")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert message["X-Tracker-Event-Id"] in text and "Unsubscribe" in html
    changed = by_kind["deadline_changed"]
    assert subject(changed) == (
        "[Tracker] Deadline changed: France from Chad, 31 January 2025 → 31 March 2025"
    )
    assert "by March 31, 2025" in changed.get_body(("plain",)).get_content()
    assert subject(by_kind["deadline_soon"]) == "[Tracker] Deadline in 7 days: France from Chad"
    assert "no completion reported" in subject(by_kind["deadline_passed"])
    assert "Abeche" in by_kind["phase_met"].get_body(("plain",)).get_content()
    conflicts = [
        m.get_body(("plain",)).get_content()
        for m in messages
        if m["X-Tracker-Event"] == "conflict_new"
    ]
    assert any("personnel: the record says 1000, a source says 1100" in c for c in conflicts)
    assert "(20 March 2025)" in subject(by_kind["completed"])


def subject(message) -> str:
    # A long subject is folded over lines; what a mail program shows has no leading space.
    return str(message["Subject"]).strip()


def documented_verifier():
    """The verification snippet from docs/alerts.md, run as a reader would copy it."""
    text = DOCS.read_text(encoding="utf-8")
    code = re.search(r"<!-- verify-snippet[^>]*-->\s*```python\n(.*?)```", text, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "docs/alerts.md", "exec"), namespace)  # noqa: S102 — our own docs
    return namespace["tracker_signature_ok"]


def test_it_signs_webhooks_so_the_documented_snippet_verifies_them(alert_worker, receiver, ana):
    alert_worker()
    channel = services.channel_webhook_create(user=ana, url=receiver.url)
    delivery = services.channel_send_test(channel=channel)
    until(lambda: receiver.requests, what="the webhook")
    _, headers, body = receiver.requests[0]
    verify = documented_verifier()
    assert verify(channel.secret, headers["X-Tracker-Signature"], body)
    assert not verify("another-secret", headers["X-Tracker-Signature"], body)
    assert not verify(channel.secret, headers["X-Tracker-Signature"], body + b" ")
    payload = json.loads(body)
    event = delivery.event
    assert payload["id"] == headers["X-Tracker-Event-Id"] == str(event.uuid)
    assert payload["type"] == "test" and headers["Content-Type"] == "application/json"
    until(settled, what="the delivery")
    delivery.refresh_from_db()
    assert (delivery.state, delivery.response_code, delivery.attempts) == ("sent", 204, 1)


def test_a_failing_receiver_is_retried_with_backoff_then_its_channel_pauses(
    alert_worker, receiver, outbox, ana
):
    alert_worker(TRACKER_ALERT_PAUSE_AFTER="3")
    receiver.status = 500
    channel = services.channel_webhook_create(user=ana, url=receiver.url)
    delivery = services.channel_send_test(channel=channel)
    until(lambda: not Channel.objects.get(pk=channel.pk).active, what="the pause")
    times = [t for t, _, _ in receiver.requests]
    assert len(times) == 3
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    # Backoff of about 1 then 2 seconds, with jitter down to half of each.
    assert gaps[0] >= 0.5 and gaps[1] >= 1.0, gaps
    channel.refresh_from_db()
    assert "paused after 3 failed sends in a row" in channel.paused_reason
    assert "500" in channel.paused_reason
    delivery.refresh_from_db()
    assert delivery.state == "held"  # kept for when the owner resumes the channel
    until(lambda: outbox.count() == 1, what="the notice")
    notice = outbox.messages()[0]
    assert notice["To"] == "ana@example.org" and "paused" in subject(notice)
    time.sleep(2)
    assert len(receiver.requests) == 3  # nothing more while paused

    receiver.status = 200
    services.channel_update(channel=channel, active=True)
    until(lambda: Delivery.objects.get(pk=delivery.pk).state == "sent", what="the resend")


def test_a_worker_killed_mid_batch_loses_no_email_and_sends_none_twice(alert_worker, outbox, ana):
    channel = alerts.channel_email_ensure(user=ana)
    for _ in range(100):
        services.channel_send_test(channel=channel)
    first = alert_worker(TRACKER_ALERT_LEASE_SECONDS="2")
    until(lambda: outbox.count() >= 37, what="the first emails")
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    at_kill = outbox.count()
    assert at_kill < 100

    second = alert_worker(TRACKER_ALERT_LEASE_SECONDS="2")
    # What the beat does every minute: deliveries whose worker died go out again once
    # their lease has run out.
    time.sleep(2.5)
    alerts.deliveries_requeue_due(grace_seconds=0)
    until(settled, seconds=90, what="every delivery")
    until(lambda: outbox.count() >= 100, what="100 emails")
    time.sleep(1)  # anything extra would have arrived by now
    assert second.poll() is None
    ids = [m["X-Tracker-Event-Id"] for m in outbox.messages()]
    assert len(ids) == 100, f"{len(ids)} emails for 100 deliveries"
    assert len(set(ids)) == 100
    assert Delivery.objects.filter(state="sent").count() == 100
