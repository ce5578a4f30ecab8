"""The pipeline: text in, withdrawal facts out. Each stage lives in a module of its own.

1. Split the text into sentences (with offsets); keep only those that talk about troops,
   withdrawals or deadlines (`triggers.is_relevant`), so a 10 MB text of something else costs
   one scan. Find the reference day (`date_roles`: publication date, dateline, weekday, the
   text's own latest date); with none, relative dates are marked not anchored.
2. In each kept sentence find parties (`places`), dates (`dates`) and force sizes (`numbers`),
   and the withdrawal pairs the sentence states (`triggers`: the trigger lexicon and its
   frames; `parties`: which mention leaves, which is the host, lists, unnamed hosts).
   Deployments, reinforcements and exercises are kept apart (`negatives`).
3. Attach every kept sentence to the pairs it is about (by the parties it names, else to the
   text's main withdrawal) and give each of its dates a role from the nearest cue word
   (`date_roles`), each of its numbers a score as the force (`force_size`), and read the
   phases it states (`phases`).
4. Per pair, choose the announcement, deadline, completion date and force size, keep the rest
   as milestones and the phases apart (`choose`), with a confidence for each (`confidence`).
"""

from __future__ import annotations

import datetime

from . import fastre
from .choose import withdrawal_fact
from .date_roles import (
    DEADLINE_IS_COMPLETION_RE,
    UNDATED_MILESTONES,
    date_candidate,
    event_ends,
    forget_texts,
    reference_from_dateline,
    reference_from_text,
    reference_from_weekday,
)
from .dates import DateContext, find_dates
from .force_size import levels_of, reduction_of, size_score
from .model import Evidence, ExtractionResult
from .negatives import deployments
from .numbers import find_force_sizes
from .parties import resolve_unnamed_host, resolve_unnamed_party
from .phases import sentence_phases
from .places import STATES, Party, find_parties, missions_in
from .records import LOCATIVE_BEFORE_RE, Analysed, Candidate, Hit, Pair, clause_text
from .sentences import Sentence, split_sentences
from .triggers import MILITARY_RE, is_relevant, sentence_hits


class ExtractionError(ValueError):
    """The input cannot be read as an article (for example, it is empty)."""


# "N'DJAMENA — ", "CAMP VIRGINIA, Kuwait — ", "Niamey, 19 May 2024 — ": where, not who.
_DATELINE_RE = fastre.compile(
    r"^[A-Z][A-Z'’.\- ]{2,40}(?:,\s*[A-Za-z.'’ -]{2,40})?\s+[—–-]{1,2}\s+"
    r"|^[A-Z][\w'’.\- ]{1,40},\s+[\w ,]{6,30}?\s+[—–-]{1,2}\s"
)
_LIST_AND_RE = fastre.compile(r"and\s+(?:the\s+)?")
_CLAUSE_BREAK_RE = fastre.compile(
    r";|\s[—–]\s|,\s+(?=(?:and|but|while|whereas|after|before|although|though|amid)\s)"
    r"|,\s+(?=(?:down|up)\s+from\b|compared\s+(?:with|to)\b)"
)


def extract(
    text: str,
    published: datetime.date | None = None,
    today: datetime.date | None = None,
) -> ExtractionResult:
    if not isinstance(text, str):
        raise ExtractionError(f"expected the article as a str, got {type(text).__name__}")
    if not text.strip():
        raise ExtractionError("the text is empty: there is nothing to extract")
    # A datetime is a date too, but the two do not compare: keep the day only.
    if isinstance(published, datetime.datetime):
        published = published.date()
    if isinstance(today, datetime.datetime):
        today = today.date()
    today = today or datetime.date.today()
    forget_texts()
    sentences = [s for s in split_sentences(text) if is_relevant(s.text)]
    reference, source = _reference(sentences, published, today)
    context = DateContext(
        reference=reference,
        weekday_picks_year=published is None,
        today=today,
        anchored=source != "today",
    )
    analysed = [_analyse(s, context) for s in sentences]
    pairs = _find_pairs(analysed, reference)
    for item in analysed:
        _attach(item, pairs, reference)
    events = event_ends(analysed)
    withdrawals = [withdrawal_fact(pair, reference, events) for pair in pairs.values()]
    withdrawals.sort(key=lambda w: w[0])
    return ExtractionResult(
        reference_date=reference,
        reference_source=source,
        withdrawals=[w for _, w in withdrawals],
        deployments=deployments(analysed, pairs),
    )


