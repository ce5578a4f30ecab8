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

    def to_dict(self) -> dict:
        return {
            "date": self.date.isoformat(),
            "precision": self.precision,
            "evidence": self.evidence.to_dict(),
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


@dataclass
class WithdrawalFact:
    deploying: PartyRef
    host: PartyRef
    personnel: PersonnelFact | None = None
    announced_on: DateFact | None = None
    deadline: DateFact | None = None
    completed_on: DateFact | None = None
    milestones: list[MilestoneFact] = field(default_factory=list)
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
    withdrawals: list[WithdrawalFact] = field(default_factory=list)
    deployments: list[DeploymentFact] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "reference_date": self.reference_date.isoformat(),
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
        for d in self.deployments:
            size = f" ({d.personnel.qualifier} {d.personnel.value:,})" if d.personnel else ""
            lines.append(f"- deployment: {d.deploying.name} to {d.host.name}{size}")
        return "\n".join(lines)


def _or_none(value) -> dict | None:
    return value.to_dict() if value is not None else None


def _date_text(date: DateFact) -> str:
    return f"{date.date.isoformat()} ({date.precision}, “{date.phrase}”)"
