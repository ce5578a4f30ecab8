"""What is not a withdrawal: deployments, reinforcements, exercises and rotations, kept apart so
that they never become withdrawals.
"""

from __future__ import annotations

import re

from . import fastre
from .model import DeploymentFact, PersonnelFact
from .parties import FORCE_AFTER_PARTY_RE
from .places import STATES
from .records import LOCATIVE_BEFORE_RE, Analysed
from .triggers import DEPLOYMENT_RE

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
