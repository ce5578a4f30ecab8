"""Merging extracted facts into records, and counting what corroborates them.

A new source about the same (party, host) adds to that withdrawal: agreeing values add
evidence, disagreeing ones file a Conflict, a new deadline adds a DeadlineRevision, and
anything a person edited (locked fields and milestones) only gets suggestions.
"""

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from tracker import history
from tracker.models import (
    Conflict,
    DeadlineRevision,
    Deployment,
    Evidence,
    Milestone,
    Party,
    Precision,
    Source,
    Withdrawal,
    date_in_range,
)
from tracker.services.alerts import (
    MergeAlertFacts,
    merge_alerts_on_commit,
    phase_alerts_on_commit,
)

# Milestone kinds a withdrawal has at most one of; others (base handovers, personnel
# updates) can happen many times and are told apart by their date.
SINGLE_MILESTONE_KINDS = {
    Milestone.Kind.ANNOUNCEMENT,
    Milestone.Kind.AGREEMENT,
    Milestone.Kind.ORDER_TO_LEAVE,
    Milestone.Kind.WITHDRAWAL_START,
    Milestone.Kind.COMPLETION,
}


# ---------------------------------------------------------------------------------------
# Merging facts into records


@dataclass
class MergeReport:
    """What one source changed, stored on its job and shown to the user."""

    withdrawals_created: list[int] = field(default_factory=list)
    withdrawals_updated: list[int] = field(default_factory=list)
    fields_set: list[str] = field(default_factory=list)
    evidence_added: int = 0
    milestones_created: int = 0
    deadline_revisions: int = 0
    conflicts: int = 0
    deployments: int = 0
    # Evidence rows waiting to be inserted in one go, and the ones each withdrawal already has
    # from this source, as (milestone id, field, start, end): one query per withdrawal
    # instead of a look-up and an insert per sentence.
    pending_evidence: list[Evidence] = field(default_factory=list, repr=False)
    known_evidence: dict[int, set[tuple]] = field(default_factory=dict, repr=False)
    # Each withdrawal's milestones, read once per source rather than once per milestone.
    milestones: dict[int, list[Milestone]] = field(default_factory=dict, repr=False)
    # What watchers may hear about once the merge commits (services/alerts.py).
    alert_facts: MergeAlertFacts = field(default_factory=MergeAlertFacts, repr=False)

    def evidence_flush(self) -> None:
        if self.pending_evidence:
            history.records_bulk_create(Evidence, self.pending_evidence)
            self.pending_evidence = []

    def as_dict(self) -> dict:
        return {
            "withdrawals_created": self.withdrawals_created,
            "withdrawals_updated": sorted(set(self.withdrawals_updated)),
            "fields_set": self.fields_set,
            "evidence_added": self.evidence_added,
            "milestones_created": self.milestones_created,
            "deadline_revisions": self.deadline_revisions,
            "conflicts": self.conflicts,
            "deployments": self.deployments,
        }


def party_get_or_create(*, ref) -> Party:
    party, created = Party.objects.get_or_create(
        code=ref.code.upper(),
        defaults={"name": ref.name, "kind": ref.kind or Party.Kind.STATE},
    )
    return party


def result_bound_dates(result) -> list[str]:
    """Drop the extracted dates a record may not hold (models.EARLIEST_DATE..LATEST_DATE);
    one warning per date dropped, for the job to show.

    "by 9999-12-31" is text a person can type: the fact is ignored, not the whole source.
    A milestone whose date is out of range is dropped with it (undated, it would mean
    something else).
    """
    warnings: list[str] = []

    def keep(date_fact, what: str) -> bool:
        if date_fact is None or date_in_range(date_fact.date):
            return True
        warnings.append(
            f"ignored {what} {date_fact.date.isoformat()} ({date_fact.phrase.strip()!r}): "
            "outside the dates a record may hold"
        )
        return False

    for fact in result.withdrawals:
        name = f"{fact.deploying.name} from {fact.host.name}"
        for field_name in ("announced_on", "deadline", "completed_on"):
            if not keep(getattr(fact, field_name), f"{name}: {field_name.replace('_', ' ')}"):
                setattr(fact, field_name, None)
        fact.milestones = [
            m for m in fact.milestones if keep(m.date, f"{name}: milestone {m.kind}")
        ]
        # Phases (parts of a withdrawal with their own dates) are bounded too, before
        # anything reads them.
        fact.phases = [
            dataclasses.replace(
                phase,
                **{
                    date_name: None
                    for date_name in ("deadline", "completed_on")
                    if not keep(getattr(phase, date_name), f"{name}: {phase.scope}")
                },
            )
            for phase in getattr(fact, "phases", None) or []
        ]
    for deployment in getattr(result, "deployments", None) or []:
        if not keep(deployment.since, f"{deployment.deploying.name} in {deployment.host.name}"):
            deployment.since = None
    return warnings


