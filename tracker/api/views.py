"""The API's viewsets: parse the request, call a selector, a model or a service, render.

Querysets name their joins so a page costs a fixed number of queries (tests assert it). Every
4xx answer has one shape (tracker/api/errors.py).
"""

from django.db.models import OuterRef, Prefetch
from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.response import Response

from tracker import filters, permissions, selectors, services
from tracker.api.errors import EditConflict
from tracker.api.pagination import positive_int
from tracker.api.renderers import CSVRenderer, ORJSONRenderer, csv_lines, flatten
from tracker.api.serializers import (
    WITHDRAWAL_LIST_VALUES,
    CountrySerializer,
    DeadlineRevisionSerializer,
    DeploymentSerializer,
    FeedSerializer,
    FeedWriteSerializer,
    IngestJobSerializer,
    MilestoneSerializer,
    MilestoneWriteSerializer,
    PartyDetailSerializer,
    SourceDetailSerializer,
    SourceSerializer,
    SourceSubmitSerializer,
    WithdrawalDetailSerializer,
    WithdrawalRowSerializer,
)
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
from tracker.services.merging import count_of

# ---------------------------------------------------------------------------------------
# Pagination and CSV


class CSVExportMixin:
    """?format=csv on a list: every row matching the filters, streamed.

    Rows are read from the database in chunks (a server-side cursor on PostgreSQL) and written
    as they come, so memory stays flat however many rows match (benchmarks/exports.py).
    """

    csv_chunk_rows = 2000

    def list(self, request, *args, **kwargs):
        if getattr(request.accepted_renderer, "format", None) != "csv":
            return super().list(request, *args, **kwargs)
        for name in ("page", "page_size"):
            # Ignored by the export, but still validated like on the paged list.
            if name in request.query_params:
                positive_int(request.query_params[name], name)
        queryset = self.filter_queryset(self.get_queryset())
        filename = f"{self.basename.removeprefix('api-')}s.csv"
        response = StreamingHttpResponse(
            self.csv_stream(queryset), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def csv_stream(self, queryset):
        columns = None
        chunk = []
        for row in queryset.iterator(chunk_size=self.csv_chunk_rows):
            chunk.append(row)
            if len(chunk) == self.csv_chunk_rows:
                columns, lines = self.csv_chunk(chunk, columns)
                yield "".join(lines)
                chunk = []
        if chunk or columns is None:
            columns, lines = self.csv_chunk(chunk, columns)
            yield "".join(lines)

    def csv_chunk(self, chunk, columns):
        rows = [flatten(row) for row in self.get_serializer(chunk, many=True).data]
        header = columns is None
        if header:
            columns = list(rows[0]) if rows else self.csv_empty_columns()
        return columns, csv_lines(columns, rows, header=header)

    def csv_empty_columns(self):
        # No row to read the columns from: the serializer's declared fields.
        return list(self.get_serializer_class()().fields)

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors stay JSON even when CSV was asked for.
        if response.status_code >= 400 and getattr(request, "accepted_renderer", None):
            if getattr(request.accepted_renderer, "format", None) == "csv":
                request.accepted_renderer = ORJSONRenderer()
                request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)


# ---------------------------------------------------------------------------------------
# Views


class ApiViewMixin:
    """One clock reading per request, so every row's status is computed against the same now."""

    def initial(self, request, *args, **kwargs):
        request.tracker_now = timezone.now()
        super().initial(request, *args, **kwargs)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["now"] = getattr(self.request, "tracker_now", None) or timezone.now()
        return context


LIST_CSV = (
    "Add `?format=csv` for every row matching the filters as CSV (nested objects become "
    "dotted columns such as `party.code`)."
)


@extend_schema_view(
    list=extend_schema(
        summary="List withdrawals",
        description="Withdrawals with their derived status and countdown, the current "
        "deadline with its precision, and evidence/corroboration/conflict counts. " + LIST_CSV,
    ),
    retrieve=extend_schema(
        summary="One withdrawal",
        description="With its milestones, deadline history, evidence and conflicts.",
    ),
)
class WithdrawalViewSet(ApiViewMixin, CSVExportMixin, viewsets.ReadOnlyModelViewSet):
    filterset_class = filters.WithdrawalFilter
    renderer_classes = [ORJSONRenderer, CSVRenderer]

    def get_queryset(self):
        if self.action == "retrieve":
            return selectors.withdrawal_detail_queryset()
        # Rows as dicts with their status from SQL: a page builds no model instances (see
        # WithdrawalRow). Corroboration counts are columns (kept by services.withdrawals_recount).
        # (No clock reading when the schema generator asks: status is then judged now.)
        now = getattr(self.request, "tracker_now", None)
        return selectors.withdrawal_list(now=now).values(*WITHDRAWAL_LIST_VALUES, "status")

    def get_serializer_class(self):
        return WithdrawalDetailSerializer if self.action == "retrieve" else WithdrawalRowSerializer

    def get_serializer(self, *args, **kwargs):
        if not kwargs.get("many"):
            return super().get_serializer(*args, **kwargs)
        # The page's parties in one query, rather than joining party and host twice into
        # the sort of every matching row (and into the count).
        rows = list(args[0])
        ids = {row["party_id"] for row in rows} | {row["host_id"] for row in rows}
        parties = {
            party.pop("id"): party
            for party in Party.objects.filter(pk__in=ids).values("id", "code", "name", "kind")
        }
        kwargs["context"] = {**self.get_serializer_context(), "parties": parties}
        return self.get_serializer_class()(rows, *args[1:], **kwargs)


