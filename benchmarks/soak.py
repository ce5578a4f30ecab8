"""Soak: ten minutes of mixed reads and writes against gunicorn and a Celery worker, as in
production (PostgreSQL, Redis, DEBUG off, the default throttles).

1. Creates a PostgreSQL database (tracker_hops_soak by default; dropped first), migrates,
   loads the seed articles, and makes a reader and two contributors with API tokens.
2. Starts its own redis-server, gunicorn (2 workers) and a Celery worker (concurrency 1,
   with its beat) on loopback ports 18221-18231.
3. For --minutes, reader threads (closed loop, --think ms between requests) read pages,
   the API (as the reader), CSV, the iCalendar and Atom feeds and the probes, picked at
   random; two writer threads each submit a new article to POST /api/sources/ every 2 s.
4. Samples the resident memory of the web and worker processes every 15 s.
5. Waits for the ingest queue to drain and prints p50/p99 per endpoint, errors (anything
   not 2xx other than 429), throughput, memory over time and the jobs' outcome.

    .venv/bin/python benchmarks/soak.py [--minutes 10] [--readers 4] [--write-doc]

Goal: 0 errors other than throttling, memory flat. Results: docs/benchmarks-soak.md.
"""

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import cpu_model  # noqa: E402

REDIS_PORT, WEB_PORT = 18221, 18230
PARTIES = ["France", "Germany", "Italy", "Spain", "Belgium", "Canada", "Japan", "Norway"]
HOSTS = ["Chad", "Mali", "Niger", "Iraq", "Kosovo", "Somalia", "Lebanon", "Jordan", "Syria"]
MONTHS = ["January", "March", "May", "July", "September", "November"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/tracker_hops_soak"
    )
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--think", type=float, default=50, help="ms between a reader's requests")
    parser.add_argument("--write-doc", action="store_true", help="write docs/benchmarks-soak.md")
    return parser.parse_args()


def soak_env(database_url: str, var_dir: Path) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "0",
            "SECRET_KEY": "soak-only-not-a-secret-" + "x" * 30,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_HSTS_SECONDS": "0",
            "TRACKER_VAR_DIR": str(var_dir),
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def create_database(database_url: str) -> None:
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


SETUP = """
import json
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
reader = User.objects.create_user("soak-reader", password="x" * 20)
tokens = {"reader": Token.objects.create(user=reader).key, "writers": []}
for n in range(2):
    writer = User.objects.create_user(f"soak-writer-{n}", password="x" * 20, is_staff=True,
                                      is_superuser=True)
    tokens["writers"].append(Token.objects.create(user=writer).key)
print(json.dumps(tokens))
"""


