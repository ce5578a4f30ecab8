"""Phases: parts of one withdrawal, each with its own scope, date or size.

"leave Baghdad by September 2025 and the Kurdistan region by September 2026", "the first 200
soldiers will leave by the end of January", "a phase two drawdown of 3,000 by 31 December,
phase three of 4,000 by 30 June". A sentence states phases when it gives a part of the force
or of the places a date of its own: either a phase word ("first group", "phase two", "the
remaining troops") in front of a date, or two or more dated parts in a row. No phase cancels
another, so a phase's date is never a superseded deadline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import fastre
from .dates import DateMention
from .numbers import NUMBER, ForceSize, parse_number
from .records import Analysed

# "the first phase", "phase two", "the initial group of 200", "the remaining troops".
PHASE_WORD_RE = fastre.compile(
    r"\b(?:(?:the\s+)?(?:first|second|third|fourth|final|last|initial|next|remaining)\s+"
    r"(?:(?:\d[\d,]*|[a-z]+)\s+)?(?:phase|stage|step|batch|group|wave|tranche|contingent|"
    r"troops|soldiers|forces|personnel|units)"
    r"|phase\s+(?:one|two|three|four|five|\d|I{1,3}V?)\b|(?:the\s+)?rest\s+of\s+the\s+"
    r"(?:troops|forces|soldiers|contingent|personnel))\b",
    re.IGNORECASE,
)
# A phase that ends the whole: its date is the withdrawal's deadline when none is stated.
FINAL_PHASE_RE = fastre.compile(
    r"\b(?:final|last|remaining|rest\s+of|all\s+(?:remaining\s+)?(?:troops|forces|soldiers))\b",
    re.IGNORECASE,
)
_DEADLINE_LEADS = {"by", "until", "till", "before", "no later than", "not later than"}
# After a phase word, "the first group leaves in January" dates the phase too.
_PHASE_LEADS = _DEADLINE_LEADS | {"in", "on", "at", "during"}
# "of 3,000", "by 4,000", "3,000 troops": the size of one phase.
_PHASE_SIZE_RE = fastre.compile(
    rf"\b(?:of|by|involving|totalling|totaling)\s+(?:some\s+|about\s+|around\s+)?(?P<n>{NUMBER})\b"
)
# Words in front of the scope that say what happens, not to which part.
_SCOPE_LEAD_RE = fastre.compile(
    r"^.*\b(?:from|leave|leaving|leaves|out\s+of|withdraw(?:n|ing|s)?|quit|vacate|exit|depart)"
    r"\s+(?=\S)",
    re.IGNORECASE,
)
_SCOPE_TRIM_RE = fastre.compile(r"^[\s,;:]*(?:and|then|with|while|followed\s+by)?[\s,;:]*")
_SCOPE_TAIL_RE = fastre.compile(
    r"(?:[\s,;:]+(?:is|are|was|were|will|would|should|to|be|expected|due|scheduled|set|"
    r"planned|leave|leaving|withdraw\w*|depart\w*|pull\w*|out|home|back|completed?)\b)+[\s,]*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class RawPhase:
    """A phase as one sentence states it; `choose` turns it into a PhaseFact per pair."""

    scope: str
    mention: DateMention
    size: ForceSize | None
    start: int  # where the phase's words begin (absolute offset)
    final: bool


def sentence_phases(item: Analysed) -> list[RawPhase]:
    """The phases one sentence states, in order; [] when it states none."""
    text, base = item.sentence.text, item.sentence.start
    dated = [
        m
        for m in item.dates
        if m.lead in _PHASE_LEADS and not m.duration and not m.attributive and m.nearest
    ]
    if not dated:
        return []
    marked = list(PHASE_WORD_RE.finditer(text))
    if not marked:
        dated = [m for m in dated if m.lead in _DEADLINE_LEADS]
        if len(dated) < 2:
            return []
    phases: list[RawPhase] = []
    boundary = base
    for mention in dated:
        phrase_start = mention.end - len(mention.phrase)
        segment = text[boundary - base : phrase_start - base]
        marker = next(
            (m for m in reversed(marked) if boundary <= base + m.start() < phrase_start), None
        )
        scope = _scope(segment, marker)
        if scope is None or (marked and marker is None):
            boundary = mention.end
            continue
        size = _phase_size(item, segment, boundary)
        final = bool(marker and FINAL_PHASE_RE.search(marker.group()))
        phases.append(RawPhase(scope, mention, size, boundary, final))
        boundary = mention.end
    # Two dated places in a row ("Baghdad by 2025 and the Kurdistan region by 2026") or a
    # phase word: anything less is a plain deadline, not a phase.
    if not marked and len(phases) < 2:
        return []
    return phases


def _scope(segment: str, marker: re.Match | None) -> str | None:
    if marker is not None:
        return " ".join(marker.group().split())
    words = _SCOPE_LEAD_RE.sub("", segment)
    words = _SCOPE_TRIM_RE.sub("", words)
    words = _SCOPE_TAIL_RE.sub("", words).strip(" ,;:")
    words = " ".join(words.split()[-8:])
    # A scope names a place or a part: it starts with a capital or "the".
    if not words or not (words[0].isupper() or words.lower().startswith("the ")):
        return None
    return words


def _phase_size(item: Analysed, segment: str, boundary: int) -> ForceSize | None:
    end = boundary + len(segment)
    for size in item.sizes:
        if boundary <= size.start < end:
            return size
    match = _PHASE_SIZE_RE.search(segment)
    if match:
        value = parse_number(match.group("n"))
        if value and value >= 10 and not re.fullmatch(r"(?:19|20)\d\d", match.group("n")):
            start = boundary + match.start("n")
            return ForceSize(value, "exact", start, boundary + match.end("n"))
    return None