@extend_schema_view(
    list=extend_schema(summary="List milestones", description=LIST_CSV),
    retrieve=extend_schema(summary="One milestone"),
    create=extend_schema(
        summary="Add a milestone (token required)",
        description="The milestone is locked like an admin edit: merging sources never "
        "changes it again and only files suggestions (conflicts).",
        request=MilestoneWriteSerializer,
        responses={201: MilestoneSerializer},
        examples=[
            OpenApiExample(
                "Base handover",
                request_only=True,
                value={
                    "withdrawal": 1,
                    "kind": "base_handover",
                    "title": "Air Base 201 handed over",
                    "date": "2024-08-05",
                    "date_precision": "day",
                    "status": "done",
                },
            )
        ],
    ),
    update=extend_schema(
        summary="Replace a milestone (token required)",
        request=MilestoneWriteSerializer,
        responses={200: MilestoneSerializer},
    ),
    partial_update=extend_schema(
        summary="Change some fields of a milestone (token required)",
        description="Locks the milestone like an admin edit.",
        request=MilestoneWriteSerializer,
        responses={200: MilestoneSerializer},
        examples=[OpenApiExample("Mark done", request_only=True, value={"status": "done"})],
    ),
)
class MilestoneViewSet(
    ApiViewMixin,
    CSVExportMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    filterset_class = filters.MilestoneFilter
    renderer_classes = [ORJSONRenderer, CSVRenderer]
    queryset = Milestone.objects.order_by("date", "id")

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return MilestoneWriteSerializer
        return MilestoneSerializer

    def perform_create(self, serializer):
        serializer.validated_data.pop("updated_at", None)
        milestone = Milestone(**serializer.validated_data)
        services.milestone_save_by_person(milestone=milestone)
        serializer.instance = milestone

    def perform_update(self, serializer):
        milestone = serializer.instance
        seen = serializer.validated_data.pop("updated_at", None)
        for name, value in serializer.validated_data.items():
            setattr(milestone, name, value)
        try:
            services.milestone_save_by_person(
                milestone=milestone, fields=serializer.validated_data, seen_updated_at=seen
            )
        except services.StaleEdit as exc:
            raise EditConflict(str(exc)) from None


@extend_schema_view(
    list=extend_schema(summary="List deadline revisions (every deadline ever stated)"),
    retrieve=extend_schema(summary="One deadline revision"),
)
class DeadlineRevisionViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    filterset_class = filters.DeadlineRevisionFilter
    serializer_class = DeadlineRevisionSerializer
    queryset = DeadlineRevision.objects.order_by("withdrawal_id", "stated_on", "recorded_at", "id")


@extend_schema_view(
    list=extend_schema(summary="List sources (without their text)"),
    retrieve=extend_schema(
        summary="One source",
        description="With its text, and the facts read from it: evidence (with offsets into "
        "the text), deadline revisions and conflicts.",
    ),
    create=extend_schema(
        summary="Submit a source for ingestion (token required)",
        description="Send `text` (with optional title, publisher, published_on) or a `url` "
        "to fetch. Answers 202 with the ingest job to watch at its `url`; a text already "
        "read answers 200 with `job: null`.",
        request=SourceSubmitSerializer,
        responses={
            202: OpenApiResponse(IngestJobSerializer, description="Queued: watch the job."),
            200: OpenApiResponse(
                SourceSerializer, description="Already read: nothing new to do (the source)."
            ),
        },
        examples=[
            OpenApiExample(
                "Pasted text",
                request_only=True,
                value={
                    "text": "The United States agreed to withdraw its troops from Niger by "
                    "September 15, 2024.",
                    "title": "US to leave Niger",
                    "publisher": "Example News",
                    "published_on": "2024-05-20",
                },
            ),
            OpenApiExample(
                "A URL to fetch",
                request_only=True,
                value={"url": "https://news.example.org/us-niger"},
            ),
        ],
    ),
)
class SourceViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    filterset_class = filters.SourceFilter

    def get_queryset(self):
        queryset = Source.objects.order_by("-created_at", "-id")
        if self.action == "retrieve":
            return queryset.prefetch_related(
                Prefetch("evidence", queryset=Evidence.objects.order_by("start", "id")),
                Prefetch("deadline_revisions", queryset=DeadlineRevision.objects.order_by("id")),
                Prefetch("conflicts", queryset=Conflict.objects.order_by("id")),
            )
        # The text is left out of lists: it is what the evidence offsets point into, and large.
        return queryset.defer("text")

    def get_serializer_class(self):
        if self.action == "create":
            return SourceSubmitSerializer
        return SourceDetailSerializer if self.action == "retrieve" else SourceSerializer

    def create(self, request, *args, **kwargs):
        serializer = SourceSubmitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            if data.get("text"):
                source, job = services.source_submit_text(
                    text=data["text"],
                    origin=Source.Origin.PASTED,
                    label=data.get("title") or "pasted text (API)",
                    title=data.get("title", ""),
                    url=data.get("url", ""),
                    publisher=data.get("publisher", ""),
                    published_on=data.get("published_on"),
                    user=request.user,
                )
                if job is None:
                    body = SourceSerializer(source, context=self.get_serializer_context()).data
                    return Response(body, status=status.HTTP_200_OK)
            else:
                job = services.source_submit_url(url=data["url"], user=request.user)
        except services.IngestError as exc:
            field = "text" if data.get("text") else "url"
            raise exceptions.ValidationError({field: [str(exc)]}) from None
        body = IngestJobSerializer(job, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})


