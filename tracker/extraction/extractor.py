"""Role assignment: which party leaves which country, how many, and which date is which.

The procedure:

1. Split the text into sentences (with offsets); keep only those that talk about troops,
   withdrawals or deadlines, so a 10 MB text of something else costs one regex scan.
2. In each kept sentence find parties, dates and force sizes, and the withdrawal pairs the
   sentence states: "<party> ... withdraw/leave/pull out ... from <host>", "<host> ordered
   <party> ... to leave", "<UN mission> ... withdraw", "<mission> in <host> to a close".
   A pair whose host the sentence leaves unnamed ("out of the city of Kherson") is resolved from
   the rest of the text.
3. Attach every kept sentence to the pairs it is about (by the parties it names, else to the
   text's main withdrawal) and give each of its dates a role from the nearest cue word:
   announcement, deadline, completion, start, handover, or a distractor (a coup, an election,
   "the 2008 agreement").
4. Per pair, choose the announcement, deadline, completion date and force size from the
   candidates, resolve "within one month" from the announcement, and keep the rest as milestones.
"""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass, field

from . import fastre
from .dates import DateContext, DateMention, add_duration, find_dates
from .model import (
    DateFact,
    DeploymentFact,
    Evidence,
    ExtractionResult,
    MilestoneFact,
    PartyRef,
    PersonnelFact,
    WithdrawalFact,
)
from .numbers import (
    FORCE_NOUNS,
    NUMBER,
    QUALIFIER_WORDS,
    QUALIFIERS,
    ForceSize,
    find_force_sizes,
    parse_number,
)
from .places import STATES, Party, PartyMention, find_parties
from .sentences import Sentence, split_sentences


class ExtractionError(ValueError):
    """The input cannot be read as an article (for example, it is empty)."""


# -- Cue words --------------------------------------------------------------------------------
# Bounded gaps ("{0,5}?") keep every pattern linear: no nested unbounded repetition.
_GAP = r"(?:\S+\s+){0,5}?"
WITHDRAWAL_RE = fastre.compile(
    r"\bwithdr[ae]w\w*|\bpull(?:s|ed|ing)?[\s-]+(?:out(?:\s+of)?|back)\b|\bpull-?outs?\b|\bpullback\b"
    r"|\bdraw(?:s|ing|n)?[\s-]+down\b|\bdrew\s+down\b|\bdrawdowns?\b"
    r"|\bleav(?:e|es|ing)\b|\bleft\b(?!\s+behind)|\bdepart(?:s|ed|ing|ure)?\b"
    r"|\bexit(?:s|ed|ing)?\b|\bquit(?:s|ting)?\b|\bvacat(?:e|es|ed|ing)\b|\bretreat(?:s|ed|ing)?\b"
    r"|\bexpel(?:s|led|ling)?\b|\bexpulsion\b|\bevacuat\w*"
    r"|\b(?:pushed|forced|kicked|driven|thrown|mov(?:e|es|ed|ing)|cross(?:es|ed|ing)?|rolled|"
    r"pull(?:s|ed|ing)?|get(?:s|ting)?|got|take[sn]?|taking|took|"
    rf"marched|relocat\w*|redeploy\w*|withdrawn)\s+{_GAP}out\s+of\b"
    rf"|\bbr(?:ing|ings|inging|ought)\s+{_GAP}home\b"
    r"|\b(?:come|comes|came|coming|go|goes|going|went|return\w*|sent|send\w*)\s+home\b"
    r"|\bhand(?:s|ed|ing)?\s+(?:\S+\s+){0,8}?over\b|\bhand-?overs?\b|\bhandovers?\b"
    r"|\bclos(?:e|es|ed|ing|ure)\s+(?:of\s+)?(?:\w+\s+){0,4}?(?:bases?|camps?|sites?|mission|presence)\b"
    r"|\bend(?:s|ed|ing)?\s+(?:\S+\s+){0,5}?(?:mission|presence|deployment|operations?)\b"
    r"|\bterminat\w*|\bwind(?:s|ing)?\s+down\b|\bwound\s+down\b"
    r"|\bdisengag\w*|\brepatriat\w*|\bretrograde\b"
    # "reduce its forces in X", not "a reduced presence in X" (an adjective).
    r"|\breduc(?:e|es|ing|tion)\b|\b(?:reduced|cut|cuts|cutting)\s+"
    r"(?=(?:its|their|the|his|her|about|some|roughly|around|back|\d)\b)"
    r"|\b(?:bring|brings|bringing|brought|draw|draws|drawing|drew|come|comes|came|coming)\s+"
    r"(?:\S+\s+){0,8}?to\s+(?:a\s+close|an\s+end)\b"
    r"|\breturn(?:s|ed|ing)?\s+(?:\w+\s+){0,5}?(?:bases?|sites?|camps?)\b",
    re.IGNORECASE,
)
# "Coming home" alone does not say from where: such a cue never creates a withdrawal.
_WEAK_TRIGGER_RE = fastre.compile(r"home\b|evacuat", re.IGNORECASE)
_LEAVE_OBJECT_RE = fastre.compile(r"^(?:leav(?:e|es|ing)|left|quit\w*|exit\w*|vacat\w*)$", re.I)
ORDER_RE = fastre.compile(
    r"\b(?:order(?:s|ed)?|demand(?:s|ed)?|ask(?:s|ed)?|told|tells?|gave|gives?|given|"
    r"request(?:s|ed)?|urg(?:e|es|ed)|call(?:s|ed)\s+on|instruct(?:s|ed)?|expel(?:s|led|ling)?|"
    r"kick(?:s|ed)?\s+out)\b",
    re.IGNORECASE,
)
_EXPEL_RE = fastre.compile(r"^(?:expel|kick)", re.IGNORECASE)
_LEAVE_AFTER_ORDER_RE = fastre.compile(
    r"\b(?:leave|withdraw|depart|quit|exit|go\s+home|pull\s+out|out)\b", re.IGNORECASE
)
MILITARY_RE = fastre.compile(
    rf"\b(?:{FORCE_NOUNS}|military|army|troop|soldier|mission|bases?|garrison|contingent|"
    r"battalions?|brigades?|peacekeeping|convoy|task\s+force|units|guards|checkpoints?)\b",
    re.IGNORECASE,
)
_NON_MILITARY_OBJECT_RE = fastre.compile(
    r"\b(?:ambassador|envoy|diplomats?|embassy|citizens|nationals|civilians|staff|aid\s+workers)\b",
    re.IGNORECASE,
)
EVENT_NOUN_RE = fastre.compile(
    r"\b(?:request|demand|decision|order|announcement|notice|letter|ultimatum|agreement|"
    r"accords?|deal|resolution|vote|ceremony|timetable|timeline|deadline|operations|mission|"
    r"presence|transition|drawdown|mandate)\b",
    re.IGNORECASE,
)
DEPLOYMENT_RE = fastre.compile(
    r"\b(?:send(?:s|ing)?|sent|deploy(?:s|ed|ing|ment|ments)?|dispatch\w*|reinforc\w*|"
    r"station(?:s|ed|ing)?|exercises?|drills?|rotat\w*|bolster\w*)\b",
    re.IGNORECASE,
)
# A sentence worth analysing holds a word starting with one of these stems: a superset of the
# cue patterns above, checked with one set lookup per word (far cheaper than a regex).
_RELEVANT_STEMS = (
    "withdr disengag repatri retrograde reduc cut pull draw drew leav left depart exit quit "
    "vacat retreat expel expul evacu push forc "
    "kick driv thrown move moving cross roll march relocat redeploy bring brought come came "
    "coming home hand clos end termin wind wound return troop soldier militar army mission "
    "base garrison contingent personnel peacekeep deadline deploy send sent dispatch reinforc "
    "station exercise drill rotat bolster convoy unit guard marine service paratroop battalion "
    "brigade police gendarme fighter advis sailor airm commando legion mercenar contractor men "
    "checkpoint helmet order demand ask request told gave give urge instruct take took get got"
).split()
_STEM4 = {stem[:4] for stem in _RELEVANT_STEMS if len(stem) >= 4}
_SHORT_WORDS = {stem for stem in _RELEVANT_STEMS if len(stem) < 4}
_WORD_RE = fastre.compile(r"[a-z]+")


