"""The withdrawal domain: who leaves where, by when, how far along, and on whose word.

Derived values (countdown, progress) live here and read the clock once, with a `now=` argument
for tests, so the dashboard, the API, the admin and the tasks never disagree. Status has its
own module, `tracker.status`, with its SQL form beside the Python one.
"""

import datetime as dt
import hashlib
import re
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from tracker.status import Status, status_of, today_of


class Precision(models.TextChoices):
    DAY = "day", "day"
    MONTH = "month", "month"
    YEAR = "year", "year"


class Qualifier(models.TextChoices):
    EXACT = "exact", "exactly"
    APPROXIMATELY = "approximately", "about"
    MORE_THAN = "more than", "more than"
    AT_LEAST = "at least", "at least"
    UP_TO = "up to", "up to"


MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip


# The dates a record may hold. Wide enough for any withdrawal in living memory and any
# plan a government states; narrow enough that date arithmetic (the day after a deadline,
# a countdown in seconds, an iCalendar DTEND) can never overflow. Every way in (extraction
# output, the API, forms, the admin, feeds, published_on) checks against these.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)
DATE_RANGE_MESSAGE = f"Enter a date between {EARLIEST_DATE} and {LATEST_DATE}."


def date_in_range(value: dt.date | None) -> bool:
    return value is None or EARLIEST_DATE <= value <= LATEST_DATE


def validate_date_in_range(value: dt.date | None) -> None:
    if not date_in_range(value):
        raise ValidationError(DATE_RANGE_MESSAGE, code="date_out_of_range")


def day_after(day: dt.date) -> dt.date:
    # Rows stored before the bounds existed may hold date.max; the day after it is itself.
    return day if day >= dt.date.max else day + dt.timedelta(days=1)


def describe_date(value: dt.date | None, precision: str) -> str:
    """A date as precise as it is known: "15 September 2024", "September 2025", "2023"."""
    if value is None:
        return ""
    if precision == Precision.YEAR:
        return str(value.year)
    if precision == Precision.MONTH:
        return f"{MONTHS[value.month - 1]} {value.year}"
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def describe_deadline(value: dt.date | None, precision: str) -> str:
    """A deadline in words as precise as it is known: "by 15 September 2024", "by end of
    September 2025", never a month deadline printed as a made-up exact day."""
    if value is None:
        return ""
    if precision == Precision.DAY:
        return f"by {describe_date(value, precision)}"
    return f"by end of {describe_date(value, precision)}"


class AttributedHistory(models.Model):
    """What each historical record adds to simple-history's: the source a change was read from.

    A person's change has its user (history_user) and note (history_change_reason); a change
    merging made has its source, and the source's words are kept beside the link so the
    history still names it after the source is deleted. tracker/history.py fills both.
    """

    history_source = models.ForeignKey(
        "tracker.Source",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="+",
    )
    history_source_label = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        abstract = True


