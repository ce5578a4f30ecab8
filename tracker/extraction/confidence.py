"""How likely each fact is right, from what the text gave us to read it.

The figures are the share of such facts that were right on the real-text corpus
(tests/corpus; table in docs/extraction.md, measured with benchmarks/extraction_reliability.py),
rounded down: of the facts given 0.8 or more, at least 95% were right there; a fact below 0.5
is a guess for a person to check. Re-measure after changing rules, and move a figure only when
the corpus says so.
"""

from __future__ import annotations

from .records import Candidate

# (role, precision) -> confidence. A deadline the text states to the day ("by Jan. 15, 2021")
# was right every time; an announcement to the day four times in five (a report's date, an
# earlier resolution's date are the usual mistakes); a month-only announcement or completion
# about half the time.
_DATE_CONFIDENCE = {
    ("deadline", "day"): 0.9,
    ("deadline", "month"): 0.75,
    ("deadline", "year"): 0.7,
    ("announced", "day"): 0.75,
    ("announced", "month"): 0.5,
    ("announced", "year"): 0.45,
    ("completed", "day"): 0.7,
    ("completed", "month"): 0.45,
    ("completed", "year"): 0.45,
}
MILESTONE_CONFIDENCE = 0.5
# Read against the day of processing, the text giving no day of its own: a guess.
UNANCHORED_CONFIDENCE = 0.3


def date_confidence(candidate: Candidate, anchored: bool) -> float:
    if not anchored:
        return UNANCHORED_CONFIDENCE
    key = (candidate.role, candidate.mention.precision)
    return _DATE_CONFIDENCE.get(key, MILESTONE_CONFIDENCE)


def withdrawal_confidence(how: set[str], sentences: int, has_facts: bool) -> float:
    """A pair the text states outright ("French troops will leave Mali"), in more than one
    sentence and with a date or size, was right 42 times in 43 on the corpus."""
    confidence = 0.5
    if "stated" in how:
        confidence += 0.2
    if sentences >= 2:
        confidence += 0.1
    if has_facts:
        confidence += 0.1
    if how <= {"no_party", "unnamed", "unnamed_of"}:
        confidence = min(confidence, 0.6)  # the leaving party or the host read from elsewhere
    return round(min(confidence, 0.95), 2)
