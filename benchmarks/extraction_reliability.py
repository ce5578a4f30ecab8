"""Reliability of the extractor's confidence on a gold set (not a test; figures for the docs).

For every withdrawal the extractor reports and every date it gives (announced_on, deadline,
completed_on), this compares the fact with the gold annotation the way `score.py` does and
groups the facts by confidence: of the facts reported at 0.8 or more, how many are right; and
the same below 0.5 and in between. A withdrawal is right when gold has its (deploying, host)
pair; a date is right when gold has the same date for that field of that pair (at gold's
precision, or one of its acceptable values).

    .venv/bin/python benchmarks/extraction_reliability.py tests/corpus [more gold dirs...]
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tracker.extraction import extract  # noqa: E402

BANDS = ((0.0, 0.5), (0.5, 0.8), (0.8, 1.01))
FIELDS = ("announced_on", "deadline", "completed_on")


def _scorer(gold_dir: Path):
    spec = importlib.util.spec_from_file_location("score", gold_dir / "score.py")
    if spec is None or not (gold_dir / "score.py").exists():
        spec = importlib.util.spec_from_file_location(
            "score", Path(__file__).resolve().parent.parent / "tests" / "corpus" / "score.py"
        )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def facts(gold_dir: Path):
    """(kind, confidence, right) for every reported withdrawal and date."""
    score = _scorer(gold_dir)
    items = json.loads((gold_dir / "gold.json").read_text(encoding="utf-8"))
    for item in items:
        published = item.get("published") or item.get("published_estimate")
        text = (gold_dir / item["file"]).read_text(encoding="utf-8")
        day = datetime.date.fromisoformat(published[:10]) if published else None
        result = extract(text, published=day).to_dict()
        gold = score.index(item.get("withdrawals"))
        for withdrawal in result["withdrawals"]:
            pair = (score.norm_code(withdrawal["deploying"]), score.norm_code(withdrawal["host"]))
            g = gold.get(pair)
            yield "withdrawal", withdrawal["confidence"], g is not None
            for field in FIELDS:
                date = withdrawal[field]
                if date is None or date["date"] is None:
                    continue
                right = False
                if g is not None:
                    want = score.field_value(g, field)
                    precision = g.get(f"{field}_precision", "day")
                    accepted = [want] + list(g.get(f"{field}_acceptable") or [])
                    right = any(
                        score.same(a, date["date"], precision) for a in accepted if a is not None
                    )
                yield "date", date["confidence"], right


def main() -> int:
    rows = [fact for directory in sys.argv[1:] for fact in facts(Path(directory))]
    print("| facts | confidence | reported | right | precision |")
    print("|---|---|---:|---:|---:|")
    for kind in ("withdrawal", "date"):
        for low, high in BANDS:
            got = [right for k, c, right in rows if k == kind and low <= c < high]
            precision = f"{sum(got) / len(got):.2f}" if got else "–"
            band = f"[{low:.1f}, {min(high, 1.0):.1f}{']' if high > 1 else ')'}"
            print(f"| {kind}s | {band} | {len(got)} | {sum(got)} | {precision} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
