"""Alerts: the beat sweep at 100,000 withdrawals and 10,000 watches, and webhook deliveries
per second through Redis and 1 then 2 `celery worker` processes to a local HTTPS receiver.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tracker \
    REDIS_URL=redis://127.0.0.1:6379/12 DEBUG=1 .venv/bin/python benchmarks/alerts.py \
        [--withdrawals 100000] [--watches 10000] [--webhooks 1000] [--workers 1 2]

1. Sweep: the tables are filled in bulk (withdrawals with deadlines spread over ten years,
   watches on withdrawals, host countries and parties, each watched withdrawal's alarm set by
   services.alerts.alarm_thresholds as alarms_refresh sets it). The sweep is timed with
   nothing due, at a tenth of the size and at full size, then with 10, 100 and 1,000 alarms
   due (their events and deliveries are written; queuing the sends is left out here).
2. Webhooks: N test events to one webhook channel are queued, then the workers start; the
   clock stops when the last delivery is marked sent. The receiver answers 204 over HTTPS
   (the test certificate in tests/tls) on 127.0.0.1.

Each run uses a throwaway database (test_<name>_bench_alerts).
"""

import argparse
import datetime as dt
import os
import platform
import ssl
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TLS = ROOT / "tests" / "tls"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")
# The receiver is on 127.0.0.1 with a self-signed certificate; the workers inherit these.
os.environ["TRACKER_FETCH_ALLOW_PRIVATE"] = "1"
os.environ["TRACKER_CA_BUNDLE"] = str(TLS / "localhost.pem")

import django  # noqa: E402

django.setup()

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402

from benchmarks.machine import cpu_model  # noqa: E402

NOW = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)


def fill(withdrawals: int, watches: int) -> list[int]:
    """Bulk rows; the ids of the watched withdrawals."""
    from django.contrib.auth import get_user_model

    from tracker.models import Channel, Party, Watch, Withdrawal, WithdrawalAlarm
    from tracker.services.alerts import alarm_thresholds

    parties = Party.objects.bulk_create(
        [Party(code=f"P{n:03d}", name=f"Party {n}") for n in range(200)]
    )
    rows = []
    for n in range(withdrawals):
        party, host = parties[n % 200], parties[(n * 7 + 1) % 200]
        if party == host:
            host = parties[(n + 3) % 200]
        deadline = (NOW + dt.timedelta(days=(n * 37) % 3650 - 1825)).date()
        rows.append(Withdrawal(party=party, host=host, deadline=deadline))
    created = Withdrawal.objects.bulk_create(rows, batch_size=5000)
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"u{n}", email=f"u{n}@example.org") for n in range(watches // 5)]
    )
    Channel.objects.bulk_create(
        [Channel(user=u, kind="email", address=u.email) for u in users], batch_size=5000
    )
    watched = created[:: max(1, withdrawals // int(watches * 0.9))][: int(watches * 0.9)]
    watch_rows = [
        Watch(user=users[n % len(users)], kind="withdrawal", withdrawal=w)
        for n, w in enumerate(watched)
    ]
    for n in range(watches - len(watch_rows)):
        watch_rows.append(
            Watch(
                user=users[n % len(users)],
                kind="host" if n % 2 else "party",
                party=parties[n % 200],
            )
        )
    Watch.objects.bulk_create(watch_rows, batch_size=5000, ignore_conflicts=True)
    alarms = []
    for w in watched:
        upcoming = [m for m, _ in alarm_thresholds(w.deadline, {7, 1}) if m > NOW]
        if upcoming:
            alarms.append(
                WithdrawalAlarm(
                    withdrawal=w, deadline=w.deadline, armed_at=NOW, alert_after=upcoming[0]
                )
            )
    WithdrawalAlarm.objects.bulk_create(alarms, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return [w.pk for w in watched]


def time_sweep(now: dt.datetime, repeat: int) -> tuple[float, float, int]:
    from tracker.services import alerts

    times, emitted = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        emitted += alerts.alarms_sweep(now=now)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times), emitted


def sweep_benchmark(withdrawals: int, watches: int) -> None:
    from tracker.models import AlertEvent, Delivery, Watch, Withdrawal, WithdrawalAlarm
    from tracker.services import alerts

    # Queuing sends is measured by the webhook part; here the sweep writes events and rows.
    alerts.deliveries_enqueue_on_commit = lambda ids: None
    for scale in (10, 1):
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE tracker_party, auth_user RESTART IDENTITY CASCADE")
        fill(withdrawals // scale, watches // scale)
        counts = [m.objects.count() for m in (Withdrawal, Watch, WithdrawalAlarm)]
        median, worst, emitted = time_sweep(NOW, 20)
        assert emitted == 0
        print(
            f"sweep, nothing due: {counts[0]:,} withdrawals, {counts[1]:,} watches, "
            f"{counts[2]:,} alarms: median {median:.2f} ms, max {worst:.2f} ms (20 runs)",
            flush=True,
        )
    for due in (10, 100, 1000):
        # The clock moves on until `due` more alarms have come due.
        alert_afters = WithdrawalAlarm.objects.order_by("alert_after").values_list(
            "alert_after", flat=True
        )
        now = alert_afters[due - 1]
        pending = WithdrawalAlarm.objects.filter(alert_after__lte=now).count()
        before = Delivery.objects.count()
        started = time.perf_counter()
        emitted = alerts.alarms_sweep(now=now, batch=pending)
        elapsed = (time.perf_counter() - started) * 1000
        print(
            f"sweep, {pending} due: {elapsed:.0f} ms ({elapsed / pending:.2f} ms per due "
            f"alarm), {emitted} events, {Delivery.objects.count() - before} deliveries",
            flush=True,
        )
    AlertEvent.objects.all().delete()


class Receiver:
    def __init__(self) -> None:
        self.count = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.count += 1
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(TLS / "localhost.pem", TLS / "localhost-key.pem")
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://localhost:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return (
        f"postgres://{s.get('USER') or 'postgres'}{password}@{s['HOST'] or '127.0.0.1'}:"
        f"{s['PORT'] or 5432}/{s['NAME']}"
    )


def start_workers(count: int) -> list[subprocess.Popen]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DEBUG": "0",
        "SECRET_KEY": "benchmark-only-" + "x" * 40,
    }
    return [
        subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo"]
            + ["--queues", settings.CELERY_TASK_DEFAULT_QUEUE, "--loglevel", "WARNING"]
            + ["--without-heartbeat", "--without-gossip", "--without-mingle"]
            + ["--hostname", f"bench{n}@%h"],
            cwd=ROOT,
            env=env,
        )
        for n in range(count)
    ]


