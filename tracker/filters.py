"""Query-string filters for the API and the exports, and the querysets they share.

Status is derived on the model (`Withdrawal.get_status`); `withdrawals_with_status` is the one
place that translates each status into a condition on the stored dates, so a list filtered by
status agrees with the status each row shows (tests/test_api_filters.py checks every status).
"""

import datetime as dt

import django_filters
from django import forms
from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.db.models.functions import TruncMonth, TruncYear
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from tracker.models import (
    DeadlineRevision,
    Deployment,
    Evidence,
    Feed,
    IngestJob,
    Milestone,
    Party,
    Precision,
    Source,
    Status,
    Withdrawal,
)


def status_condition(status: str, now: dt.datetime | None = None) -> Q:
    """The stored-date condition under which `Withdrawal.get_status(now)` returns `status`.

    Mirrors get_status branch by branch: each branch holds only when the earlier ones do not.
    """
    today = Withdrawal.today(now)
    due_soon_until = today + dt.timedelta(days=settings.TRACKER_DUE_SOON_DAYS)
    cancelled = Q(cancelled_on__lte=today)
    not_cancelled = Q(cancelled_on__isnull=True) | Q(cancelled_on__gt=today)
    completed = not_cancelled & Q(completed_on__lte=today)
    # "by September 2025" is met by any day of September: early means before the period.
    early = (
        Q(deadline_precision=Precision.DAY, completed_on__lt=F("deadline"))
        | Q(deadline_precision=Precision.MONTH, completed_on__lt=TruncMonth("deadline"))
        | Q(deadline_precision=Precision.YEAR, completed_on__lt=TruncYear("deadline"))
    )
    with_deadline = Q(deadline__isnull=False)
    open_ = not_cancelled & (Q(completed_on__isnull=True) | Q(completed_on__gt=today))
    not_due = Q(deadline__isnull=True) | Q(deadline__gt=due_soon_until)
    started = Q(started_on__lte=today) | Q(personnel_withdrawn__gt=0)
    not_started = (Q(started_on__isnull=True) | Q(started_on__gt=today)) & (
        Q(personnel_withdrawn__isnull=True) | Q(personnel_withdrawn=0)
    )
    conditions = {
        Status.CANCELLED: cancelled,
        Status.COMPLETED: completed & Q(deadline__isnull=True),
        Status.COMPLETED_LATE: completed & with_deadline & Q(completed_on__gt=F("deadline")),
        Status.COMPLETED_EARLY: completed
        & with_deadline
        & Q(completed_on__lte=F("deadline"))
        & early,
        Status.COMPLETED_ON_TIME: completed
        & with_deadline
        & Q(completed_on__lte=F("deadline"))
        & ~early,
        Status.OVERDUE: open_ & Q(deadline__lt=today),
        Status.DUE_SOON: open_ & Q(deadline__gte=today, deadline__lte=due_soon_until),
        Status.IN_PROGRESS: open_ & not_due & started,
        Status.ANNOUNCED: open_ & not_due & not_started,
    }
    return conditions[Status(status)]


def withdrawals_with_status(
    queryset: QuerySet[Withdrawal], status: str, now: dt.datetime | None = None
) -> QuerySet[Withdrawal]:
    return queryset.filter(status_condition(status, now))


# ---------------------------------------------------------------------------------------
# FilterSets. Form fields reject NUL bytes, impossible dates and unknown choices, and the
# DRF backend turns their errors into 400 answers.


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    # Whole numbers only: "1.5" or "abc" is a 400, not a silent empty list.
    field_class = forms.IntegerField