def _is_relevant(sentence: str) -> bool:
    return any(
        word[:4] in _STEM4 or word in _SHORT_WORDS for word in _WORD_RE.findall(sentence.lower())
    )


_HOST_FROM_RE = fastre.compile(
    r"^[^;:!?]{0,80}?\b(?:from|out\s+of)\s+(?:the\s+)?(?:[a-z][\w-]*\s+){0,2}$", re.IGNORECASE
)
_HOST_PRESENCE_RE = fastre.compile(
    r"^[^;:!?]{0,80}?\b(?:mission|presence|operations?|deployment|bases?|sites?|camps?|troops|"
    r"forces|contingent|garrison)(?:\s+of\s+[^,;]{0,60}?)?\s+in\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_HOST_DIRECT_RE = fastre.compile(r"^\s+(?:the\s+)?$")
_HOST_HANDOVER_RE = fastre.compile(r"^\s+to\s+(?:the\s+)?$", re.IGNORECASE)
_HANDOVER_RE = fastre.compile(r"^(?:hand|return)", re.IGNORECASE)
_HOST_HANDED_TO_RE = fastre.compile(r"^[^;:!?]{0,80}?\bto\s+(?:the\s+)?$", re.IGNORECASE)
_UNNAMED_PLACE_RE = fastre.compile(
    r"^\s+(?:the\s+)?(?:(?:city|town|region|province|country|capital|area|port|village|"
    r"district|territory|bank|base|enclave|island)\b|[A-Z][\w'’-]+)"
)
_NOT_A_HOST_AFTER_RE = fastre.compile(
    r"^['’]?\s*(?:Agreement|Accord|Treaty|Convention|Club|Summit|Declaration|Protocol|"
    r"agreement|accord|treaty|talks|deal|pact|process)\b"
)
_ADJECTIVE_HOST_NOUN_RE = fastre.compile(
    r"^\s+(?:territory|soil|army|military|armed\s+forces|authorities|forces|government|side|"
    r"bases?|capital|airspace|border)\b",
    re.IGNORECASE,
)
_END_OF_MISSION_BEFORE_RE = fastre.compile(
    r"\b(?:mission|presence|deployment|operations?)(?:\s+of\s+[^,;]{0,60}?)?\s+in\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_END_OF_MISSION_AFTER_RE = fastre.compile(
    r"^\s+(?:to\s+(?:a\s+close|an\s+end)|(?:is|was|will|would|shall)\s+(?:\w+\s+){0,2}?"
    r"(?:end|close|over|terminated|conclude))",
    re.IGNORECASE,
)
_FORCE_AFTER_PARTY_RE = fastre.compile(
    rf"^\s+(?:[\w.-]+\s+){{0,3}}?(?:{FORCE_NOUNS}|soldier|troop|contingent|military|army)\b",
    re.IGNORECASE,
)
_FORCES_IN_RE = fastre.compile(
    r"^\s+(?:\w+\s+){0,2}?(?:forces|troops|soldiers|military|contingent)\s+in\s+(?:the\s+)?$",
    re.IGNORECASE,
)
# "N'DJAMENA — ", "CAMP VIRGINIA, Kuwait — ", "Niamey, 19 May 2024 — ": where, not who.
_DATELINE_RE = fastre.compile(
    r"^[A-Z][A-Z'’.\- ]{2,40}(?:,\s*[A-Za-z.'’ -]{2,40})?\s+[—–-]{1,2}\s+"
    r"|^[A-Z][\w'’.\- ]{1,40},\s+[\w ,]{6,30}?\s+[—–-]{1,2}\s"
)
_CLAUSE_BREAK_RE = fastre.compile(
    r";|\s[—–]\s|,\s+(?=(?:and|but|while|whereas|after|before|although|though|amid)\s)"
    r"|,\s+(?=(?:down|up)\s+from\b|compared\s+(?:with|to)\b)"
)

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
_CUE_RES = [(kind, fastre.compile(pattern, re.IGNORECASE)) for kind, pattern in _CUES]
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
)
_DEADLINE_IS_COMPLETION_RE = fastre.compile(
    r"\b(?:(?:final|last)\s+day\s+allowed|deadline\s+day|on\s+the\s+day\s+of\s+the\s+deadline|"
    r"on\s+the\s+deadline|met\s+the\s+deadline)\b",
    re.IGNORECASE,
)

