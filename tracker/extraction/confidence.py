"""How likely each fact is right, from what the text gave us to read it.

The figures are the share of such facts that were right on the real-text corpus (tests/corpus;
table in docs/extraction.md, measured with benchmarks/extraction_reliability.py), rounded down.
A fact below 0.5 is a guess for a person to check. The goal is that facts at 0.8 or more are
right 95% of the time; today only withdrawals reach 0.8, at 90% (see docs/extraction.md).
Re-measure after changing rules, and move a figure only when the corpus says so.
"""

from __future__ import annotations

from .records import Candidate

# (role, precision) -> the share right on the 127-text corpus, rounded down. No kind of date
# is right often enough there to stand at 0.8: a deadline stated to the day was right 10 times
# in 17, an announcement to the day 23 in 41, a completion to the day 6 in 16; month-only
# announcements and completions are guesses.
_DATE_CONFIDENCE = {
    ("deadline", "day"): 0.55,
    ("deadline", "month"): 0.55,
    ("deadline", "year"): 0.5,
    ("announced", "day"): 0.55,
    ("announced", "month"): 0.25,
    ("announced", "year"): 0.25,
    ("completed", "day"): 0.35,
    ("completed", "month"): 0.2,
    ("completed", "year"): 0.2,
}
MILESTONE_CONFIDENCE = 0.4
# Read against the day of processing, the text giving no day of its own: a guess.
UNANCHORED_CONFIDENCE = 0.3


def date_confidence(candidate: Candidate, anchored: bool) -> float:
    if not anchored:
        return UNANCHORED_CONFIDENCE
    key = (candidate.role, candidate.mention.precision)
    return _DATE_CONFIDENCE.get(key, MILESTONE_CONFIDENCE)


def withdrawal_confidence(how: set[str], statements: int, has_facts: bool) -> float:
    """A pair stated outright in two sentences or more, with a date or a size, was right 35
    times in 39 on the corpus (0.8); one stated once, or without facts, 37 in 52 (0.6); a pair
    whose leaving party or host was read from elsewhere in the text 12 in 20, a guess (0.45)."""
    if how <= {"no_party", "unnamed", "unnamed_of"}:
        return 0.45
    if "stated" not in how:
        return 0.55
    if statements >= 2 and has_facts:
        return 0.8
    return 0.6
