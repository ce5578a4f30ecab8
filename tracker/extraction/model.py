"""Plain dataclasses for what the extractor finds; `to_dict()` gives the JSON contract."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

MILESTONE_KINDS = (
    "announcement",
    "agreement",
    "order_to_leave",
    "withdrawal_start",
    "base_handover",
    "equipment_removal",
    "personnel_update",
    "deadline",
    "completion",
    "other",
)


@dataclass(frozen=True)
class Evidence:
    """The sentence a fact was read from; `text == input[start:end]`."""

    text: str
    start: int
    end: int

    def to_dict(self) -> dict:
        return {"text": self.text, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class PartyRef:
    code: str
    name: str
    kind: str  # "state" or "organisation"

    def to_dict(self) -> dict:
        return {"code": self.code, "name": self.name}


@dataclass(frozen=True)
class DateFact:
    date: datetime.date
    precision: str  # "day", "month" or "year"; month/year dates are the period's last day
    phrase: str  # the words the date was read from, e.g. "by September 15th"
    evidence: Evidence
    # False when the date was read from a relative expression ("on Thursday", "next month")
    # and the text gives no reference day (no publication date, dateline or year): `date` is
    # then only a reading against the day the text was processed, not a known date.
    anchored: bool = True
    # How likely the date is right for its role, calibrated on the real-text corpus
    # (docs/extraction.md): of dates at 0.8 or more, at least 95% are right; below 0.5 is
    # a guess to be checked.
    confidence: float = 0.5

    def to_dict(self) -> dict:
        # An unanchored date is no date: the JSON gives none, and the reading against the day
        # of processing only as `reading`, so no consumer takes it for a known day.
        return {
            "date": self.date.isoformat() if self.anchored else None,
            "precision": self.precision,
            "evidence": self.evidence.to_dict(),
            "anchored": self.anchored,
            "confidence": self.confidence,
            **({} if self.anchored else {"reading": self.date.isoformat()}),
        }


@dataclass(frozen=True)
class PersonnelFact:
    value: int
    qualifier: str  # "exact", "approximately", "more than", "up to" or "at least"
    evidence: Evidence

    def to_dict(self) -> dict:
        return {
            "value": self.value,
            "qualifier": self.qualifier,
            "evidence": self.evidence.to_dict(),
        }


@dataclass(frozen=True)
class MilestoneFact:
    kind: str  # one of MILESTONE_KINDS
    date: DateFact | None
    summary: str
    evidence: Evidence

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "date": _or_none(self.date),
            "summary": self.summary,
            "evidence": self.evidence.to_dict(),
        }


@dataclass(frozen=True)
class PhaseFact:
    """One part of a withdrawal with its own scope, date or size ("Baghdad by September 2025",
    "the first 200 soldiers by the end of January"). Never a superseded deadline."""

    scope: str  # the words that say which part: "Baghdad and federal Iraq", "phase two"
    deadline: DateFact | None
    completed_on: DateFact | None
    personnel: PersonnelFact | None
    evidence: Evidence

    def to_dict(self) -> dict:
        return {
            "scope": self.scope,
            "deadline": _or_none(self.deadline),
            "completed_on": _or_none(self.completed_on),
            "personnel": _or_none(self.personnel),
            "evidence": self.evidence.to_dict(),
        }


@dataclass
class WithdrawalFact:
    deploying: PartyRef
    host: PartyRef
    personnel: PersonnelFact | None = None
    announced_on: DateFact | None = None
    deadline: DateFact | None = None
    completed_on: DateFact | None = None
    milestones: list[MilestoneFact] = field(default_factory=list)
    phases: list[PhaseFact] = field(default_factory=list)
    # How likely this withdrawal (this party leaving this host) is stated by the text,
    # calibrated on the real-text corpus like DateFact.confidence.
    confidence: float = 0.5
    summary: str = ""

    def to_dict(self) -> dict:
        return {
            "deploying": self.deploying.to_dict(),
            "host": self.host.to_dict(),
            "personnel": _or_none(self.personnel),
            "announced_on": _or_none(self.announced_on),
            "deadline": _or_none(self.deadline),
            "completed_on": _or_none(self.completed_on),
            "milestones": [m.to_dict() for m in self.milestones],
            "phases": [p.to_dict() for p in self.phases],
            "confidence": self.confidence,
        }


@dataclass
class DeploymentFact:
    """A deployment, reinforcement, exercise or temporary move: never a withdrawal."""

    deploying: PartyRef
    host: PartyRef
    personnel: PersonnelFact | None
    since: DateFact | None
    evidence: Evidence


@dataclass
class ExtractionResult:
    reference_date: datetime.date
    # Where the reference day came from: "published" (given), "dateline", "weekday" (a dated
    # weekday such as "Monday, May 20th"), "text" (the latest day the text states) or "today"
    # (none: relative dates are then not anchored).
    reference_source: str = "published"
    withdrawals: list[WithdrawalFact] = field(default_factory=list)
    deployments: list[DeploymentFact] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "reference_date": self.reference_date.isoformat(),
            "reference_source": self.reference_source,
            "withdrawals": [w.to_dict() for w in self.withdrawals],
        }

    def to_text(self) -> str:
        lines = [f"Reference date: {self.reference_date.isoformat()}"]
        if not self.withdrawals:
            lines.append("No withdrawal found.")
        for w in self.withdrawals:
            lines.append(f"- {w.summary} (confidence {w.confidence:.2f})")
            if w.personnel:
                lines.append(f"    personnel: {w.personnel.qualifier} {w.personnel.value:,}")
            for label, date in (
                ("announced", w.announced_on),
                ("deadline", w.deadline),
                ("completed", w.completed_on),
            ):
                if date:
                    lines.append(f"    {label}: {_date_text(date)}")
            for m in w.milestones:
                when = _date_text(m.date) if m.date else "undated"
                lines.append(f"    milestone {m.kind}: {when}: {m.summary}")
            for p in w.phases:
                parts = [f"    phase “{p.scope}”"]
                if p.personnel:
                    parts.append(f"{p.personnel.qualifier} {p.personnel.value:,}")
                if p.deadline:
                    parts.append(f"due {_date_text(p.deadline)}")
                if p.completed_on:
                    parts.append(f"completed {_date_text(p.completed_on)}")
                lines.append(parts[0] + (": " + ", ".join(parts[1:]) if parts[1:] else ""))
        for d in self.deployments:
            size = f" ({d.personnel.qualifier} {d.personnel.value:,})" if d.personnel else ""
            lines.append(f"- deployment: {d.deploying.name} to {d.host.name}{size}")
        return "\n".join(lines)


def _or_none(value) -> dict | None:
    return value.to_dict() if value is not None else None


def _date_text(date: DateFact) -> str:
    anchored = "" if date.anchored else ", not anchored: no reference day in the text"
    return f"{date.date.isoformat()} ({date.precision}, “{date.phrase}”{anchored})"
