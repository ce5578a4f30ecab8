"""Benchmark the extraction engine against dateparser's whole-text search (not a test).

1. Generate N varied articles from templates: parties, hosts, force sizes, date phrases,
   distractor sentences (peaks, convoys, casualties, elections), deployments, filler of
   varied length. Each article knows the withdrawal it states, so the run also reports how
   often the engine finds it (a sanity check on our own templates, not an accuracy claim).
2. Run `extract` over every article, then `dateparser.search_dates(text, languages=["en"])`
   over the same texts; print articles/s, median and p95 ms per article, and the ratio.
3. Measure peak memory (tracemalloc) for the first quarter of the corpus and for all of it:
   the two stay close when memory does not grow with the corpus.
4. With `--dev DIR` (a directory holding `gold.json` and its articles, such as the shared
   development set), time both tools on those real-shaped articles too, one line each: they
   are denser than the generated ones, nearly every sentence naming troops, dates or numbers.
5. With `--corpus DIR` (the real-text corpus, `tests/corpus`), the same on real texts, with
   the ratio in total and the lowest ratio of any single text (the goals: 10x and 5x).

    .venv/bin/python benchmarks/extraction.py [--articles 1000] [--seed 7] [--repeat 3]
        [--dev ../shared/eval/dev] [--corpus tests/corpus]
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.machine import cpu_model  # noqa: E402
from tracker.extraction import extract  # noqa: E402

DEPLOYING = [
    ("US", "American", "the United States", "Washington"),
    ("FR", "French", "France", "Paris"),
    ("GB", "British", "Britain", "London"),
    ("RU", "Russian", "Russia", "Moscow"),
    ("DE", "German", "Germany", "Berlin"),
    ("IT", "Italian", "Italy", "Rome"),
    ("DK", "Danish", "Denmark", "Copenhagen"),
    ("TR", "Turkish", "Turkey", "Ankara"),
]
HOSTS = [
    ("NE", "Niger", "Nigerien", "Niamey"),
    ("ML", "Mali", "Malian", "Bamako"),
    ("TD", "Chad", "Chadian", "N'Djamena"),
    ("BF", "Burkina Faso", "Burkinabe", "Ouagadougou"),
    ("IQ", "Iraq", "Iraqi", "Baghdad"),
    ("AF", "Afghanistan", "Afghan", "Kabul"),
    ("SO", "Somalia", "Somali", "Mogadishu"),
    ("SY", "Syria", "Syrian", "Damascus"),
    ("SN", "Senegal", "Senegalese", "Dakar"),
    ("GA", "Gabon", "Gabonese", "Libreville"),
]
SIZES = [
    ("about {n:,} {adj} troops", "approximately"),
    ("roughly {n:,} {adj} soldiers", "approximately"),
    ("some {n:,} {adj} soldiers", "approximately"),
    ("more than {n:,} {adj} troops", "more than"),
    ("at least {n:,} {adj} personnel", "at least"),
    ("{n:,} {adj} service members", "exact"),
]
ANNOUNCE = [
    "{capital_dep} said on {weekday} that {country} would withdraw its troops from {host} "
    "{deadline}.",
    "On {weekday}, {country} announced it would pull its forces out of {host} {deadline}.",
    "The {host_adj} junta on {weekday} ordered {adj} troops to leave the country {deadline}.",
]
DEADLINES = [
    "by the end of the year",
    "by September 15",
    "no later than the end of March 2026",
    "within one month",
    "over the next twelve months",
    "by December 31",
]
DISTRACTORS = [
    "At the height of the deployment in 2015, more than {peak:,} troops were in the region.",
    "About 200 soldiers left in the first convoy on {weekday}.",
    "Five soldiers were killed in an ambush last month.",
    "Elections are due on November 24, officials said.",
    "The {host_adj} government, which took power in a coup in 2023, has denied the claims.",
    "Some 3,000 civilians were evacuated from the border area.",
    "The Pentagon will deploy 2,000 more troops to Poland for an exercise next month.",
    "Under the 2014 defence agreement, the base was shared with local forces.",
]
FILLER = [
    "Analysts said the decision reflected a broader shift in the region's security alliances.",
    "Local residents greeted the news with a mixture of relief and concern.",
    "The ministry did not say what would happen to the equipment left at the bases.",
    "Diplomats from both countries met in the capital to discuss future cooperation.",
    "Officials stressed that development aid would continue regardless of the military changes.",
    "The opposition called for a parliamentary debate on the matter.",
]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def make_article(rng: random.Random) -> tuple[str, datetime.date, tuple[str, str, int]]:
    code, adj, country, capital = rng.choice(DEPLOYING)
    host_code, host, host_adj, _ = rng.choice(HOSTS)
    n = rng.choice([150, 350, 400, 1000, 1500, 2500, 5000, 12000])
    size_template, _ = rng.choice(SIZES)
    size = size_template.format(n=n, adj=adj)
    fields = {
        "capital_dep": capital,
        "country": country,
        "adj": adj,
        "host": host,
        "host_adj": host_adj,
        "weekday": rng.choice(WEEKDAYS),
        "deadline": rng.choice(DEADLINES),
        "peak": n * 4,
    }
    headline = f"{country} to withdraw troops from {host}"
    sentences = [rng.choice(ANNOUNCE).format(**fields)]
    sentences.append(f"{size[0].upper()}{size[1:]} are currently based in {host}.")
    body = rng.sample(DISTRACTORS, rng.randint(1, 4)) + rng.sample(FILLER, rng.randint(1, 4))
    rng.shuffle(body)
    sentences += [s.format(**fields) for s in body]
    paragraphs = [headline, " ".join(sentences)]
    for _ in range(rng.randint(0, 6)):  # varied lengths: up to ~7 more paragraphs of filler
        paragraphs.append(" ".join(rng.sample(FILLER, rng.randint(2, 5))))
    published = datetime.date(2025, 1, 6) + datetime.timedelta(days=rng.randint(0, 300))
    return "\n\n".join(paragraphs), published, (code, host_code, n)


def time_each(func, items, repeat: int) -> list[float]:
    """Milliseconds per item, the best of `repeat` runs: other processes on a shared machine
    only ever add time, so the minimum is the figure that compares the two tools fairly."""
    gc.collect()
    timings = []
    for item in items:
        best = float("inf")
        for _ in range(repeat):
            started = time.perf_counter()
            func(item)
            best = min(best, time.perf_counter() - started)
        timings.append(best * 1000)
    return timings


def summary(name: str, timings: list[float]) -> tuple[float, str]:
    total_s = sum(timings) / 1000
    rate = len(timings) / total_s if total_s else float("inf")
    timings = sorted(timings)
    p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
    line = (
        f"{name:<28}{rate:10.1f} articles/s   median {statistics.median(timings):7.2f} ms"
        f"   p95 {p95:7.2f} ms"
    )
    return rate, line


def peak_memory(articles) -> float:
    tracemalloc.start()
    for text, published, _ in articles:
        extract(text, published=published)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def dev_articles(directory: Path) -> list[tuple[str, str, datetime.date | None]]:
    entries = json.loads((directory / "gold.json").read_text(encoding="utf-8"))
    return [
        (
            entry["file"],
            (directory / entry["file"]).read_text(encoding="utf-8"),
            datetime.date.fromisoformat(entry["published"][:10])
            if entry.get("published")
            else None,
        )
        for entry in entries
    ]


def time_dev(directory: Path, repeat: int, search_dates, label: str = "dev") -> None:
    """Per-article and total times on the articles of a gold set, best of `repeat` runs."""
    articles = dev_articles(directory)
    print(f"{label} articles: {len(articles)} from {directory}")
    ours = time_each(lambda a: extract(a[1], published=a[2]), articles, repeat)
    theirs = time_each(lambda a: search_dates(a[1], languages=["en"]), articles, repeat)
    for (name, text, _), mine, other in zip(articles, ours, theirs, strict=True):
        print(
            f"  {name:<36}{len(text):6} chars   extract {mine:6.2f} ms"
            f"   dateparser {other:6.2f} ms   {other / mine:5.1f}x"
        )
    ratios = sorted(other / mine for mine, other in zip(ours, theirs, strict=True))
    print(
        f"{label} total: extract {sum(ours):.2f} ms, dateparser {sum(theirs):.2f} ms, "
        f"ratio {sum(theirs) / sum(ours):.1f}x (per article {ratios[0]:.1f}x to "
        f"{ratios[-1]:.1f}x, median {statistics.median(ratios):.1f}x)"
    )


def machine() -> str:
    return f"nproc {os.cpu_count()}, CPU {cpu_model()}, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="runs per article; the best counts")
    parser.add_argument("--dev", type=Path, help="also time the articles listed in DIR/gold.json")
    parser.add_argument("--corpus", type=Path, help="also time the real texts in DIR/gold.json")
    parser.add_argument(
        "--only-gold", action="store_true", help="skip the generated articles (--dev/--corpus only)"
    )
    parser.add_argument(
        "--memory-articles",
        type=int,
        default=0,
        help="also measure extract's peak memory over this many generated articles (no timing)",
    )
    args = parser.parse_args()

    from dateparser.search import search_dates

    if args.memory_articles:
        rng = random.Random(args.seed)
        many = [make_article(rng) for _ in range(args.memory_articles)]
        tenth = many[: max(1, len(many) // 10)]
        print(
            f"peak memory (tracemalloc) of extract: {peak_memory(tenth):.2f} MB over "
            f"{len(tenth)} articles, {peak_memory(many):.2f} MB over {len(many)} articles"
        )
    if args.only_gold:
        print(f"machine: {machine()}")
        search_dates("warm-up on Monday, May 20th", languages=["en"])
        extract("Warm-up: French troops left Mali on Monday.", published=datetime.date(2024, 1, 1))
        for label, directory in (("dev", args.dev), ("corpus", args.corpus)):
            if directory:
                time_dev(directory, max(args.repeat, 5), search_dates, label=label)
        return 0
    rng = random.Random(args.seed)
    articles = [make_article(rng) for _ in range(args.articles)]
    sizes = sorted(len(text) for text, _, _ in articles)
    print(f"machine: {machine()}")
    print(
        f"corpus: {len(articles)} articles, {sizes[0]}-{sizes[-1]} characters "
        f"(median {statistics.median(sizes):.0f})"
    )
    search_dates("warm-up on Monday, May 20th", languages=["en"])  # load dateparser's data once
    extract("Warm-up: French troops left Mali on Monday.", published=datetime.date(2024, 1, 1))

    found = 0
    for text, published, (code, host, n) in articles:
        result = extract(text, published=published)
        found += any(
            (w.deploying.code, w.host.code) == (code, host)
            and w.personnel
            and w.personnel.value == n
            for w in result.withdrawals
        )

    print(f"timing: best of {args.repeat} runs per article")
    extract_rate, extract_line = summary(
        "extract", time_each(lambda a: extract(a[0], published=a[1]), articles, args.repeat)
    )
    dp_rate, dp_line = summary(
        "dateparser.search_dates",
        time_each(lambda a: search_dates(a[0], languages=["en"]), articles, args.repeat),
    )
    print(extract_line)
    print(dp_line)
    print(f"throughput ratio extract / dateparser: {extract_rate / dp_rate:.1f}x")
    print(f"template check: pair and force size found in {found}/{len(articles)} articles")
    quarter = articles[: max(1, len(articles) // 4)]
    print(
        f"peak memory (tracemalloc) of extract: {peak_memory(quarter):.2f} MB over "
        f"{len(quarter)} articles, {peak_memory(articles):.2f} MB over {len(articles)} articles"
    )
    if args.dev:
        time_dev(args.dev, max(args.repeat, 5), search_dates)
    if args.corpus:
        time_dev(args.corpus, max(args.repeat, 5), search_dates, label="corpus")
    return 0


if __name__ == "__main__":
    sys.exit(main())
