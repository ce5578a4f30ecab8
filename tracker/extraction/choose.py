"""The final record of each withdrawal: one announcement, deadline, completion date and force
size chosen from the candidates, the rest kept as milestones.
"""

from __future__ import annotations

import datetime

from .dates import DateMention, add_duration
from .force_size import choose_personnel
from .model import DateFact, MilestoneFact, WithdrawalFact
from .records import Candidate, Pair


# -- Step 4: choose -----------------------------------------------------------------------------
def withdrawal_fact(
    pair: Pair, reference: datetime.date, events: dict[str, datetime.date]
) -> tuple[int, WithdrawalFact]:
    announced = _choose_announced(pair)
    completed = _choose_completed(pair, reference)
    deadline = _choose_deadline(pair, announced, reference, events)
    if deadline is None and pair.deadline_is_completion and completed:
        deadline = completed
    personnel = choose_personnel(pair, reference)
    milestones = _milestones(pair, announced, reference, events)
    confidence = 0.5
    if "stated" in pair.how:
        confidence += 0.2
    if pair.sentences >= 2:
        confidence += 0.1
    if personnel or announced or deadline or completed:
        confidence += 0.1
    summary = f"{pair.deploying.name} withdrawal from {pair.host.name}"
    fact = WithdrawalFact(
        deploying=pair.deploying,
        host=pair.host,
        personnel=personnel,
        announced_on=announced,
        deadline=deadline,
        completed_on=completed,
        milestones=milestones,
        confidence=round(min(confidence, 0.95), 2),
        summary=summary,
    )
    return pair.order, fact


def _fact(candidate: Candidate, date: datetime.date | None = None) -> DateFact:
    return DateFact(
        date=date or candidate.date,
        precision=candidate.mention.precision,
        phrase=candidate.mention.phrase,
        evidence=candidate.evidence,
    )


_PRECISION_RANK = {"day": 0, "month": 1, "year": 2}


def _choose_announced(pair: Pair) -> DateFact | None:
    options = [c for c in pair.candidates if c.role == "announced" and c.date]
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
    return _fact(best)


def _duration_end(
    mention: DateMention,
    announced: DateFact | None,
    reference: datetime.date,
    events: dict[str, datetime.date],
) -> datetime.date:
    """ "within one month" runs from the event it names, else the announcement, else today."""
    if mention.runs_from and mention.runs_from in events:
        start = events[mention.runs_from]
    else:
        start = announced.date if announced and announced.precision == "day" else reference
    return add_duration(start, *mention.duration)


def _choose_deadline(
    pair: Pair,
    announced: DateFact | None,
    reference: datetime.date,
    events: dict[str, datetime.date],
) -> DateFact | None:
    options: list[tuple[Candidate, datetime.date]] = []
    for c in pair.candidates:
        if c.role != "deadline":
            continue
        if c.mention.duration:
            options.append((c, _duration_end(c.mention, announced, reference, events)))
        elif c.date:
            options.append((c, c.date))
    if not options:
        return None
    best, day = max(
        options,
        key=lambda o: (o[0].strength, o[1], -_PRECISION_RANK[o[0].mention.precision]),
    )
    return _fact(best, day)


def _milestones(
    pair: Pair,
    announced: DateFact | None,
    reference: datetime.date,
    events: dict[str, datetime.date],
) -> list[MilestoneFact]:
    seen: set[tuple[str, datetime.date | None]] = set()
    milestones: list[MilestoneFact] = []
    for c in pair.candidates:
        date = c.date
        if c.mention.duration:
            date = _duration_end(c.mention, announced, reference, events)
        if date is None or (c.kind, date) in seen:
            continue
        seen.add((c.kind, date))
        milestones.append(MilestoneFact(c.kind, _fact(c, date), _shorten(c.clause), c.evidence))
    for kind, evidence, clause in pair.undated:
        if (kind, None) not in seen:
            seen.add((kind, None))
            milestones.append(MilestoneFact(kind, None, _shorten(clause), evidence))
    milestones.sort(key=lambda m: (m.date is None, m.date.date if m.date else datetime.date.min))
    return milestones


def _shorten(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
