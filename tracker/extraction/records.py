"""The working records the stages pass along: a sentence read once, a pair and its candidates."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import fastre
from .dates import DateMention
from .model import Evidence, PartyRef
from .numbers import ForceSize
from .places import Party, PartyMention
from .sentences import Sentence

if TYPE_CHECKING:
    from .phases import RawPhase


@dataclass
class Analysed:
    sentence: Sentence
    evidence: Evidence
    parties: list[PartyMention]
    dates: list[DateMention]
    sizes: list[ForceSize]
    clauses: list[tuple[int, int]]  # absolute offsets
    hits: list[Hit] = field(default_factory=list)


@dataclass
class Hit:
    """A sentence stating that `deploying` leaves `host` (host None: named later in the text)."""

    deploying: Party | None  # None: named elsewhere in the text ("troops will be withdrawn")
    host: str | None
    anchor: int  # where the host is named (absolute offset), or the cue when it is not
    how: str  # "stated", "order" or "unnamed"


@dataclass
class Candidate:
    role: str  # announced, deadline, completed, milestone
    kind: str  # milestone kind
    mention: DateMention
    date: datetime.date | None
    strength: int
    evidence: Evidence
    clause: str


@dataclass
class Pair:
    deploying: PartyRef
    host: PartyRef
    order: int
    sentences: int = 0
    statements: int = 0  # sentences that state this withdrawal (a trigger and its frame)
    how: set[str] = field(default_factory=set)
    candidates: list[Candidate] = field(default_factory=list)
    sizes: list[tuple[int, int, ForceSize, Evidence]] = field(default_factory=list)
    undated: list[tuple[str, Evidence, str]] = field(default_factory=list)
    # ("target" | "present", number, sentence): "drawdown to 2,500", "4,500 ... in Afghanistan"
    levels: list[tuple[str, int, Evidence]] = field(default_factory=list)
    # (phase, its date's candidate, the sentence): see phases.py
    phases: list[tuple[RawPhase, Candidate | None, Evidence]] = field(default_factory=list)
    deadline_is_completion: bool = False


LOCATIVE_BEFORE_RE = fastre.compile(r"\b(?:in|to|from|into|of)\s+(?:the\s+)?$", re.IGNORECASE)


def clause_of(item: Analysed, offset: int) -> tuple[int, int]:
    for start, end in item.clauses:
        if start <= offset < end:
            return start, end
    return item.sentence.start, item.sentence.end


def clause_text(item: Analysed, offset: int) -> str:
    start, end = clause_of(item, offset)
    return item.sentence.text[start - item.sentence.start : end - item.sentence.start].strip()
