"""A withdrawal's story: every change to it, its milestones, deadline revisions and evidence,
merged from django-simple-history's records into one list, in the site's words.

Who changed what
----------------
Every historical record names who made the change, and why:

- **A person** (the admin, the API): simple-history takes the user from the request
  (`history_user`); the admin asks for a short note on each edit and stores it as the record's
  change reason (`history_change_reason`). Without a request (a management command), wrap the
  writes in ``with history.attributed_to(note="…"):`` and set ``obj._history_user``.
- **A source** (merging): wrap the writes in

      with history.attributed_to(source=source):
          ...  # creates, saves and deletes

  and every record made inside the block names the source (`history_source`, with the
  source's words kept in `history_source_label` so the history still says who it was after
  the source is deleted). `tracker.services.source_merge_facts` does this for every merge.
  Bulk inserts send no signals, so they record their history with
  ``history.records_bulk_create(Model, objs)`` instead of ``Model.objects.bulk_create``.

Reading it back
---------------
`withdrawal_history(withdrawal)` returns `Entry` rows, newest first: what changed (old → new
per field, in the words the site uses), when, who or which source, and the note. A save that
changed nothing a reader would see (only `updated_at`, say) makes no row. `locks_of()` says who
locked each field or milestone, when and why.
"""

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db import models
from django.utils import timezone

from tracker.models import (
    DeadlineRevision,
    Evidence,
    Milestone,
    Party,
    Qualifier,
    Source,
    Withdrawal,
    describe_date,
)

# ---------------------------------------------------------------------------------------
# Writing: who or what a change is attributed to


@dataclass(frozen=True)
class Attribution:
    source: Source | None = None
    note: str = ""


_attribution: ContextVar[Attribution | None] = ContextVar("history_attribution", default=None)


def source_words(source: Source) -> str:
    """How a history names a source: "AP, 20 May 2024 — US agrees to withdraw from Niger"."""
    publisher = source.publisher or "unknown publisher"
    when = describe_date(source.published_on, "day") if source.published_on else "undated"
    title = source.title or source.url or f"source {source.pk}"
    return f"{publisher}, {when} — {title}"[:300]


@contextmanager
def attributed_to(*, source: Source | None = None, note: str = "") -> Iterator[None]:
    """Attribute every historical record made inside the block to a source and/or a note."""
    token = _attribution.set(Attribution(source=source, note=note.strip()))
    try:
        yield
    finally:
        _attribution.reset(token)


def record_attribute(sender, history_instance, **kwargs) -> None:
    """simple-history's pre_create_historical_record receiver (connected in apps.py).

    simple-history writes its records from its own post_save/post_delete handlers; this is the
    one hook into the record before it is saved, so the attribution is read here.
    """
    attribution = _attribution.get()
    if attribution is None:
        return
    if attribution.note and not history_instance.history_change_reason:
        history_instance.history_change_reason = attribution.note
    if attribution.source is not None and hasattr(history_instance, "history_source_id"):
        history_instance.history_source_id = attribution.source.pk
        history_instance.history_source_label = source_words(attribution.source)


def records_bulk_create(model: type[models.Model], objs: list[models.Model]) -> list:
    """`bulk_create` that keeps the history too (bulk inserts send no signals)."""
    created = model.objects.bulk_create(objs)
    attribution = _attribution.get() or Attribution()
    extra = {}
    if attribution.source is not None:
        extra = {
            "history_source_id": attribution.source.pk,
            "history_source_label": source_words(attribution.source),
        }
    model.history.bulk_history_create(
        created,
        default_change_reason=attribution.note or None,
        default_date=timezone.now(),
        custom_historical_attrs=extra,
    )
    return created


# ---------------------------------------------------------------------------------------
# Reading: the merged history of one withdrawal


@dataclass(frozen=True)
class Change:
    field: str  # the site's word for it: "Deadline", "Personnel"
    old: str
    new: str


