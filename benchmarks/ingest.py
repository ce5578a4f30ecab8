"""Ingestion throughput end to end: 1,000 articles through Redis into PostgreSQL, read by 1
and then 2 `celery worker` processes. Prints articles per second and the scaling ratio.

Each run starts from empty tables in a throwaway test database (test_<name>), starts the
workers, then submits every article the way the API and the staff page do (a source row and
a job, queued after commit) and stops the clock when the last job has merged.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tracker \
    REDIS_URL=redis://127.0.0.1:6379/12 DEBUG=1 .venv/bin/python benchmarks/ingest.py \
        [--articles 1000] [--workers 1 2] [--mode text|url]

--mode url serves the articles as HTML pages from a local web server on 127.0.0.1, so each
job also fetches its page and extracts its main text with trafilatura.
"""

import argparse
import os
import platform
import random
import resource
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")
# The article server is on 127.0.0.1; the workers inherit this.
os.environ["TRACKER_FETCH_ALLOW_PRIVATE"] = "1"

import django  # noqa: E402

django.setup()

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from benchmarks.machine import cpu_model  # noqa: E402

STATES = [
    ("United States", "Niger"),
    ("France", "Chad"),
    ("France", "Mali"),
    ("Germany", "Mali"),
    ("United Kingdom", "Afghanistan"),
    ("Russia", "Armenia"),
    ("Italy", "Iraq"),
    ("Canada", "Latvia"),
    ("Spain", "Lebanon"),
    ("Netherlands", "Afghanistan"),
    ("Turkey", "Qatar"),
    ("Japan", "Djibouti"),
]
MONTHS = ["January", "March", "May", "June", "August", "September", "October", "December"]
PUBLISHERS = ["Reuters", "Associated Press", "AFP", "BBC", "Al Jazeera", "Le Monde", ""]


def articles(count: int) -> list[tuple[str, str, str]]:
    """(title, publisher, text): distinct texts about a dozen withdrawals, so merging finds
    agreeing values, conflicts and new deadlines as it would in a real news stream."""
    rng = random.Random(11)
    out = []
    for i in range(count):
        party, host = rng.choice(STATES)
        troops = rng.choice([500, 1000, 1100, 1500, 2400, 3000])
        day, month = rng.randint(1, 28), rng.choice(MONTHS)
        year = rng.choice([2023, 2024, 2025])
        text = (
            f"Report {i}. {party} agreed on Monday to withdraw its {troops:,} troops from {host} "
            f"by {month} {day}, {year}, officials said. The pullout began after talks in the "
            f"capital, according to a statement. Bulletin number {i} of the series.\n"
            f"Officials added that equipment would be removed over the following weeks."
        )
        out.append((f"{party} to leave {host} ({i})", rng.choice(PUBLISHERS), text))
    return out


def start_web(pages: dict[str, bytes]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            body = pages.get(self.path, b"")
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def html(title: str, publisher: str, text: str) -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in text.split("\n"))
    return (
        f"<html><head><title>{title}</title><meta property='og:site_name' content='{publisher}'>"
        f"</head><body><nav>Home | World</nav><article><h1>{title}</h1>{paragraphs}</article>"
        f"<footer>Contact us</footer></body></html>"
    ).encode()


def database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return (
        f"postgres://{s.get('USER') or 'postgres'}{password}@{s['HOST'] or '127.0.0.1'}:"
        f"{s['PORT'] or 5432}/{s['NAME']}"
    )


def start_workers(count: int) -> list[subprocess.Popen]:
    # Workers run as in production: DEBUG off (it records every query), a key of their own.
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DEBUG": "0",
        "SECRET_KEY": "benchmark-only-" + "x" * 40,
    }
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool",
                "solo",
                "--queues",
                settings.CELERY_TASK_DEFAULT_QUEUE,
                "--loglevel",
                "WARNING",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                f"bench{n}@%h",
            ],
            cwd=ROOT,
            env=env,
        )
        for n in range(count)
    ]


def empty_tables() -> None:
    from tracker.models import Conflict, Deployment, Feed, IngestJob, Party, Source, Withdrawal

    for model in (IngestJob, Conflict, Withdrawal, Deployment, Source, Feed, Party):
        model.objects.all().delete()


def wait_until_finished(total: int, timeout: float) -> tuple[int, int]:
    from tracker.models import IngestJob

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        merged = IngestJob.objects.filter(state=IngestJob.State.MERGED).count()
        failed = IngestJob.objects.filter(state=IngestJob.State.FAILED).count()
        if merged + failed >= total:
            return merged, failed
        time.sleep(0.1)
    raise SystemExit(f"timed out: {merged} merged, {failed} failed of {total}")