class Party(models.Model):
    """Anyone who deploys forces or hosts them.

    One table with a kind rather than separate Party and Country tables: a state is the same
    record whether it deploys troops (France leaving Chad) or hosts them (the US leaving
    Niger's neighbour), and organisations (MINUSMA, NATO, a coalition) only ever deploy.
    Host countries are the rows of kind "state".
    """

    class Kind(models.TextChoices):
        STATE = "state", "state"
        ORGANISATION = "organisation", "organisation"

    # ISO 3166-1 alpha-2 for states ("SU" for the Soviet Union); the usual acronym otherwise.
    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.STATE)
    # Other names, demonyms and capitals the texts use ("American", "U.S.", "Washington").
    aliases = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "parties"
        constraints = [
            models.CheckConstraint(condition=~Q(code=""), name="party_code_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


# Wire agencies whose stories other sites republish. A story is the agency's when the site
# names it as publisher or the text carries its credit: "NIAMEY (AP) —", "(Reuters) -",
# "© 2024 Reuters", "Copyright 2024 The Associated Press".
WIRE_AGENCIES = {
    "associated press": re.compile(r"(the )?associated press|ap( news)?", re.I),
    "reuters": re.compile(r"(thomson )?reuters", re.I),
    "agence france-presse": re.compile(r"agence france[- ]presse|afp", re.I),
}
WIRE_CREDIT = {
    "associated press": re.compile(
        r"\(AP\)\s*[—–-]|(©|copyright)\s*\d{4}\s*(the )?associated press", re.I
    ),
    "reuters": re.compile(r"\(Reuters\)\s*[—–-]|(©|copyright)\s*\d{4}\s*reuters", re.I),
    "agence france-presse": re.compile(
        r"\(AFP\)\s*[—–-]|(©|copyright)\s*\d{4}\s*(afp|agence france-presse)", re.I
    ),
}


class Source(models.Model):
    """An article, press release or statement that the tracker has read."""

    class Origin(models.TextChoices):
        SEED = "seed", "seed"
        PASTED = "pasted", "pasted text"
        UPLOAD = "upload", "uploaded file"
        URL = "url", "URL"
        FEED = "feed", "feed"

    # The page this text was fetched from: only fetched sources have one, so a URL always
    # answers with what was really read there.
    url = models.URLField(max_length=2000, blank=True, default="")
    # Where the person who pasted or uploaded the text says it was published: a reference,
    # never fetched, so never taken for that page's content (a later fetch of the URL makes
    # a source of its own).
    stated_url = models.URLField(max_length=2000, blank=True, default="")
    title = models.CharField(max_length=500, blank=True, default="")
    publisher = models.CharField(max_length=200, blank=True, default="")
    # Who really published the story, for counting corroboration by distinct publishers: a
    # wire story syndicated by two sites is one publisher (see publisher_key_for).
    publisher_key = models.CharField(max_length=200, blank=True, default="")
    published_on = models.DateField(null=True, blank=True, validators=[validate_date_in_range])
    text = models.TextField()
    # sha256 of the text with its whitespace collapsed: the same article pasted twice,
    # re-wrapped, is one source.
    content_hash = models.CharField(max_length=64, unique=True)
    language = models.CharField(max_length=12, default="en")
    origin = models.CharField(max_length=10, choices=Origin.choices)
    fetched_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        # Roles (tracker/permissions.py): contributors hold this one.
        permissions = [("submit_source", "Can submit sources, URLs and feeds")]
        constraints = [
            # Several sources have no URL (pasted text); those that have one have it once.
            models.UniqueConstraint(
                fields=["url"], condition=~Q(url=""), name="source_url_unique_when_present"
            ),
        ]

    def __str__(self) -> str:
        return self.title or self.url or self.stated_url or f"Source {self.pk}"

    @property
    def link(self) -> str:
        """Where a reader can find the article: the page read, or the one the sender named."""
        return self.url or self.stated_url

    @staticmethod
    def hash_text(text: str) -> str:
        normalised = re.sub(r"\s+", " ", text).strip()
        return hashlib.sha256(normalised.encode("utf-8")).hexdigest()

    @staticmethod
    def publisher_key_for(*, publisher: str, url: str, text: str) -> str:
        """The publisher a story counts for: the wire agency that wrote it, when the site is
        only republishing it; else the site's name or host; else the text itself (unknown
        publishers each count once)."""
        head, tail = text[:400], text[-400:]
        for key, pattern in WIRE_AGENCIES.items():
            if pattern.fullmatch(publisher.strip()) or WIRE_CREDIT[key].search(head + "\n" + tail):
                return key
        name = re.sub(r"^(the|www\.)\s*", "", publisher.strip().lower())
        if name:
            return name[:200]
        host = (re.match(r"^https?://([^/:?#]+)", url.lower()) or [None, ""])[1]
        host = re.sub(r"^(www|m|amp|mobile)\.", "", host)
        if host:
            return host[:200]
        return f"unknown:{Source.hash_text(text)[:16]}"

    def sentence_context(self, start: int, end: int) -> tuple[str, str, str]:
        """The paragraph around [start, end), split into before / quote / after."""
        para_start = self.text.rfind("\n", 0, start) + 1
        para_end = self.text.find("\n", end)
        if para_end == -1:
            para_end = len(self.text)
        return self.text[para_start:start], self.text[start:end], self.text[end:para_end]


class Deployment(models.Model):
    """A party's forces present in a host country."""

    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="deployments")
    host = models.ForeignKey(
        Party,
        on_delete=models.PROTECT,
        related_name="hosted_deployments",
        limit_choices_to={"kind": Party.Kind.STATE},
    )
    personnel = models.PositiveIntegerField(null=True, blank=True)
    personnel_qualifier = models.CharField(
        max_length=20, choices=Qualifier.choices, blank=True, default=""
    )
    since = models.DateField(null=True, blank=True, validators=[validate_date_in_range])
    since_precision = models.CharField(max_length=5, choices=Precision.choices, default="day")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["party", "host"], name="deployment_party_host_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.party} in {self.host}"


@dataclass(frozen=True)
class Countdown:
    """Time left before the deadline (negative seconds: past it) or the completion margin."""

    seconds: int | None
    completed_days_early: int | None = None

    def describe(self) -> str:
        if self.completed_days_early is not None:
            days = self.completed_days_early
            if days > 0:
                return f"completed {plural(days, 'day')} early"
            if days < 0:
                return f"completed {plural(-days, 'day')} late"
            return "completed on the deadline day"
        if self.seconds is None:
            return "no deadline known"
        days, rest = divmod(abs(self.seconds), 86400)
        hours = rest // 3600
        if self.seconds < 0:
            return (
                f"{plural(days, 'day')} past deadline"
                if days
                else f"{plural(hours, 'hour')} past deadline"
            )
        return f"{plural(days, 'day')}, {plural(hours, 'hour')} left"


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def deadline_moment(day: dt.date) -> dt.datetime:
    # A withdrawal "by September 15" is on time until that day ends (UTC).
    if day >= dt.date.max:
        return dt.datetime.max.replace(tzinfo=dt.UTC)
    return dt.datetime.combine(day_after(day), dt.time.min, tzinfo=dt.UTC)


class Withdrawal(models.Model):
    """A deploying party leaving a host country."""

    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="withdrawals")
    host = models.ForeignKey(
        Party,
        on_delete=models.PROTECT,
        related_name="hosted_withdrawals",
        limit_choices_to={"kind": Party.Kind.STATE},
    )
    summary = models.TextField(blank=True, default="")
    announced_on = models.DateField(null=True, blank=True, validators=[validate_date_in_range])
    announced_precision = models.CharField(
        max_length=5, choices=Precision.choices, default=Precision.DAY
    )
    started_on = models.DateField(null=True, blank=True, validators=[validate_date_in_range])
    started_precision = models.CharField(
        max_length=5, choices=Precision.choices, default=Precision.DAY
    )
    # The current deadline, denormalised from the latest DeadlineRevision so that
    # "what is overdue?" is one indexed query. Change it only through
    # services.withdrawal_revise_deadline, which writes the revision too.
    deadline = models.DateField(null=True, blank=True, validators=[validate_date_in_range])
    deadline_precision = models.CharField(
        max_length=5, choices=Precision.choices, default=Precision.DAY
    )
    completed_on = models.DateField(null=True, blank=True, validators=[validate_date_in_range])
    completed_precision = models.CharField(
        max_length=5, choices=Precision.choices, default=Precision.DAY
    )
    cancelled_on = models.DateField(null=True, blank=True, validators=[validate_date_in_range])
    personnel = models.PositiveIntegerField(null=True, blank=True)
    personnel_qualifier = models.CharField(
        max_length=20, choices=Qualifier.choices, blank=True, default=""
    )
    # How many have left so far, where a source says so (drives the progress bar).
    personnel_withdrawn = models.PositiveIntegerField(null=True, blank=True)
    # Field names a person has edited; merging never overwrites them.
    locked_fields = models.JSONField(default=list, blank=True)
    # Corroboration, denormalised so that a page of withdrawals costs no per-row counting:
    # evidence rows, distinct sources, distinct publishers (a syndicated wire story is one
    # publisher: Source.publisher_key) and open conflicts. Kept by
    # services.withdrawals_recount whenever evidence or conflicts change.
    evidence_count = models.PositiveIntegerField(default=0, editable=False)
    source_count = models.PositiveIntegerField(default=0, editable=False)
    publisher_count = models.PositiveIntegerField(default=0, editable=False)
    open_conflict_count = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The counts are derived from evidence and conflicts, not edits: no history for them.
    history = HistoricalRecords(
        excluded_fields=[
            "evidence_count",
            "source_count",
            "publisher_count",
            "open_conflict_count",
        ],
        bases=[AttributedHistory],
    )

    class Meta:
        ordering = ["deadline", "id"]
        # Roles (tracker/permissions.py): editors hold the first, reviewers both.
        permissions = [
            ("edit_facts", "Can edit and lock facts"),
            ("review_facts", "Can verify machine-read facts and settle conflicts"),
        ]
        indexes = [
            # Serves the dashboard's "due soon / overdue" sections: open withdrawals by deadline.
            models.Index(
                fields=["deadline"],
                condition=Q(completed_on__isnull=True, cancelled_on__isnull=True),
                name="withdrawal_open_deadline_idx",
            ),
            # Serves merging: find the record for a (party, host) pair.
            models.Index(fields=["party", "host"], name="withdrawal_party_host_idx"),
            models.Index(fields=["updated_at"], name="withdrawal_updated_idx"),
            # Serves every list in the model's default order (API pages, the dashboard).
            models.Index(fields=["deadline", "id"], name="withdrawal_deadline_order_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(party=models.F("host")), name="withdrawal_party_is_not_host"
            ),
            models.CheckConstraint(
                condition=Q(personnel_withdrawn__isnull=True)
                | Q(personnel__isnull=True)
                | Q(personnel_withdrawn__lte=models.F("personnel")),
                name="withdrawal_withdrawn_within_personnel",
            ),
        ]

    def __str__(self) -> str:
        # The site's words for a withdrawal, in the admin, feeds and history alike.
        return f"{self.party} → {self.host}"

    def clean(self) -> None:
        if self.party_id and self.party_id == self.host_id:
            raise ValidationError("A party cannot withdraw from itself.")
        if (
            self.personnel is not None
            and self.personnel_withdrawn is not None
            and self.personnel_withdrawn > self.personnel
        ):
            raise ValidationError({"personnel_withdrawn": "More than the force being withdrawn."})

    today = staticmethod(today_of)

    def get_status(self, now: dt.datetime | None = None) -> Status:
        # The rules live in tracker.status, beside their SQL form.
        return status_of(self, self.today(now))

    def get_countdown(self, now: dt.datetime | None = None) -> Countdown:
        now = now or timezone.now()
        if self.completed_on and self.completed_on <= self.today(now):
            if self.deadline is None:
                return Countdown(seconds=None)
            return Countdown(
                seconds=None, completed_days_early=(self.deadline - self.completed_on).days
            )
        if self.deadline is None:
            return Countdown(seconds=None)
        return Countdown(seconds=int((deadline_moment(self.deadline) - now).total_seconds()))

    @property
    def deadline_display(self) -> str:
        return describe_date(self.deadline, self.deadline_precision)

    @property
    def deadline_phrase(self) -> str:
        return describe_deadline(self.deadline, self.deadline_precision)

    @property
    def announced_display(self) -> str:
        return describe_date(self.announced_on, self.announced_precision)

    @property
    def completed_display(self) -> str:
        return describe_date(self.completed_on, self.completed_precision)

    @property
    def personnel_display(self) -> str:
        if self.personnel is None:
            return ""
        prefix = {"exact": "", "": ""}.get(self.personnel_qualifier)
        if prefix is None:
            prefix = Qualifier(self.personnel_qualifier).label + " "
        return f"{prefix}{self.personnel:,}"

    def personnel_progress(self) -> float | None:
        """Share of the force that has left, 0..1, where both numbers are known."""
        if self.completed_on:
            return 1.0
        if not self.personnel or self.personnel_withdrawn is None:
            return None
        return min(1.0, self.personnel_withdrawn / self.personnel)