@dataclass
class Entry:
    when: dt.datetime
    subject: str  # "Withdrawal", "Milestone “Air Base 101 handed over”", "Evidence"
    kind: str  # "withdrawal", "milestone", "deadline revision", "evidence"
    action: str  # "added", "changed", "removed"
    changes: list[Change] = field(default_factory=list)
    person: str = ""
    source_id: int | None = None
    source: str = ""
    note: str = ""

    @property
    def by(self) -> str:
        """Who made the change, in a few words."""
        return self.source or self.person or "unknown"


@dataclass(frozen=True)
class Lock:
    """Who locked a field or a milestone against merging, when, and the note they gave."""

    person: str
    when: dt.datetime
    note: str


def person_name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def words_date(day_field: str, precision_field: str = "") -> Callable:
    # announced_on is said with announced_precision, deadline with deadline_precision.
    precision_field = precision_field or day_field.removesuffix("_on") + "_precision"

    def render(record, names) -> str:
        return describe_date(getattr(record, day_field), getattr(record, precision_field))

    return render


def words_day(name: str) -> Callable:
    return lambda record, names: describe_date(getattr(record, name), "day")


def words_text(name: str) -> Callable:
    return lambda record, names: str(getattr(record, name) or "")


def words_number(name: str) -> Callable:
    def render(record, names) -> str:
        value = getattr(record, name)
        return "" if value is None else f"{value:,}"

    return render


def words_choice(name: str, choices: type[models.TextChoices]) -> Callable:
    def render(record, names) -> str:
        value = getattr(record, name)
        return choices(value).label if value in choices.values else str(value or "")

    return render


def words_personnel(record, names) -> str:
    if record.personnel is None:
        return ""
    qualifier = record.personnel_qualifier
    prefix = "" if qualifier in ("", Qualifier.EXACT) else f"{Qualifier(qualifier).label} "
    return f"{prefix}{record.personnel:,}"


def words_party(name: str) -> Callable:
    return lambda record, names: names["party"].get(getattr(record, f"{name}_id"), "")


def words_source(record, names) -> str:
    return names["source"].get(record.source_id, "")


def words_locked_fields(record, names) -> str:
    labels = {name: label for label, names_, _ in WITHDRAWAL_FACETS for name in names_}
    return ", ".join(labels.get(name, name) for name in sorted(record.locked_fields or []))


def words_locked(record, names) -> str:
    return "locked by a person" if record.locked else ""


# What a reader sees of each model: (the site's word, the fields it covers, how to say it).
# A change is a facet whose words differ between two records, so a save that only touched
# updated_at, or set a value to what it was, makes no row.
WITHDRAWAL_FACETS = [
    ("Deploying party", ("party",), words_party("party")),
    ("Host", ("host",), words_party("host")),
    ("Summary", ("summary",), words_text("summary")),
    ("Announced", ("announced_on", "announced_precision"), words_date("announced_on")),
    ("Started", ("started_on", "started_precision"), words_date("started_on")),
    ("Deadline", ("deadline", "deadline_precision"), words_date("deadline", "deadline_precision")),
    ("Completed", ("completed_on", "completed_precision"), words_date("completed_on")),
    ("Cancelled", ("cancelled_on",), words_day("cancelled_on")),
    ("Personnel", ("personnel", "personnel_qualifier"), words_personnel),
    ("Personnel withdrawn", ("personnel_withdrawn",), words_number("personnel_withdrawn")),
    ("Locked fields", ("locked_fields",), words_locked_fields),
]  # fmt: skip
MILESTONE_FACETS = [
    ("Kind", ("kind",), words_choice("kind", Milestone.Kind)),
    ("Title", ("title",), words_text("title")),
    ("Date", ("date", "date_precision"), words_date("date", "date_precision")),
    ("Status", ("status",), words_choice("status", Milestone.State)),
    ("Description", ("description",), words_text("description")),
    ("Locked", ("locked",), words_locked),
]
REVISION_FACETS = [
    ("Deadline", ("deadline", "precision"), words_date("deadline", "precision")),
    ("Words", ("phrase",), words_text("phrase")),
    ("Stated on", ("stated_on",), words_day("stated_on")),
    ("Source", ("source",), words_source),
]
# Evidence is one sentence for one fact: its change is labelled with the fact (see entry_for).
EVIDENCE_FACETS = [
    ("Sentence", ("quote",), lambda record, names: f"“{record.quote}”"),
]


