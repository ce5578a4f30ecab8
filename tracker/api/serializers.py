"""API shapes: explicit fields, dates in ISO 8601 beside their precision.

Write serializers refuse fields they do not know, so a typo ("titel") is a 400 rather than a
silently ignored value.
"""

import datetime as dt

from django.db import models
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tracker import services
from tracker.display import detail_url_maker
from tracker.models import (
    Conflict,
    DeadlineRevision,
    Deployment,
    Evidence,
    Feed,
    IngestJob,
    Milestone,
    Party,
    Source,
    Withdrawal,
)
from tracker.status import SECTION_BY_STATUS, SECTION_CHOICES, Status


def iso_date(value) -> str | None:
    return value.isoformat() if value else None


def iso_datetime(value) -> str | None:
    # As DRF's DateTimeField renders them (UTC, with "Z"), without its per-field machinery.
    if not value:
        return None
    text = value.astimezone(dt.UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def party_dict(party: Party) -> dict:
    return {"code": party.code, "name": party.name, "kind": party.kind}


class WithdrawalRow:
    """A withdrawal list row from values(), with the model's own status and countdown.

    The list builds no model instances (three per row with party and host); borrowing the
    methods keeps one definition of status, so the list and the detail cannot disagree.
    """

    today = staticmethod(Withdrawal.today)
    get_status = Withdrawal.get_status
    get_countdown = Withdrawal.get_countdown

    def __init__(self, values: dict):
        self.__dict__.update(values)


class DetailUrlMixin:
    """The detail URL of each row from one reverse() per serializer, not one per row."""

    detail_view_name = ""

    def detail_url(self, pk: int) -> str:
        url = self.__dict__.get("_detail_url")
        if url is None:
            url = self.__dict__["_detail_url"] = detail_url_maker(
                self.detail_view_name, self.context.get("request")
            )
        return url(pk)


# Names for the schema's enums (SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]): several models
# have a "kind" or a "status", each with its own choices.
PartyKind = Party.Kind
MilestoneKind = Milestone.Kind
MilestoneState = Milestone.State
IngestJobKind = IngestJob.Kind
IngestJobState = IngestJob.State
ConflictState = Conflict.State


class StrictFieldsMixin:
    """Reject unknown keys in the request body with the names that were not understood."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field."] for name in unknown}, code="unknown_field"
                )
            # JSON types as documented: DRF would turn 0 into "0" and "5" into 5.
            wrong = {}
            for name, value in data.items():
                field = self.fields[name]
                if value is None:
                    continue
                if isinstance(field, serializers.CharField) and not isinstance(value, str):
                    wrong[name] = ["Not a string."]
                whole = (serializers.IntegerField, serializers.PrimaryKeyRelatedField)
                if isinstance(field, whole) and (
                    not isinstance(value, int) or isinstance(value, bool)
                ):
                    wrong[name] = ["Not a whole number."]
            if wrong:
                raise serializers.ValidationError(wrong, code="invalid")
        return super().to_internal_value(data)


# ---------------------------------------------------------------------------------------
# Errors (documentation only: tracker.api.api_exception_handler builds them)


class ErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text="The HTTP status code, repeated.")
    code = serializers.CharField(help_text="Machine-readable: invalid, not_found, throttled…")
    message = serializers.CharField(help_text="A sentence for people.")
    fields = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text="Per field (or query parameter) lists of messages, for validation errors.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


# ---------------------------------------------------------------------------------------
# Read shapes


class PartySerializer(serializers.ModelSerializer):
    class Meta:
        model = Party
        fields = ["code", "name", "kind"]


class PartyDetailSerializer(serializers.ModelSerializer):
    class Meta:
        model = Party
        fields = ["code", "name", "kind", "aliases"]


class CountrySerializer(serializers.ModelSerializer):
    withdrawals_hosted = serializers.IntegerField(read_only=True)
    deployments_hosted = serializers.IntegerField(read_only=True)

    class Meta:
        model = Party
        fields = ["code", "name", "aliases", "withdrawals_hosted", "deployments_hosted"]


class EvidenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Evidence
        fields = ["id", "field", "value", "quote", "start", "end", "source", "milestone"]


class SourceEvidenceSerializer(serializers.ModelSerializer):
    """A fact as read from one source: what it says, where, and about which withdrawal."""

    class Meta:
        model = Evidence
        fields = ["id", "withdrawal", "milestone", "field", "value", "quote", "start", "end"]


class MilestoneSerializer(serializers.ModelSerializer):
    def to_representation(self, obj: Milestone) -> dict:
        # Hand-written for list speed (benchmarks/api.py); the declared fields still define
        # the schema, and tests/test_api.py checks both give the same result.
        return {
            "id": obj.pk,
            "withdrawal": obj.withdrawal_id,
            "kind": obj.kind,
            "title": obj.title,
            "date": iso_date(obj.date),
            "date_precision": obj.date_precision,
            "status": obj.status,
            "description": obj.description,
            "locked": obj.locked,
            "updated_at": iso_datetime(obj.updated_at),
        }

    class Meta:
        model = Milestone
        fields = [
            "id",
            "withdrawal",
            "kind",
            "title",
            "date",
            "date_precision",
            "status",
            "description",
            "locked",
            "updated_at",
        ]


class MilestoneWriteSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    # Optimistic concurrency: an edit that sends back the updated_at it read is refused
    # (409) when the milestone changed since, by a merge or another person.
    updated_at = serializers.DateTimeField(
        required=False,
        help_text="On updates, the updated_at you read: the edit is refused with 409 if the "
        "milestone has changed since. Ignored on creation.",
    )

    class Meta:
        model = Milestone
        # Writes answer with the same shape as reads.
        fields = MilestoneSerializer.Meta.fields
        read_only_fields = ["id", "locked"]

    def validate(self, attrs):
        # The withdrawal a milestone belongs to is fixed once it exists.
        if self.instance is not None and "withdrawal" in attrs:
            if attrs["withdrawal"].pk != self.instance.withdrawal_id:
                raise serializers.ValidationError(
                    {"withdrawal": ["A milestone cannot move to another withdrawal."]}
                )
        return attrs


class DeadlineRevisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeadlineRevision
        fields = [
            "id",
            "withdrawal",
            "deadline",
            "precision",
            "phrase",
            "source",
            "stated_on",
            "recorded_at",
        ]


class ConflictSerializer(serializers.ModelSerializer):
    class Meta:
        model = Conflict
        fields = [
            "id",
            "milestone",
            "field",
            "current_value",
            "proposed_value",
            "reason",
            "state",
            "source",
            "quote",
            "created_at",
        ]


class CountdownSerializer(serializers.Serializer):
    seconds = serializers.IntegerField(
        allow_null=True, help_text="Seconds until the deadline day ends (UTC); negative: past."
    )
    completed_days_early = serializers.IntegerField(
        allow_null=True, help_text="Days between completion and deadline; negative: late."
    )
    text = serializers.CharField()


class WithdrawalSerializer(DetailUrlMixin, serializers.ModelSerializer):
    detail_view_name = "tracker:api-withdrawal-detail"
    party = PartySerializer()
    host = PartySerializer()
    status = serializers.SerializerMethodField()
    status_detail = serializers.SerializerMethodField()
    countdown = serializers.SerializerMethodField()
    evidence_count = serializers.IntegerField(read_only=True)
    source_count = serializers.IntegerField(
        read_only=True, help_text="Distinct sources with evidence for this withdrawal."
    )
    publisher_count = serializers.IntegerField(
        read_only=True, help_text="Distinct publishers among those sources."
    )
    open_conflict_count = serializers.IntegerField(read_only=True)
    url = serializers.HyperlinkedIdentityField(view_name="tracker:api-withdrawal-detail")

    class Meta:
        model = Withdrawal
        fields = [
            "id",
            "url",
            "party",
            "host",
            "status",
            "status_detail",
            "countdown",
            "summary",
            "announced_on",
            "announced_precision",
            "started_on",
            "started_precision",
            "deadline",
            "deadline_precision",
            "completed_on",
            "completed_precision",
            "cancelled_on",
            "personnel",
            "personnel_qualifier",
            "personnel_withdrawn",
            "evidence_count",
            "source_count",
            "publisher_count",
            "open_conflict_count",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(serializers.ChoiceField(choices=SECTION_CHOICES))
    def get_status(self, obj: Withdrawal) -> str:
        """The section: `completed` for every completion, whatever its grade."""
        return SECTION_BY_STATUS[obj.get_status(now=self.context.get("now"))].key

    @extend_schema_field(serializers.ChoiceField(choices=Status.choices))
    def get_status_detail(self, obj: Withdrawal) -> str:
        """The finer status: completed_early, completed_on_time, completed_late (or the same
        word as `status`)."""
        return obj.get_status(now=self.context.get("now")).value

    @extend_schema_field(CountdownSerializer)
    def get_countdown(self, obj: Withdrawal) -> dict:
        countdown = obj.get_countdown(now=self.context.get("now"))
        return {
            "seconds": countdown.seconds,
            "completed_days_early": countdown.completed_days_early,
            "text": countdown.describe(),
        }


def _row_writer(name: str):
    """How the list's fast path writes one declared field of a values() row."""
    field = Withdrawal._meta.get_field(name)
    if isinstance(field, models.DateTimeField):
        return lambda row: iso_datetime(getattr(row, name))
    if isinstance(field, models.DateField):
        return lambda row: iso_date(getattr(row, name))
    return lambda row: getattr(row, name)


# Fields the list's fast path writes itself; every other declared field is a column.
_ROW_SPECIAL = {"url", "party", "host", "status", "status_detail", "countdown"}
_ROW_COLUMNS = [
    (name, _row_writer(name))
    for name in WithdrawalSerializer.Meta.fields
    if name not in _ROW_SPECIAL
]
# What the list reads with values(): the declared fields, foreign keys as ids.
WITHDRAWAL_LIST_VALUES = ["party_id", "host_id"] + [name for name, _ in _ROW_COLUMNS]


class WithdrawalRowSerializer(WithdrawalSerializer):
    """The list's rows, written from values() dicts (benchmarks/api.py): DRF's per-field
    machinery costs more than the query. Same fields as WithdrawalSerializer, from its one
    declaration (tests/test_api.py compares both renderings row by row)."""

    def to_representation(self, values: dict) -> dict:
        now = self.__dict__.get("_now")
        if now is None:
            # self.context walks up to the root serializer on every access: read it once.
            now = self.__dict__["_now"] = self.context.get("now") or timezone.now()
            # Parties come from one query for the whole page (WithdrawalViewSet.get_serializer).
            self.__dict__["_parties"] = self.context["parties"]
        parties = self.__dict__["_parties"]
        row = WithdrawalRow(values)
        # The status comes from SQL with the row (tracker.status); the countdown from the model.
        status = Status(row.status)
        countdown = row.get_countdown(now=now)
        rendered = {
            "id": row.id,
            "url": self.detail_url(row.id),
            "party": parties[row.party_id],
            "host": parties[row.host_id],
            "status": SECTION_BY_STATUS[status].key,
            "status_detail": status.value,
            "countdown": {
                "seconds": countdown.seconds,
                "completed_days_early": countdown.completed_days_early,
                "text": countdown.describe(),
            },
        }
        for name, write in _ROW_COLUMNS:
            rendered[name] = write(row)
        return {name: rendered[name] for name in self.Meta.fields}


class WithdrawalDetailSerializer(WithdrawalSerializer):
    milestones = MilestoneSerializer(many=True)
    deadline_revisions = DeadlineRevisionSerializer(many=True)
    evidence = EvidenceSerializer(many=True)
    conflicts = ConflictSerializer(many=True)
    deadline_display = serializers.CharField(read_only=True)
    personnel_display = serializers.CharField(read_only=True)
    personnel_progress = serializers.SerializerMethodField()

    class Meta(WithdrawalSerializer.Meta):
        fields = WithdrawalSerializer.Meta.fields + [
            "deadline_display",
            "personnel_display",
            "personnel_progress",
            "locked_fields",
            "milestones",
            "deadline_revisions",
            "evidence",
            "conflicts",
        ]

    @extend_schema_field(OpenApiTypes.FLOAT)
    def get_personnel_progress(self, obj: Withdrawal) -> float | None:
        return obj.personnel_progress()


class SourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Source
        fields = [
            "id",
            "url",
            "stated_url",
            "title",
            "publisher",
            "published_on",
            "language",
            "origin",
            "content_hash",
            "fetched_at",
            "created_at",
        ]


class SourceDetailSerializer(SourceSerializer):
    evidence = SourceEvidenceSerializer(many=True)
    deadline_revisions = DeadlineRevisionSerializer(many=True)
    conflicts = ConflictSerializer(many=True)

    class Meta(SourceSerializer.Meta):
        # The text is only in the detail: evidence offsets point into it, and it is large.
        fields = SourceSerializer.Meta.fields + [
            "text",
            "evidence",
            "deadline_revisions",
            "conflicts",
        ]


class SourceSubmitSerializer(StrictFieldsMixin, serializers.Serializer):
    """Either a text (with optional metadata) or a URL to fetch.

    With a text, `url` is where it was published: stored as the source's `stated_url`, a
    reference that is never fetched (the source's `url` is only ever a page really read).
    """

    text = serializers.CharField(required=False, trim_whitespace=False, max_length=5_000_000)
    url = serializers.URLField(required=False, max_length=2000)
    title = serializers.CharField(required=False, allow_blank=True, max_length=500)
    publisher = serializers.CharField(required=False, allow_blank=True, max_length=200)
    published_on = serializers.DateField(required=False, allow_null=True)

    def validate_published_on(self, value):
        try:
            services.published_on_check(value)
        except services.IngestError as exc:
            raise serializers.ValidationError(str(exc), code="invalid") from None
        return value

    def validate(self, attrs):
        if not attrs.get("text") and not attrs.get("url"):
            raise serializers.ValidationError(
                {"text": ["Send a text, or a url to fetch."]}, code="required"
            )
        if "text" in attrs and not attrs["text"].strip():
            raise serializers.ValidationError({"text": ["The text is empty."]}, code="blank")
        if "text" not in attrs and set(attrs) - {"url"}:
            raise serializers.ValidationError(
                {
                    name: ["Only with a text: a fetched page brings its own."]
                    for name in sorted(set(attrs) - {"url"})
                }
            )
        return attrs


class DeploymentSerializer(serializers.ModelSerializer):
    party = PartySerializer()
    host = PartySerializer()

    class Meta:
        model = Deployment
        fields = [
            "id",
            "party",
            "host",
            "personnel",
            "personnel_qualifier",
            "since",
            "since_precision",
            "updated_at",
        ]


class FeedSerializer(serializers.ModelSerializer):
    class Meta:
        model = Feed
        fields = [
            "id",
            "url",
            "title",
            "active",
            "interval_minutes",
            "last_polled_at",
            "next_poll_at",
            "last_error",
            "created_at",
        ]


class FeedWriteSerializer(StrictFieldsMixin, serializers.Serializer):
    url = serializers.URLField(max_length=2000)
    interval_minutes = serializers.IntegerField(
        required=False, default=60, min_value=5, max_value=7 * 24 * 60
    )


class IngestJobSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="tracker:api-ingest-job-detail")
    submitted_url = serializers.CharField(source="url", read_only=True)

    class Meta:
        model = IngestJob
        fields = [
            "id",
            "url",
            "kind",
            "state",
            "label",
            "submitted_url",
            "source",
            "feed",
            "published_on",
            "attempts",
            "error",
            "warnings",
            "changes",
            "timings",
            "queued_at",
            "started_at",
            "finished_at",
        ]