def source_merge_facts(*, source: Source, result) -> dict:
    result_bound_dates(result)  # a no-op when the caller has done it to warn the user
    report = MergeReport()
    # Every change below is the source's: the history names it (tracker/history.py).
    with history.attributed_to(source=source):
        # Rows are locked per deploying party; taking them in one order everywhere means two
        # sources naming the same parties in opposite orders cannot deadlock.
        merged = []
        for fact in sorted(result.withdrawals, key=lambda f: (f.deploying.code, f.host.code)):
            withdrawal = withdrawal_merge_fact(source=source, fact=fact, report=report)
            if withdrawal is not None:
                merged.append(withdrawal.pk)
        withdrawals_recount(withdrawal_ids=merged)
        for fact in getattr(result, "deployments", []) or []:
            deployment_merge_fact(fact=fact, report=report)
    merge_alerts_on_commit(source=source, facts=report.alert_facts)
    return report.as_dict()


def deployment_merge_fact(*, fact, report: MergeReport) -> None:
    party = party_get_or_create(ref=fact.deploying)
    host = party_get_or_create(ref=fact.host)
    if party == host:
        return
    deployment, created = Deployment.objects.get_or_create(party=party, host=host)
    if fact.personnel is not None and deployment.personnel is None:
        deployment.personnel = fact.personnel.value
        deployment.personnel_qualifier = fact.personnel.qualifier
    if fact.since is not None and deployment.since is None:
        deployment.since = fact.since.date
        deployment.since_precision = fact.since.precision
    deployment.save()
    report.deployments += 1


def withdrawal_for_pair(*, party: Party, host: Party) -> Withdrawal | None:
    # The most recent record for the pair: a party can leave the same country twice
    # (the US left Iraq in 2011 and again later), and new sources speak of the latest.
    return (
        Withdrawal.objects.select_for_update()
        .filter(party=party, host=host, cancelled_on__isnull=True)
        .order_by("-created_at", "-id")
        .first()
    )


def withdrawal_merge_fact(*, source: Source, fact, report: MergeReport) -> Withdrawal | None:
    """Fold one extracted withdrawal into the records.

    1. Find the withdrawal for the (party, host) pair, or create it.
    2. For each field: fill it when empty, add evidence when the source agrees, file a
       conflict when it disagrees or the field was edited by a person (locked).
    3. A different deadline becomes a DeadlineRevision; the current deadline is the one
       stated last.
    4. Milestones are added or corroborated; locked milestones only get suggestions.
    """
    party = party_get_or_create(ref=fact.deploying)
    host = party_get_or_create(ref=fact.host)
    if party == host:
        return None
    # Lock the party row: merges for the same pair from concurrent workers queue up here
    # instead of creating two records.
    Party.objects.select_for_update().filter(pk=party.pk).first()
    withdrawal = withdrawal_for_pair(party=party, host=host)
    created = withdrawal is None
    if created:
        withdrawal = Withdrawal.objects.create(
            party=party, host=host, summary=(fact.summary or "")[:2000]
        )
        report.withdrawals_created.append(withdrawal.pk)
    report.alert_facts.withdrawal_seen(withdrawal, created=created)
    changed: list[str] = []
    evidence_for_pair = fact_evidence(fact)
    if evidence_for_pair is not None:
        evidence_add(
            source=source,
            withdrawal=withdrawal,
            field="pair",
            value="",
            evidence=evidence_for_pair,
            report=report,
        )
    if fact.personnel is not None:
        merge_value(
            source=source,
            withdrawal=withdrawal,
            field="personnel",
            value=fact.personnel.value,
            extra={"personnel_qualifier": fact.personnel.qualifier},
            evidence=fact.personnel.evidence,
            report=report,
            changed=changed,
        )
    for name in ("announced_on", "completed_on"):
        date_fact = getattr(fact, name)
        if date_fact is not None:
            merge_date(
                source=source,
                withdrawal=withdrawal,
                field=name,
                date_fact=date_fact,
                report=report,
                changed=changed,
            )
    if fact.deadline is not None:
        withdrawal_revise_deadline(
            withdrawal=withdrawal,
            deadline=fact.deadline.date,
            precision=fact.deadline.precision,
            phrase=fact.deadline.phrase,
            source=source,
            report=report,
            changed=changed,
        )
        evidence_add(
            source=source,
            withdrawal=withdrawal,
            field="deadline",
            value=fact.deadline.date.isoformat(),
            evidence=fact.deadline.evidence,
            report=report,
        )
    for milestone_fact in fact.milestones:
        milestone_merge_fact(
            source=source,
            withdrawal=withdrawal,
            fact=milestone_fact,
            report=report,
            changed=changed,
        )
    if "deadline" in changed:
        deadline_milestones_supersede(withdrawal=withdrawal)
    if changed:
        withdrawal.save()
        report.fields_set.extend(f"{withdrawal.pk}:{name}" for name in changed)
        if not created:
            report.withdrawals_updated.append(withdrawal.pk)
    report.evidence_flush()
    return withdrawal


