"""The real-text corpus (tests/corpus/) is well formed: every text has its gold entry with its
source and licence, every entry its text, and the gold reads as the scorer reads it.

Plain pytest functions: no Django, no database. The annotation rules are in tests/corpus/GUIDE.md.
"""

import datetime
import importlib.util
import json
import re
from pathlib import Path

import pytest

CORPUS = Path(__file__).parent / "corpus"
GOLD = json.loads((CORPUS / "gold.json").read_text(encoding="utf-8"))

LICENCES = {
    "public-domain-us-gov",
    "un-terms",
    "open-parliament-licence",
    "ogl-3.0",
    "cc-by-sa",
    "cc-by",
    "cc0",
    "other-parliament-open",
}
KINDS = {
    "un-press",
    "un-news",
    "un-document",
    "us-gov",
    "voa",
    "hansard",
    "gov-uk",
    "parliament",
    "wikipedia",
    "wikinews",
    "other-gov",
}
REGIONS = {"africa", "middle-east", "europe", "asia", "americas", "oceania"}
NEGATIVES = {
    "demand",
    "rotation",
    "extension",
    "deployment",
    "exercise",
    "reinforcement",
    "redeployment-within",
    "hypothetical",
    "denial",
    "ceiling",
    "other",
}
DATE_FIELDS = ("announced_on", "deadline", "completed_on")
PRECISIONS = {"day", "month", "year"}
CODE = re.compile(r"^[A-Z][A-Z0-9-]+$")
DECADE = re.compile(r"^1[89]\d0s$|^20\d0s$")


