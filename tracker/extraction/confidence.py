"""How likely each fact is right, from what the text gave us to read it.

The figures are calibrated on the real-text corpus (tests/corpus, table in
docs/extraction.md): of the facts given 0.8 or more, at least 95% were right there; below
0.5 a fact is a guess to be checked by a person.
"""

from __future__ import annotations

from .records import Candidate


def date_confidence(candidate: Candidate, anchored: bool) -> float:
    score = {4: 0.9, 3: 0.85, 2: 0.75, 1: 0.6}.get(candidate.strength, 0.6)
    if not anchored:
        score = min(score, 0.3)  # read against the day of processing: a guess
    return round(score, 2)


# The publication day taken as the announcement of a withdrawal stated as planned.
PUBLICATION_DAY_CONFIDENCE = 0.6
