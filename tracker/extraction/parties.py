"""Party and place resolution: which mention is the leaving party, which is the host.

The gazetteer (`places.py`) says who a word names; this module says what role it plays in a
clause: "French troops" name the party that leaves, "from Mali" the host, "Mali, Burkina Faso
and Niger" a list of hosts, and a host left unnamed ("out of the city") is resolved from the
rest of the text.
"""

from __future__ import annotations

import re

from . import fastre
from .numbers import FORCE_NOUNS
from .places import Party, PartyMention
from .records import Analysed, Hit, Pair

_NOT_A_HOST_AFTER_RE = fastre.compile(
    r"^['’]?\s*(?:Agreement|Accord|Treaty|Convention|Club|Summit|Declaration|Protocol|"
    r"agreement|accord|treaty|talks|deal|pact|process)\b"
)
_ADJECTIVE_HOST_NOUN_RE = fastre.compile(
    r"^\s+(?:territory|soil|army|military|armed\s+forces|authorities|forces|government|side|"
    r"bases?|capital|airspace|border)\b",
    re.IGNORECASE,
)


FORCE_AFTER_PARTY_RE = fastre.compile(
    rf"^\s+(?:[\w.-]+\s+){{0,3}}?(?:{FORCE_NOUNS}|soldier|troop|contingent|military|army)\b",
    re.IGNORECASE,
)
FORCES_IN_RE = fastre.compile(
    r"^\s+(?:\w+\s+){0,2}?(?:forces|troops|soldiers|military|contingent)\s+in\s+(?:the\s+)?$",
    re.IGNORECASE,
)


OF_ARMED_PARTY_RE = fastre.compile(
    # "the withdrawal of the roughly 1,000 French soldiers": sizes and qualifiers may intervene.
    # "of up to 2,000 United Nations military personnel", "of the 10,400 peacekeepers".
    rf"^\s+of\s+(?:the\s+|its\s+|their\s+)?(?:(?:last|remaining|all|some|about|roughly|around|"
    rf"nearly|almost|approximately|estimated|up\s+to|more\s+than|over|[\d,.]+)\s+){{0,3}}"
    rf"(?:(?:[A-Z][\w.'’-]*\s+){{1,3}}(?:[a-z]+\s+){{0,2}}?(?:{FORCE_NOUNS})|peacekeepers|"
    rf"blue\s+helmets)\b"
)


def can_be_host(clause: str, base: int, mention: PartyMention) -> bool:
    if mention.party.ref.kind != "state":
        return False
    after = clause[mention.end - base :]
    if _NOT_A_HOST_AFTER_RE.match(after):
        return False
    if mention.party.form == "adjective":
        return bool(_ADJECTIVE_HOST_NOUN_RE.match(after))
    return True


_LIST_GAP_RE = fastre.compile(r"^[\s,]*(?:(?:in|at|by|on|and|or)\b[\s,]*){0,3}$", re.IGNORECASE)


def listed_after(
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


_LIST_BEFORE_GAP_RE = fastre.compile(
    r"^\s*(?:,\s*(?:and\s+)?|and\s+|as\s+well\s+as\s+)(?:the\s+)?$", re.IGNORECASE
)


def listed_before(clause: str, base: int, last: PartyMention, mentions: list[PartyMention]):
    """ "Uganda, Angola, Zimbabwe and Rwanda withdrew": the states listed before the subject."""
    listed: list[PartyMention] = []
    following = last
    for mention in reversed([m for m in mentions if m.end <= last.start]):
        gap = clause[mention.end - base : following.start - base]
        if not _LIST_BEFORE_GAP_RE.match(gap) or mention.party.ref.kind != "state":
            break
        listed.append(mention)
        following = mention
    return listed[::-1]


_REACTION_RE = fastre.compile(
    r"\b(?:hail\w*|welcom\w*|prais\w*|applaud\w*|commend\w*|not(?:e|ed|es|ing)|stress\w*|"
    r"support\w*|condemn\w*|criticis\w*|criticiz\w*|regret\w*|deplor\w*|monitor\w*|"
    r"verif\w*|observ\w*)\b",
    re.IGNORECASE,
)


def deploying_party(
    clause: str,
    base: int,
    trigger: re.Match,
    host: PartyMention | None,
    mentions: list[PartyMention],
) -> Party | None:
    mention = deploying_mention(clause, base, trigger, host, mentions)
    return mention.party if mention else None


def deploying_mention(
    clause: str,
    base: int,
    trigger: re.Match,
    host: PartyMention | None,
    mentions: list[PartyMention],
) -> PartyMention | None:
    # Without a host, only "the withdrawal of Soviet forces" right after the cue names the party.
    if host is not None:
        host_start = host.start
    elif OF_ARMED_PARTY_RE.match(clause[trigger.end() :]):
        host_start = base + trigger.end() + 40
    else:
        host_start = base + trigger.end()
    candidates = [m for m in mentions if host is None or m.code != host.code]
    # "the withdrawal of the 10,400 peacekeepers": the force noun names the party itself.
    if OF_ARMED_PARTY_RE.match(clause[trigger.end() :]):
        named = [
            m
            for m in candidates
            if base + trigger.end() <= m.start < host_start and m.party.ref.kind == "organisation"
        ]
        if named:
            return named[0]
    # 1. "American forces", "French troops": a party naming soldiers, nearest the cue.
    armed = [m for m in candidates if FORCE_AFTER_PARTY_RE.match(clause[m.end - base :])]
    inside = [m for m in armed if base + trigger.start() <= m.start < host_start]
    if inside:
        return inside[0]
    before = [m for m in armed if m.end <= base + trigger.start()]
    if before:
        return before[-1]
    # 2. The subject: the nearest party before the cue ("France's exit", "Russia ... moving").
    before = [
        m
        for m in candidates
        if m.end <= base + trigger.start()
        and not re.search(
            r"\b(?:from|with|between|of|to|in)\s+(?:the\s+)?$", clause[: m.start - base]
        )
        # "Security Council members hail the planned withdrawal": who reacts does not leave.
        and not _REACTION_RE.search(clause, m.end - base, trigger.start())
    ]
    if before:
        return before[-1]
    return None


def resolve_unnamed_host(
    hit: Hit, pairs: dict[tuple[str, str], Pair], analysed: list[Analysed]
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
                if FORCES_IN_RE.match(text[left.end - base : right.start - base]):
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


def resolve_unnamed_party(
    host: str, pairs: dict[tuple[str, str], Pair], analysed: list[Analysed], mission_hosts: dict
) -> Party | None:
    """Who leaves when the sentence does not say ("troops will be withdrawn from Vietnam")."""
    # 1. The party the text already has leaving this host.
    same = sorted((p for p in pairs.values() if p.host.code == host), key=lambda p: p.order)
    if same:
        return next(
            m.party for item in analysed for m in item.parties if m.code == same[0].deploying.code
        )
    # 2. The mission deployed there.
    if host in mission_hosts:
        return mission_hosts[host]
    # 3. The state the text names most, other than the host, if named at least twice.
    counts: dict[str, tuple[int, Party]] = {}
    for item in analysed:
        for m in item.parties:
            if m.party.ref.kind == "state" and m.code != host:
                counts[m.code] = (counts.get(m.code, (0, m.party))[0] + 1, m.party)
    if counts:
        count, party = max(counts.values(), key=lambda c: c[0])
        if count >= 2:
            return party
    return None