def wait_sent(total: int, timeout: float = 600) -> None:
    from tracker.models import Delivery

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Delivery.objects.filter(state="sent").count() >= total:
            return
        time.sleep(0.05)
    raise SystemExit("timed out waiting for the deliveries")


def webhook_benchmark(count: int, workers_count: int, receiver: Receiver) -> float:
    from django.contrib.auth import get_user_model

    from tracker import services
    from tracker.models import AlertEvent, Channel, Delivery

    AlertEvent.objects.all().delete()
    Channel.objects.filter(kind="webhook").delete()
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    user, _ = get_user_model().objects.get_or_create(username="bench-webhooks")
    channel = services.channel_webhook_create(user=user, url=receiver.url)
    workers = start_workers(workers_count)
    try:
        for _ in range(workers_count * 4):  # warm-up: imports, connections
            services.channel_send_test(channel=channel)
        wait_sent(workers_count * 4, 120)
        Delivery.objects.all().delete()
        received = receiver.count
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        for _ in range(count):
            services.channel_send_test(channel=channel)
        queued = time.perf_counter() - started
        wait_sent(count)
        elapsed = time.perf_counter() - started
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(30)
    rate = count / elapsed
    print(
        f"webhooks, {workers_count} worker(s): {count} in {elapsed:.1f} s (queued in "
        f"{queued:.1f} s) = {rate:.1f}/s; receiver got {receiver.count - received}; "
        f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after",
        flush=True,
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--withdrawals", type=int, default=100_000)
    parser.add_argument("--watches", type=int, default=10_000)
    parser.add_argument("--webhooks", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--skip-sweep", action="store_true")
    parser.add_argument("--skip-webhooks", action="store_true")
    args = parser.parse_args()
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        raise SystemExit("Set DATABASE_URL to PostgreSQL and REDIS_URL to Redis (see --help).")
    from django.test.utils import setup_test_environment

    setup_test_environment()
    name = connection.settings_dict["NAME"]
    connection.settings_dict["TEST"]["NAME"] = f"test_{name}_bench_alerts"
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    settings.DEBUG = False
    reset_queries()
    print(
        f"machine: {os.cpu_count()} CPUs ({cpu_model()}), Python {platform.python_version()}, "
        f"PostgreSQL database {test_name}, broker {settings.REDIS_URL}",
        flush=True,
    )
    try:
        if not args.skip_sweep:
            sweep_benchmark(args.withdrawals, args.watches)
        receiver = Receiver()
        for n in [] if args.skip_webhooks else args.workers:
            webhook_benchmark(args.webhooks, n, receiver)
    finally:
        connection.creation.destroy_test_db(test_name, verbosity=0)


if __name__ == "__main__":
    main()