def _reference(
    sentences: list[Sentence], published: datetime.date | None, today: datetime.date
) -> tuple[datetime.date, str]:
    """The day relative dates count from, and where it came from. "today" means the text gives
    none: its relative dates are then marked `anchored=False`."""
    if published:
        return published, "published"
    for source, find in (
        ("dateline", reference_from_dateline),
        ("weekday", reference_from_weekday),
        ("text", reference_from_text),
    ):
        found = find(sentences, today)
        if found:
            return found, source
    return today, "today"


def _analyse(sentence: Sentence, context: DateContext) -> Analysed:
    dateline = _DATELINE_RE.match(sentence.text)
    skip = sentence.start + (dateline.end() if dateline else 0)
    parties = [m for m in find_parties(sentence.text, sentence.start) if m.start >= skip]
    sizes = find_force_sizes(sentence.text, sentence.start)
    # A dateline's date says when the text was filed, which the reference day already holds.
    dates = [
        d
        for d in find_dates(sentence.text, sentence.start, context)
        if d.start >= skip and not any(s.start <= d.start < s.end for s in sizes)
    ]
    clauses = []
    start = sentence.start
    ends = {m.end for m in parties}
    starts = {m.start for m in parties}
    for match in _CLAUSE_BREAK_RE.finditer(sentence.text):
        at, after = sentence.start + match.start(), sentence.start + match.end()
        # "Spain, Honduras, and the Dominican Republic have announced ...": a list of parties
        # goes on past ", and"; it is no new clause.
        if at in ends and _LIST_AND_RE.match(sentence.text, match.end()):
            listed = _LIST_AND_RE.match(sentence.text, match.end())
            if after + listed.end() - match.end() in starts:
                continue
        clauses.append((start, at))
        start = after
    clauses.append((start, sentence.end))
    evidence = Evidence(sentence.text, sentence.start, sentence.end)
    return Analysed(sentence, evidence, parties, dates, sizes, clauses)


# -- Step 2: who leaves where -----------------------------------------------------------------
def _find_pairs(analysed: list[Analysed], reference: datetime.date) -> dict[tuple[str, str], Pair]:
    pairs: dict[tuple[str, str], Pair] = {}
    pending: list[tuple[int, Hit]] = []
    partyless: list[tuple[int, Hit]] = []
    # The first mission the text names for a host is the one its "UN peacekeepers" are.
    mission_hosts: dict[str, Party] = {}
    for item in analysed:
        for m in item.parties:
            for host in (m.party.mission_host, *m.party.also_hosts) if m.party.mission_host else ():
                mission_hosts.setdefault(host, m.party)
    # "The UN peacekeeping mission in Liberia" in 2015 is UNMIL, though the text never names it.
    for item in analysed:
        for m in item.parties:
            if m.code == "UN":
                for host in _hosts_named(item):
                    mission = missions_in(host, reference.year)
                    if mission and host not in mission_hosts:
                        mission_hosts[host] = mission
    # "Withdraw from the agreement" is no troop withdrawal: the text must speak of soldiers.
    military = bool(mission_hosts) or any(MILITARY_RE.search(i.sentence.text) for i in analysed)
    for index, item in enumerate(analysed):
        if military:
            item.hits = sentence_hits(item)
        for hit in item.hits:
            if hit.deploying is None:
                partyless.append((index, hit))
                continue
            if hit.host is None:
                pending.append((index, hit))
                continue
            _add_pair(pairs, hit, hit.host, index, mission_hosts)
    for index, hit in partyless:
        hit.deploying = resolve_unnamed_party(hit.host, pairs, analysed, mission_hosts)
        if hit.deploying is not None:
            _add_pair(pairs, hit, hit.host, index, mission_hosts)
    resolved: dict[tuple[str, str], str | None] = {}
    for index, hit in pending:
        key = (hit.deploying.ref.code, hit.how)
        if key not in resolved:  # once per party: a 10 MB text may hold thousands of these
            resolved[key] = resolve_unnamed_host(hit, pairs, analysed)
        if resolved[key]:
            hit.host = resolved[key]
            _add_pair(pairs, hit, hit.host, index, mission_hosts)
    for item in analysed:
        item.hits = [
            h for h in item.hits if h.host and h.deploying and h.host != h.deploying.ref.code
        ]
    return pairs


def _hosts_named(item: Analysed) -> set[str]:
    return {m.code for m in item.parties if m.party.ref.kind == "state"}