def fact_evidence(fact):
    for candidate in (fact.announced_on, fact.deadline, fact.completed_on, fact.personnel):
        if candidate is not None:
            return candidate.evidence
    for milestone in fact.milestones:
        return milestone.evidence
    return None


def evidence_add(
    *,
    source: Source,
    withdrawal: Withdrawal,
    field: str,
    value: str,
    evidence,
    report,
    milestone: Milestone | None = None,
) -> None:
    if evidence is None or evidence.end <= evidence.start:
        return
    known = report.known_evidence.get(withdrawal.pk)
    if known is None:
        known = set(
            Evidence.objects.filter(source=source, withdrawal=withdrawal).values_list(
                "milestone_id", "field", "start", "end"
            )
        )
        report.known_evidence[withdrawal.pk] = known
    key = (milestone.pk if milestone else None, field, evidence.start, evidence.end)
    if key in known:
        return
    known.add(key)
    report.pending_evidence.append(
        Evidence(
            source=source,
            withdrawal=withdrawal,
            milestone=milestone,
            field=field,
            start=evidence.start,
            end=evidence.end,
            quote=evidence.text,
            value=str(value)[:100],
        )
    )
    report.evidence_added += 1


def conflict_file(
    *,
    withdrawal: Withdrawal,
    field: str,
    current,
    proposed,
    source: Source,
    quote: str,
    reason: str,
    report: MergeReport,
    milestone: Milestone | None = None,
) -> None:
    conflict, created = Conflict.objects.get_or_create(
        withdrawal=withdrawal,
        field=field,
        proposed_value=str(proposed)[:200],
        source=source,
        defaults={
            "current_value": str(current)[:200],
            "reason": reason,
            "quote": quote,
            "milestone": milestone,
        },
    )
    if created:
        report.conflicts += 1
        report.alert_facts.conflict_ids.append(conflict.pk)


def merge_value(
    *, source, withdrawal: Withdrawal, field: str, value, extra: dict, evidence, report, changed
) -> None:
    current = getattr(withdrawal, field)
    locked = field in withdrawal.locked_fields
    if current is None and not locked:
        setattr(withdrawal, field, value)
        for name, extra_value in extra.items():
            setattr(withdrawal, name, extra_value)
        changed.append(field)
    elif current != value:
        conflict_file(
            withdrawal=withdrawal,
            field=field,
            current=current if current is not None else "",
            proposed=value,
            source=source,
            quote=evidence.text,
            reason=Conflict.Reason.LOCKED if locked else Conflict.Reason.DISAGREEMENT,
            report=report,
        )
    evidence_add(
        source=source,
        withdrawal=withdrawal,
        field=field,
        value=str(value),
        evidence=evidence,
        report=report,
    )


# From the finest to the coarsest.
PRECISION_ORDER = [Precision.DAY, Precision.MONTH, Precision.YEAR]


def dates_agree(a: dt.date, a_precision: str, b: dt.date, b_precision: str) -> bool:
    """Same date, or the same period where one of them is only known to the month or year."""
    if a == b:
        return True
    coarsest = max(a_precision, b_precision, key=PRECISION_ORDER.index)
    if coarsest == Precision.YEAR:
        return a.year == b.year
    if coarsest == Precision.MONTH:
        return (a.year, a.month) == (b.year, b.month)
    return False