class UtcDateTimeField(IsoDateTimeField):
    def clean(self, value):
        moment = super().clean(value)
        if moment is None:
            return None
        # In UTC before it reaches the database: PostgreSQL refuses offsets such as +16:50.
        try:
            return moment.astimezone(dt.UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError("Out of range.", code="invalid") from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.TypedChoiceFilter):
    """ "true" or "false"; anything else is a 400 (a BooleanFilter would ignore it)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [("true", "true"), ("false", "false")])
        kwargs.setdefault("coerce", lambda value: value == "true")
        super().__init__(*args, **kwargs)


class CodeFilter(django_filters.CharFilter):
    """A party code, matched case-insensitively (?party=us is ?party=US)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("lookup_expr", "iexact")
        kwargs.setdefault("max_length", 40)
        super().__init__(*args, **kwargs)


def search_filter(*fields: str):
    def apply(queryset, name, value):
        if not value:
            return queryset
        condition = Q()
        for field in fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)

    return apply


class SearchFilter(django_filters.CharFilter):
    def __init__(self, *fields: str, **kwargs):
        kwargs.setdefault("max_length", 200)
        kwargs.setdefault("method", search_filter(*fields))
        kwargs.setdefault("label", "Case-insensitive text search in " + ", ".join(fields))
        super().__init__(**kwargs)


class StrictFilterSet(django_filters.FilterSet):
    """A present but empty value is a 400 for dates, numbers, choices and ordering.

    Only free text and ordering may be empty (?search=): "?status=" is a mistake, not "any".
    """

    def get_form_class(self):
        # One form class per FilterSet class, not per request (forms copy their fields).
        cached = type(self).__dict__.get("_strict_form_class")
        if cached is not None:
            return cached
        form_class = super().get_form_class()
        free_text = {
            name
            for name, f in self.filters.items()
            if isinstance(f, django_filters.CharFilter | django_filters.OrderingFilter)
        }

        class Form(form_class):
            def clean(self):
                cleaned = super().clean()
                for name in self.fields:
                    if name not in free_text and self.data.get(name) == "":
                        self.add_error(name, "This value may not be empty.")
                return cleaned

        type(self)._strict_form_class = Form
        return Form


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, skipped when the query names none of the filters."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = getattr(view, "filterset_class", None)
        if filterset_class is not None and not any(
            name in request.query_params for name in filterset_class.base_filters
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)


class WithdrawalFilter(StrictFilterSet):
    party = CodeFilter(field_name="party__code", label="Deploying party code, e.g. US")
    host = CodeFilter(field_name="host__code", label="Host country code, e.g. NE")
    status = django_filters.ChoiceFilter(
        choices=Status.choices, method="filter_status", label="Derived status"
    )
    deadline_after = django_filters.DateFilter(field_name="deadline", lookup_expr="gte")
    deadline_before = django_filters.DateFilter(field_name="deadline", lookup_expr="lte")
    announced_after = django_filters.DateFilter(field_name="announced_on", lookup_expr="gte")
    announced_before = django_filters.DateFilter(field_name="announced_on", lookup_expr="lte")
    updated_since = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    search = SearchFilter("party__name", "party__code", "host__name", "host__code", "summary")
    ordering = django_filters.OrderingFilter(
        fields=["deadline", "announced_on", "updated_at", "personnel", "id"]
    )

    class Meta:
        model = Withdrawal
        fields: list[str] = []

    def filter_status(self, queryset, name, value):
        if not value:
            return queryset
        now = self.request.tracker_now if hasattr(self.request, "tracker_now") else None
        return withdrawals_with_status(queryset, value, now)


class MilestoneFilter(StrictFilterSet):
    withdrawal = IdFilter(field_name="withdrawal_id")
    party = CodeFilter(field_name="withdrawal__party__code")
    host = CodeFilter(field_name="withdrawal__host__code")
    status = django_filters.ChoiceFilter(choices=Milestone.State.choices)
    kind = django_filters.ChoiceFilter(choices=Milestone.Kind.choices)
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte")
    deadline_after = django_filters.DateFilter(field_name="withdrawal__deadline", lookup_expr="gte")
    deadline_before = django_filters.DateFilter(
        field_name="withdrawal__deadline", lookup_expr="lte"
    )
    updated_since = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    search = SearchFilter("title", "description")
    ordering = django_filters.OrderingFilter(fields=["date", "updated_at", "id"])

    class Meta:
        model = Milestone
        fields: list[str] = []