def load_scorer():
    spec = importlib.util.spec_from_file_location("corpus_score", CORPUS / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def is_date(value) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def entry_problems(entry: dict) -> list[str]:
    problems = []
    if not str(entry.get("url", "")).startswith(("http://", "https://")):
        problems.append("url is missing or not http(s)")
    if entry.get("licence") not in LICENCES:
        problems.append(f"licence {entry.get('licence')!r} is not an accepted open licence")
    if entry.get("kind") not in KINDS:
        problems.append(f"kind {entry.get('kind')!r} is unknown")
    if entry.get("region") not in REGIONS:
        problems.append(f"region {entry.get('region')!r} is unknown")
    if not DECADE.match(str(entry.get("decade"))):
        problems.append(f"decade {entry.get('decade')!r} is not like 1990s")
    if not set(entry.get("negatives", [None])) <= NEGATIVES:
        problems.append(f"negatives {entry.get('negatives')!r} hold an unknown kind")
    if "published" not in entry or not (entry["published"] is None or is_date(entry["published"])):
        problems.append("published is missing or not YYYY-MM-DD/null")
    if not str(entry.get("notes", "")).strip():
        problems.append("notes are empty")
    pairs = [(w.get("deploying"), w.get("host")) for w in entry.get("withdrawals", [])]
    if len(pairs) != len(set(pairs)):
        problems.append("a (deploying, host) pair is listed twice")
    for w in entry.get("withdrawals", []):
        label = f"{w.get('deploying')}->{w.get('host')}"
        if not (CODE.match(str(w.get("deploying"))) and CODE.match(str(w.get("host")))):
            problems.append(f"{label}: codes must be upper-case codes")
        people = w.get("personnel")
        if people is not None and not (isinstance(people, int) and people > 0):
            problems.append(f"{label}: personnel must be a positive integer or null")
        for field in DATE_FIELDS:
            if field not in w or not (w[field] is None or is_date(w[field])):
                problems.append(f"{label}: {field} is missing or not YYYY-MM-DD/null")
            if w.get(f"{field}_precision", "day") not in PRECISIONS:
                problems.append(f"{label}: {field}_precision is not day/month/year")
            if not all(is_date(v) for v in w.get(f"{field}_acceptable", [])):
                problems.append(f"{label}: {field}_acceptable holds a non-date")
        for phase in w.get("phases", []):
            if not str(phase.get("scope", "")).strip():
                problems.append(f"{label}: a phase has no scope")
            for field in ("deadline", "completed_on"):
                if not (phase.get(field) is None or is_date(phase.get(field))):
                    problems.append(f"{label}: a phase's {field} is not YYYY-MM-DD/null")
    return problems


def test_it_has_one_gold_entry_per_text_and_a_text_per_entry():
    texts = sorted(p.name for p in CORPUS.glob("*.txt"))
    listed = [entry["file"] for entry in GOLD]
    assert len(listed) == len(set(listed)), "a text is listed twice in gold.json"
    assert sorted(listed) == texts


@pytest.mark.parametrize("entry", GOLD, ids=[e["file"] for e in GOLD])
def test_it_records_source_licence_and_well_formed_gold(entry):
    assert entry_problems(entry) == []


@pytest.mark.parametrize("entry", GOLD, ids=[e["file"] for e in GOLD])
def test_it_keeps_each_text_as_non_empty_utf8(entry):
    text = (CORPUS / entry["file"]).read_bytes().decode("utf-8")
    assert text.strip()


def test_it_holds_enough_texts_and_hard_negatives_to_measure_with():
    # The floor: at least 80 texts, at least 15 of them hard negatives (no withdrawal).
    negatives = [e for e in GOLD if not e["withdrawals"]]
    assert len(GOLD) >= 80
    assert len(negatives) >= 15


def test_it_holds_no_text_or_source_twice():
    texts = [(CORPUS / e["file"]).read_bytes() for e in GOLD]
    urls = [e["url"] for e in GOLD]
    assert len(set(texts)) == len(texts)
    assert len(set(urls)) == len(urls)


def test_it_flags_a_malformed_entry():
    bad = {
        "file": "x.txt",
        "url": "ftp://example",
        "licence": "all rights reserved",
        "kind": "newspaper",
        "region": "mars",
        "decade": "nineties",
        "negatives": ["maybe"],
        "published": "30 June 2023",
        "notes": "",
        "withdrawals": [
            {"deploying": "us", "host": "IQ", "personnel": "2,500", "announced_on": "2020-13-01"},
            {"deploying": "us", "host": "IQ", "personnel": None},
        ],
    }
    problems = " | ".join(entry_problems(bad))
    for fragment in (
        "url",
        "licence",
        "kind",
        "region",
        "decade",
        "negatives",
        "published",
        "notes",
        "listed twice",
        "upper-case",
        "personnel",
        "announced_on",
        "deadline",
    ):
        assert fragment in problems


def test_it_scores_the_gold_as_a_perfect_answer_with_the_copied_scorer():
    # The gold must be in the form score.py reads: fed back as the prediction, every field of
    # every text matches, with no false positives or negatives.
    scorer = load_scorer()
    counts = {k: {"tp": 0, "fp": 0, "fn": 0} for k in ("pair",) + scorer.FIELDS}
    for entry in GOLD:
        mistakes = []
        scorer.score_item(entry, {"withdrawals": entry["withdrawals"]}, counts, mistakes)
        assert mistakes == [], entry["file"]
    assert all(c["fp"] == 0 and c["fn"] == 0 for c in counts.values())
    assert counts["pair"]["tp"] == sum(len(e["withdrawals"]) for e in GOLD)


def test_it_notices_a_wrong_answer_with_the_copied_scorer():
    scorer = load_scorer()
    entry = next(e for e in GOLD if any(w["deadline"] for w in e["withdrawals"]))
    wrong = json.loads(json.dumps(entry["withdrawals"]))
    target = next(w for w in wrong if w["deadline"])
    target["deadline"] = "1900-01-01"
    target.pop("deadline_acceptable", None)
    counts = {k: {"tp": 0, "fp": 0, "fn": 0} for k in ("pair",) + scorer.FIELDS}
    mistakes = []
    scorer.score_item(entry, {"withdrawals": wrong}, counts, mistakes)
    assert counts["deadline"]["fp"] == 1 and counts["deadline"]["fn"] == 1