def merge_date(*, source, withdrawal: Withdrawal, field: str, date_fact, report, changed) -> None:
    precision_field = field.replace("_on", "_precision")
    current = getattr(withdrawal, field)
    current_precision = getattr(withdrawal, precision_field)
    locked = field in withdrawal.locked_fields
    if current is None and not locked:
        setattr(withdrawal, field, date_fact.date)
        setattr(withdrawal, precision_field, date_fact.precision)
        changed.append(field)
    elif current is not None and dates_agree(
        current, current_precision, date_fact.date, date_fact.precision
    ):
        # A more precise statement of the same period refines the record.
        rank = PRECISION_ORDER.index
        if not locked and rank(date_fact.precision) < rank(current_precision):
            setattr(withdrawal, field, date_fact.date)
            setattr(withdrawal, precision_field, date_fact.precision)
            changed.append(field)
    else:
        conflict_file(
            withdrawal=withdrawal,
            field=field,
            current=current.isoformat() if current else "",
            proposed=date_fact.date.isoformat(),
            source=source,
            quote=date_fact.evidence.text,
            reason=Conflict.Reason.LOCKED if locked else Conflict.Reason.DISAGREEMENT,
            report=report,
        )
    evidence_add(
        source=source,
        withdrawal=withdrawal,
        field=field,
        value=date_fact.date.isoformat(),
        evidence=date_fact.evidence,
        report=report,
    )


def withdrawal_revise_deadline(
    *,
    withdrawal: Withdrawal,
    deadline: dt.date,
    precision: str,
    phrase: str = "",
    source: Source | None = None,
    user=None,
    report: MergeReport | None = None,
    changed: list[str] | None = None,
) -> DeadlineRevision | None:
    """Record a deadline as a new revision; the current deadline is the one stated last.

    A value already in the history is not recorded twice. When a person has locked the
    deadline, a source's new value becomes a suggestion (Conflict) instead.
    """
    report = report or MergeReport()
    changed = changed if changed is not None else []
    if source is not None and "deadline" in withdrawal.locked_fields:
        if withdrawal.deadline != deadline:
            conflict_file(
                withdrawal=withdrawal,
                field="deadline",
                current=withdrawal.deadline or "",
                proposed=deadline.isoformat(),
                source=source,
                quote=phrase,
                reason=Conflict.Reason.LOCKED,
                report=report,
            )
        return None
    revisions = list(withdrawal.deadline_revisions.all())
    for revision in revisions:
        if dates_agree(revision.deadline, revision.precision, deadline, precision):
            return None
    revision = DeadlineRevision.objects.create(
        withdrawal=withdrawal,
        deadline=deadline,
        precision=precision,
        phrase=phrase[:300],
        source=source,
        stated_on=source.published_on if source else timezone.now().date(),
        recorded_by=user,
    )
    report.deadline_revisions += 1
    revisions.append(revision)
    if withdrawal_apply_current_deadline(withdrawal=withdrawal, revisions=revisions):
        changed.append("deadline")
    return revision


def current_revision(revisions: Iterable[DeadlineRevision]) -> DeadlineRevision:
    # Stated last wins; a revision with no statement date counts as oldest.
    return max(
        revisions,
        key=lambda r: (r.stated_on or dt.date.min, r.recorded_at, r.pk or 0),
    )


def withdrawal_apply_current_deadline(
    *, withdrawal: Withdrawal, revisions: list[DeadlineRevision]
) -> bool:
    """Set the denormalised deadline from its revisions (none: no deadline); True if it moved.

    The caller saves the withdrawal.
    """
    latest = current_revision(revisions) if revisions else None
    value = (latest.deadline, latest.precision) if latest else (None, withdrawal.deadline_precision)
    if (withdrawal.deadline, withdrawal.deadline_precision) == value:
        return False
    withdrawal.deadline, withdrawal.deadline_precision = value
    return True