class DeadlineRevisionFilter(StrictFilterSet):
    withdrawal = IdFilter(field_name="withdrawal_id")
    party = CodeFilter(field_name="withdrawal__party__code")
    host = CodeFilter(field_name="withdrawal__host__code")
    deadline_after = django_filters.DateFilter(field_name="deadline", lookup_expr="gte")
    deadline_before = django_filters.DateFilter(field_name="deadline", lookup_expr="lte")
    updated_since = UtcDateTimeFilter(field_name="recorded_at", lookup_expr="gte")
    search = SearchFilter("phrase")
    ordering = django_filters.OrderingFilter(fields=["deadline", "stated_on", "recorded_at", "id"])

    class Meta:
        model = DeadlineRevision
        fields: list[str] = []


class SourceFilter(StrictFilterSet):
    party = django_filters.CharFilter(method="filter_party", max_length=40)
    host = django_filters.CharFilter(method="filter_host", max_length=40)
    origin = django_filters.ChoiceFilter(choices=Source.Origin.choices)
    published_after = django_filters.DateFilter(field_name="published_on", lookup_expr="gte")
    published_before = django_filters.DateFilter(field_name="published_on", lookup_expr="lte")
    updated_since = UtcDateTimeFilter(field_name="fetched_at", lookup_expr="gte")
    search = SearchFilter("title", "publisher", "url")
    ordering = django_filters.OrderingFilter(
        fields=["published_on", "fetched_at", "created_at", "id"]
    )

    class Meta:
        model = Source
        fields: list[str] = []

    # An EXISTS rather than a JOIN: a source with many sentences is still listed once.
    def filter_party(self, queryset, name, value):
        return queryset.filter(
            pk__in=Evidence.objects.filter(withdrawal__party__code__iexact=value).values(
                "source_id"
            )
        )

    def filter_host(self, queryset, name, value):
        return queryset.filter(
            pk__in=Evidence.objects.filter(withdrawal__host__code__iexact=value).values("source_id")
        )


class PartyFilter(StrictFilterSet):
    kind = django_filters.ChoiceFilter(choices=Party.Kind.choices)
    search = SearchFilter("code", "name")
    ordering = django_filters.OrderingFilter(fields=["code", "name"])

    class Meta:
        model = Party
        fields: list[str] = []


class DeploymentFilter(StrictFilterSet):
    party = CodeFilter(field_name="party__code")
    host = CodeFilter(field_name="host__code")
    updated_since = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    search = SearchFilter("party__name", "party__code", "host__name", "host__code")
    ordering = django_filters.OrderingFilter(fields=["since", "personnel", "updated_at", "id"])

    class Meta:
        model = Deployment
        fields: list[str] = []


class FeedFilter(StrictFilterSet):
    active = StrictBooleanFilter()
    search = SearchFilter("url", "title")
    ordering = django_filters.OrderingFilter(
        fields=["url", "created_at", "next_poll_at", "last_polled_at", "id"]
    )

    class Meta:
        model = Feed
        fields: list[str] = []


class IngestJobFilter(StrictFilterSet):
    state = django_filters.ChoiceFilter(choices=IngestJob.State.choices)
    kind = django_filters.ChoiceFilter(choices=IngestJob.Kind.choices)
    source = IdFilter(field_name="source_id")
    updated_since = UtcDateTimeFilter(field_name="queued_at", lookup_expr="gte")
    search = SearchFilter("label", "url", "error")
    ordering = django_filters.OrderingFilter(fields=["queued_at", "finished_at", "id"])

    class Meta:
        model = IngestJob
        fields: list[str] = []


class ExportFilter(StrictFilterSet):
    """The filters the calendar and Atom feeds accept: ?party=US&host=NE."""

    party = CodeFilter(field_name="party__code")
    host = CodeFilter(field_name="host__code")

    class Meta:
        model = Withdrawal
        fields: list[str] = []
