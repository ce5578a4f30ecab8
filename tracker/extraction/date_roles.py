"""Dates and their roles: the reference day, and which date is the announcement, the deadline,
the completion or a milestone, from the cue words nearest to it.
"""

from __future__ import annotations

import datetime
import functools
import re

from . import fastre
from .dates import DateContext, DateMention, find_dates
from .numbers import FORCE_NOUNS
from .records import Analysed, Candidate, clause_of
from .sentences import Sentence
from .triggers import EVENT_NOUN_RE, WITHDRAWAL_RE

# Cues that give a date its role, nearest one wins. Order matters only for equal spans.
_CUES = [
    (
        "order",
        r"\b(?:end\w*|terminat\w*|denounc\w*|revok\w*|scrap\w*|cancel\w*|tore\s+up|suspend\w*)\s+"
        r"(?:\S+\s+){0,4}?(?:pact|accord|agreement|treaty|cooperation|deal)s?\b",
    ),
    (
        "order",
        r"\b(?:order\w*|demand\w*|ask(?:ed|s)?|request\w*|notice|notif\w*|letter|ultimatum|"
        r"expel\w*|gave|given|gives?)\b",
    ),
    (
        "announce",
        r"\b(?:announc\w*|declar\w*|unveil\w*|decid\w*|decision|vot(?:e|ed|es|ing)|approv\w*|"
        r"(?:televised\s+|prime-time\s+|national\s+)?(?:statement|address|speech)|"
        # "The Security Council today extended the mandate ..., noting that the drawdown
        # should be completed by 31 December": the decision of the body that decides.
        r"extend(?:s|ed)|renew(?:s|ed)|authori[sz](?:es|ed)|"
        r"adopt\w*|resolution|set\s+(?:a|the)\s+deadline|sets?)\b",
    ),
    ("report", r"\b(?:said|says|say|told|tells|stated|confirm\w*|reported|according\s+to)\b"),
    ("agreement", r"\b(?:agree\w*|signed|signing|accords?|deal|pact)\b"),
    (
        "start",
        r"\b(?:beg[ai]n\w*|begun|start\w*|commenc\w*|kick\w*\s+off|launch\w*|"
        r"first\s+(?:troops|soldiers|contingent|convoy|group|batch))\b",
    ),
    (
        "handover",
        r"\bhand\w*\s+(?:\S+\s+){0,8}?over\b|\bhand-?overs?\b|\bhandovers?\b|"
        r"\breturn\w*\s+(?:\w+\s+){0,5}?(?:bases?|sites?|camps?)\b|\btransferr?\w*",
    ),
    (
        "complete",
        r"\b(?:complet\w*|finish\w*|ended|concluded|to\s+a\s+close|to\s+an\s+end|no\s+longer)\b",
    ),
    (
        "leave",
        r"\b(?:left|leav(?:e|es|ing)|depart\w*|withdr[ae]w\w*|pull\w*\s+out|pull-?outs?|exit\w*|"
        r"cross\w*|rolled|walked|drove|flew|retreat\w*|pushed\s+out|forced\s+out|expelled|"
        r"mov\w*\s+(?:\S+\s+){0,4}?out|went\s+home|came\s+home|returned\s+home|closed|clos(?:es|ing))\b",
    ),
    ("equipment", r"\b(?:remov\w*\s+(?:\S+\s+){0,6}?equipment|equipment)\b"),
    ("other", r"\b(?:ceas\w*|halt\w*|stop\w*)\b"),
]
CUE_RES = [(kind, fastre.compile(pattern, re.IGNORECASE)) for kind, pattern in _CUES]
_ANY_CUE_RE = fastre.compile(
    "|".join(f"(?P<cue{index}>{pattern})" for index, (_, pattern) in enumerate(_CUES)),
    re.IGNORECASE,
)
_CUE_KIND_OF_GROUP = {f"cue{index}": kind for index, (kind, _) in enumerate(_CUES)}
_DISTRACTOR_BEFORE_RE = fastre.compile(
    r"\b(?:coups?|elections?|independence|established|founded|created|set\s+up|surveys?|polls?|"
    r"invasion|invaded|born|anniversary|peak|height|surge|mandates?|renew\w*|expir\w*|since|"
    # A comma closes the distractor: "after the mandate ends, by December 31" is a deadline.
    r"deployed|arrived|took\s+power|seized\s+power)[^\w,;]+(?:\w+[^\w,;]+){0,2}$",
    re.IGNORECASE,
)
_DEADLINE_AFTER_RE = fastre.compile(
    r"^\s*(?:as\s+(?:the|a|its|their)\s+(?:\w+\s+)?)?(?:deadline|cut-?off|target\s+date)\b",
    re.IGNORECASE,
)
_DEADLINE_BEFORE_RE = fastre.compile(
    r"(?:deadline\s+(?:of|on|is|was|for|set\s+for)|(?:scheduled|due|set|slated|planned)\s+"
    r"(?:to\s+(?:be\s+)?\w+\s+)?(?:for|on|by|in))\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_DEADLINE_LEADS = {"by", "until", "till", "no later than", "not later than", "before"}
_SUPERSEDED_RE = fastre.compile(
    r"\b(?:miss(?:es|ed|ing)?|original(?:ly)?|initial(?:ly)?|superseded|instead\s+of|"
    # "extend the mandate" renews a mission; it moves no deadline.
    r"push\w*\s+back|postpon\w*|extend\w*(?!\s+(?:\S+\s+){0,3}?mandate)|"
    r"extension(?!\s+(?:\S+\s+){0,4}?mandate)|brought\s+forward|"
    r"(?:mov|bring|brought|push)\w*\s+(?:\S+\s+){0,2}?(?:forward|up)|"
    r"(?:mov|push|shift|chang|advanc|reset|revis)\w*\s+(?:the\s+|its\s+|their\s+)?deadline|"
    r"(?:mov|push)\w*\s+(?:the\s+|its\s+|their\s+)?(?:\w+\s+)?"
    r"(?:deadline|date|withdrawal|timetable|pull-?out|departure)\s+back|"
    r"(?:new|revised)\s+deadline|"
    r"previous(?:ly)?\s+(?:\w+\s+)?deadline|earlier\s+deadline|old\s+deadline)\b",
    re.IGNORECASE,
)
_NEW_DEADLINE_BEFORE_RE = fastre.compile(
    r"\b(?:extend\w*|push\w*\s+back|postpon\w*|mov\w*|delay\w*|brought\s+forward|"
    r"bring\w*\s+(?:\S+\s+){0,2}?forward|push\w*\s+(?:\S+\s+){0,2}?back|shift\w*|chang\w*|"
    r"advanc\w*|reset|revis\w*)\b",
    re.IGNORECASE,
)
_FUTURE_RE = fastre.compile(
    r"\b(?:will|would|shall|is\s+to|are\s+to|due\s+to|expected\s+to|scheduled|plans?\s+to|"
    r"planned|set\s+to|must|is\s+to\s+be|have\s+until|has\s+until|to\s+be|on\s+track)\b",
    re.IGNORECASE,
)
_PAST_COMPLETION_RE = fastre.compile(
    r"\b(?:had|have|has)\s+(?:\w+\s+)?(?:finished|completed|left|withdrawn|pulled|departed|gone)\b"
    r"|(?<!\bbe\s)(?<!\bbeen\s)\b(?:completed|finished)\b",
    re.IGNORECASE,
)
_COMPLETION_MARKER_RE = fastre.compile(
    r"\b(?:complet\w*|finish\w*|final|last|ending|ended|to\s+a\s+close|to\s+an\s+end|all)\b",
    re.IGNORECASE,
)
_PARTIAL_RE = fastre.compile(
    r"\b(?:first|some|part\s+of|batch|group|convoy|initial|contingent\s+of)\b", re.IGNORECASE
)
_CIVILIAN_RE = fastre.compile(
    r"\b(?:civilians?|citizens|nationals|residents|families|diplomats?|ambassador|envoy|"
    r"embassy|aid\s+workers|expatriates|contractors)\b",
    re.IGNORECASE,
)
_FORCE_WORD_RE = fastre.compile(rf"\b(?:{FORCE_NOUNS}|soldier|troop)\b", re.IGNORECASE)
_PHASE_RE = fastre.compile(
    r"\b(?:first|second|third|initial|next)\s+(?:phase|stage|step|batch|group|wave|contingent)\b",
    re.IGNORECASE,
)
_ONE_BASE_RE = fastre.compile(
    r"\bfrom\s+(?:the\s+)?(?:[A-Z][\w'’-]*\s+){0,3}?(?:Air\s+Base|Base|Camp|Airfield|Outpost)\b"
    # "from Iraqi cities": a move inside the country; "handover of 10 team sites": some sites.
    r"|\bfrom\s+(?:the\s+)?(?:[A-Z][\w'’-]*\s+)?(?:cities|towns|urban\s+areas|provinces)\b"
)
# "handover of 10 team sites": some sites, not the last ("its final two military sites").
_SOME_SITES_RE = fastre.compile(
    r"\b(?P<whole>(?:final|last|remaining|all)\s+)?(?:\d+|several|some|two|three|four|five|six|"
    r"seven|eight|nine|ten|a\s+number\s+of)\s+(?:[\w-]+\s+)?(?:sites|bases|camps|outposts|posts)\b",
    re.IGNORECASE,
)
# "Today marks a critical step toward the withdrawal": the withdrawal is still to come.
_TOWARD_RE = fastre.compile(
    r"\b(?:step|steps|move|moves|progress|milestone)\s+(?:\w+\s+)?towards?\b"
    r"|\b(?:ahead\s+of|in\s+preparation\s+for|prior\s+to)\s+(?:the|its|their)\s+(?:\w+\s+){0,2}?"
    r"(?:withdrawal|departure|pull-?out|drawdown)",
    re.IGNORECASE,
)
DEADLINE_IS_COMPLETION_RE = fastre.compile(
    r"\b(?:(?:final|last)\s+day\s+allowed|deadline\s+day|on\s+the\s+day\s+of\s+the\s+deadline|"
    r"on\s+the\s+deadline|met\s+the\s+deadline)\b",
    re.IGNORECASE,
)


_DATELINE_DATE_RE = fastre.compile(
    r"^[A-Z][\w'’.\- ]{1,40},\s+(?P<date>[\w ,]{6,30}?)\s+[—–-]{1,2}\s"
)


def reference_from_dateline(
    sentences: list[Sentence], today: datetime.date
) -> datetime.date | None:
    """ "BAMAKO, 31 December 2023 – The mission today completed ...": the text dates itself."""
    context = DateContext(reference=today, today=today)
    for sentence in sentences[:5]:
        match = _DATELINE_DATE_RE.match(sentence.text)
        if not match:
            continue
        for mention in find_dates(match.group("date"), 0, context):
            if mention.year_given and mention.precision == "day" and mention.nearest <= today:
                return mention.nearest
    return None


def reference_from_weekday(sentences: list[Sentence], today: datetime.date) -> datetime.date | None:
    """Without a publication date, "Monday, May 20th" dates the article itself."""
    context = DateContext(reference=today, weekday_picks_year=True, today=today)
    for sentence in sentences[:200]:
        for mention in find_dates(sentence.text, sentence.start, context):
            if mention.year_given and re.match(r"(?:\w+\s+)?[A-Z][a-z]+day,", mention.phrase):
                return mention.nearest
    return None


def reference_from_text(sentences: list[Sentence], today: datetime.date) -> datetime.date | None:
    """A text with neither publication date nor dateline, but with years ("in 2011", "on
    18 December 2011"), is read as narrative text is (HeidelTime): relative expressions count
    from the latest day it states, never from today."""
    context = DateContext(reference=today, today=today)
    best: tuple[int, datetime.date] | None = None
    for sentence in sentences:
        for mention in find_dates(sentence.text, sentence.start, context):
            if not mention.year_given or mention.nearest is None or mention.attributive:
                continue
            rank = (mention.precision == "day", mention.nearest)
            if mention.nearest <= today and (best is None or rank > best):
                best = rank
    return best[1] if best else None


UNDATED_MILESTONES = [
    ("equipment_removal", re.compile(r"\bremov\w*\s+(?:\S+\s+){0,6}?equipment\b", re.I)),
    (
        "withdrawal_start",
        re.compile(r"\b(?:ha(?:ve|s|d)\s+)?(?:started|begun|began)\s+the\s+withdrawal\b", re.I),
    ),
]


def date_candidate(item: Analysed, mention: DateMention) -> Candidate | None:
    base = item.sentence.start
    clause_start, clause_end = clause_of(item, mention.start)
    if (
        clause_end - clause_start - (mention.end - mention.start) < 30
        and clause_end < item.sentence.end
    ):
        # "WASHINGTON -- Today, after the Administration announced ...": a clause that is
        # little more than the date reads with the one after it.
        clause_end = clause_of(item, clause_end + 1)[1]
    clause = item.sentence.text[clause_start - base : clause_end - base]
    left = clause[: mention.start - clause_start]
    right = clause[mention.end - clause_start :]
    phrase_left = clause[
        : max(
            0, mention.start - clause_start - (len(mention.phrase) - (mention.end - mention.start))
        )
    ]

    def candidate(role: str, kind: str, direction: str, strength: int = 1) -> Candidate:
        return Candidate(
            role, kind, mention, mention.resolve(direction), strength, item.evidence, clause.strip()
        )

    phrase_left = phrase_left[-80:]  # the patterns on it end at the date: keep scans short
    if mention.attributive or _DISTRACTOR_BEFORE_RE.search(phrase_left):
        return None
    about_withdrawal = _about_withdrawal(clause)
    # "Civilians have until December 15 to collect their belongings": not the troops' deadline.
    if _CIVILIAN_RE.search(left) and not _FORCE_WORD_RE.search(clause):
        return None
    deadline_words = (
        mention.duration
        or mention.lead in _DEADLINE_LEADS
        or _DEADLINE_AFTER_RE.match(right)
        or _DEADLINE_BEFORE_RE.search(phrase_left)
    )
    if mention.duration and _dated_deadline_beside(item, mention, clause_start, clause_end):
        return None  # "within one year ..., by December 31, 2027": the date says it exactly
    if mention.lead in _UNTIL_LEADS and _is_mandate_end(left):
        # "extend the mandate ... until December 31, 2026": the mandate ends, nobody leaves yet.
        return candidate("milestone", "other", "future")
    if _DEADLINE_AFTER_RE.match(right) and _PAST_A_DEADLINE_RE.search(phrase_left):
        # "pushing the withdrawal past the May 1 deadline": that deadline no longer holds.
        return candidate("milestone", "deadline", "future")
    if _is_superseding(clause):
        if mention.lead in ("to", "until") and _NEW_DEADLINE_BEFORE_RE.search(left[-60:]):
            # "moved the deadline forward to August 31": the deadline now in force.
            return candidate("deadline", "deadline", "future", 4)
        if deadline_words:  # the old deadline was still ahead when it was set
            return candidate("milestone", "deadline", "future")
        kind = _nearest_cue(left, right) or "other"
        return candidate("milestone", _MILESTONE_KIND.get(kind, "other"), "nearest")
    if not about_withdrawal and not deadline_words:
        return None
    if deadline_words:
        # "..., and no later than the end of September 2025": the clause may be a bare tail.
        about_withdrawal = about_withdrawal or _about_withdrawal(item.sentence.text)
        # "The withdrawal was completed by 25 May 1991, more than one month before the
        # scheduled date": what comes after the date does not make it a plan.
        if (
            mention.lead == "by"
            and _PAST_COMPLETION_RE.search(clause)
            and not _FUTURE_RE.search(left)
        ):
            return candidate("completed", "completion", "past")
        if not about_withdrawal and not _DEADLINE_AFTER_RE.match(right):
            return None
        if _PHASE_RE.search(clause):  # "the first phase is due to end by April": a milestone
            return candidate("milestone", "deadline", "future")
        # "a day before the August 31 deadline": the text names the deadline in force, which
        # outranks a plain "would leave by September 11" stated elsewhere.
        return candidate(
            "deadline", "deadline", "future", 3 if _DEADLINE_AFTER_RE.match(right) else 2
        )
    cue = _nearest_cue(left, right)
    future = bool(_FUTURE_RE.search(left[-60:])) and not _is_past(mention)
    if cue in ("announce", "order", "agreement"):
        # A decision or an order to leave outranks the signing of an accord, which outranks a
        # spokesman's "said" (strength 1, below).
        return candidate("announced", _MILESTONE_KIND[cue], "past", 2 if cue == "agreement" else 3)
    if cue == "report":
        # "Forces have withdrawn from Kyiv, the ministry said last night": a completion.
        if _PAST_COMPLETION_RE.search(right) or _PAST_COMPLETION_RE.search(left):
            return candidate("completed", "completion", "past")
        return candidate("announced", "announcement", "past", 1)
    if cue == "start":
        return candidate("milestone", "withdrawal_start", "future" if future else "nearest")
    if cue in ("complete", "leave", "handover"):
        if future:
            return candidate("milestone", "other", "future")
        complete = cue == "complete" or _COMPLETION_MARKER_RE.search(clause)
        if cue == "handover" and not complete:
            return candidate("milestone", "base_handover", "past")
        if _PARTIAL_RE.search(clause) and not _COMPLETION_MARKER_RE.search(clause):
            return candidate("milestone", "withdrawal_start", "past")
        if _TOWARD_RE.search(clause):
            return candidate("milestone", "other", "nearest")
        sites = _SOME_SITES_RE.search(clause)
        if sites and not sites.group("whole"):
            return candidate("milestone", "base_handover", "past")
        if _ONE_BASE_RE.search(clause):  # "withdrawal from Air Base 101": one site, not all
            return candidate("milestone", "base_handover", "past")
        return candidate("completed", "completion", "past")
    if cue == "equipment":
        return candidate("milestone", "equipment_removal", "future" if future else "past")
    return candidate("milestone", "other", "future" if future else "nearest")


_PAST_A_DEADLINE_RE = fastre.compile(
    r"\b(?:past|beyond|miss(?:es|ed|ing)?)\s+(?:the|its|their|a)\s+$", re.IGNORECASE
)
_UNTIL_LEADS = {"until", "till", "through", "to", "by"}
_MANDATE_BEFORE_RE = fastre.compile(r"\bmandates?\b[^;]{0,120}$", re.IGNORECASE)


def _is_mandate_end(left: str) -> bool:
    # "are to withdraw ... after the mandate ends, by December 31" is the withdrawal's date.
    if "andate" not in left or not _MANDATE_BEFORE_RE.search(left[-140:]):
        return False
    return not WITHDRAWAL_RE.search(left)


def _dated_deadline_beside(
    item: Analysed, mention: DateMention, clause_start: int, clause_end: int
) -> bool:
    return any(
        other.duration is None
        and other.nearest is not None
        and other.lead in _DEADLINE_LEADS
        and clause_start <= other.start < clause_end
        for other in item.dates
    )


def forget_texts() -> None:
    """Empty the per-text caches below, so memory stays flat over any number of texts."""
    _about_withdrawal.cache_clear()
    _is_superseding.cache_clear()


# A clause with several dates is read once, not once per date (the cache lives for one text).
@functools.lru_cache(maxsize=4096)
def _about_withdrawal(text: str) -> bool:
    return bool(WITHDRAWAL_RE.search(text) or EVENT_NOUN_RE.search(text))


@functools.lru_cache(maxsize=4096)
def _is_superseding(clause: str) -> bool:
    return bool(_SUPERSEDED_RE.search(clause))


_MILESTONE_KIND = {
    "announce": "announcement",
    "report": "announcement",
    "order": "order_to_leave",
    "agreement": "agreement",
    "start": "withdrawal_start",
    "handover": "base_handover",
    "complete": "completion",
    "leave": "completion",
    "equipment": "equipment_removal",
    "deadline": "deadline",
}


def _is_past(mention: DateMention) -> bool:
    return mention.past is not None and mention.past == mention.future


_PLANNED_BEFORE_RE = fastre.compile(
    r"\b(?:to|will|would|must|should|shall)\s+(?:\w+\s+)?$", re.IGNORECASE
)


# "announced the withdrawal on October 21": a noun is no event of its own when a verb governs it.
_EVENT_NOUN_CUE_RE = fastre.compile(
    r"(?:withdrawals?|pull-?outs?|departures?|exits?|drawdowns?|handovers?|hand-overs?)$",
    re.IGNORECASE,
)


def _nearest_cue(left: str, right: str) -> str | None:
    """The cue ending nearest before the date, else the first one after it."""
    best_left: tuple[int, int, str] | None = None
    window = left[-140:]
    governing: tuple[int, str] | None = None  # the last order or announcement verb
    planned_at: int | None = None
    for kind, pattern in CUE_RES:
        for match in pattern.finditer(window):
            key = (match.end(), -match.start(), kind)
            if best_left is None or key[:2] > best_left[:2]:
                best_left = key
                planned = kind in ("leave", "complete") and (
                    _PLANNED_BEFORE_RE.search(window[: match.start()])
                    or _EVENT_NOUN_CUE_RE.match(match.group())
                )
                planned_at = match.start() if planned else None
            if kind in ("order", "announce", "agreement") and (
                governing is None or match.end() > governing[0]
            ):
                governing = (match.end(), kind)
    if best_left:
        # "ordered the troops to leave within a month on January 18": the date is the order's.
        if planned_at is not None and governing and governing[0] <= planned_at:
            return governing[1]
        return best_left[2]
    # The first cue after the date: one scan for all kinds, which finds the leftmost cue and,
    # where two begin at the same word, the one listed first.
    match = _ANY_CUE_RE.search(right, 0, 100)
    return _CUE_KIND_OF_GROUP[match.lastgroup] if match else None


_EVENT_END_GAP_RE = fastre.compile(
    r"\b(?:end\w*|expir\w*|lapse\w*|run\w*\s+out|over|conclud\w*)\b", re.IGNORECASE
)


_END_OF_BEFORE_RE = fastre.compile(
    r"\b(?:end|expiry|expiration|close|termination|lapse)\s+of\s+(?:the\s+|its\s+|their\s+)?"
    r"(?:[A-Z][\w-]*['’]?s?\s+){0,3}$",
    re.IGNORECASE,
)


def event_ends(analysed: list[Analysed]) -> dict[str, datetime.date]:
    """When the events that durations run from end: "the mandate ... until December 31, 2026".

    The last date the text gives for each event wins, as a later statement replaces an earlier.
    """
    nouns = {d.runs_from for item in analysed for d in item.dates if d.runs_from}
    ends: dict[str, datetime.date] = {}
    if not nouns:
        return ends
    patterns = {noun: re.compile(rf"\b{re.escape(noun)}s?\b", re.IGNORECASE) for noun in nouns}
    for item in analysed:
        text, base = item.sentence.text, item.sentence.start
        for mention in item.dates:
            if mention.duration or mention.future is None:
                continue
            clause_start, _ = clause_of(item, mention.start)
            left_start = max(clause_start, mention.start - 150)
            left = text[left_start - base : mention.start - base]
            for noun, pattern in patterns.items():
                named = list(pattern.finditer(left))[-1:]
                if not named:
                    continue
                named_at = left_start + named[0].start()
                gap = left[named[0].end() :]
                if WITHDRAWAL_RE.search(gap) or any(
                    d.runs_from and d.end <= named_at <= d.end + 60 for d in item.dates
                ):
                    continue  # "within a year after the mandate ends, by ...": not the end
                # "until December 31", "expires on June 30", "the end of the mandate on June 30".
                ending = _EVENT_END_GAP_RE.search(gap) or _END_OF_BEFORE_RE.search(
                    left, max(0, named[0].start() - 40), named[0].start()
                )
                if mention.lead in ("until", "till", "through", "to") or ending:
                    ends[noun] = mention.future
    return ends