def milestone_merge_fact(*, source, withdrawal: Withdrawal, fact, report, changed) -> None:
    kind = fact.kind if fact.kind in Milestone.Kind.values else Milestone.Kind.OTHER
    date = fact.date.date if fact.date else None
    precision = fact.date.precision if fact.date else Precision.DAY
    known = report.milestones.get(withdrawal.pk)
    if known is None:
        # Locked until the merge commits: a person's edit of one of them (API or admin,
        # milestone_save_by_person) waits for the merge, or the merge waits for the edit
        # and then sees the milestone locked, rather than writing over it.
        known = report.milestones[withdrawal.pk] = list(withdrawal.milestones.select_for_update())
    candidates = [
        m for m in known if m.kind == kind and (kind in SINGLE_MILESTONE_KINDS or m.date == date)
    ]
    if not candidates and date is not None:
        candidates = milestones_moved_by_person(kind=kind, date=date, known=known)
    # The model's ordering (date, id), with undated milestones last as in PostgreSQL.
    candidates.sort(key=lambda m: (m.date is None, m.date or dt.date.min, m.pk))
    milestone = candidates[0] if candidates else None
    reference = source.published_on or timezone.now().date()
    if milestone is None:
        milestone = Milestone.objects.create(
            withdrawal=withdrawal,
            kind=kind,
            title=milestone_title(kind=kind, fact=fact),
            date=date,
            date_precision=precision,
            status=milestone_status_for(
                kind=kind, date=date, reference=reference, withdrawal=withdrawal
            ),
            description=fact.evidence.text[:2000] if fact.evidence else "",
        )
        report.milestones_created += 1
        known.append(milestone)
        report.alert_facts.milestone_ids.append(milestone.pk)
    elif date is not None and (
        milestone.date is None
        or not dates_agree(milestone.date, milestone.date_precision, date, precision)
    ):
        if milestone.locked or milestone.date is not None:
            conflict_file(
                withdrawal=withdrawal,
                milestone=milestone,
                field=f"milestone:{kind}",
                current=milestone.date.isoformat() if milestone.date else "",
                proposed=date.isoformat(),
                source=source,
                quote=fact.evidence.text if fact.evidence else "",
                reason=Conflict.Reason.LOCKED if milestone.locked else Conflict.Reason.DISAGREEMENT,
                report=report,
            )
        else:
            milestone.date = date
            milestone.date_precision = precision
            milestone.save(update_fields=["date", "date_precision", "updated_at"])
    if kind == Milestone.Kind.WITHDRAWAL_START and date is not None:
        if withdrawal.started_on is None and "started_on" not in withdrawal.locked_fields:
            withdrawal.started_on = date
            withdrawal.started_precision = precision
            changed.append("started_on")
    if fact.evidence is not None:
        evidence_add(
            source=source,
            withdrawal=withdrawal,
            milestone=milestone,
            field="milestone",
            value=date.isoformat() if date else "",
            evidence=fact.evidence,
            report=report,
        )


def milestones_moved_by_person(*, kind: str, date: dt.date, known: list[Milestone]) -> list:
    """Locked milestones of this kind that a person moved away from this date.

    A person's correction holds for the fact, not only the row: a source that states the old
    date again suggests a change to their edit (a conflict), never a second milestone.
    """
    locked = [m for m in known if m.kind == kind and m.locked and m.date != date]
    if not locked:
        return []
    moved = set(
        Milestone.history.filter(id__in=[m.pk for m in locked], date=date).values_list(
            "id", flat=True
        )
    )
    return [m for m in locked if m.pk in moved]


def milestone_title(*, kind: str, fact) -> str:
    # The sentence is kept as the description and as evidence; the title stays short enough
    # for a timeline: what happened, in the words that dated it.
    label = Milestone.Kind(kind).label.capitalize()
    phrase = fact.date.phrase.strip(" ,.;") if fact.date and fact.date.phrase else ""
    return f"{label} ({phrase})"[:300] if phrase else label


def milestone_status_for(
    *, kind: str, date: dt.date | None, reference: dt.date, withdrawal: Withdrawal
) -> str:
    if kind == Milestone.Kind.DEADLINE:
        if date is None or date != withdrawal.deadline:
            return Milestone.State.CANCELLED  # a deadline that was replaced
        if withdrawal.completed_on is not None and withdrawal.completed_on <= date:
            return Milestone.State.DONE
        return Milestone.State.MISSED if date < reference else Milestone.State.PLANNED
    if date is not None and date <= reference:
        return Milestone.State.DONE
    return Milestone.State.PLANNED


def deadline_milestones_supersede(*, withdrawal: Withdrawal) -> int:
    """A new current deadline cancels the deadline milestones it replaced (not a person's)."""
    return (
        withdrawal.milestones.filter(kind=Milestone.Kind.DEADLINE, locked=False)
        .exclude(date=withdrawal.deadline)
        .exclude(status=Milestone.State.CANCELLED)
        .update(status=Milestone.State.CANCELLED, updated_at=timezone.now())
    )


class StaleEdit(Exception):
    """A person's edit was made on an older copy of the record (a merge or another person
    changed it since): refused, so it never silently reverts what happened in between."""


