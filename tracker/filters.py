"""Query-string filters: one FilterSet per list, shared by the pages, the API and the exports.

`WithdrawalFilter` serves the dashboard, `/dashboard.json`, `/api/withdrawals/` (JSON and CSV),
the iCalendar and Atom feeds: same parameters, same validation, same answer
(tests/test_filter_parity.py). To add a filter, declare it here once; every surface gets it.
"""

import datetime as dt
import re

import django_filters
from django import forms
from django.db.models import Q
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from tracker.extraction import places
from tracker.models import (
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
from tracker.status import STATUS_WORDS, status_filter, statuses_named

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

    Only free text, ordering and list filters may be empty (?search=, ?status= from a form's
    "Any"): "?deadline_after=" is a mistake, not "any".
    """

    def get_form_class(self):
        # One form class per FilterSet class, not per request (forms copy their fields).
        cached = type(self).__dict__.get("_strict_form_class")
        if cached is not None:
            return cached
        form_class = super().get_form_class()
        may_be_empty = {
            name
            for name, f in self.filters.items()
            if isinstance(f, django_filters.CharFilter | django_filters.OrderingFilter)
            or getattr(f, "empty_means_any", False)
        }

        class Form(form_class):
            def clean(self):
                cleaned = super().clean()
                for name in self.fields:
                    if name not in may_be_empty and self.data.get(name) == "":
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


class ValueListWidget(forms.Widget):
    """Every value of a parameter, repeated or comma-separated: ?host=NE,ML&host=TD."""

    def value_from_datadict(self, data, files, name):
        if name not in data:
            return None
        raw = data.getlist(name) if hasattr(data, "getlist") else [data[name]]
        return [part.strip() for value in raw for part in str(value).split(",") if part.strip()]


class ValueListField(forms.Field):
    """A list of words, each resolved by `resolve` (None: names nothing, listed in the error)."""

    widget = ValueListWidget

    def __init__(self, *, resolve, accepted: str, **kwargs):
        self.resolve, self.accepted = resolve, accepted
        super().__init__(**kwargs)

    def clean(self, value):
        values = value or []
        if any("\x00" in item or len(item) > 200 for item in values):
            raise forms.ValidationError("Not a value this filter reads.", code="invalid")
        found, unknown = [], []
        for item in values:
            resolved = self.resolve(item)
            if resolved is None:
                unknown.append(item)
            else:
                found.extend(v for v in resolved if v not in found)
        if unknown:
            names = ", ".join(f"“{item}”" for item in unknown)
            raise forms.ValidationError(
                f"{names} names nothing we know. Accepted: {self.accepted}.", code="invalid"
            )
        return found


class ValueListFilter(django_filters.Filter):
    # Documented by its filter method's @extend_schema_field.
    field_class = ValueListField
    # Empty (?status= from a form's "Any") means no filter, like an absent parameter.
    empty_means_any = True


def party_codes_named(value: str, *, on_record: bool = True) -> list[str] | None:
    """The party codes a word names: a code (any letter case), a name, short name, demonym or
    acronym the extraction gazetteer knows ("USA", "UK", "America", "French", "MINUSMA"),
    or a name or alias of a party on record. A well-formed code nobody has withdrawn from yet
    is still a code (an empty list, not an error)."""
    code = value.upper()
    if code in places.KNOWN_CODES:
        return [code]
    ref = places.party_named(value)
    if ref is not None:
        return [ref.code]
    if not on_record:
        return None
    wanted = value.casefold()
    codes = [
        code
        for code, name, aliases in Party.objects.values_list("code", "name", "aliases")
        if wanted in {code.casefold(), name.casefold()}
        or wanted in {str(alias).casefold() for alias in aliases or []}
    ]
    return codes or None


def statuses_word(value: str) -> list[str] | None:
    try:
        return sorted(statuses_named(value.lower()))
    except KeyError:
        return None


PARTY_ACCEPTED = (
    "party codes (US, GB, MINUSMA), country or organisation names (United Kingdom), "
    "short names (USA, UK, America), demonyms (French) and mission acronyms (ISAF)"
)


PARTY_CODES = sorted(places.KNOWN_CODES)
PARTY_HELP = (
    "A code (any letter case), or a name, short name, demonym or acronym: US, USA, America, "
    "American, MINUSMA. Repeat the parameter or separate values with commas for several. A "
    "value that names nothing is a 400 listing what is accepted."
)
STATUS_HELP = (
    "Derived status. `completed` is every completion (early, on time, late); the finer words "
    "select one grade. Repeat the parameter or separate values with commas for several."
)


def list_schema(words: list[str], description: str) -> dict:
    # Documented as the words themselves: the codes listed are those the gazetteer knows;
    # names and codes of parties on record are read too. Empty means any (a form's "Any").
    return {
        "type": "array",
        "items": {"type": "string", "enum": ["", *words]},
        "description": description,
    }


def word_pattern(term: str) -> str:
    # A whole word or phrase, not a substring: "UN" must not find "United States". Written
    # so PostgreSQL's and SQLite's (Python's) regular expressions read it alike.
    return rf"(^|[^a-z0-9]){re.escape(term.lower())}([^a-z0-9]|$)"


class WithdrawalFilter(StrictFilterSet):
    party = ValueListFilter(
        method="filter_party",
        label="Deploying party: a code, name, short name, demonym or acronym (US, USA, "
        "American, MINUSMA); repeat or separate with commas for several.",
        resolve=party_codes_named,
        accepted=PARTY_ACCEPTED,
    )
    host = ValueListFilter(
        method="filter_host",
        label="Host country: a code, name, short name or demonym (NE, Niger, Nigerien); "
        "repeat or separate with commas for several.",
        resolve=party_codes_named,
        accepted=PARTY_ACCEPTED,
    )
    status = ValueListFilter(
        method="filter_status",
        label="Derived status: " + ", ".join(STATUS_WORDS) + ". `completed` is every "
        "completion (early, on time, late); repeat or separate with commas for several.",
        resolve=statuses_word,
        accepted=", ".join(STATUS_WORDS),
    )
    deadline_after = django_filters.DateFilter(field_name="deadline", lookup_expr="gte")
    deadline_before = django_filters.DateFilter(field_name="deadline", lookup_expr="lte")
    announced_after = django_filters.DateFilter(field_name="announced_on", lookup_expr="gte")
    announced_before = django_filters.DateFilter(field_name="announced_on", lookup_expr="lte")
    updated_since = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=200,
        label="Words in the parties' names, codes and aliases, or in the summary (whole words).",
    )
    # The dashboard's name for `search`.
    q = django_filters.CharFilter(method="filter_search", max_length=200, label="Same as search.")
    ordering = django_filters.OrderingFilter(
        fields=["deadline", "announced_on", "updated_at", "personnel", "id"],
        label="Instead of the default order (most urgent section first, then by deadline).",
    )

    class Meta:
        model = Withdrawal
        fields: list[str] = []

    @property
    def now(self):
        return getattr(self.request, "tracker_now", None)

    @extend_schema_field(list_schema(PARTY_CODES, "Deploying party. " + PARTY_HELP))
    def filter_party(self, queryset, name, codes):
        return queryset.filter(party__code__in=codes)

    @extend_schema_field(list_schema(PARTY_CODES, "Host country. " + PARTY_HELP))
    def filter_host(self, queryset, name, codes):
        return queryset.filter(host__code__in=codes)

    @extend_schema_field(list_schema(STATUS_WORDS, STATUS_HELP))
    def filter_status(self, queryset, name, statuses):
        return queryset.filter(status_filter(frozenset(statuses), self.now))

    def filter_search(self, queryset, name, term):
        term = " ".join(term.split())
        if not term:
            return queryset
        pattern = word_pattern(term)
        condition = (
            Q(party__name__iregex=pattern)
            | Q(host__name__iregex=pattern)
            | Q(summary__iregex=pattern)
        )
        # Names on record are matched word by word above; here what the gazetteer reads.
        codes = party_codes_named(term, on_record=False)
        if codes:
            condition |= Q(party__code__in=codes) | Q(host__code__in=codes)
        return queryset.filter(condition)


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
