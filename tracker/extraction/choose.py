"""The final record of each withdrawal: one announcement, deadline, completion date and force
size chosen from the candidates, the rest kept as milestones.
"""

from __future__ import annotations

import datetime

from .confidence import (
    MILESTONE_CONFIDENCE,
    date_confidence,
    withdrawal_confidence,
)
from .dates import DateMention, add_duration
from .force_size import choose_personnel
from .model import DateFact, MilestoneFact, PersonnelFact, PhaseFact, WithdrawalFact
from .records import Candidate, Pair


# -- Step 4: choose -----------------------------------------------------------------------------
def withdrawal_fact(
    pair: Pair,
    reference: datetime.date,
    events: dict[str, datetime.date],
) -> tuple[int, WithdrawalFact]:
    phases = _phases(pair, reference)
    announced = _choose_announced(pair)
    completed = _choose_completed(pair, reference)
    deadline = _choose_deadline(pair, announced, reference, events)
    if deadline is None:
        deadline = _deadline_of_phases(phases, pair)
    if deadline is None and pair.deadline_is_completion and completed:
        deadline = completed
    personnel = choose_personnel(pair, reference)
    milestones = _milestones(pair, announced, reference, events)
    has_facts = bool(personnel or announced or deadline or completed)
    confidence = withdrawal_confidence(pair.how, pair.statements, has_facts)
    summary = f"{pair.deploying.name} withdrawal from {pair.host.name}"
    fact = WithdrawalFact(
        deploying=pair.deploying,
        host=pair.host,
        personnel=personnel,
        announced_on=announced,
        deadline=deadline,
        completed_on=completed,
        milestones=milestones,
        phases=phases,
        confidence=confidence,
        summary=summary,
    )
    return pair.order, fact


def _fact(
    candidate: Candidate, date: datetime.date | None = None, anchored: bool | None = None
) -> DateFact:
    anchored = candidate.mention.anchored if anchored is None else anchored
    return DateFact(
        date=date or candidate.date,
        precision=candidate.mention.precision,
        phrase=candidate.mention.phrase,
        evidence=candidate.evidence,
        anchored=anchored,
        confidence=date_confidence(candidate, anchored),
    )


_PRECISION_RANK = {"day": 0, "month": 1, "year": 2}


def _choose_announced(pair: Pair) -> DateFact | None:
    # A year alone ("the agreement signed in 2008") dated the announcement right once in three
    # times on the corpus: too coarse to name the day a withdrawal was decided.
    options = [
        c
        for c in pair.candidates
        if c.role == "announced" and c.date and c.mention.precision != "year"
    ]
    if not options:
        return None
    # A stronger cue wins ("sent a letter" over "confirmed"), then a finer date ("on Thursday"
    # over "agreements signed in 2013"), then the earlier one (the first announcement).
    best = max(
        options,
        key=lambda c: (c.strength, -_PRECISION_RANK[c.mention.precision], -c.date.toordinal()),
    )
    return _fact(best)


def _choose_completed(pair: Pair, reference: datetime.date) -> DateFact | None:
    options = [
        c
        for c in pair.candidates
        if c.role == "completed" and c.date and c.date <= reference + datetime.timedelta(days=1)
    ]
    if not options:
        return None
    best = max(options, key=lambda c: (c.date, -_PRECISION_RANK[c.mention.precision]))
    return _fact(_finest_within(best, options))


def _finest_within(best: Candidate, options: list[Candidate]) -> Candidate:
    """ "completed by December 2011" and "completed on 18 December 2011" name one day: the
    day, which the month only rounds."""
    width = {"month": 7, "year": 4}.get(best.mention.precision)
    if width is None:
        return best
    period = best.date.isoformat()[:width]
    finer = [
        c
        for c in options
        if c.date.isoformat()[:width] == period
        and _PRECISION_RANK[c.mention.precision] < _PRECISION_RANK[best.mention.precision]
    ]
    return max(finer, key=lambda c: (-_PRECISION_RANK[c.mention.precision], c.date), default=best)