def record_check_fresh(*, model, pk: int, seen: dt.datetime | None) -> None:
    """Lock the row until the transaction ends and refuse the edit when the row's updated_at
    is no longer `seen`, the value the person's form or API client read (None: no check)."""
    current = (
        model.objects.select_for_update().filter(pk=pk).values_list("updated_at", flat=True).first()
    )
    if seen is None or current is None or current == seen:
        return
    name = model._meta.verbose_name
    raise StaleEdit(
        f"This {name} was changed at {current.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC, "
        f"after you read it (by a merge or another person). Your edit was not saved: "
        f"reload the {name} to see its current values, then make your change again."
    )


def milestone_save_by_person(
    *,
    milestone: Milestone,
    fields: Iterable[str] | None = None,
    seen_updated_at: dt.datetime | None = None,
) -> None:
    """A person's edit (admin or API): the milestone is locked against merging from now on.

    The row is locked while it is written, so a merge reading it waits and then finds it
    locked (see milestone_merge_fact); with `seen_updated_at` a stale edit raises StaleEdit.
    """
    with transaction.atomic():
        if milestone.pk is not None:
            record_check_fresh(model=Milestone, pk=milestone.pk, seen=seen_updated_at)
        milestone.locked = True
        if fields is None:
            milestone.save()
        else:
            milestone.save(update_fields=sorted(set(fields) | {"locked", "updated_at"}))
        if fields is None or "status" in fields:
            phase_alerts_on_commit(milestone_id=milestone.pk)


def milestones_mark_done(*, milestones: Iterable[Milestone]) -> int:
    """A person says these milestones happened: done, and locked like any person's edit."""
    count = 0
    for milestone in milestones:
        if milestone.status != Milestone.State.DONE:
            milestone.status = Milestone.State.DONE
            milestone_save_by_person(milestone=milestone, fields=["status"])
            count += 1
    return count


def milestones_set_locked(*, milestones: Iterable[Milestone], locked: bool) -> int:
    """Lock milestones against merging, or unlock them (a lock set by mistake)."""
    count = 0
    for milestone in milestones:
        if milestone.locked != locked:
            milestone.locked = locked
            # One save each (not an UPDATE) so the history says who and why.
            milestone.save(update_fields=["locked", "updated_at"])
            count += 1
    return count


def withdrawal_set_locked_fields(
    *, withdrawal: Withdrawal, lock: Iterable[str] = (), unlock: Iterable[str] = ()
) -> bool:
    """Lock or unlock fields of a withdrawal; True if its locks changed. The caller saves."""
    locked = (set(withdrawal.locked_fields) | set(lock)) - set(unlock)
    if locked == set(withdrawal.locked_fields):
        return False
    withdrawal.locked_fields = sorted(locked)
    return True


# ---------------------------------------------------------------------------------------
# Corroboration


def count_of(queryset: QuerySet, group: str, counted: str) -> Coalesce:
    """A correlated COUNT(DISTINCT counted) per outer row, 0 when there is nothing to count.

    A subquery rather than a JOIN + GROUP BY over the whole table: PostgreSQL evaluates it
    only for the rows it is asked about, and several counts do not multiply each other's joins.
    """
    grouped = (
        queryset.order_by().values(group).annotate(n=Count(counted, distinct=True)).values("n")[:1]
    )
    return Coalesce(Subquery(grouped, output_field=IntegerField()), Value(0))


def withdrawals_recount(*, withdrawal_ids: Iterable[int]) -> int:
    """Store each withdrawal's corroboration counts (one UPDATE for all of them).

    Called by merging, conflict reviews and deletions: the only places evidence and
    conflicts change, so lists read the counts as columns instead of counting per row.
    """
    ids = sorted(set(withdrawal_ids))
    if not ids:
        return 0
    evidence = Evidence.objects.filter(withdrawal=OuterRef("pk"))
    conflicts = Conflict.objects.filter(withdrawal=OuterRef("pk"), state=Conflict.State.OPEN)
    return Withdrawal.objects.filter(pk__in=ids).update(
        evidence_count=count_of(evidence, "withdrawal", "id"),
        source_count=count_of(evidence, "withdrawal", "source"),
        publisher_count=count_of(
            evidence.exclude(source__publisher_key=""), "withdrawal", "source__publisher_key"
        ),
        open_conflict_count=count_of(conflicts, "withdrawal", "id"),
    )
