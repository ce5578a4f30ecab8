"""Dashboard render time with 1,000 withdrawals and 5,000 milestones: p50 / p95.

Builds a throwaway test database (test_<name> on PostgreSQL, a file on SQLite), fills it,
requests the dashboard through the whole middleware stack, and prints the figures.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tracker DEBUG=1 \
        .venv/bin/python benchmarks/dashboard.py [--requests 200]
"""

import argparse
import datetime as dt
import gc
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from benchmarks.machine import cpu_model  # noqa: E402

WITHDRAWALS = 1000
MILESTONES_EACH = 5
PUBLISHERS = ["Reuters", "AP", "AFP", "BBC", "Al Jazeera", "Le Monde", ""]


def build() -> None:
    from tracker import services
    from tracker.models import Evidence, Milestone, Party, Source, Withdrawal

    rng = random.Random(7)
    states = Party.objects.bulk_create(
        [Party(code=f"S{i:03d}", name=f"State {i:03d}") for i in range(120)]
    )
    organisations = Party.objects.bulk_create(
        [Party(code=f"ORG{i}", name=f"Mission {i}", kind="organisation") for i in range(20)]
    )
    deployers = states + organisations
    today = dt.date.today()
    withdrawals = []
    for i in range(WITHDRAWALS):
        party = deployers[i % len(deployers)]
        host = states[(i * 7 + 3) % len(states)]
        if host == party:
            host = states[(i * 7 + 4) % len(states)]
        announced = today - dt.timedelta(days=rng.randint(30, 1500))
        deadline = announced + dt.timedelta(days=rng.randint(60, 900))
        completed = None
        if deadline < today and rng.random() < 0.5:
            completed = deadline - dt.timedelta(days=rng.randint(-30, 60))
        personnel = rng.choice([None, 500, 1000, 2500, 12000])
        withdrawals.append(
            Withdrawal(
                party=party,
                host=host,
                summary=f"{party.name} withdraws from {host.name}",
                announced_on=announced,
                started_on=announced + dt.timedelta(days=20) if rng.random() < 0.5 else None,
                deadline=deadline,
                deadline_precision=rng.choice(["day", "day", "month", "year"]),
                completed_on=completed,
                personnel=personnel,
                personnel_withdrawn=personnel // 2 if personnel and rng.random() < 0.4 else None,
            )
        )
    withdrawals = Withdrawal.objects.bulk_create(withdrawals)
    Milestone.objects.bulk_create(
        [
            Milestone(
                withdrawal=w,
                kind="other",
                title=f"Step {step} of {w.pk}",
                date=w.announced_on + dt.timedelta(days=30 * step),
                status="done" if step < 2 else "planned",
            )
            for w in withdrawals
            for step in range(MILESTONES_EACH)
        ],
        batch_size=1000,
    )
    sources = Source.objects.bulk_create(
        [
            Source(
                text=f"Article {i}: a party leaves a host.",
                content_hash=f"{i:064d}",
                origin="seed",
                publisher=PUBLISHERS[i % len(PUBLISHERS)],
                publisher_key=PUBLISHERS[i % len(PUBLISHERS)].lower(),
            )
            for i in range(2000)
        ],
        batch_size=1000,
    )
    Evidence.objects.bulk_create(
        [
            Evidence(
                source=sources[(w.pk * 2 + k) % len(sources)],
                withdrawal=w,
                field="pair",
                quote="a party leaves a host",
                start=12,
                end=33,
            )
            for w in withdrawals
            for k in range(2)
        ],
        batch_size=1000,
    )
    # The stored corroboration counts, as merging keeps them.
    services.withdrawals_recount(withdrawal_ids=[w.pk for w in withdrawals])


def measure(client: Client, path: str, count: int) -> tuple[list[float], int]:
    for _ in range(5):  # warm caches, templates and connections
        client.get(path)
    queries = []
    with connection.execute_wrapper(
        lambda execute, sql, *rest: queries.append(sql) or execute(sql, *rest)
    ):
        assert client.get(path).status_code == 200
    timings, cpu = [], []
    for _ in range(count):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200
    return timings, cpu, len(queries)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--profile", action="store_true", help="profile 20 renders of /")
    parser.add_argument(
        "--freeze", action="store_true", help="gc.freeze() after start-up, as a worker can"
    )
    args = parser.parse_args()

    # Not setup_test_environment(): it records every template context on the responses,
    # which would measure the test instrumentation rather than the page.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.DEBUG = False  # no query log kept between requests, as in production
    # A database of its own, never the test suite's test_<name>: the suite may be running.
    test_settings = connection.settings_dict.setdefault("TEST", {})
    if connection.vendor == "sqlite":
        test_settings["NAME"] = f"/tmp/bench_dashboard_{os.getpid()}.sqlite3"
    else:
        test_settings["NAME"] = f"bench_dashboard_{os.getpid()}"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        build()
        print(f"built {WITHDRAWALS} withdrawals, {WITHDRAWALS * MILESTONES_EACH} milestones, "
              f"2,000 sources in {time.perf_counter() - started:.1f} s")  # fmt: skip
        client = Client()
        client.get("/")
        if args.freeze:
            # What a gunicorn worker can do once the app is loaded: move the long-lived
            # objects out of the collector's sight, so full collections stay short.
            gc.collect()
            gc.freeze()
        print(f"database: {connection.vendor}; machine: {os.cpu_count()} CPUs, {cpu_model()}; "
              f"Python {platform.python_version()}")  # fmt: skip
        if args.profile:
            import cProfile
            import pstats

            client.get("/")
            profiler = cProfile.Profile()
            profiler.runcall(lambda: [client.get("/") for _ in range(20)])
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
            return
        for label, path in [
            ("dashboard, all (page 1 of 20)", "/"),
            ("dashboard, status=overdue", "/?status=overdue"),
            ("dashboard, search + host", "/?q=State+01&host=S010"),
            ("dashboard.json (polling)", "/dashboard.json"),
        ]:
            timings, cpu, queries = measure(client, path, args.requests)
            print(
                f"{label:32} p50 {statistics.median(timings):6.1f} ms   "
                f"p95 {percentile(timings, 0.95):6.1f} ms   "
                f"max {max(timings):6.1f} ms   "
                f"(CPU p50 {statistics.median(cpu):5.1f} / p95 {percentile(cpu, 0.95):5.1f} ms)"
                f"   {queries} queries   n={len(timings)}"
            )
        print(f"load average during the run: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
