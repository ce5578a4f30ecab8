"""Trigger lexicon and frames: the words that state a withdrawal, and who leaves where.

A trigger ("withdraw", "pull out of", "bring ... home", "hand over") is read with the frame
around it: the host after "from"/"out of"/"in", the leaving party before it or right after
("the withdrawal of Soviet forces"), an order given to a party ("gave French forces a month to
leave"), a mission brought to a close, a host named in front of the noun ("Mali withdrawal").
"""

from __future__ import annotations

import re

from . import fastre, lexicon
from .negatives import CALL_ON_RE as _CALL_ON_RE
from .negatives import voided
from .numbers import FORCE_NOUNS
from .parties import (
    FORCE_AFTER_PARTY_RE,
    OF_ARMED_PARTY_RE,
    can_be_host,
    deploying_mention,
    listed_after,
    listed_before,
)
from .places import PartyMention
from .records import Analysed, Hit

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
    r"|\b(?:be|are|were|is|was|been|being)\s+(?:all\s+)?out\s+of\b"
    r"|\bhand(?:s|ed|ing)?\s+(?:\S+\s+){0,8}?over\b|\bhand-?overs?\b|\bhandovers?\b"
    r"|\bclos(?:e|es|ed|ing|ure)\s+(?:of\s+)?(?:\w+\s+){0,4}?(?:bases?|camps?|sites?|mission|presence)\b"
    r"|\bend(?:s|ed|ing)?\s+(?:\S+\s+){0,5}?(?:mission|presence|deployment|operations?)\b"
    r"|\bterminat\w*|\bwind(?:s|ing)?\s+down\b|\bwound\s+down\b"
    r"|\bdisengag\w*|\brepatriat\w*|\bretrograde\b"
    # "reduce its forces in X", not "a reduced presence in X" (an adjective).
    r"|\breduc(?:e|es|ing|tions?)\b|\brun-?downs?\b|\brun(?:s|ning)?\s+down\b|\b(?:reduced|cut|cuts|cutting)\s+"
    r"(?=(?:its|their|the|his|her|about|some|roughly|around|back|\d)\b)"
    r"|\b(?:bring|brings|bringing|brought|draw|draws|drawing|drew|come|comes|came|coming)\s+"
    r"(?:\S+\s+){0,8}?to\s+(?:a\s+close|an\s+end|a\s+(?:[\w-]+\s+(?:and\s+)?){0,3}?conclusion)\b"
    r"|\breturn(?:s|ed|ing)?\s+(?:\w+\s+){0,5}?(?:bases?|sites?|camps?)\b"
    # "redeploy 9,500 troops from Germany", "repositioned from Germany", "returning from Iraq".
    r"|\b(?:reposition\w*|relocat\w*|redeploy\w*|return(?:s|ed|ing)?|mov(?:e|es|ed|ing)|"
    r"transferr?(?:s|ed|ing)?|shift(?:s|ed|ing)?)(?=\s+(?:\S+\s+){0,6}?from\s)",
    re.IGNORECASE,
)
# "Coming home" alone does not say from where: such a cue never creates a withdrawal.
# A move "from" a place says where from only when the place is named: "moved from Gao" is no
# withdrawal from Mali. Such cues need a named host too.
_WEAK_TRIGGER_RE = fastre.compile(
    r"home\b|evacuat|^(?:reposition|relocat|redeploy|return|mov|transfer|shift)\w*$", re.IGNORECASE
)
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
# A sentence worth analysing holds a word starting with one of these stems: a superset of the
# cue patterns above, checked with one set lookup per word (far cheaper than a regex).
_RELEVANT_STEMS = lexicon.words("relevant_stems.txt")
_STEM4 = {stem[:4] for stem in _RELEVANT_STEMS if len(stem) >= 4}
_SHORT_WORDS = {stem for stem in _RELEVANT_STEMS if len(stem) < 4}
_WORD_RE = fastre.compile(r"[a-z]+")