def manage(env: dict, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def article(number: int) -> str:
    party = PARTIES[number % len(PARTIES)]
    host = HOSTS[(number // len(PARTIES)) % len(HOSTS)]
    return (
        f"{party} agreed on Monday to withdraw its {200 + number * 3:,} troops from {host} by "
        f"{MONTHS[number % len(MONTHS)]} {1 + number % 28}, 2027, the defence ministry said "
        f"in statement {number} of the soak."
    )


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.failures: list[str] = []

    def add(self, name: str, seconds: float, status: int, detail: str = "") -> None:
        with self.lock:
            self.latencies[name].append(seconds)
            self.statuses[name][status] += 1
            if not (200 <= status < 300 or status == 429) and len(self.failures) < 20:
                self.failures.append(f"{name}: {status} {detail[:200]}")


def request(conn_box: list, method: str, path: str, headers: dict, body: bytes | None):
    for attempt in range(2):
        if conn_box[0] is None:
            conn_box[0] = http.client.HTTPConnection("127.0.0.1", WEB_PORT, timeout=60)
        try:
            conn_box[0].request(method, path, body=body, headers=headers)
            response = conn_box[0].getresponse()
            return response.status, response.read()
        except (http.client.HTTPException, OSError):
            # gunicorn closed a kept-alive connection: reconnect once, as a browser would.
            conn_box[0].close()
            conn_box[0] = None
            if attempt:
                raise
    raise AssertionError("unreachable")


def reader(stop: float, recorder: Recorder, token: str, ids: list[int], think: float, seed: int):
    rng = random.Random(seed)
    auth = {"Authorization": f"Token {token}"}
    choices = [
        ("page /", "/", {}),
        ("page /dashboard.json", "/dashboard.json", {}),
        ("page /withdrawals/<id>/", None, {}),
        ("api /api/withdrawals/", "/api/withdrawals/", auth),
        ("api /api/withdrawals/?format=csv", "/api/withdrawals/?format=csv", auth),
        ("api /api/milestones/", "/api/milestones/", auth),
        ("api /api/withdrawals/<id>/", None, auth),
        ("feed /feeds/deadlines.ics", "/feeds/deadlines.ics", {}),
        ("feed /feeds/changes.atom", "/feeds/changes.atom", {}),
        ("probe /readyz", "/readyz", {}),
    ]
    conn = [None]
    while time.monotonic() < stop:
        name, path, headers = rng.choice(choices)
        if path is None:
            pk = rng.choice(ids)
            path = f"/withdrawals/{pk}/" if name.startswith("page") else f"/api/withdrawals/{pk}/"
        started = time.monotonic()
        try:
            status, body = request(conn, "GET", path, headers, None)
        except Exception as exc:
            recorder.add(name, time.monotonic() - started, 0, repr(exc))
            continue
        recorder.add(
            name, time.monotonic() - started, status, body[:200].decode("utf-8", "replace")
        )
        time.sleep(think / 1000)


def writer(stop: float, recorder: Recorder, token: str, first: int, every: float) -> int:
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    conn = [None]
    number = first
    while time.monotonic() < stop:
        tick = time.monotonic()
        body = json.dumps({"text": article(number), "published_on": "2026-11-01"}).encode()
        try:
            status, reply = request(conn, "POST", "/api/sources/", headers, body)
        except Exception as exc:
            status, reply = 0, repr(exc).encode()
        recorder.add("write POST /api/sources/", time.monotonic() - tick, status, reply.decode())
        number += 2
        time.sleep(max(0.0, every - (time.monotonic() - tick)))
    return number


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def rss_mb(root: int) -> float:
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
        stack += children(pid)
    return total / 1024


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))] * 1000