# -- Force-size filters -----------------------------------------------------------------------
_SIZE_VETO_RE = fastre.compile(
    r"\b(?:convoys?|killed|dead|died|deaths?|wounded|injur\w*|casualt\w*|captured|missing|"
    r"evacuees|refugees|ceiling|capped|cap|limit|maximum|authori[sz]ed\s+(?:strength|level)|"
    r"residual|additional|extra|reinforc\w*|dispatch\w*|send(?:s|ing)?|"
    r"(?:will|would|to|shall|could|may|should)\s+(?:\w+\s+)?(?:remain|stay)|stay\s+behind|"
    r"remain\s+behind)\b",
    re.IGNORECASE,
)
_SIZE_MORE_RE = fastre.compile(r"^\s*more\b", re.IGNORECASE)
_SIZE_PART_RE = fastre.compile(
    r"\b(?:first|last|final|next)\s+(?:\w+\s+)?(?:convoy|group|batch|contingent|flight|"
    r"rotation|wave|column)\b",
    re.IGNORECASE,
)
_PEAK_RE = fastre.compile(r"\b(?:peak|height|at\s+most|maximum)\b", re.IGNORECASE)


# -- Working records --------------------------------------------------------------------------
@dataclass
class _Analysed:
    sentence: Sentence
    evidence: Evidence
    parties: list[PartyMention]
    dates: list[DateMention]
    sizes: list[ForceSize]
    clauses: list[tuple[int, int]]  # absolute offsets
    hits: list[_Hit] = field(default_factory=list)


@dataclass
class _Hit:
    """A sentence stating that `deploying` leaves `host` (host None: named later in the text)."""

    deploying: Party
    host: str | None
    anchor: int  # where the host is named (absolute offset), or the cue when it is not
    how: str  # "stated", "order" or "unnamed"


@dataclass
class _Candidate:
    role: str  # announced, deadline, completed, milestone
    kind: str  # milestone kind
    mention: DateMention
    date: datetime.date | None
    strength: int
    evidence: Evidence
    clause: str


@dataclass
class _Pair:
    deploying: PartyRef
    host: PartyRef
    order: int
    sentences: int = 0
    how: set[str] = field(default_factory=set)
    candidates: list[_Candidate] = field(default_factory=list)
    sizes: list[tuple[int, int, ForceSize, Evidence]] = field(default_factory=list)
    undated: list[tuple[str, Evidence, str]] = field(default_factory=list)
    deadline_is_completion: bool = False


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
    sentences = [s for s in split_sentences(text) if _is_relevant(s.text)]
    reference = (
        published
        or _reference_from_dateline(sentences, today)
        or _reference_from_weekday(sentences, today)
        or today
    )
    context = DateContext(reference=reference, weekday_picks_year=published is None, today=today)
    analysed = [_analyse(s, context) for s in sentences]
    pairs = _find_pairs(analysed)
    for item in analysed:
        _attach(item, pairs, reference)
    events = _event_ends(analysed)
    withdrawals = [_withdrawal(pair, reference, events) for pair in pairs.values()]
    withdrawals.sort(key=lambda w: w[0])
    return ExtractionResult(
        reference_date=reference,
        withdrawals=[w for _, w in withdrawals],
        deployments=_deployments(analysed, pairs),
    )


_DATELINE_DATE_RE = fastre.compile(
    r"^[A-Z][\w'’.\- ]{1,40},\s+(?P<date>[\w ,]{6,30}?)\s+[—–-]{1,2}\s"
)