class DeadlineRevision(models.Model):
    """Every value a withdrawal's deadline has had, and who said so."""

    withdrawal = models.ForeignKey(
        Withdrawal, on_delete=models.CASCADE, related_name="deadline_revisions"
    )
    deadline = models.DateField(validators=[validate_date_in_range])
    precision = models.CharField(max_length=5, choices=Precision.choices, default=Precision.DAY)
    phrase = models.CharField(max_length=300, blank=True, default="")
    source = models.ForeignKey(
        Source, on_delete=models.SET_NULL, null=True, blank=True, related_name="deadline_revisions"
    )
    # When the deadline was stated (the source's publication date): sources arrive out of
    # order, so the current deadline is the one stated last, not the one recorded last.
    stated_on = models.DateField(null=True, blank=True, validators=[validate_date_in_range])
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    history = HistoricalRecords(bases=[AttributedHistory])

    class Meta:
        ordering = ["withdrawal", "stated_on", "recorded_at", "id"]
        indexes = [
            # Serves "the current deadline is the latest revision".
            models.Index(
                fields=["withdrawal", "stated_on", "recorded_at"], name="deadline_rev_latest_idx"
            ),
        ]

    def __str__(self) -> str:
        return describe_date(self.deadline, self.precision)


class Milestone(models.Model):
    class Kind(models.TextChoices):
        ANNOUNCEMENT = "announcement", "announcement"
        AGREEMENT = "agreement", "agreement"
        ORDER_TO_LEAVE = "order_to_leave", "order to leave"
        WITHDRAWAL_START = "withdrawal_start", "withdrawal start"
        BASE_HANDOVER = "base_handover", "base handover"
        EQUIPMENT_REMOVAL = "equipment_removal", "equipment removal"
        PERSONNEL_UPDATE = "personnel_update", "personnel update"
        DEADLINE = "deadline", "deadline"
        COMPLETION = "completion", "completion"
        OTHER = "other", "other"

    class State(models.TextChoices):
        PLANNED = "planned", "planned"
        DONE = "done", "done"
        MISSED = "missed", "missed"
        CANCELLED = "cancelled", "cancelled"

    withdrawal = models.ForeignKey(Withdrawal, on_delete=models.CASCADE, related_name="milestones")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=300)
    date = models.DateField(null=True, blank=True, validators=[validate_date_in_range])
    date_precision = models.CharField(
        max_length=5, choices=Precision.choices, default=Precision.DAY
    )
    status = models.CharField(max_length=10, choices=State.choices, default=State.PLANNED)
    description = models.TextField(blank=True, default="")
    # Set once a person edits the milestone; merging then only suggests changes.
    locked = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(bases=[AttributedHistory])

    class Meta:
        ordering = ["date", "id"]
        indexes = [
            models.Index(fields=["withdrawal", "date"], name="milestone_withdrawal_date_idx"),
            models.Index(fields=["date"], name="milestone_date_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def date_display(self) -> str:
        return describe_date(self.date, self.date_precision)


class Evidence(models.Model):
    """The sentence of a source that states one fact of a withdrawal or a milestone."""

    class Field(models.TextChoices):
        PAIR = "pair", "withdrawal"
        PERSONNEL = "personnel", "personnel"
        ANNOUNCED_ON = "announced_on", "announced on"
        STARTED_ON = "started_on", "started on"
        DEADLINE = "deadline", "deadline"
        COMPLETED_ON = "completed_on", "completed on"
        MILESTONE = "milestone", "milestone"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="evidence")
    withdrawal = models.ForeignKey(Withdrawal, on_delete=models.CASCADE, related_name="evidence")
    milestone = models.ForeignKey(
        Milestone, on_delete=models.CASCADE, null=True, blank=True, related_name="evidence"
    )
    field = models.CharField(max_length=20, choices=Field.choices)
    # The value as this source states it ("2024-09-15", "1000"), for corroboration counts.
    value = models.CharField(max_length=100, blank=True, default="")
    quote = models.TextField()
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(bases=[AttributedHistory])

    class Meta:
        ordering = ["source_id", "start"]
        verbose_name_plural = "evidence"
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=models.F("end")), name="evidence_span"),
            models.CheckConstraint(
                condition=Q(field="milestone", milestone__isnull=False)
                | (~Q(field="milestone") & Q(milestone__isnull=True)),
                name="evidence_milestone_field",
            ),
        ]
        indexes = [
            models.Index(fields=["withdrawal", "field"], name="evidence_withdrawal_field_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_field_display()}: {self.quote[:80]}"


class Conflict(models.Model):
    """A value a source states that differs from the record, kept for a person to review.

    Two reasons: the sources disagree (1,000 vs 1,100 troops), or the record was edited by a
    person (locked) and a source suggests something else.
    """

    class Reason(models.TextChoices):
        DISAGREEMENT = "disagreement", "sources disagree"
        LOCKED = "locked", "suggested change to a person's edit"

    class State(models.TextChoices):
        OPEN = "open", "open"
        ACCEPTED = "accepted", "accepted"
        REJECTED = "rejected", "rejected"

    withdrawal = models.ForeignKey(Withdrawal, on_delete=models.CASCADE, related_name="conflicts")
    milestone = models.ForeignKey(
        Milestone, on_delete=models.CASCADE, null=True, blank=True, related_name="conflicts"
    )
    field = models.CharField(max_length=30)
    current_value = models.CharField(max_length=200, blank=True, default="")
    proposed_value = models.CharField(max_length=200)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="conflicts")
    quote = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Re-reading the same source never files the same conflict twice.
            models.UniqueConstraint(
                fields=["withdrawal", "field", "proposed_value", "source"],
                name="conflict_once_per_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.field}: {self.current_value} vs {self.proposed_value}"


class Feed(models.Model):
    """An RSS or Atom feed polled for new sources."""

    url = models.URLField(max_length=2000, unique=True)
    title = models.CharField(max_length=300, blank=True, default="")
    active = models.BooleanField(default=True)
    interval_minutes = models.PositiveIntegerField(default=60)
    etag = models.CharField(max_length=300, blank=True, default="")
    last_modified = models.CharField(max_length=100, blank=True, default="")
    last_polled_at = models.DateTimeField(null=True, blank=True)
    next_poll_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["url"]
        indexes = [
            # Serves the beat sweep: active feeds whose next poll is due.
            models.Index(fields=["next_poll_at"], condition=Q(active=True), name="feed_due_idx"),
        ]

    def __str__(self) -> str:
        return self.title or self.url


class IngestJob(models.Model):
    """One request to read a source, from submission to merged records (or failure)."""

    class Kind(models.TextChoices):
        TEXT = "text", "text"
        FILE = "file", "file"
        URL = "url", "URL"
        FEED_ENTRY = "feed_entry", "feed entry"

    class State(models.TextChoices):
        QUEUED = "queued", "queued"
        FETCHING = "fetching", "fetching"
        EXTRACTING = "extracting", "extracting"
        MERGED = "merged", "merged"
        FAILED = "failed", "failed"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    state = models.CharField(max_length=12, choices=State.choices, default=State.QUEUED)
    # What was submitted: a URL, a file name, or "pasted text".
    label = models.CharField(max_length=2000, blank=True, default="")
    url = models.URLField(max_length=2000, blank=True, default="")
    source = models.ForeignKey(
        Source, on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs"
    )
    feed = models.ForeignKey(Feed, on_delete=models.SET_NULL, null=True, blank=True)
    published_on = models.DateField(null=True, blank=True, validators=[validate_date_in_range])
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    # What merging did: withdrawals created/updated, evidence added, conflicts, revisions.
    # {"unchanged": true} when the source had been read before and nothing was done.
    changes = models.JSONField(default=dict, blank=True)
    # Milliseconds per stage: {"fetch_ms": …, "extract_ms": …, "merge_ms": …}.
    timings = models.JSONField(default=dict, blank=True)
    # Things the user should know that did not stop the job ("invalid UTF-8 replaced").
    warnings = models.JSONField(default=list, blank=True)
    task_id = models.CharField(max_length=64, blank=True, default="")
    # An uploaded HTML file waits here, unparsed, until its task reads it (parsing markup
    # never happens in a web request); emptied once its text is the source.
    upload_html = models.TextField(blank=True, default="")
    upload_origin = models.CharField(max_length=12, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    # Written every TRACKER_JOB_HEARTBEAT_SECONDS while a worker runs the job: a running job
    # whose heartbeat is older than TRACKER_JOB_STALE_SECONDS lost its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    MAX_ATTEMPTS = 5

    class Meta:
        ordering = ["-queued_at"]
        indexes = [
            # Serves the sweep that re-queues work lost with the broker.
            models.Index(
                fields=["state", "queued_at"],
                condition=Q(state__in=["queued", "fetching", "extracting"]),
                name="ingestjob_unfinished_idx",
            ),
            # Serves "is this URL already known?" when a URL is submitted or a feed polled.
            models.Index(fields=["url"], condition=~Q(url=""), name="ingestjob_url_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.label or self.pk}: {self.state}"

    @property
    def is_finished(self) -> bool:
        return self.state in {self.State.MERGED, self.State.FAILED}

    @property
    def is_running(self) -> bool:
        return self.state in {self.State.FETCHING, self.State.EXTRACTING}

    @property
    def duration(self) -> dt.timedelta | None:
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


# ---------------------------------------------------------------------------------------
# Alerts: people watch withdrawals, countries, parties or a dashboard view, and hear about
# them through their channels (email, signed webhooks). See docs/alerts.md.


def default_lead_days() -> list[int]:
    # "The deadline is in 7 days", then "in 1 day".
    return [7, 1]


class Watch(models.Model):
    """What one person follows: a withdrawal, a host country, a deploying party or a view."""

    class Kind(models.TextChoices):
        WITHDRAWAL = "withdrawal", "withdrawal"
        HOST = "host", "host country"
        PARTY = "party", "deploying party"
        VIEW = "view", "dashboard view"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watches"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    withdrawal = models.ForeignKey(
        Withdrawal, on_delete=models.CASCADE, null=True, blank=True, related_name="watches"
    )
    # The host country (kind "host") or the deploying party (kind "party").
    party = models.ForeignKey(
        Party, on_delete=models.CASCADE, null=True, blank=True, related_name="watches"
    )
    # The dashboard's query string (kind "view"), normalised: "host=NE&status=overdue".
    query = models.CharField(max_length=500, blank=True, default="")
    # Days before the deadline to be told it is near; each watch has its own.
    lead_days = models.JSONField(default=default_lead_days, blank=True)
    paused = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    MAX_LEAD_DAYS = 365

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="withdrawal", withdrawal__isnull=False, party__isnull=True)
                | Q(kind__in=["host", "party"], withdrawal__isnull=True, party__isnull=False)
                | Q(kind="view", withdrawal__isnull=True, party__isnull=True),
                name="watch_target_matches_kind",
            ),
            models.UniqueConstraint(
                fields=["user", "withdrawal"],
                condition=Q(kind="withdrawal"),
                name="watch_withdrawal_once",
            ),
            models.UniqueConstraint(
                fields=["user", "kind", "party"],
                condition=Q(kind__in=["host", "party"]),
                name="watch_party_once",
            ),
            models.UniqueConstraint(
                fields=["user", "query"], condition=Q(kind="view"), name="watch_view_once"
            ),
        ]
        indexes = [
            # Serves "who watches this withdrawal / this host / this party?" at every event.
            models.Index(
                fields=["withdrawal"], condition=Q(kind="withdrawal"), name="watch_withdrawal_idx"
            ),
            models.Index(
                fields=["party", "kind"],
                condition=Q(kind__in=["host", "party"]),
                name="watch_party_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        if self.kind == self.Kind.WITHDRAWAL:
            return f"Withdrawal: {self.withdrawal}"
        if self.kind == self.Kind.HOST:
            return f"Host country: {self.party}"
        if self.kind == self.Kind.PARTY:
            return f"Deploying party: {self.party}"
        return f"Dashboard view: {self.query or 'all withdrawals'}"

    def clean(self) -> None:
        days = self.lead_days
        if not isinstance(days, list) or not all(isinstance(d, int) for d in days):
            raise ValidationError({"lead_days": "A list of whole numbers of days."})
        if len(days) > 5 or any(not 0 < d <= self.MAX_LEAD_DAYS for d in days):
            raise ValidationError(
                {"lead_days": f"At most 5 values, each from 1 to {self.MAX_LEAD_DAYS} days."}
            )


class Channel(models.Model):
    """Where one person's alerts go: their email address or a webhook URL."""

    class Kind(models.TextChoices):
        EMAIL = "email", "email"
        WEBHOOK = "webhook", "webhook"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_channels"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # An email address or an https:// URL.
    address = models.CharField(max_length=2000)
    # Webhooks: the key of the X-Tracker-Signature HMAC, generated, shown to the owner.
    secret = models.CharField(max_length=100, blank=True, default="")
    # Email: one message a day with everything that happened, instead of one per event.
    digest = models.BooleanField(default=False)
    # Off when the owner pauses it, unsubscribes from an email, or it fails too often.
    active = models.BooleanField(default=True)
    paused_reason = models.CharField(max_length=300, blank=True, default="")
    # Failed sends in a row; the channel pauses at TRACKER_ALERT_PAUSE_AFTER.
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "address"], name="channel_address_once_per_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.address}"


class AlertEvent(models.Model):
    """Something a watcher should hear about, once: its `uuid` is the id receivers dedupe on."""

    class Kind(models.TextChoices):
        DEADLINE_SOON = "deadline_soon", "deadline near"
        DEADLINE_PASSED = "deadline_passed", "deadline passed with no completion reported"
        DEADLINE_CHANGED = "deadline_changed", "deadline changed"
        PHASE_MET = "phase_met", "phase met"
        PHASE_MISSED = "phase_missed", "phase missed"
        COMPLETED = "completed", "withdrawal completed"
        WITHDRAWAL_NEW = "withdrawal_new", "new withdrawal"
        CONFLICT_NEW = "conflict_new", "new conflict"
        RECORD_VERIFIED = "record_verified", "record verified"
        TEST = "test", "test"
        DIGEST = "digest", "daily digest"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # What makes two emissions the same event ("deadline_soon:12:2024-09-15:7"): emitting
    # it again (a re-run sweep, a re-merged source) adds nothing.
    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    withdrawal = models.ForeignKey(
        Withdrawal, on_delete=models.SET_NULL, null=True, blank=True, related_name="alert_events"
    )
    # The facts as they were when it happened, with their source: the body of every message.
    data = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.key})"