def main() -> None:
    args = parse_args()
    var_dir = Path(tempfile.mkdtemp(prefix="tracker-soak-"))
    env = soak_env(args.database_url, var_dir)
    create_database(args.database_url)
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "collectstatic", "--noinput", "-v0")
    processes: list[subprocess.Popen] = []
    logs = var_dir / "logs"
    logs.mkdir()

    def start(name: str, command: list[str]) -> subprocess.Popen:
        out = open(logs / f"{name}.log", "w")  # noqa: SIM115 — closed with the process
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        processes.append(process)
        return process

    try:
        start(
            "redis",
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(REDIS_PORT),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(var_dir),
            ],
        )
        time.sleep(1)
        manage(env, "load_seeds")
        tokens = json.loads(manage(env, "shell", stdin=SETUP).strip().splitlines()[-1])
        web = start(
            "gunicorn",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{WEB_PORT}",
                "--timeout",
                "60",
            ],
        )
        worker = start(
            "worker",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--beat",
                "--schedule",
                str(var_dir / "beat"),
                "--concurrency",
                "1",
                "-Q",
                "tracker",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
        )
        for _ in range(120):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", WEB_PORT, timeout=5)
                conn.request("GET", "/readyz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            raise SystemExit("the site never became ready (see the logs under " + str(logs) + ")")
        conn = http.client.HTTPConnection("127.0.0.1", WEB_PORT, timeout=30)
        conn.request(
            "GET",
            "/api/withdrawals/?page_size=100",
            headers={"Authorization": f"Token {tokens['reader']}"},
        )
        ids = [row["id"] for row in json.loads(conn.getresponse().read())["results"]]

        recorder = Recorder()
        began = time.monotonic()
        stop = began + args.minutes * 60
        threads = [
            threading.Thread(
                target=reader, args=(stop, recorder, tokens["reader"], ids, args.think, n)
            )
            for n in range(args.readers)
        ] + [
            threading.Thread(target=writer, args=(stop, recorder, token, n, 2.0))
            for n, token in enumerate(tokens["writers"])
        ]
        started_at = dt.datetime.now(dt.UTC)
        load_before = os.getloadavg()
        for thread in threads:
            thread.start()
        memory = []
        while time.monotonic() < stop:
            memory.append((time.monotonic() - began, rss_mb(web.pid), rss_mb(worker.pid)))
            time.sleep(min(15, max(0.1, stop - time.monotonic())))
        for thread in threads:
            thread.join()
        memory.append((time.monotonic() - began, rss_mb(web.pid), rss_mb(worker.pid)))
        elapsed = time.monotonic() - began
        load_after = os.getloadavg()

        # The jobs the writes queued: drained, and how they ended.
        drain_started = time.monotonic()
        outcome = {}
        for _ in range(240):
            outcome = json.loads(
                manage(
                    env,
                    "shell",
                    "-c",
                    (
                        "import json; from django.db.models import Count; "
                        "from tracker.models import IngestJob; "
                        "print(json.dumps(dict(IngestJob.objects.values_list('state')"
                        ".annotate(n=Count('pk')))))"
                    ),
                )
                .strip()
                .splitlines()[-1]
            )
            if not set(outcome) - {"merged", "failed"}:
                break
            time.sleep(1)
        drained_in = time.monotonic() - drain_started
    finally:
        for process in reversed(processes):
            try:
                os.killpg(process.pid, 15)
                process.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(process.pid, 9)

    report = render(
        args, recorder, memory, outcome, elapsed, drained_in, started_at, load_before, load_after
    )
    print(report)
    if args.write_doc:
        (ROOT / "docs" / "benchmarks-soak.md").write_text(report)
    shutil.rmtree(var_dir, ignore_errors=True)


def render(
    args, recorder, memory, outcome, elapsed, drained_in, started_at, load_before, load_after
) -> str:
    lines = [
        "# Soak benchmark (`benchmarks/soak.py`)",
        "",
        f"Run {started_at:%Y-%m-%d %H:%M} UTC for {elapsed / 60:.1f} minutes: gunicorn (2 workers),"
        " one Celery worker (concurrency 1, with beat), PostgreSQL, its own Redis; DEBUG off,"
        f" default throttles. {args.readers} reader threads ({args.think:.0f} ms between"
        " requests), two writers submitting one new article every 2 s each.",
        "",
        f"Machine: {os.cpu_count()} vCPUs ({cpu_model()}), Python {platform.python_version()};"
        " load generator, web, worker, PostgreSQL and Redis on the same cores. The machine was"
        " shared with other engineers' test suites during the run: load average"
        f" {load_before[0]:.1f} before, {load_after[0]:.1f} after.",
        "",
        "| Endpoint | Requests | req/s | p50 ms | p99 ms | max ms | 429 | Errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    total = errors = throttled = 0
    for name in sorted(recorder.latencies):
        values = recorder.latencies[name]
        statuses = recorder.statuses[name]
        bad = sum(n for s, n in statuses.items() if not (200 <= s < 300 or s == 429))
        total += len(values)
        errors += bad
        throttled += statuses.get(429, 0)
        lines.append(
            f"| {name} | {len(values):,} | {len(values) / elapsed:.1f} | "
            f"{percentile(values, 0.5):.0f} | {percentile(values, 0.99):.0f} | "
            f"{max(values) * 1000:.0f} | {statuses.get(429, 0)} | {bad} |"
        )
    lines += [
        "",
        f"In all: {total:,} requests, {total / elapsed:.1f} req/s, **{errors} errors** other than"
        f" throttling ({throttled} answered 429).",
    ]
    if recorder.failures:
        lines += ["", "First errors:", ""] + [f"- `{failure}`" for failure in recorder.failures]
    lines += [
        "",
        f"Ingest jobs after the run: {outcome} (the queue drained {drained_in:.0f} s after the"
        " load stopped).",
        "",
        "Resident memory (MB), web = gunicorn master and workers, worker = Celery with its pool"
        " and beat:",
        "",
        "| Minute | Web | Worker |",
        "|---|---|---|",
    ]
    shown = -1
    for seconds, web, worker in memory:
        minute = int(seconds // 60)
        if minute != shown or (seconds, web, worker) == memory[-1]:
            lines.append(f"| {seconds / 60:.1f} | {web:.0f} | {worker:.0f} |")
            shown = minute
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