def warm_up(workers: list[subprocess.Popen]) -> None:
    """One job per worker, so imports and connections are not timed."""
    from tracker import services

    for n in range(len(workers) * 2):
        services.source_submit_text(text=f"Warm-up text {n}.", origin="pasted")
    wait_until_finished(len(workers) * 2, 120)
    empty_tables()


def proc_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backends_cpu_seconds() -> float:
    """CPU used so far by the PostgreSQL backends serving this database (ours only)."""
    with connection.cursor() as cursor:
        name = connection.settings_dict["NAME"]
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [name])
        return sum(proc_cpu_seconds(pid) for (pid,) in cursor.fetchall())


def redis_cpu_seconds() -> float:
    pid = redis.Redis.from_url(settings.REDIS_URL).info("server").get("process_id")
    return proc_cpu_seconds(pid) if pid else 0.0


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(workers_count: int, items: list[tuple[str, str, str]], mode: str, base: str) -> float:
    from tracker import services
    from tracker.models import IngestJob

    empty_tables()
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    workers = start_workers(workers_count)
    try:
        warm_up(workers)
        # CPU per article, by process, tells what the machine can do when nothing else runs.
        own_cpu, redis_cpu = time.process_time(), redis_cpu_seconds()
        backend_cpu = backends_cpu_seconds()
        workers_cpu = sum(proc_cpu_seconds(w.pid) for w in workers)
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        for n, (title, publisher, text) in enumerate(items):
            if mode == "url":
                services.source_submit_url(url=f"{base}/a/{n}")
            else:
                services.source_submit_text(
                    text=text, origin="pasted", title=title, publisher=publisher
                )
        submitted = time.perf_counter() - started
        merged, failed = wait_until_finished(len(items), 600)
        elapsed = time.perf_counter() - started
        own_cpu = time.process_time() - own_cpu
        redis_cpu = redis_cpu_seconds() - redis_cpu
        backend_cpu = backends_cpu_seconds() - backend_cpu
        workers_cpu = sum(proc_cpu_seconds(w.pid) for w in workers) - workers_cpu
        load_after = os.getloadavg()[0]
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(30)
    errors = set(IngestJob.objects.filter(state="failed").values_list("error", flat=True)[:3])
    rate = len(items) / elapsed
    print(
        f"{workers_count} worker(s): {len(items)} articles in {elapsed:.1f} s "
        f"(submitted in {submitted:.1f} s) = {rate:.1f} articles/s; "
        f"{merged} merged, {failed} failed {sorted(errors) if errors else ''}",
        flush=True,
    )
    per = {
        "workers": workers_cpu,
        "PostgreSQL": backend_cpu,
        "submitting": own_cpu,
        "Redis": redis_cpu,
    }
    total_ms = sum(per.values()) * 1000 / len(items)
    cores = os.cpu_count() or 1
    print(
        "    CPU per article: "
        + ", ".join(f"{name} {seconds * 1000 / len(items):.1f} ms" for name, seconds in per.items())
        + f"; total {total_ms:.1f} ms, so at most {cores * 1000 / total_ms:.0f} articles/s on "
        f"{cores} idle cores; load average {load_before:.1f} before, {load_after:.1f} after",
        flush=True,
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--mode", choices=["text", "url"], default="text")
    args = parser.parse_args()
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        raise SystemExit("Set DATABASE_URL to PostgreSQL and REDIS_URL to Redis (see --help).")

    from django.test.utils import setup_test_environment

    setup_test_environment()
    # A database of its own: never the one a concurrent test run is using.
    name = connection.settings_dict["NAME"]
    connection.settings_dict["TEST"]["NAME"] = f"test_{name}_bench_ingest"
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    items = articles(args.articles)
    server = start_web({f"/a/{n}": html(*item) for n, item in enumerate(items)})
    base = f"http://127.0.0.1:{server.server_address[1]}"
    print(
        f"machine: {os.cpu_count()} CPUs ({cpu_model()}), Python {platform.python_version()}, "
        f"PostgreSQL database {test_name}, broker {settings.REDIS_URL}, mode {args.mode}",
        flush=True,
    )
    try:
        rates = {n: run(n, items, args.mode, base) for n in args.workers}
    finally:
        server.shutdown()
        connection.creation.destroy_test_db(test_name, verbosity=0)
    if 1 in rates and len(rates) > 1:
        most = max(rates)
        print(f"scaling {most} workers / 1 worker: {rates[most] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