def facet_words(record, facets, names) -> list[tuple[str, str]]:
    return [(label, render(record, names)) for label, _, render in facets]


def record_changes(previous, record, facets, names) -> list[Change]:
    now = facet_words(record, facets, names)
    if record.history_type == "-":
        return [Change(label, words, "") for label, words in now if words]
    if previous is None:
        return [Change(label, "", words) for label, words in now if words]
    before = dict(facet_words(previous, facets, names))
    return [
        Change(label, before[label], words)
        for label, words in now
        if words != before[label]
    ]  # fmt: skip


ACTIONS = {"+": "added", "~": "changed", "-": "removed"}


def historical_records(withdrawal_id: int) -> dict[str, list]:
    # One query per model, each served by the historical table's index on the original
    # withdrawal id (simple-history indexes foreign keys); users and sources come joined.
    related = ("history_user", "history_source")
    return {
        "withdrawal": list(
            Withdrawal.history.filter(id=withdrawal_id)
            .select_related(*related)
            .order_by("history_date", "history_id")
        ),
        "milestone": list(
            Milestone.history.filter(withdrawal_id=withdrawal_id)
            .select_related(*related)
            .order_by("id", "history_date", "history_id")
        ),
        "deadline revision": list(
            DeadlineRevision.history.filter(withdrawal_id=withdrawal_id)
            .select_related(*related)
            .order_by("id", "history_date", "history_id")
        ),
        "evidence": list(
            Evidence.history.filter(withdrawal_id=withdrawal_id)
            .select_related(*related)
            .order_by("id", "history_date", "history_id")
        ),
    }


def names_for(records: dict[str, list]) -> dict[str, dict]:
    party_ids = {r.party_id for r in records["withdrawal"]} | {
        r.host_id for r in records["withdrawal"]
    }
    source_ids = {r.source_id for r in records["deadline revision"] if r.source_id} | {
        r.source_id for r in records["evidence"]
    }
    milestone_titles = {r.id: r.title for r in records["milestone"]}
    return {
        "party": dict(Party.objects.filter(pk__in=party_ids).values_list("pk", "name")),
        "source": {s.pk: source_words(s) for s in Source.objects.filter(pk__in=source_ids).only(
            "pk", "publisher", "published_on", "title", "url"
        )},
        "milestone": milestone_titles,
    }  # fmt: skip


# Saves of one object by the same hand this close together are one change: merging creates a
# withdrawal and then fills it in, the admin saves a milestone and then its lock.
SAME_CHANGE = dt.timedelta(seconds=60)


def same_hand(a, b) -> bool:
    return (
        a.history_user_id == b.history_user_id
        and a.history_source_id == b.history_source_id
        and a.history_source_label == b.history_source_label
        and (a.history_change_reason or "") == (b.history_change_reason or "")
        and b.history_date - a.history_date <= SAME_CHANGE
    )


def changes_by_object(records: list) -> Iterator[tuple[object, object, object]]:
    """(record before the change or None, first record of the change, last record of it),
    for records ordered by object then time; a change is a run of records by the same hand."""
    before = first = last = None
    for record in records:
        if last is not None and (last.id != record.id or not same_hand(last, record)):
            yield before, first, last
            before = last if last.id == record.id else None
            first = None
        if first is None:
            first = record
        last = record
    if last is not None:
        yield before, first, last


def subject_of(kind: str, record, names) -> str:
    if kind == "withdrawal":
        return "Withdrawal"
    if kind == "milestone":
        return f"Milestone “{names['milestone'].get(record.id) or record.title}”"
    if kind == "deadline revision":
        return "Deadline revision"
    if record.milestone_id:
        return f"Evidence for milestone “{names['milestone'].get(record.milestone_id, '')}”"
    return "Evidence"