@extend_schema_view(
    list=extend_schema(summary="List parties (states and organisations)"),
    retrieve=extend_schema(summary="One party, by code"),
)
class PartyViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    filterset_class = filters.PartyFilter
    serializer_class = PartyDetailSerializer
    queryset = Party.objects.order_by("name", "id")
    lookup_field = "code"
    # A code is never a NUL byte, which PostgreSQL cannot compare: /api/parties/%00/ is a 404.
    lookup_value_regex = "[^/\x00]+"


@extend_schema_view(
    list=extend_schema(summary="List countries (states), with what they host"),
    retrieve=extend_schema(summary="One country, by ISO code"),
)
class CountryViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    filterset_class = filters.PartyFilter
    serializer_class = CountrySerializer
    lookup_field = "code"
    # A code is never a NUL byte, which PostgreSQL cannot compare: /api/parties/%00/ is a 404.
    lookup_value_regex = "[^/\x00]+"

    def get_queryset(self):
        withdrawals = Withdrawal.objects.filter(host=OuterRef("pk"))
        deployments = Deployment.objects.filter(host=OuterRef("pk"))
        return (
            Party.objects.filter(kind=Party.Kind.STATE)
            .annotate(
                withdrawals_hosted=count_of(withdrawals, "host", "id"),
                deployments_hosted=count_of(deployments, "host", "id"),
            )
            .order_by("name", "id")
        )


@extend_schema_view(
    list=extend_schema(summary="List deployments (forces present in a host country)"),
    retrieve=extend_schema(summary="One deployment"),
)
class DeploymentViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    filterset_class = filters.DeploymentFilter
    serializer_class = DeploymentSerializer
    queryset = Deployment.objects.select_related("party", "host").order_by("id")


@extend_schema_view(
    list=extend_schema(summary="List the RSS/Atom feeds polled for sources"),
    retrieve=extend_schema(summary="One feed"),
    create=extend_schema(
        summary="Follow a feed (token required)",
        description="201 with the new feed; 200 with the feed when it is already followed.",
        request=FeedWriteSerializer,
        responses={201: FeedSerializer, 200: FeedSerializer},
        examples=[
            OpenApiExample(
                "A news feed",
                request_only=True,
                value={"url": "https://news.example.org/world.atom", "interval_minutes": 60},
            )
        ],
    ),
)
class FeedViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    filterset_class = filters.FeedFilter
    queryset = Feed.objects.order_by("url", "id")

    def get_serializer_class(self):
        return FeedWriteSerializer if self.action == "create" else FeedSerializer

    def create(self, request, *args, **kwargs):
        serializer = FeedWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        before = Feed.objects.count()
        try:
            feed = services.feed_add(**serializer.validated_data)
        except services.IngestError as exc:
            raise exceptions.ValidationError({"url": [str(exc)]}) from None
        body = FeedSerializer(feed, context=self.get_serializer_context()).data
        # Following a feed twice is harmless: 200 with the feed already followed.
        created = Feed.objects.count() > before
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


@extend_schema_view(
    list=extend_schema(summary="List ingest jobs, newest first"),
    retrieve=extend_schema(
        summary="One ingest job",
        description="Poll this after submitting a source: `state` goes queued → fetching → "
        "extracting → merged (see `changes`) or failed (see `error`).",
    ),
)
class IngestJobViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    filterset_class = filters.IngestJobFilter
    serializer_class = IngestJobSerializer

    def get_queryset(self):
        jobs = IngestJob.objects.order_by("-queued_at", "-id")
        return permissions.ingest_jobs_visible_to(self.request.user, jobs)