def _reference_from_dateline(
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


def _reference_from_weekday(
    sentences: list[Sentence], today: datetime.date
) -> datetime.date | None:
    """Without a publication date, "Monday, May 20th" dates the article itself."""
    context = DateContext(reference=today, weekday_picks_year=True, today=today)
    for sentence in sentences[:200]:
        for mention in find_dates(sentence.text, sentence.start, context):
            if mention.year_given and re.match(r"(?:\w+\s+)?[A-Z][a-z]+day,", mention.phrase):
                return mention.nearest
    return None


def _analyse(sentence: Sentence, context: DateContext) -> _Analysed:
    dateline = _DATELINE_RE.match(sentence.text)
    skip = sentence.start + (dateline.end() if dateline else 0)
    parties = [m for m in find_parties(sentence.text, sentence.start) if m.start >= skip]
    sizes = find_force_sizes(sentence.text, sentence.start)
    dates = [
        d
        for d in find_dates(sentence.text, sentence.start, context)
        if not any(s.start <= d.start < s.end for s in sizes)
    ]
    clauses = []
    start = sentence.start
    for match in _CLAUSE_BREAK_RE.finditer(sentence.text):
        clauses.append((start, sentence.start + match.start()))
        start = sentence.start + match.end()
    clauses.append((start, sentence.end))
    evidence = Evidence(sentence.text, sentence.start, sentence.end)
    return _Analysed(sentence, evidence, parties, dates, sizes, clauses)


# -- Step 2: who leaves where -----------------------------------------------------------------
def _find_pairs(analysed: list[_Analysed]) -> dict[tuple[str, str], _Pair]:
    pairs: dict[tuple[str, str], _Pair] = {}
    pending: list[tuple[int, _Hit]] = []
    mission_hosts = {
        m.party.mission_host: m.party
        for item in analysed
        for m in item.parties
        if m.party.mission_host
    }
    # "Withdraw from the agreement" is no troop withdrawal: the text must speak of soldiers.
    military = any(MILITARY_RE.search(item.sentence.text) for item in analysed)
    for index, item in enumerate(analysed):
        if military:
            item.hits = _sentence_hits(item)
        for hit in item.hits:
            if hit.host is None:
                pending.append((index, hit))
                continue
            _add_pair(pairs, hit, hit.host, index, mission_hosts)
    resolved: dict[tuple[str, str], str | None] = {}
    for index, hit in pending:
        key = (hit.deploying.ref.code, hit.how)
        if key not in resolved:  # once per party: a 10 MB text may hold thousands of these
            resolved[key] = _resolve_unnamed_host(hit, pairs, analysed)
        if resolved[key]:
            hit.host = resolved[key]
            _add_pair(pairs, hit, hit.host, index, mission_hosts)
    for item in analysed:
        item.hits = [h for h in item.hits if h.host and h.host != h.deploying.ref.code]
    return pairs


def _add_pair(pairs, hit: _Hit, host: str, index: int, mission_hosts: dict) -> None:
    deploying = hit.deploying
    if deploying.ref.code == "UN" and host in mission_hosts:
        deploying = mission_hosts[host]
        hit.deploying = deploying
    if deploying.ref.code == host:
        return
    key = (deploying.ref.code, host)
    pair = pairs.get(key)
    if pair is None:
        pair = pairs[key] = _Pair(deploying.ref, STATES[host], order=index)
    pair.how.add(hit.how)


def _sentence_hits(item: _Analysed) -> list[_Hit]:
    text, base = item.sentence.text, item.sentence.start
    hits: list[_Hit] = []
    if not item.parties:  # every pattern below needs a party to name
        return hits
    for clause_start, clause_end in item.clauses:
        clause = text[clause_start - base : clause_end - base]
        mentions = [m for m in item.parties if clause_start <= m.start < clause_end]
        if not mentions:  # a clause that names no party states no pair
            continue
        triggers = list(WITHDRAWAL_RE.finditer(clause))
        for trigger in triggers:
            hits.extend(_withdrawal_hits(clause, clause_start, trigger, mentions))
        for order in ORDER_RE.finditer(clause):
            hit = _order_hit(clause, clause_start, order, mentions)
            if hit:
                hits.append(hit)
        for mention in mentions:
            hit = _end_of_mission_hit(clause, clause_start, mention, mentions)
            hit = hit or _named_withdrawal_hit(clause, clause_start, mention, mentions)
            hit = hit or _forces_in_hit(clause, clause_start, mention, mentions)
            if hit:
                hits.append(hit)
        if triggers:
            for mention in mentions:
                if mention.party.mission_host:
                    hits.append(
                        _Hit(mention.party, mention.party.mission_host, mention.start, "stated")
                    )
    unique: dict[tuple[str, str | None], _Hit] = {}
    for hit in sorted(hits, key=lambda h: h.how != "order"):  # "order" knows the host is main
        unique.setdefault((hit.deploying.ref.code, hit.host), hit)
    named = {code for code, host in unique if host}
    return [h for (code, host), h in unique.items() if host or code not in named]


def _withdrawal_hits(
    clause: str, base: int, trigger: re.Match, mentions: list[PartyMention]
) -> list[_Hit]:
    weak = bool(_WEAK_TRIGGER_RE.search(trigger.group()))
    after = [m for m in mentions if m.start >= base + trigger.end()]
    hosts: list[PartyMention] = []
    for mention in after:
        gap = clause[trigger.end() : mention.start - base]
        if len(gap) > 90 or not _can_be_host(clause, base, mention):
            continue
        ends_with_out_of = trigger.group().lower().endswith(("out of", "home"))
        if (
            _HOST_FROM_RE.match(gap)
            or (ends_with_out_of and _HOST_DIRECT_RE.match(gap))
            or (_LEAVE_OBJECT_RE.match(trigger.group()) and _HOST_DIRECT_RE.match(gap))
            or (not weak and _HOST_PRESENCE_RE.match(trigger.group()[-40:] + gap))
            or (trigger.group().lower().endswith("over") and _HOST_HANDOVER_RE.match(gap))
            or (_HANDOVER_RE.match(trigger.group()) and _HOST_HANDED_TO_RE.match(gap))
        ):
            if _NON_MILITARY_OBJECT_RE.search(gap) and not MILITARY_RE.search(gap):
                return []
            hosts = [mention] + _listed_after(clause, base, mention, after)
            break
    deploying = _deploying_party(clause, base, trigger, hosts[0] if hosts else None, mentions)
    if deploying is None:
        return []
    if hosts:
        return [
            _Hit(deploying, h.code, h.start, "stated")
            for h in hosts
            if h.code != deploying.ref.code
        ]
    if weak:
        return []
    rest = clause[trigger.end() :]
    if _OF_ARMED_PARTY_RE.match(rest):  # "the withdrawal of Soviet forces" (from where: see text)
        return [_Hit(deploying, None, base + trigger.start(), "unnamed_of")]
    # "left the European Union", "withdraw from the treaty": no place, no withdrawal of troops.
    object_at = base + trigger.end() + len(rest) - len(rest.lstrip()) + 40
    if _NOT_A_PLACE_RE.match(rest) or any(
        base + trigger.end() <= m.start < object_at for m in mentions
    ):
        return []
    if _UNNAMED_PLACE_RE.match(rest) or re.match(r"^\s+(?:\S+\s+){0,4}?(?:from|out\s+of)\s", rest):
        return [_Hit(deploying, None, base + trigger.start(), "unnamed")]
    return []


_NOT_A_PLACE_RE = fastre.compile(
    r"^\s+(?:\S+\s+){0,3}?(?:the\s+)?(?:\w+\s+)?(?:treaty|agreement|accord|deal|talks|pact|"
    r"convention|organi[sz]ation|union|alliance|bloc|club|race|election|negotiations|"
    r"coalition\s+government|government|cabinet|league|court)\b",
    re.IGNORECASE,
)


_OF_ARMED_PARTY_RE = fastre.compile(
    # "the withdrawal of the roughly 1,000 French soldiers": sizes and qualifiers may intervene.
    rf"^\s+of\s+(?:the\s+|its\s+|their\s+)?(?:(?:last|remaining|all|some|about|roughly|around|"
    rf"nearly|almost|approximately|estimated|[\d,.]+)\s+){{0,3}}[A-Z][\w.'’-]*\s+(?:{FORCE_NOUNS})\b"
)


def _can_be_host(clause: str, base: int, mention: PartyMention) -> bool:
    if mention.party.ref.kind != "state":
        return False
    after = clause[mention.end - base :]
    if _NOT_A_HOST_AFTER_RE.match(after):
        return False
    if mention.party.form == "adjective":
        return bool(_ADJECTIVE_HOST_NOUN_RE.match(after))
    return True


_LIST_GAP_RE = fastre.compile(r"^[\s,]*(?:(?:in|at|by|on|and|or)\b[\s,]*){0,3}$", re.IGNORECASE)


def _listed_after(
    clause: str, base: int, first: PartyMention, after: list[PartyMention]
) -> list[PartyMention]:
    """ "out of Mali in 2022, Burkina Faso in 2023 and Niger at the end of that year"."""
    listed: list[PartyMention] = []
    previous = first
    for mention in after:
        if mention.start <= previous.start:
            continue
        gap = clause[previous.end - base : mention.start - base]
        gap = _DATE_WORDS_RE.sub(" ", gap)
        if not _LIST_GAP_RE.match(gap) or mention.party.ref.kind != "state":
            break
        listed.append(mention)
        previous = mention
    return listed


_DATE_WORDS_RE = fastre.compile(
    r"\b(?:the\s+)?(?:(?:end|beginning|start|middle)\s+of\s+)?(?:that\s+|the\s+same\s+|last\s+|"
    r"this\s+|next\s+)?(?:year|month|(?:19|20)\d\d|January|February|March|April|May|June|July|"
    r"August|September|October|November|December|\d{1,2}(?:st|nd|rd|th)?)\b",
)


def _deploying_party(
    clause: str,
    base: int,
    trigger: re.Match,
    host: PartyMention | None,
    mentions: list[PartyMention],
) -> Party | None:
    # Without a host, only "the withdrawal of Soviet forces" right after the cue names the party.
    if host is not None:
        host_start = host.start
    elif _OF_ARMED_PARTY_RE.match(clause[trigger.end() :]):
        host_start = base + trigger.end() + 40
    else:
        host_start = base + trigger.end()
    candidates = [m for m in mentions if host is None or m.code != host.code]
    # 1. "American forces", "French troops": a party naming soldiers, nearest the cue.
    armed = [m for m in candidates if _FORCE_AFTER_PARTY_RE.match(clause[m.end - base :])]
    inside = [m for m in armed if base + trigger.start() <= m.start < host_start]
    if inside:
        return inside[0].party
    before = [m for m in armed if m.end <= base + trigger.start()]
    if before:
        return before[-1].party
    # 2. The subject: the nearest party before the cue ("France's exit", "Russia ... moving").
    before = [
        m
        for m in candidates
        if m.end <= base + trigger.start()
        and not re.search(
            r"\b(?:from|with|between|of|to|in)\s+(?:the\s+)?$", clause[: m.start - base]
        )
    ]
    if before:
        return before[-1].party
    return None


def _order_hit(
    clause: str, base: int, order: re.Match, mentions: list[PartyMention]
) -> _Hit | None:
    """ "Burkina Faso gives French special forces one month to leave"; "expelled French forces"."""
    after = [m for m in mentions if base + order.end() <= m.start <= base + order.end() + 60]
    if not after:
        return None
    deploying = after[0]
    expel = bool(_EXPEL_RE.match(order.group()))
    rest = clause[deploying.end - base : deploying.end - base + 100]
    if not expel and not _LEAVE_AFTER_ORDER_RE.search(rest):
        return None
    if deploying.party.form == "adjective" and not _FORCE_AFTER_PARTY_RE.match(rest):
        return None
    if not expel and not (_FORCE_AFTER_PARTY_RE.match(rest) or MILITARY_RE.search(rest[:80])):
        return None
    before = [m for m in mentions if m.end <= base + order.start() and m.party.ref.kind == "state"]
    host = before[-1] if before else None
    if host and host.code != deploying.code:
        return _Hit(deploying.party, host.code, host.start, "stated")
    return _Hit(deploying.party, None, base + order.start(), "order")


def _end_of_mission_hit(
    clause: str, base: int, mention: PartyMention, mentions: list[PartyMention]
) -> _Hit | None:
    """ "bringing the U.S. military mission in Iraq to a close"."""
    if mention.party.ref.kind != "state" or mention.party.form == "adjective":
        return None
    if not _END_OF_MISSION_BEFORE_RE.search(clause[: mention.start - base]):
        return None
    if not _END_OF_MISSION_AFTER_RE.match(clause[mention.end - base :]):
        return None
    before = [m for m in mentions if m.end <= mention.start and m.code != mention.code]
    if not before:
        return None
    return _Hit(before[-1].party, mention.code, mention.start, "stated")


_WITHDRAWAL_NOUN_AFTER_RE = fastre.compile(
    r"^\s+(?:troop\s+|military\s+)?(?:withdrawal|pull-?out|pullback|drawdown|exit|departure)\b",
    re.IGNORECASE,
)


def _named_withdrawal_hit(
    clause: str, base: int, mention: PartyMention, mentions: list[PartyMention]
) -> _Hit | None:
    """ "Britain brings Mali withdrawal forward": a host named in front of the noun."""
    if mention.party.ref.kind != "state" or mention.party.form == "adjective":
        return None
    if not _WITHDRAWAL_NOUN_AFTER_RE.match(clause[mention.end - base :]):
        return None
    before = [m for m in mentions if m.end <= mention.start and m.code != mention.code]
    if not before:
        return None
    return _Hit(before[-1].party, mention.code, mention.start, "stated")


_FORCES_IN_BEFORE_RE = fastre.compile(
    r"\b(?:troops|forces|soldiers|contingent|personnel|presence|mission|peacekeepers)\s+"
    r"(?:(?:based|stationed|deployed|serving)\s+)?in\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_WITHDRAW_VERB_AFTER_RE = fastre.compile(
    r"^,?\s+(?:\w+\s+){0,3}?(?:withdraw\w*|leav(?:e|es|ing)|left|pull(?:s|ed|ing)?\s+out|"
    r"depart\w*|be\s+withdrawn|(?:come|go|return|be\s+brought)\s+home|exit\w*|quit)\b",
    re.IGNORECASE,
)


def _forces_in_hit(
    clause: str, base: int, mention: PartyMention, mentions: list[PartyMention]
) -> _Hit | None:
    """ "its troops in Somalia will withdraw within six months"."""
    if mention.party.ref.kind != "state" or mention.party.form == "adjective":
        return None
    if not _FORCES_IN_BEFORE_RE.search(
        clause, max(0, mention.start - base - 60), mention.start - base
    ):
        return None
    if not _WITHDRAW_VERB_AFTER_RE.match(clause[mention.end - base : mention.end - base + 60]):
        return None
    before = [m for m in mentions if m.end <= mention.start and m.code != mention.code]
    armed = [m for m in before if _FORCE_AFTER_PARTY_RE.match(clause[m.end - base :])]
    chosen = (armed or before)[-1:]
    if not chosen:
        return None
    return _Hit(chosen[0].party, mention.code, mention.start, "stated")


def _resolve_unnamed_host(
    hit: _Hit, pairs: dict[tuple[str, str], _Pair], analysed: list[_Analysed]
) -> str | None:
    code = hit.deploying.ref.code
    # 1. The text already says where this party withdraws from.
    same = sorted((p for p in pairs.values() if p.deploying.code == code), key=lambda p: p.order)
    if same:
        return same[0].host.code
    # 2. "Russian forces in Ukraine" elsewhere in the text.
    for item in analysed:
        text, base = item.sentence.text, item.sentence.start
        for left, right in zip(item.parties, item.parties[1:], strict=False):
            if left.code == code and right.party.ref.kind == "state" and right.code != code:
                if _FORCES_IN_RE.match(text[left.end - base : right.start - base]):
                    return right.code
    # 3. "The junta expelled French forces": the host is the text's main host.
    if pairs:
        return min(pairs.values(), key=lambda p: p.order).host.code
    # 4. The state the text talks about most, other than the party itself.
    counts: dict[str, int] = {}
    for item in analysed:
        for m in item.parties:
            if m.party.ref.kind == "state" and m.code != code:
                counts[m.code] = counts.get(m.code, 0) + 1
    if counts:
        best = max(counts, key=lambda c: counts[c])
        if counts[best] >= 2 or (hit.how == "unnamed_of" and len(counts) == 1):
            return best
    return None


# -- Step 3: attach sentences and give dates their roles --------------------------------------
def _attach(item: _Analysed, pairs: dict[tuple[str, str], _Pair], reference: datetime.date) -> None:
    if not pairs:
        return
    targets = _targets(item, pairs)
    if not targets:
        return
    # What a sentence says about its dates does not depend on the pair: read it once, even
    # when the sentence is about several withdrawals ("out of Mali, Burkina Faso and Niger").
    deadline_is_completion = bool(_DEADLINE_IS_COMPLETION_RE.search(item.sentence.text))
    reduction = _reduction(item)
    candidates: dict[int, _Candidate | None] = {}
    for pair, segment_start, segment_end in targets:
        pair.sentences += 1
        if deadline_is_completion:
            pair.deadline_is_completion = True
        for index, mention in enumerate(item.dates):
            if segment_start <= mention.start < segment_end:
                if index not in candidates:
                    candidates[index] = _date_candidate(item, mention)
                if candidates[index]:
                    pair.candidates.append(candidates[index])
        if reduction and segment_start <= reduction.start < segment_end:
            pair.sizes.append((5, reduction.start, reduction, item.evidence))
        for size in item.sizes:
            if segment_start <= size.start < segment_end:
                if reduction and reduction.start <= size.start < reduction.end:
                    continue  # the level before a cut is not the force that leaves
                score = _size_score(item, size, pair, reference)
                if score is not None:
                    pair.sizes.append((score, size.start, size, item.evidence))
        if not item.dates:
            for kind, pattern in _UNDATED_MILESTONES:
                if pattern.search(item.sentence.text):
                    clause = _clause_text(item, item.sentence.start)
                    pair.undated.append((kind, item.evidence, clause))


_UNDATED_MILESTONES = [
    ("equipment_removal", re.compile(r"\bremov\w*\s+(?:\S+\s+){0,6}?equipment\b", re.I)),
    (
        "withdrawal_start",
        re.compile(r"\b(?:ha(?:ve|s|d)\s+)?(?:started|begun|began)\s+the\s+withdrawal\b", re.I),
    ),
]


def _targets(item: _Analysed, pairs: dict[tuple[str, str], _Pair]):
    end = item.sentence.end
    if item.hits:
        hits = sorted(item.hits, key=lambda h: h.anchor)
        out = []
        for i, hit in enumerate(hits):
            pair = pairs.get((hit.deploying.ref.code, hit.host))
            if pair is None:
                continue
            start = item.sentence.start if i == 0 else hit.anchor
            stop = hits[i + 1].anchor if i + 1 < len(hits) and hits[i + 1].how == "stated" else end
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
        and _LOCATIVE_BEFORE_RE.search(text, max(0, m.start - base - 12), m.start - base)
        for m in item.parties
    )
    if elsewhere:  # "The mission will continue in Syria until 2026": another place's dates
        by_deploying = []
    chosen = (both or by_host or by_deploying)[:1]
    if not chosen and not item.parties:
        chosen = ordered[:1]
    return [(p, item.sentence.start, end) for p in chosen]