def entry_for(kind, before, first, record, facets, names) -> Entry | None:
    changes = record_changes(before, record, facets, names)
    if not changes:
        return None
    if kind == "evidence":
        fact = evidence_fact_words(record, names)
        changes = [Change(fact, change.old, change.new) for change in changes]
    source = record.history_source
    action = "removed" if record.history_type == "-" else ACTIONS[first.history_type]
    if action == "removed" and first.history_type == "+":
        return None  # added and removed in one go: nothing happened
    return Entry(
        when=first.history_date,
        subject=subject_of(kind, record, names),
        kind=kind,
        action=action,
        changes=changes,
        person=person_name(record.history_user),
        source_id=source.pk if source else None,
        source=(source_words(source) if source else record.history_source_label),
        note=record.history_change_reason or "",
    )


def evidence_fact_words(record, names) -> str:
    if record.milestone_id:
        return f"Milestone “{names['milestone'].get(record.milestone_id, '')}”"
    label = Evidence.Field(record.field).label if record.field in Evidence.Field.values else ""
    return label.capitalize()


FACETS = {
    "withdrawal": WITHDRAWAL_FACETS,
    "milestone": MILESTONE_FACETS,
    "deadline revision": REVISION_FACETS,
    "evidence": EVIDENCE_FACETS,
}


def withdrawal_history(withdrawal: Withdrawal | int) -> list[Entry]:
    """Every change to the withdrawal and its facts, newest first, in the site's words.

    Six queries whatever the length of the history (one per model, then party and source
    names). A milestone is named by its latest title in every row about it, so its story
    reads as one thing.
    """
    withdrawal_id = withdrawal if isinstance(withdrawal, int) else withdrawal.pk
    records = historical_records(withdrawal_id)
    names = names_for(records)
    entries: list[Entry] = []
    for kind, kind_records in records.items():
        for before, first, last in changes_by_object(kind_records):
            entry = entry_for(kind, before, first, last, FACETS[kind], names)
            if entry is not None:
                entries.append(entry)
    entries = merge_evidence_batches(entries)
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries


def merge_evidence_batches(entries: list[Entry]) -> list[Entry]:
    # A source read once adds a dozen sentences at the same moment: one row, not twelve.
    merged: dict[tuple, Entry] = {}
    kept: list[Entry] = []
    for entry in entries:
        if entry.kind != "evidence" or entry.action != "added":
            kept.append(entry)
            continue
        key = (entry.when, entry.source, entry.person, entry.note)
        if key in merged:
            merged[key].changes.extend(entry.changes)
        else:
            merged[key] = Entry(**{**entry.__dict__, "subject": "Evidence", "changes": []})
            merged[key].changes.extend(entry.changes)
            kept.append(merged[key])
    return kept


def locks_of(withdrawal: Withdrawal | int, records: dict | None = None) -> dict:
    """Who locked what, when and why: {"personnel": Lock, ("milestone", 12): Lock}.

    Read from the history: the record in which a field joined `locked_fields` (or a
    milestone's `locked` became true) and stayed there.
    """
    withdrawal_id = withdrawal if isinstance(withdrawal, int) else withdrawal.pk
    records = records or historical_records(withdrawal_id)
    locks: dict = {}
    locked_before: set[str] = set()
    for record in records["withdrawal"]:
        now_locked = set(record.locked_fields or [])
        for name in now_locked - locked_before:
            locks[name] = lock_from(record)
        for name in locked_before - now_locked:
            locks.pop(name, None)
        locked_before = now_locked
    previous = None
    for record in records["milestone"]:
        if previous is not None and previous.id != record.id:
            previous = None
        key = ("milestone", record.id)
        if record.locked and (previous is None or not previous.locked):
            locks[key] = lock_from(record)
        elif not record.locked or record.history_type == "-":
            locks.pop(key, None)
        previous = record
    return locks


def lock_from(record) -> Lock:
    return Lock(
        person=person_name(record.history_user) or record.history_source_label or "unknown",
        when=record.history_date,
        note=record.history_change_reason or "",
    )
