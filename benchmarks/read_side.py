"""The read side at scale: 100,000 withdrawals and 500,000 milestones on PostgreSQL.

1. Builds a throwaway database (bench_read_<pid>), fills it with withdrawals announced over
   forty years (deadlines 2 months to 2.5 years later, half of the past ones completed), five
   milestones each, two evidence rows each, and the stored corroboration counts.
2. Requests each URL in process through the whole middleware stack (DEBUG off), as
   benchmarks/dashboard.py does, and prints p50 / p95 and the queries each answer costs.
3. Compares the API's withdrawal list with the bare floor (the same page, in the same order,
   read with values() and written with orjson: benchmarks/api_urls.py).
4. Streams the CSV of all 100,000 rows and records its peak memory (tracemalloc, and the
   process's peak RSS growth).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tracker DEBUG=1 \
        .venv/bin/python benchmarks/read_side.py [--requests 100]

Goals (issue 10): `/` and `/dashboard.json` p95 <= 150 ms with a constant number of queries;
API list >= 50% of the floor; CSV of 100,000 rows under 100 MB peak; ICS default window
< 200 ms. Results: docs/benchmarks.md.
"""

import argparse
import datetime as dt
import os
import platform
import random
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from benchmarks.machine import cpu_model  # noqa: E402

WITHDRAWALS = 100_000
MILESTONES_EACH = 5
YEARS = 40
BATCH = 5_000


def build() -> None:
    from tracker import services
    from tracker.models import Evidence, Milestone, Party, Source, Withdrawal

    rng = random.Random(11)
    states = Party.objects.bulk_create(
        [Party(code=f"S{i:03d}", name=f"State {i:03d}") for i in range(180)]
    )
    organisations = Party.objects.bulk_create(
        [Party(code=f"ORG{i}", name=f"Mission {i}", kind="organisation") for i in range(40)]
    )
    deployers = states + organisations
    today = dt.date.today()
    sources = Source.objects.bulk_create(
        [
            Source(
                text=f"Article {i}: a party leaves a host.",
                content_hash=f"{i:064d}",
                origin="seed",
                publisher_key=f"publisher {i % 50}",
            )
            for i in range(5000)
        ],
        batch_size=BATCH,
    )
    ids = []
    for offset in range(0, WITHDRAWALS, BATCH):
        batch = []
        for i in range(offset, offset + BATCH):
            party = deployers[i % len(deployers)]
            host = states[(i * 7 + 3) % len(states)]
            if host == party:
                host = states[(i * 7 + 4) % len(states)]
            announced = today - dt.timedelta(days=rng.randint(30, YEARS * 365))
            deadline = announced + dt.timedelta(days=rng.randint(60, 900))
            completed = None
            if deadline < today and rng.random() < 0.5:
                completed = deadline - dt.timedelta(days=rng.randint(-30, 60))
            personnel = rng.choice([None, 500, 1000, 2500, 12000])
            withdrawn = personnel // 2 if personnel and rng.random() < 0.4 else None
            batch.append(
                Withdrawal(
                    party=party,
                    host=host,
                    summary=f"{party.name} withdraws from {host.name}",
                    announced_on=announced,
                    started_on=announced + dt.timedelta(days=20) if rng.random() < 0.5 else None,
                    deadline=deadline,
                    deadline_precision=rng.choice(["day", "day", "month", "year"]),
                    completed_on=completed,
                    cancelled_on=today - dt.timedelta(days=5) if rng.random() < 0.02 else None,
                    personnel=personnel,
                    personnel_withdrawn=withdrawn,
                )
            )
        created = Withdrawal.objects.bulk_create(batch)
        Milestone.objects.bulk_create(
            [
                Milestone(
                    withdrawal=w,
                    kind="other",
                    title=f"Step {step} of {w.pk}",
                    date=w.announced_on + dt.timedelta(days=30 * step),
                    status="done" if step < 2 else "planned",
                )
                for w in created
                for step in range(MILESTONES_EACH)
            ],
            batch_size=BATCH,
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
                for w in created
                for k in range(2)
            ],
            batch_size=BATCH,
        )
        ids += [w.pk for w in created]
    for offset in range(0, len(ids), BATCH):
        services.withdrawals_recount(withdrawal_ids=ids[offset : offset + BATCH])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def consume(response) -> int:
    if response.streaming:
        return sum(len(chunk) for chunk in response.streaming_content)
    return len(response.content)