_LOCATIVE_BEFORE_RE = fastre.compile(r"\b(?:in|to|from|into|of)\s+(?:the\s+)?$", re.IGNORECASE)


def _clause_of(item: _Analysed, offset: int) -> tuple[int, int]:
    for start, end in item.clauses:
        if start <= offset < end:
            return start, end
    return item.sentence.start, item.sentence.end


def _clause_text(item: _Analysed, offset: int) -> str:
    start, end = _clause_of(item, offset)
    return item.sentence.text[start - item.sentence.start : end - item.sentence.start].strip()


def _date_candidate(item: _Analysed, mention: DateMention) -> _Candidate | None:
    base = item.sentence.start
    clause_start, clause_end = _clause_of(item, mention.start)
    clause = item.sentence.text[clause_start - base : clause_end - base]
    left = clause[: mention.start - clause_start]
    right = clause[mention.end - clause_start :]
    phrase_left = clause[
        : max(
            0, mention.start - clause_start - (len(mention.phrase) - (mention.end - mention.start))
        )
    ]

    def candidate(role: str, kind: str, direction: str, strength: int = 1) -> _Candidate:
        return _Candidate(
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
        if (
            mention.lead == "by"
            and _PAST_COMPLETION_RE.search(clause)
            and not _FUTURE_RE.search(clause)
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
    item: _Analysed, mention: DateMention, clause_start: int, clause_end: int
) -> bool:
    return any(
        other.duration is None
        and other.nearest is not None
        and other.lead in _DEADLINE_LEADS
        and clause_start <= other.start < clause_end
        for other in item.dates
    )


# A clause with several dates is read once, not once per date.
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
    for kind, pattern in _CUE_RES:
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


_REDUCTION_RE = fastre.compile(
    rf"\b(?:reduc\w*|cut\w*|draw\w*\s+down|drawdown|lower\w*|trim\w*|shrink\w*|bring\w*\s+down)"
    rf"\b[^.;]{{0,80}}?\bfrom\s+(?:(?P<qual>{QUALIFIER_WORDS})\s+)?(?P<before>{NUMBER})\b"
    rf"(?:\s+[\w.-]+){{0,3}}?\s+to\s+(?:(?:about|around|roughly|some)\s+)?(?P<after>{NUMBER})\b",
    re.IGNORECASE,
)


def _reduction(item: _Analysed) -> ForceSize | None:
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


def _size_score(
    item: _Analysed, size: ForceSize, pair: _Pair, reference: datetime.date
) -> int | None:
    clause_start, clause_end = _clause_of(item, size.start)
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
    if any(
        m.code == pair.deploying.code and size.start <= m.start < size.end + 40
        for m in item.parties
    ):
        score += 1
    lead_in = item.sentence.text[max(0, size.start - base - 50) : size.start - base]
    if _PEAK_RE.search(re.split(r"[,;]", lead_in)[-1]):
        score -= 1
    return score


_EVENT_END_GAP_RE = fastre.compile(
    r"\b(?:end\w*|expir\w*|lapse\w*|run\w*\s+out|over|conclud\w*)\b", re.IGNORECASE
)


_END_OF_BEFORE_RE = fastre.compile(
    r"\b(?:end|expiry|expiration|close|termination|lapse)\s+of\s+(?:the\s+|its\s+|their\s+)?"
    r"(?:[A-Z][\w-]*['’]?s?\s+){0,3}$",
    re.IGNORECASE,
)


def _event_ends(analysed: list[_Analysed]) -> dict[str, datetime.date]:
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
            clause_start, _ = _clause_of(item, mention.start)
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


# -- Step 4: choose -----------------------------------------------------------------------------
def _withdrawal(
    pair: _Pair, reference: datetime.date, events: dict[str, datetime.date]
) -> tuple[int, WithdrawalFact]:
    announced = _choose_announced(pair)
    completed = _choose_completed(pair, reference)
    deadline = _choose_deadline(pair, announced, reference, events)
    if deadline is None and pair.deadline_is_completion and completed:
        deadline = completed
    personnel = _choose_personnel(pair, reference)
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


def _fact(candidate: _Candidate, date: datetime.date | None = None) -> DateFact:
    return DateFact(
        date=date or candidate.date,
        precision=candidate.mention.precision,
        phrase=candidate.mention.phrase,
        evidence=candidate.evidence,
    )


_PRECISION_RANK = {"day": 0, "month": 1, "year": 2}


def _choose_announced(pair: _Pair) -> DateFact | None:
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


def _choose_completed(pair: _Pair, reference: datetime.date) -> DateFact | None:
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
    pair: _Pair,
    announced: DateFact | None,
    reference: datetime.date,
    events: dict[str, datetime.date],
) -> DateFact | None:
    options: list[tuple[_Candidate, datetime.date]] = []
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