def is_relevant(sentence: str) -> bool:
    return any(
        word[:4] in _STEM4 or word in _SHORT_WORDS for word in _WORD_RE.findall(sentence.lower())
    )


_HOST_FROM_RE = fastre.compile(
    # "from their stations in Malaysia", "out of the city of Kherson".
    r"^[^;:!?]{0,80}?\b(?:from|out\s+of)\s+(?:the\s+)?(?:[a-z][\w-]*\s+){0,3}$",
    re.IGNORECASE,
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


_END_OF_MISSION_BEFORE_RE = fastre.compile(
    r"\b(?:mission|presence|deployment|operations?)(?:\s+of\s+[^,;]{0,60}?)?\s+in\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_END_OF_MISSION_AFTER_RE = fastre.compile(
    r"^\s+(?:to\s+(?:a\s+close|an\s+end|a\s+(?:[\w-]+\s+(?:and\s+)?){0,3}?conclusion)|"
    r"(?:is|was|will|would|shall)\s+(?:\w+\s+){0,2}?"
    r"(?:end|close|over|terminated|conclude))",
    re.IGNORECASE,
)


def sentence_hits(item: Analysed) -> list[Hit]:
    text, base = item.sentence.text, item.sentence.start
    hits: list[Hit] = []
    if not item.parties:  # every pattern below needs a party to name
        return hits
    for clause_start, clause_end in item.clauses:
        clause = text[clause_start - base : clause_end - base]
        mentions = [m for m in item.parties if clause_start <= m.start < clause_end]
        if not mentions:  # a clause that names no party states no pair
            continue
        triggers = list(WITHDRAWAL_RE.finditer(clause))
        for trigger in triggers:
            for hit in _withdrawal_hits(clause, clause_start, trigger, mentions):
                if not voided(clause, clause_start, trigger.start(), mentions, hit.host):
                    hits.append(hit)
        for order in ORDER_RE.finditer(clause):
            hit = _order_hit(clause, clause_start, order, mentions)
            if hit and not _CALL_ON_RE.match(order.group()):
                if not voided(clause, clause_start, order.start(), mentions, hit.host):
                    hits.append(hit)
        for mention in mentions:
            hit = _end_of_mission_hit(clause, clause_start, mention, mentions)
            hit = hit or _named_withdrawal_hit(clause, clause_start, mention, mentions)
            hit = hit or _forces_in_hit(clause, clause_start, mention, mentions)
            cue_at = mention.start - clause_start
            if hit and not voided(clause, clause_start, cue_at, mentions, hit.host):
                hits.append(hit)
        if triggers:
            # A mission that a contributor leaves ("the UK contingent ... leaving MINUSMA") is
            # the place left, not the party leaving.
            left = {h.anchor for h in hits if h.deploying and h.deploying.ref.kind == "state"}
            cue_at = triggers[0].start()
            for mention in mentions:
                if not mention.party.mission_host or mention.start in left:
                    continue
                # "the withdrawal of UNMIN staff", a rotation's handover: not the mission leaving.
                staff = _NON_MILITARY_OBJECT_RE.search(clause) and not _FORCE_WORD_RE.search(clause)
                if staff or voided(
                    clause, clause_start, cue_at, mentions, mention.party.mission_host
                ):
                    continue
                for host in (mention.party.mission_host, *mention.party.also_hosts):
                    hits.append(Hit(mention.party, host, mention.start, "stated"))
    unique: dict[tuple[str, str | None], Hit] = {}
    for hit in sorted(hits, key=lambda h: h.how != "order"):  # "order" knows the host is main
        code = hit.deploying.ref.code if hit.deploying else None
        unique.setdefault((code, hit.host), hit)
    named = {code for code, host in unique if host}
    return [h for (code, host), h in unique.items() if host or code not in named]


def _withdrawal_hits(
    clause: str, base: int, trigger: re.Match, mentions: list[PartyMention]
) -> list[Hit]:
    weak = bool(_WEAK_TRIGGER_RE.search(trigger.group()))
    after = [m for m in mentions if m.start >= base + trigger.end()]
    hosts: list[PartyMention] = []
    for mention in after:
        # "leaving the UN's MINUSMA mission": the owner of a mission stands between.
        gap = _OWNER_RE.sub(" ", clause[trigger.end() : mention.start - base])
        mission = mention.party.mission_host is not None
        if len(gap) > 90 or not (mission or can_be_host(clause, base, mention)):
            continue
        ends_with_out_of = trigger.group().lower().endswith(("out of", "home"))
        if (
            _HOST_FROM_RE.match(gap)
            or (ends_with_out_of and _HOST_DIRECT_RE.match(gap))
            or (_LEAVE_OBJECT_RE.match(trigger.group()) and _HOST_DIRECT_RE.match(gap))
            or (not weak and not mission and _HOST_PRESENCE_RE.match(trigger.group()[-40:] + gap))
            or (trigger.group().lower().endswith("over") and _HOST_HANDOVER_RE.match(gap))
            or (_HANDOVER_RE.match(trigger.group()) and _HOST_HANDED_TO_RE.match(gap))
        ):
            if _NON_MILITARY_OBJECT_RE.search(gap) and not MILITARY_RE.search(gap):
                return []
            hosts = [mention] + listed_after(clause, base, mention, after)
            break
    subject = deploying_mention(clause, base, trigger, hosts[0] if hosts else None, mentions)
    if subject is None:
        # "A minimum of 60,000 troops will be withdrawn from Vietnam": the text names the
        # leaving party elsewhere (resolved in the pipeline).
        if hosts and _FORCE_WORD_RE.search(
            clause[: trigger.start()][-80:] + clause[trigger.end() :][:60]
        ):
            return [Hit(None, _host_code(h), h.start, "no_party") for h in hosts]
        return []
    subjects = listed_before(clause, base, subject, mentions) + [subject]
    if hosts:
        # "in Afghanistan and Iraq by Jan. 15": the hosts share what the sentence says of them;
        # "Mali in 2022, Burkina Faso in 2023": each host has its own dates.
        anchors = [hosts[0].start]
        for previous, host in zip(hosts, hosts[1:], strict=False):
            gap = clause[previous.end - base : host.start - base]
            anchors.append(anchors[-1] if not _DATE_IN_GAP_RE.search(gap) else host.start)
        hits = []
        for party in (m.party for m in subjects):
            for h, anchor in zip(hosts, anchors, strict=True):
                code = _host_code(h)
                # "The UK contingent will be leaving MINUSMA": the UK leaves Mali. A mission
                # leaving itself, or a mission named as the host of its own party, is no pair.
                if h.party.mission_host and party.ref.kind != "state":
                    continue
                if code != party.ref.code:
                    hits.append(Hit(party, code, anchor, "stated"))
        return hits
    deploying = subject.party
    if weak:
        return []
    rest = clause[trigger.end() :]
    if OF_ARMED_PARTY_RE.match(rest):  # "the withdrawal of Soviet forces" (from where: see text)
        return [Hit(deploying, None, base + trigger.start(), "unnamed_of")]
    # "left the European Union", "withdraw from the treaty": no place, no withdrawal of troops.
    object_at = base + trigger.end() + len(rest) - len(rest.lstrip()) + 40
    if _NOT_A_PLACE_RE.match(rest) or any(
        base + trigger.end() <= m.start < object_at for m in mentions
    ):
        return []
    if _UNNAMED_PLACE_RE.match(rest) or re.match(r"^\s+(?:\S+\s+){0,4}?(?:from|out\s+of)\s", rest):
        return [Hit(p.party, None, base + trigger.start(), "unnamed") for p in subjects]
    return []


_OWNER_RE = fastre.compile(
    r"\s(?:the\s+)?(?:UN|U\.N\.|United\s+Nations|African\s+Union|AU|EU)(?:['’]s?)?\s+$"
)
_DATE_IN_GAP_RE = fastre.compile(
    r"\d|\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)|\b(?:year|month)\b"
)


def _host_code(mention: PartyMention) -> str:
    return mention.party.mission_host or mention.code


_FORCE_WORD_RE = fastre.compile(rf"\b(?:{FORCE_NOUNS}|soldier|troop|contingent)\b", re.IGNORECASE)


_NOT_A_PLACE_RE = fastre.compile(
    r"^\s+(?:\S+\s+){0,3}?(?:the\s+)?(?:\w+\s+)?(?:treaty|agreement|accord|deal|talks|pact|"
    r"convention|organi[sz]ation|union|alliance|bloc|club|race|election|negotiations|"
    r"coalition\s+government|government|cabinet|league|court)\b",
    re.IGNORECASE,
)


_WITHDRAWAL_OF_RE = fastre.compile(
    r"\s+(?:the\s+)?(?:\w+\s+)?(?:withdrawal|departure|pull-?out|exit|repatriation)\s+of\s+"
    r"(?:the\s+|its\s+|their\s+|all\s+)?(?:[\d,.]+\s+)?$",
    re.IGNORECASE,
)


def _order_hit(clause: str, base: int, order: re.Match, mentions: list[PartyMention]) -> Hit | None:
    """ "Burkina Faso gives French special forces one month to leave"; "expelled French forces"."""
    after = [m for m in mentions if base + order.end() <= m.start <= base + order.end() + 60]
    if not after:
        return None
    deploying = after[0]
    expel = bool(_EXPEL_RE.match(order.group()))
    rest = clause[deploying.end - base : deploying.end - base + 100]
    # "Sudan requested the withdrawal of the 10,400 peacekeepers": the noun comes first.
    if _WITHDRAWAL_OF_RE.match(clause, order.end() - base, deploying.start - base):
        expel = True
    if not expel and not _LEAVE_AFTER_ORDER_RE.search(rest):
        return None
    if deploying.party.form == "adjective" and not FORCE_AFTER_PARTY_RE.match(rest):
        return None
    if not expel and not (FORCE_AFTER_PARTY_RE.match(rest) or MILITARY_RE.search(rest[:80])):
        return None
    before = [m for m in mentions if m.end <= base + order.start() and m.party.ref.kind == "state"]
    host = before[-1] if before else None
    if host and host.code != deploying.code:
        return Hit(deploying.party, host.code, host.start, "stated")
    return Hit(deploying.party, None, base + order.start(), "order")


def _end_of_mission_hit(
    clause: str, base: int, mention: PartyMention, mentions: list[PartyMention]
) -> Hit | None:
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
    return Hit(before[-1].party, mention.code, mention.start, "stated")


_WITHDRAWAL_NOUN_AFTER_RE = fastre.compile(
    r"^\s+(?:troop\s+|military\s+)?(?:withdrawal|pull-?out|pullback|drawdown|exit|departure)\b",
    re.IGNORECASE,
)


def _named_withdrawal_hit(
    clause: str, base: int, mention: PartyMention, mentions: list[PartyMention]
) -> Hit | None:
    """ "Britain brings Mali withdrawal forward": a host named in front of the noun."""
    if mention.party.ref.kind != "state" or mention.party.form == "adjective":
        return None
    if not _WITHDRAWAL_NOUN_AFTER_RE.match(clause[mention.end - base :]):
        return None
    before = [m for m in mentions if m.end <= mention.start and m.code != mention.code]
    if not before:
        return None
    return Hit(before[-1].party, mention.code, mention.start, "stated")


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
) -> Hit | None:
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
    armed = [m for m in before if FORCE_AFTER_PARTY_RE.match(clause[m.end - base :])]
    chosen = (armed or before)[-1:]
    if not chosen:
        return None
    return Hit(chosen[0].party, mention.code, mention.start, "stated")
