"""What is not a withdrawal, though it may use the same words.

- A demand or call that someone else withdraw ("the Council called on Eritrea to withdraw its
  troops from Djibouti"), unless the one who asks is the host itself ("Burkina Faso asked France
  to withdraw its troops from the country": an order to leave).
- A hypothetical ("if the talks fail, France could withdraw"), a threat, a plan under
  consideration; a denial or a negation ("Russia denied it was withdrawing", "has no plans to
  withdraw", "will not leave").
- An exercise, a rotation or a handover to successors ("replaced by the 4th Infantry Division").
- A deployment, reinforcement or exercise: kept apart as a `DeploymentFact`.

A mandate extension is read in `date_roles` (it moves no deadline); a move inside the same
country never pairs a party with itself (`extractor`).
"""

from __future__ import annotations

import re

from . import fastre
from .model import DeploymentFact, PersonnelFact
from .parties import FORCE_AFTER_PARTY_RE
from .places import STATES, PartyMention
from .records import LOCATIVE_BEFORE_RE, Analysed

DEPLOYMENT_RE = fastre.compile(
    r"\b(?:send(?:s|ing)?|sent|deploy(?:s|ed|ing|ment|ments)?|dispatch\w*|reinforc\w*|"
    r"station(?:s|ed|ing)?|exercises?|drills?|rotat\w*|bolster\w*)\b",
    re.IGNORECASE,
)

# Right before the trigger, within its clause: a negation or a denial.
_NEGATION_BEFORE_RE = fastre.compile(
    r"(?:\b(?:not|never|n['’]t|no\s+(?:plans?|intention|decision)\s+(?:\w+\s+)?(?:to|of)|"
    r"refus\w*\s+to|rul\w*\s+out|den(?:y|ies|ied|ying)\b[^;]{0,60}?|"
    r"reject\w*\b[^;]{0,40}?|dismiss\w*\b[^;]{0,40}?|without)"
    r"(?:\s+(?:\w+\s+){0,3}?)?\s*)$",
    re.IGNORECASE,
)
# A hypothetical: a condition opening the clause, or a modal of possibility before the verb.
_CONDITION_RE = fastre.compile(r"^\W*(?:if|unless|should\s+\w+\s+(?:fail|refuse))\b", re.IGNORECASE)
_MODAL_BEFORE_RE = fastre.compile(
    r"\b(?:could|might|(?-i:may)|threat\w*\s+to|consider\w*|weigh\w*|mull\w*|contemplat\w*|"
    r"would\s+(?:consider|be\s+prepared\s+to|be\s+ready\s+to)|ready\s+to|prepared\s+to|"
    r"option\s+of|possib\w+\s+(?:of|that)|hypothetical\w*)\s+(?:\w+\s+){0,3}?$"
    # "is likely to announce Wednesday the withdrawal", "claimed ... would be withdrawn".
    r"|\b(?:likely|unlikely|possibly|perhaps|claim\w*|rumou?r\w*|speculat\w*)\b[^;]{0,70}$",
    re.IGNORECASE,
)
# "another announcement about troop withdrawals from Afghanistan was likely later this week".
_MODAL_AFTER_RE = fastre.compile(
    r"[^;]{0,80}?\b(?:is|was|are|were|seems?|appears?)\s+(?:\w+\s+)?(?:likely|unlikely|possible|"
    r"under\s+consideration|being\s+considered|not\s+(?:expected|planned))\b",
    re.IGNORECASE,
)
# A demand by someone other than the host: "called on X to", "urged X to", "demanded that X".
_DEMAND_RE = fastre.compile(
    r"\b(?:call(?:s|ed|ing)?\s+(?:on|upon|for)|urg(?:e|es|ed|ing)|appeal\w*|press(?:es|ed|ing)?|"
    r"insist\w*|demand\w*|ask(?:s|ed|ing)?|request\w*|want\w*)\b",
    re.IGNORECASE,
)
# These are always a third party's demand, whoever speaks.
CALL_ON_RE = fastre.compile(r"^(?:call|urg|appeal|press|insist)", re.IGNORECASE)
_REPORT_ASKED_RE = fastre.compile(
    # ... and a member's question to a minister: "asked the Secretary of State if he will
    # make a statement on the withdrawal".
    r"\b(?:report\w*|update|inform\w*|provide|brief\w*|recommend\w*|options|assess\w*|"
    r"plan\s+for|statement|if|whether|what|when)\b",
    re.IGNORECASE,
)
_HOST_GOVERNMENT_RE = fastre.compile(
    r"\b(?:junta|government|authorities|president|prime\s+minister|ministry|military\s+rulers|"
    r"regime|leaders?|parliament)\b",
    re.IGNORECASE,
)
_EXERCISE_RE = fastre.compile(
    r"\b(?:exercises?|drills?|manoeuvres|maneuvers|war\s+games|rotat\w*|replaced\s+by|"
    r"relieved\s+by|(?:incoming|successor|follow-on)\s+(?:unit|contingent|battalion|brigade|"
    r"rotation|force))\b",
    re.IGNORECASE,
)


def voided(
    clause: str, base: int, cue_at: int, mentions: list[PartyMention], host: str | None
) -> str | None:
    """Why the cue at `cue_at` (offset into `clause`) states no withdrawal, or None.

    `base` is the clause's offset in the text (mentions carry text offsets); `host` is the
    place left, when known, so that a host's own demand stays an order to leave.
    """
    before = clause[max(0, cue_at - 100) : cue_at]
    if _NEGATION_BEFORE_RE.search(before[-70:]):
        return "negation"
    if (
        _CONDITION_RE.match(clause)
        or _MODAL_BEFORE_RE.search(before[-90:])
        or _MODAL_AFTER_RE.match(clause, cue_at)
    ):
        return "hypothetical"
    if _EXERCISE_RE.search(clause):
        return "exercise or rotation"
    demands = list(_DEMAND_RE.finditer(before))
    # "requested the Secretary-General to provide an update on the drawdown": a report asked
    # for, not a withdrawal demanded.
    if demands and not _REPORT_ASKED_RE.search(before, demands[-1].end()):
        demand = demands[-1]
        if CALL_ON_RE.match(demand.group()):
            return "demand"
        demand_at = base + max(0, cue_at - 100) + demand.start()
        speakers = [m for m in mentions if m.end <= demand_at]
        speaker = speakers[-1] if speakers else None
        if speaker is None:
            # "The junta demanded that French troops leave" is the host's order; "the
            # resolution demanded that Eritrea withdraw" is a third party's demand.
            if not _HOST_GOVERNMENT_RE.search(before[: demand.start()]):
                return "demand"
        elif speaker.party.ref.kind != "state" or (host is not None and speaker.code != host):
            return "demand"
    return None


# -- Deployments --------------------------------------------------------------------------------
_DEPLOY_TO_RE = fastre.compile(r"\b(?:to|into|in)\s+(?:the\s+)?$", re.IGNORECASE)


def deployments(analysed: list[Analysed], pairs: dict) -> list[DeploymentFact]:
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
                if (m.start < cue_at or FORCE_AFTER_PARTY_RE.match(text[m.end - base :]))
                and not LOCATIVE_BEFORE_RE.search(text, max(0, m.start - base - 12), m.start - base)
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
