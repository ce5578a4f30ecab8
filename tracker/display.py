"""How the pages say things: status glyphs, time and personnel in words, the dashboard's
rows and chart, and the detail page's evidence highlighting, corroboration and timelines.

Everything here reads the models and tracker.status; no rule of its own decides a value.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.timesince import timesince

from tracker.models import Evidence, Milestone, Precision, Withdrawal, describe_date
from tracker.status import COMPLETED_STATUSES, SECTION_BY_STATUS, Section, Status


def detail_url_maker(view_name: str = "tracker:withdrawal-detail", request=None):
    """pk -> a detail URL, from one reverse() for a whole list rather than one per row (a
    measurable share of a page's render). Absolute when a request is given."""
    marker = 987654321
    path = reverse(view_name, args=[marker])
    if request is not None:
        path = request.build_absolute_uri(path)
    return path.replace(str(marker), "{}").format


# ---------------------------------------------------------------------------------------
# Derived values for display. They read the model's fields and methods only; the status
# rules themselves stay on the model.


def status_glyph(status: Status) -> str:
    return SECTION_BY_STATUS[status].glyph


def time_words(withdrawal: Withdrawal, status: Status, countdown) -> str:
    """The model's countdown in words; a completion with no deadline says when it ended."""
    if status in COMPLETED_STATUSES and withdrawal.deadline is None:
        return f"completed {withdrawal.completed_display}"
    return countdown.describe()


def personnel_words(withdrawal: Withdrawal) -> str:
    """Withdrawn against the force at the start, where known: "7,000 of 12,000 withdrawn"."""
    if withdrawal.completed_on:
        size = withdrawal.personnel_display
        return f"all withdrawn ({size})" if size else "all withdrawn"
    if withdrawal.personnel_withdrawn is not None and withdrawal.personnel:
        return f"{withdrawal.personnel_withdrawn:,} of {withdrawal.personnel_display} withdrawn"
    if withdrawal.personnel is not None:
        return f"{withdrawal.personnel_display} at the start"
    if withdrawal.personnel_withdrawn is not None:
        return f"{withdrawal.personnel_withdrawn:,} withdrawn"
    return ""


@dataclass
class Row:
    withdrawal: Withdrawal
    status: Status
    section: Section
    countdown_text: str = ""
    deadline_iso: str = ""
    milestones: list = field(default_factory=list)
    source_count: int = 0
    publisher_count: int = 0
    last_evidence_at: dt.datetime | None = None
    now: dt.datetime | None = None
    url: str = ""
    # How many rows of this row's section the filters keep (for the section heading).
    section_total: int = 0

    @property
    def glyph(self) -> str:
        return status_glyph(self.status)

    @property
    def deadline_words(self) -> str:
        return self.withdrawal.deadline_phrase

    @property
    def personnel_words(self) -> str:
        return personnel_words(self.withdrawal)

    @property
    def updated_words(self) -> str:
        ago = timesince(self.last_update, self.now)
        return "just now" if ago.startswith("0\xa0") else f"{ago} ago"

    @property
    def milestones_done(self) -> int:
        return sum(1 for m in self.milestones if m.status == Milestone.State.DONE)

    @property
    def last_update(self) -> dt.datetime:
        moments = [self.withdrawal.updated_at, self.last_evidence_at]
        moments += [m.updated_at for m in self.milestones]
        return max(moment for moment in moments if moment is not None)

    @property
    def version(self) -> str:
        # Changes whenever anything the card shows changes, apart from the ticking clock.
        return "|".join(
            [
                self.status.value,
                self.last_update.isoformat(),
                str(self.source_count),
                str(len(self.milestones)),
                self.countdown_text if self.countdown_text.startswith("completed") else "",
            ]
        )


def row_add_countdown(row: Row) -> None:
    # Only the rows shown need their time in words; the status was enough to sort the rest.
    countdown = row.withdrawal.get_countdown(now=row.now)
    ticking = countdown.seconds is not None and row.withdrawal.deadline is not None
    row.countdown_text = time_words(row.withdrawal, row.status, countdown)
    row.deadline_iso = row.withdrawal.deadline.isoformat() if ticking else ""


def timeline_data(rows: list[Row]) -> list[dict]:
    """What the chart draws: a bar from announcement to deadline or completion per row."""
    data = []
    for row in rows:
        withdrawal = row.withdrawal
        start = withdrawal.announced_on or withdrawal.started_on or withdrawal.deadline
        end = withdrawal.completed_on or withdrawal.deadline
        if start is None and end is None:
            continue
        data.append(
            {
                "id": withdrawal.pk,
                "label": f"{withdrawal.party.name} → {withdrawal.host.name}",
                "start": (start or end).isoformat(),
                "end": (end or start).isoformat(),
                "open_ended": end is None,
                "status": row.status.value,
                "status_label": row.status.label,
                "section": row.section.key,
                "announced": withdrawal.announced_display,
                "deadline": row.deadline_words,
                "completed": withdrawal.completed_display,
                "countdown": row.countdown_text,
                "url": row.url,
                "milestones": [
                    {
                        "date": milestone.date.isoformat(),
                        "when": milestone.date_display,
                        "title": milestone.title,
                        "state": milestone.get_status_display(),
                    }
                    for milestone in row.milestones
                    if milestone.date is not None
                ],
            }
        )
    return data


# ---------------------------------------------------------------------------------------
# Detail


@dataclass
class Corroboration:
    field: str
    value: str
    sources: set = field(default_factory=set)
    publishers: set = field(default_factory=set)


def value_words(value: str) -> str:
    """A stated value for people: ISO dates as "15 September 2024", counts with commas."""
    if value.isdigit():
        return f"{int(value):,}"
    try:
        return describe_date(dt.date.fromisoformat(value), Precision.DAY)
    except ValueError:
        return value


def corroboration_of(evidence: list[Evidence]) -> list[Corroboration]:
    """How many distinct sources (and publishers) state each fact, value by value."""
    found: dict[tuple[str, str], Corroboration] = {}
    for item in evidence:
        if item.field == Evidence.Field.MILESTONE:
            key = (evidence_label(item), "")
        else:
            key = (item.get_field_display(), value_words(item.value))
        entry = found.setdefault(key, Corroboration(field=key[0], value=key[1]))
        entry.sources.add(item.source_id)
        # Counted by who really published it: a syndicated wire story is one publisher.
        if item.source.publisher_key:
            entry.publishers.add(item.source.publisher_key)
    return sorted(found.values(), key=lambda c: (-len(c.sources), c.field, c.value))


def timeline_entries(withdrawal: Withdrawal, milestones: list[Milestone], now) -> list[dict]:
    """Milestones in date order, with today and the deadline placed among them."""
    entries = [
        {
            "kind": "milestone",
            "date": milestone.date,
            "when": milestone.date_display or "date unknown",
            "milestone": milestone,
        }
        for milestone in milestones
    ]
    if withdrawal.deadline:
        entries.append(
            {
                "kind": "deadline",
                "date": withdrawal.deadline,
                "when": withdrawal.deadline_phrase,
            }
        )
    today = Withdrawal.today(now)
    entries.append({"kind": "today", "date": today, "when": describe_date(today, "day")})
    # Undated milestones go last; on a tie today comes after what happened that day.
    rank = {"milestone": 0, "deadline": 1, "today": 2}
    entries.sort(key=lambda e: (e["date"] is None, e["date"] or dt.date.min, rank[e["kind"]]))
    return entries


def evidence_label(item: Evidence) -> str:
    if item.milestone_id:
        title = item.milestone.title
        return f"milestone “{title[:57] + '…' if len(title) > 60 else title}”"
    return item.get_field_display()


def evidence_paragraphs(evidence: list[Evidence]) -> tuple[dict, dict[int, int]]:
    """Each source's paragraphs once, with every evidence sentence in them highlighted.

    Several facts often rest on one sentence: overlapping spans merge into one highlight
    that lists them all. Returns ({source: [paragraph]}, {evidence id: anchor id}).
    """
    paragraphs: dict = {}
    for item in evidence:
        before, _, after = item.source.sentence_context(item.start, item.end)
        key = (item.start - len(before), item.end + len(after))
        paragraphs.setdefault(item.source, {}).setdefault(key, []).append(item)
    by_source: dict = {}
    anchors: dict[int, int] = {}
    for source, found in paragraphs.items():
        for (start, end), items in sorted(found.items(), key=lambda pair: pair[0]):
            items.sort(key=lambda e: (e.start, e.end))
            clusters: list[dict] = []
            for item in items:
                if clusters and item.start < clusters[-1]["end"]:
                    cluster = clusters[-1]
                    cluster["end"] = max(cluster["end"], item.end)
                else:
                    cluster = {"start": item.start, "end": item.end, "labels": [], "id": item.pk}
                    clusters.append(cluster)
                label = evidence_label(item)
                if label not in cluster["labels"]:
                    cluster["labels"].append(label)
                anchors[item.pk] = cluster["id"]
            segments = []
            cursor = start
            for number, cluster in enumerate(clusters, start=1):
                segments.append({"text": source.text[cursor : cluster["start"]]})
                segments.append(
                    {
                        "text": source.text[cluster["start"] : cluster["end"]],
                        "mark": True,
                        "number": number if len(clusters) > 1 else None,
                        "id": cluster["id"],
                    }
                )
                cursor = cluster["end"]
            segments.append({"text": source.text[cursor:end]})
            by_source.setdefault(source, []).append({"segments": segments, "clusters": clusters})
    return by_source, anchors


def personnel_points(
    withdrawal: Withdrawal, evidence: list[Evidence], anchors: dict[int, int]
) -> list[dict]:
    """Force sizes the sources state, dated by publication, plus the withdrawn count."""
    points = []
    for item in evidence:
        if item.field != Evidence.Field.PERSONNEL or not item.value.isdigit():
            continue
        points.append(
            {
                "date": item.source.published_on,
                "value": int(item.value),
                "value_words": f"{int(item.value):,}",
                "what": "force stated",
                "source": item.source,
                "evidence_id": anchors.get(item.pk, item.pk),
            }
        )
    if withdrawal.personnel_withdrawn is not None:
        points.append(
            {
                "date": withdrawal.updated_at.date(),
                "value": withdrawal.personnel_withdrawn,
                "value_words": f"{withdrawal.personnel_withdrawn:,}",
                "what": "withdrawn so far",
                "source": None,
                "evidence_id": None,
            }
        )
    points.sort(key=lambda p: (p["date"] is None, p["date"] or dt.date.min))
    return points
