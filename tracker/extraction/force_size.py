"""Which number is the force being withdrawn: not a convoy, a ceiling, a peak from years
before or a casualty count; "reduce from 4,500 to 2,500" is 2,000 leaving.
"""

from __future__ import annotations

import datetime
import re

from . import fastre
from .model import PersonnelFact
from .numbers import NUMBER, QUALIFIER_WORDS, QUALIFIERS, ForceSize, parse_number
from .records import Analysed, Pair, clause_of
from .triggers import WITHDRAWAL_RE

# -- Force-size filters -----------------------------------------------------------------------
_SIZE_VETO_RE = fastre.compile(
    r"\b(?:convoys?|killed|dead|died|deaths?|wounded|injur\w*|casualt\w*|captured|missing|"
    r"evacuees|refugees|ceiling|capped|cap|limit|maximum|authori[sz]ed\s+(?:strength|level)|"
    r"residual|additional|extra|reinforc\w*|dispatch\w*|send(?:s|ing)?|"
    r"(?:will|would|to|shall|could|may|should)\s+(?:\w+\s+)?(?:remain|stay)|stay\s+behind|"
    r"remain\s+behind|lost\s+their\s+lives|perished|fallen|memory\s+of|used\s+to\s+be|"
    r"all\s+but|deploy\w*)\b",
    re.IGNORECASE,
)
_SIZE_MORE_RE = fastre.compile(r"^\s*more\b", re.IGNORECASE)
_SIZE_PART_RE = fastre.compile(
    r"\b(?:first|last|final|next|initial)\s+(?:[\w-]+\s+)?(?:convoy|group|batch|contingent|"
    r"flight|rotation|wave|column|period|phase|stage|tranche)\b",
    re.IGNORECASE,
)
_PEAK_RE = fastre.compile(r"\b(?:peak|height|at\s+most|maximum)\b", re.IGNORECASE)


_REDUCTION_RE = fastre.compile(
    rf"\b(?:reduc\w*|cut\w*|draw\w*\s+down|drawdown|lower\w*|trim\w*|shrink\w*|bring\w*\s+down)"
    rf"\b[^.;]{{0,80}}?\bfrom\s+(?:(?P<qual>{QUALIFIER_WORDS})\s+)?(?P<before>{NUMBER})\b"
    rf"(?:\s+[\w.-]+){{0,3}}?\s+to\s+(?:(?:about|around|roughly|some)\s+)?(?P<after>{NUMBER})\b",
    re.IGNORECASE,
)


_CUT_CUE = r"(?:reduc\w*|cut\w*|draw\w*\s+down|drawdown|lower\w*|trim\w*|bring\w*\s+down)"
# "the drawdown of troops to 2,500 in Afghanistan and 2,500 in Iraq": what is left, not the force.
_TARGET_BEFORE_RE = fastre.compile(
    rf"\b{_CUT_CUE}\b[^.;]{{0,60}}?\bto\s+(?:about\s+|around\s+|roughly\s+|some\s+)?"
    rf"(?:(?:{NUMBER})\s+(?:[\w.-]+\s+){{0,3}}?(?:in\s+[\w\s'’-]{{1,30}}?)?(?:,\s*|\s*and\s+))*$",
    re.IGNORECASE,
)
# "There are currently around 4,500 U.S. service members in Afghanistan and 3,000 in Iraq".
_LEVEL_BEFORE_RE = fastre.compile(
    rf"(?:^|[^\d,.])(?P<n>{NUMBER})\s+(?:[\w.'’-]+\s+){{0,4}}?in\s+(?:the\s+)?$", re.IGNORECASE
)
_PRESENCE_RE = fastre.compile(
    r"\b(?:currently|there\s+(?:are|were)|has|have|had|stationed|based|deployed|present)\b",
    re.IGNORECASE,
)
_DIGIT_RE = re.compile(r"\d")
# "There were about 10,000 American personnel in Saudi Arabia during the conflict": a level
# at another time. (A force a text says is there now, "now has some 2,500 U.S. troops in the
# country", is the one leaving when its mission ends, so it stays a candidate.)
_PRESENT_NOW_RE = fastre.compile(r"\b(?:there\s+were|during)\b", re.IGNORECASE)
_WHOLE_RE = fastre.compile(r"\b(?:remaining|all|entire|whole)\b", re.IGNORECASE)