def measure(client: Client, path: str, count: int, **headers) -> dict:
    for _ in range(3):  # warm caches, templates and connections
        consume(client.get(path, **headers))
    queries = []
    with connection.execute_wrapper(
        lambda execute, sql, *rest: queries.append(sql) or execute(sql, *rest)
    ):
        status = client.get(path, **headers).status_code
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(path, **headers)
        size = consume(response)
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "status": status,
        "p50": statistics.median(timings),
        "p95": percentile(timings, 0.95),
        "mean": statistics.fmean(timings),
        "queries": len(queries),
        "bytes": size,
    }


def report(label: str, result: dict) -> None:
    print(
        f"{label:44} p50 {result['p50']:7.1f} ms  p95 {result['p95']:7.1f} ms  "
        f"{result['queries']:2d} queries  {result['bytes']:>9,} bytes  [{result['status']}]",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument(
        "--use-db", help="measure an existing database built by an earlier run (not dropped)"
    )
    parser.add_argument("--only", help="measure only the URLs whose label contains this")
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.DEBUG = False
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_CLASSES"] = []
    settings.REST_FRAMEWORK = rest
    if connection.vendor != "postgresql":
        raise SystemExit("This benchmark is for PostgreSQL: set DATABASE_URL.")
    if args.use_db:
        connection.close()
        connection.settings_dict["NAME"] = args.use_db
        old_name = None
    else:
        test_settings = connection.settings_dict.setdefault("TEST", {})
        test_settings["NAME"] = f"bench_read_{os.getpid()}"
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        if old_name is not None:
            started = time.perf_counter()
            build()
            print(
                f"built {WITHDRAWALS:,} withdrawals, {WITHDRAWALS * MILESTONES_EACH:,} "
                f"milestones, {WITHDRAWALS * 2:,} evidence rows in "
                f"{time.perf_counter() - started:.0f} s",
                flush=True,
            )
        print(
            f"machine: {os.cpu_count()} CPUs, {cpu_model()}; Python {platform.python_version()}; "
            f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}",
            flush=True,
        )
        client = Client()
        with override_settings(ROOT_URLCONF="benchmarks.api_urls"):
            for label, path in [
                ("dashboard /", "/"),
                ("dashboard /?page=40", "/?page=40"),
                ("dashboard /?status=overdue", "/?status=overdue"),
                ("dashboard /?status=completed&host=S010", "/?status=completed&host=S010"),
                ("dashboard /?q=State+010", "/?q=State+010"),
                ("/dashboard.json", "/dashboard.json"),
                ("ICS default window", "/feeds/deadlines.ics"),
                ("Atom changes", "/feeds/changes.atom"),
            ]:
                if args.only and args.only not in label:
                    continue
                report(label, measure(client, path, args.requests))
            if args.only:
                return
            first = client.get("/feeds/deadlines.ics")
            report(
                "ICS conditional GET (304)",
                measure(client, "/feeds/deadlines.ics", args.requests,
                        HTTP_IF_NONE_MATCH=first["ETag"]),
            )  # fmt: skip
            bare = measure(client, "/bare/withdrawals/?page_size=100", args.requests)
            api = measure(client, "/api/withdrawals/?page_size=100", args.requests)
            report("bare withdrawals (values + orjson)", bare)
            report("API /api/withdrawals/?page_size=100", api)
            print(f"API list at {bare['mean'] / api['mean']:.0%} of the floor's throughput")

            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            tracemalloc.start()
            started = time.perf_counter()
            response = client.get("/api/withdrawals/?format=csv")
            rows = size = 0
            for chunk in response.streaming_content:
                size += len(chunk)
                rows += chunk.count(b"\r\n")
            seconds = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
            print(
                f"CSV of all rows: {rows - 1:,} rows, {size / 1e6:.1f} MB in {seconds:.1f} s; "
                f"Python heap peak {peak / 1e6:.1f} MB; peak RSS growth {rss_growth / 1024:.1f} MB"
            )
    finally:
        if old_name is not None:
            connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