def _duration_end(
    mention: DateMention,
    announced: DateFact | None,
    reference: datetime.date,
    events: dict[str, datetime.date],
) -> tuple[datetime.date, bool]:
    """ "within one month" runs from the event it names, else the announcement, else the
    reference day; with whether the day it runs from is known (anchored)."""
    if mention.runs_from and mention.runs_from in events:
        start, anchored = events[mention.runs_from], True
    elif announced and announced.precision == "day":
        start, anchored = announced.date, announced.anchored
    else:
        start, anchored = reference, mention.anchored
    return add_duration(start, *mention.duration), anchored


def _choose_deadline(
    pair: Pair,
    announced: DateFact | None,
    reference: datetime.date,
    events: dict[str, datetime.date],
) -> DateFact | None:
    options: list[tuple[Candidate, datetime.date, bool]] = []
    for c in pair.candidates:
        if c.role != "deadline":
            continue
        if c.mention.duration:
            options.append((c, *_duration_end(c.mention, announced, reference, events)))
        elif c.date:
            options.append((c, c.date, c.mention.anchored))
    if not options:
        return None
    best, day, anchored = max(
        options,
        key=lambda o: (o[0].strength, o[1], -_PRECISION_RANK[o[0].mention.precision]),
    )
    return _fact(best, day, anchored)


def _milestones(
    pair: Pair,
    announced: DateFact | None,
    reference: datetime.date,
    events: dict[str, datetime.date],
) -> list[MilestoneFact]:
    seen: set[tuple[str, datetime.date | None]] = set()
    milestones: list[MilestoneFact] = []
    for c in pair.candidates:
        date, anchored = c.date, c.mention.anchored
        if c.mention.duration:
            date, anchored = _duration_end(c.mention, announced, reference, events)
        if date is None or (c.kind, date) in seen:
            continue
        seen.add((c.kind, date))
        fact = _fact(c, date, anchored)
        milestones.append(MilestoneFact(c.kind, fact, _shorten(c.clause), c.evidence))
    for kind, evidence, clause in pair.undated:
        if (kind, None) not in seen:
            seen.add((kind, None))
            milestones.append(MilestoneFact(kind, None, _shorten(clause), evidence))
    milestones.sort(key=lambda m: (m.date is None, m.date.date if m.date else datetime.date.min))
    return milestones


def _phases(pair: Pair, reference: datetime.date) -> list[PhaseFact]:
    """The pair's phases; their dates leave the candidates for the whole's dates.

    "The last troops left in January" alone is the whole withdrawal ending, not a phase: a
    text states phases when one of them is a part ("the first 200", "phase two", "Baghdad by
    2025"). The final phase's dates stay candidates, as its end is the end of the whole.
    """
    if all(raw.final for raw, _, _ in pair.phases):
        pair.phases = []
        return []
    partial = {id(c) for raw, c, _ in pair.phases if c is not None and not raw.final}
    pair.candidates = [c for c in pair.candidates if id(c) not in partial]
    out: list[PhaseFact] = []
    seen: set[tuple[str, datetime.date | None]] = set()
    for phase, candidate, evidence in pair.phases:
        done = candidate is not None and candidate.role == "completed"
        day = phase.mention.resolve("past" if done else "future")
        if day is None or (phase.scope, day) in seen:
            continue
        seen.add((phase.scope, day))
        fact = DateFact(
            date=day,
            precision=phase.mention.precision,
            phrase=phase.mention.phrase,
            evidence=evidence,
            anchored=phase.mention.anchored,
            confidence=(
                date_confidence(candidate, phase.mention.anchored)
                if candidate
                else MILESTONE_CONFIDENCE
            ),
        )
        size = phase.size
        personnel = (
            PersonnelFact(value=size.value, qualifier=size.qualifier, evidence=evidence)
            if size
            else None
        )
        out.append(
            PhaseFact(
                scope=phase.scope,
                deadline=None if done else fact,
                completed_on=fact if done else None,
                personnel=personnel,
                evidence=evidence,
            )
        )
    return out


def _deadline_of_phases(phases: list[PhaseFact], pair: Pair) -> DateFact | None:
    """With no overall deadline stated, the whole is due when its last phase is, provided the
    text gives the whole in phases (two or more, or one that is the final one)."""
    dated = [p.deadline for p in phases if p.deadline]
    final = any(raw.final for raw, _, _ in pair.phases)
    if not dated or (len(dated) < 2 and not final):
        return None
    return max(dated, key=lambda d: d.date)


def _shorten(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