def levels_of(item: Analysed) -> list[tuple[str, str, int]]:
    """(host, "target" or "present", number) for each "N ... in <host>" in the sentence."""
    text, base = item.sentence.text, item.sentence.start
    out: list[tuple[str, str, int]] = []
    if not item.sizes and not _DIGIT_RE.search(text):  # no number at all: nothing to read
        return out
    for mention in item.parties:
        if mention.party.ref.kind != "state":
            continue
        at = mention.start - base
        left = text[max(0, at - 60) : at]
        if not _DIGIT_RE.search(left):
            continue
        level = _LEVEL_BEFORE_RE.search(left)
        if not level:
            continue
        value = parse_number(level.group("n"))
        if not value or value < 10:
            continue
        if _TARGET_BEFORE_RE.search(text, max(0, at - 160), at - len(left) + level.start("n")):
            out.append((mention.code, "target", value))
        elif _PRESENCE_RE.search(text[:at]) and not WITHDRAWAL_RE.search(text[:at]):
            out.append((mention.code, "present", value))
    return out


def reduction_of(item: Analysed) -> ForceSize | None:
    """ "reduce its forces from about 4,500 troops to 2,500": 2,000 leave, 2,500 remain."""
    if "from" not in item.sentence.text:
        return None
    match = _REDUCTION_RE.search(item.sentence.text)
    if not match:
        return None
    before, after = parse_number(match.group("before")), parse_number(match.group("after"))
    if not before or after is None or after >= before:
        return None
    qualifier = QUALIFIERS.get((match.group("qual") or "").lower(), "exact")
    base = item.sentence.start
    return ForceSize(before - after, qualifier, base + match.start("before"), base + match.end())


def size_score(item: Analysed, size: ForceSize, pair: Pair, reference: datetime.date) -> int | None:
    clause_start, clause_end = clause_of(item, size.start)
    base = item.sentence.start
    clause = item.sentence.text[clause_start - base : clause_end - base]
    if _SIZE_VETO_RE.search(clause) or _SIZE_PART_RE.search(clause):
        return None
    if _SIZE_MORE_RE.match(item.sentence.text[size.end - base :]) or re.search(
        r"\bmore\s+(?:troops|soldiers|forces)\b",
        item.sentence.text[size.start - base : size.end - base],
    ):
        return None
    # "At the height of the surge in 2007": a figure from years before is not today's force.
    for mention in item.dates:
        if clause_start <= mention.start < clause_end and mention.year_given:
            if mention.nearest and mention.nearest.year < reference.year - 1:
                return None
    score = 1
    if WITHDRAWAL_RE.search(clause):
        score += 2
    elif _PRESENT_NOW_RE.search(clause) and not _WHOLE_RE.search(item.sentence.text):
        return None
    if any(
        m.code == pair.deploying.code and size.start <= m.start < size.end + 40
        for m in item.parties
    ):
        score += 1
    lead_in = item.sentence.text[max(0, size.start - base - 50) : size.start - base]
    if _PEAK_RE.search(re.split(r"[,;]", lead_in)[-1]):
        score -= 1
    lead_in = item.sentence.text[max(0, size.start - base - 120) : size.start - base]
    if _TARGET_BEFORE_RE.search(lead_in):
        return None  # "reduce to 2,500": what stays, not what leaves
    # "the remaining 40,000 Soviet troops", "all 2,500": the whole force, over earlier parts.
    if _WHOLE_RE.search(item.sentence.text, max(0, size.start - base - 12), size.start - base + 12):
        score += 2
    return score


def choose_personnel(pair: Pair, reference: datetime.date) -> PersonnelFact | None:
    # "Drawdown to 2,500" here, "currently around 4,500 ... in Afghanistan" there: 2,000 leave.
    targets = [(v, e) for kind, v, e in pair.levels if kind == "target"]
    present = [v for kind, v, _ in pair.levels if kind == "present"]
    if targets and present and max(present) > targets[0][0]:
        value, evidence = targets[0]
        return PersonnelFact(value=max(present) - value, qualifier="exact", evidence=evidence)
    if not pair.sizes:
        return None
    score, _, size, evidence = max(pair.sizes, key=lambda s: (s[0], -s[1]))
    return PersonnelFact(value=size.value, qualifier=size.qualifier, evidence=evidence)