class Delivery(models.Model):
    """One event to one channel, written in the event's transaction.

    pending → sending → sent, or back to pending to retry, or failed; held while the
    channel is paused; digest while it waits for the daily digest (then digested).
    """

    class State(models.TextChoices):
        PENDING = "pending", "pending"
        SENDING = "sending", "sending"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"
        HELD = "held", "held (channel paused)"
        DIGEST = "digest", "waiting for the digest"
        DIGESTED = "digested", "sent in a digest"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.ForeignKey(AlertEvent, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # When a worker took it; a "sending" row older than the lease belongs to a dead worker.
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    # The webhook receiver's HTTP status, or the SMTP server's reply code.
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    # The digest delivery that carried this one.
    digest = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="digested"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event", "channel"], name="delivery_once_per_channel"),
        ]
        indexes = [
            # Serves the sweep that re-sends deliveries whose task was lost or is due again.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state__in=["pending", "sending"]),
                name="delivery_due_idx",
            ),
            # Serves each owner's delivery log, newest first.
            models.Index(fields=["channel", "-created_at"], name="delivery_channel_log_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.channel}: {self.state}"


class WithdrawalAlarm(models.Model):
    """When a watched withdrawal next has a time-based event due (healthchecks' alert_after).

    One row per watched open withdrawal with a deadline. The beat sweep reads only the rows
    whose alert_after has passed, through its index, so an idle sweep costs the same at
    100 or 100,000 withdrawals. Kept by services.alarms_refresh.
    """

    withdrawal = models.OneToOneField(
        Withdrawal, on_delete=models.CASCADE, primary_key=True, related_name="alarm"
    )
    # The deadline the thresholds were computed for: a moved deadline re-arms.
    deadline = models.DateField()
    # Thresholds after this moment are still to fire.
    armed_at = models.DateTimeField()
    alert_after = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["alert_after"], name="alarm_alert_after_idx")]

    def __str__(self) -> str:
        return f"{self.withdrawal_id} after {self.alert_after:%Y-%m-%d %H:%M}"