def _choose_personnel(pair: _Pair, reference: datetime.date) -> PersonnelFact | None:
    if not pair.sizes:
        return None
    score, _, size, evidence = max(pair.sizes, key=lambda s: (s[0], -s[1]))
    return PersonnelFact(value=size.value, qualifier=size.qualifier, evidence=evidence)


def _milestones(
    pair: _Pair,
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


# -- Deployments --------------------------------------------------------------------------------
_DEPLOY_TO_RE = fastre.compile(r"\b(?:to|into|in)\s+(?:the\s+)?$", re.IGNORECASE)


def _deployments(analysed: list[_Analysed], pairs: dict) -> list[DeploymentFact]:
    found: dict[tuple[str, str], DeploymentFact] = {}
    for item in analysed:
        if item.hits:
            continue
        text, base = item.sentence.text, item.sentence.start
        for cue in DEPLOYMENT_RE.finditer(text):
            cue_at = base + cue.start()
            hosts = [
                m
                for m in item.parties
                if m.start > cue_at
                and m.party.ref.kind == "state"
                and _DEPLOY_TO_RE.search(text[: m.start - base])
                and m.start - cue_at < 160
            ]
            deploying = [
                m
                for m in item.parties
                if (m.start < cue_at or _FORCE_AFTER_PARTY_RE.match(text[m.end - base :]))
                and not _LOCATIVE_BEFORE_RE.search(
                    text, max(0, m.start - base - 12), m.start - base
                )
            ]
            if not hosts or not deploying:
                continue
            host = hosts[0]
            party = next((m for m in deploying if m.code != host.code), None)
            if party is None:
                continue
            known = found.get((party.code, host.code))
            if known and (known.personnel or not item.sizes):
                continue
            sizes = item.sizes
            personnel = (
                PersonnelFact(sizes[0].value, sizes[0].qualifier, item.evidence) if sizes else None
            )
            found[(party.code, host.code)] = DeploymentFact(
                deploying=party.party.ref,
                host=STATES[host.code],
                personnel=personnel,
                since=None,
                evidence=item.evidence,
            )
    return list(found.values())