def _add_pair(pairs, hit: Hit, host: str, index: int, mission_hosts: dict) -> None:
    deploying = hit.deploying
    if deploying.ref.code == "UN" and host in mission_hosts:
        deploying = mission_hosts[host]
        hit.deploying = deploying
    if deploying.ref.code == host:
        return
    key = (deploying.ref.code, host)
    pair = pairs.get(key)
    if pair is None:
        pair = pairs[key] = Pair(deploying.ref, STATES[host], order=index)
    pair.how.add(hit.how)
    pair.statements += 1


# -- Step 3: attach sentences and give dates their roles --------------------------------------
def _attach(item: Analysed, pairs: dict[tuple[str, str], Pair], reference: datetime.date) -> None:
    if not pairs:
        return
    # A level ("4,500 ... in Afghanistan") belongs to every withdrawal from that host.
    for host, kind, value in levels_of(item):
        for pair in pairs.values():
            if pair.host.code == host:
                pair.levels.append((kind, value, item.evidence))
    targets = _targets(item, pairs)
    if not targets:
        return
    # What a sentence says about its dates does not depend on the pair: read it once, even
    # when the sentence is about several withdrawals ("out of Mali, Burkina Faso and Niger").
    deadline_is_completion = bool(DEADLINE_IS_COMPLETION_RE.search(item.sentence.text))
    reduction = reduction_of(item)
    phases = sentence_phases(item)
    candidates: dict[int, Candidate | None] = {}
    for pair, segment_start, segment_end in targets:
        pair.sentences += 1
        if deadline_is_completion:
            pair.deadline_is_completion = True
        for index, mention in enumerate(item.dates):
            if segment_start <= mention.start < segment_end:
                if index not in candidates:
                    candidates[index] = date_candidate(item, mention)
                if candidates[index]:
                    pair.candidates.append(candidates[index])
        for phase in phases:
            if segment_start <= phase.mention.start < segment_end:
                index = item.dates.index(phase.mention)
                pair.phases.append((phase, candidates.get(index), item.evidence))
        if reduction and segment_start <= reduction.start < segment_end:
            pair.sizes.append((5, reduction.start, reduction, item.evidence))
        for size in item.sizes:
            if segment_start <= size.start < segment_end:
                if reduction and reduction.start <= size.start < reduction.end:
                    continue  # the level before a cut is not the force that leaves
                score = size_score(item, size, pair, reference)
                if score is not None:
                    pair.sizes.append((score, size.start, size, item.evidence))
        if not item.dates:
            for kind, pattern in UNDATED_MILESTONES:
                if pattern.search(item.sentence.text):
                    clause = clause_text(item, item.sentence.start)
                    pair.undated.append((kind, item.evidence, clause))


def _targets(item: Analysed, pairs: dict[tuple[str, str], Pair]):
    end = item.sentence.end
    if item.hits:
        hits = sorted(item.hits, key=lambda h: h.anchor)
        out = []
        for i, hit in enumerate(hits):
            pair = pairs.get((hit.deploying.ref.code, hit.host))
            if pair is None:
                continue
            # Hits at one anchor ("Uganda, Angola and Rwanda withdrew from the Congo") share
            # their segment: it runs from the first of them to the next anchor.
            first = next(j for j, other in enumerate(hits) if other.anchor == hit.anchor)
            start = item.sentence.start if first == 0 else hit.anchor
            later = [h for h in hits[i + 1 :] if h.anchor > hit.anchor]
            stop = later[0].anchor if later and later[0].how == "stated" else end
            if hit.how != "stated":
                start, stop = item.sentence.start, end
            out.append((pair, start, max(stop, start + 1)))
        if out:
            return out
    codes = {m.code for m in item.parties}
    ordered = sorted(pairs.values(), key=lambda p: p.order)
    both = [p for p in ordered if p.host.code in codes and p.deploying.code in codes]
    by_host = [p for p in ordered if p.host.code in codes]
    by_deploying = [p for p in ordered if p.deploying.code in codes]
    hosts = {p.host.code for p in ordered}
    text, base = item.sentence.text, item.sentence.start
    elsewhere = any(
        m.party.ref.kind == "state"
        and m.code not in hosts
        and m.code not in {p.deploying.code for p in ordered}
        and LOCATIVE_BEFORE_RE.search(text, max(0, m.start - base - 12), m.start - base)
        for m in item.parties
    )
    if elsewhere:  # "The mission will continue in Syria until 2026": another place's dates
        by_deploying = []
    chosen = (both or by_host or by_deploying)[:1]
    if not chosen and not item.parties:
        chosen = ordered[:1]
    return [(p, item.sentence.start, end) for p in chosen]
