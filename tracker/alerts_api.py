"""The alerts API: your watches, your channels and your delivery log (docs/alerts.md).

Token or session authentication; every queryset starts from the requesting user, so someone
else's watch, channel or delivery is a 404, never a 403 that confirms it exists.
"""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from tracker import services
from tracker.api.views import ApiViewMixin
from tracker.filters import IdFilter, StrictFilterSet
from tracker.models import Channel, Delivery, Party, Watch, Withdrawal
from tracker.services import alerts


class LeadDaysField(serializers.ListField):
    """Days before the deadline; an item's error names the item ("item 0: …") because the
    API's error bodies have string keys only."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "child", serializers.IntegerField(min_value=1, max_value=Watch.MAX_LEAD_DAYS)
        )
        super().__init__(max_length=5, **kwargs)

    def run_child_validation(self, data):
        try:
            return super().run_child_validation(data)
        except serializers.ValidationError as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {}
            raise serializers.ValidationError(
                [f"item {i}: {' '.join(str(m) for m in errors)}" for i, errors in detail.items()]
            ) from None


class WatchSerializer(serializers.ModelSerializer):
    withdrawal = serializers.PrimaryKeyRelatedField(
        queryset=Withdrawal.objects.all(), required=False, allow_null=True
    )
    party = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Party.objects.all(),
        required=False,
        allow_null=True,
        help_text="The host country (kind host) or deploying party (kind party), by code.",
    )
    query = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=1000,
        help_text="The dashboard filter (kind view), e.g. host=NE&status=overdue.",
    )
    lead_days = LeadDaysField(
        required=False,
        help_text="Days before the deadline to be told it is near (default [7, 1]).",
    )
    label = serializers.CharField(read_only=True)

    class Meta:
        model = Watch
        fields = [
            "id",
            "kind",
            "withdrawal",
            "party",
            "query",
            "lead_days",
            "paused",
            "label",
            "created_at",
        ]
        read_only_fields = ["created_at"]


class WatchChangeSerializer(serializers.Serializer):
    lead_days = LeadDaysField(required=False)
    paused = serializers.BooleanField(required=False)


class ChannelSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(
        choices=[Channel.Kind.WEBHOOK],
        help_text="Only webhooks are created here; your account email is a channel already.",
    )
    address = serializers.CharField(max_length=2000, help_text="The webhook's https URL.")

    class Meta:
        model = Channel
        fields = [
            "id",
            "kind",
            "address",
            "secret",
            "digest",
            "active",
            "paused_reason",
            "consecutive_failures",
            "created_at",
        ]
        read_only_fields = [
            "secret",
            "digest",
            "active",
            "paused_reason",
            "consecutive_failures",
            "created_at",
        ]


class ChannelReadSerializer(ChannelSerializer):
    kind = serializers.ChoiceField(choices=Channel.Kind.choices, read_only=True)
    address = serializers.CharField(read_only=True)


class ChannelChangeSerializer(serializers.Serializer):
    active = serializers.BooleanField(required=False)
    digest = serializers.BooleanField(required=False)


class DeliveryEventSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="uuid")
    type = serializers.CharField(source="kind")
    summary = serializers.SerializerMethodField()
    occurred_at = serializers.DateTimeField()

    def get_summary(self, event) -> str:
        return alerts.event_title(event)


class DeliverySerializer(serializers.ModelSerializer):
    event = DeliveryEventSerializer(read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "uuid",
            "event",
            "channel",
            "state",
            "attempts",
            "last_error",
            "response_code",
            "created_at",
            "sent_at",
        ]
        read_only_fields = fields


class DeliveryFilter(StrictFilterSet):
    channel = IdFilter(field_name="channel_id")
    state = django_filters.ChoiceFilter(choices=Delivery.State.choices)

    class Meta:
        model = Delivery
        fields: list[str] = []


class OwnedMixin(ApiViewMixin):
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        # The schema generator asks without a user: it only needs the model.
        if getattr(self, "swagger_fake_view", False):
            return self.owned_model.objects.none()
        return self.owned(self.request.user)


def alert_error(field: str, exc: Exception) -> exceptions.ValidationError:
    return exceptions.ValidationError({field: [str(exc)]})


@extend_schema_view(
    list=extend_schema(summary="Your watches"),
    create=extend_schema(summary="Watch a withdrawal, a host country, a party or a view"),
    retrieve=extend_schema(summary="One of your watches"),
    partial_update=extend_schema(
        summary="Pause or resume a watch, or change its notice days",
        request=WatchChangeSerializer,
    ),
    destroy=extend_schema(summary="Stop watching"),
)
class WatchViewSet(
    OwnedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = WatchSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    owned_model = Watch

    def owned(self, user):
        return (
            Watch.objects.filter(user=user)
            .select_related("withdrawal__party", "withdrawal__host", "party")
            .order_by("-created_at", "-id")
        )

    def create(self, request, *args, **kwargs):
        serializer = WatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            watch, created = services.watch_create(
                user=request.user,
                kind=data["kind"],
                withdrawal=data.get("withdrawal"),
                party=data.get("party"),
                query=data.get("query", ""),
                lead_days=data.get("lead_days"),
            )
        except services.AlertError as exc:
            raise alert_error("non_field_errors", exc) from None
        body = WatchSerializer(watch, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def partial_update(self, request, *args, **kwargs):
        watch = self.get_object()
        serializer = WatchChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.watch_update(watch=watch, **serializer.validated_data)
        except services.AlertError as exc:
            raise alert_error("lead_days", exc) from None
        return Response(WatchSerializer(watch, context=self.get_serializer_context()).data)

    def perform_destroy(self, instance):
        services.watch_delete(watch=instance)


@extend_schema_view(
    list=extend_schema(summary="Your channels (your account email and your webhooks)"),
    create=extend_schema(
        summary="Add a webhook", description="The response carries its signing secret."
    ),
    retrieve=extend_schema(summary="One of your channels"),
    partial_update=extend_schema(
        summary="Pause or resume a channel, or switch email to a daily digest",
        request=ChannelChangeSerializer,
    ),
    destroy=extend_schema(summary="Remove a channel"),
)
class ChannelViewSet(
    OwnedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_serializer_class(self):
        return ChannelSerializer if self.action == "create" else ChannelReadSerializer

    owned_model = Channel

    def owned(self, user):
        return Channel.objects.filter(user=user).order_by("created_at", "id")

    def create(self, request, *args, **kwargs):
        serializer = ChannelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            channel = services.channel_webhook_create(
                user=request.user, url=serializer.validated_data["address"]
            )
        except services.AlertError as exc:
            raise alert_error("address", exc) from None
        body = ChannelReadSerializer(channel, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        channel = self.get_object()
        serializer = ChannelChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.channel_update(channel=channel, **serializer.validated_data)
        except services.AlertError as exc:
            raise alert_error("digest", exc) from None
        return Response(ChannelReadSerializer(channel, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Send a test alert to this channel",
        request=None,
        responses={202: DeliverySerializer},
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        delivery = services.channel_send_test(channel=self.get_object())
        delivery = Delivery.objects.select_related("event").get(pk=delivery.pk)
        body = DeliverySerializer(delivery, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(summary="Your delivery log, newest first"),
    retrieve=extend_schema(summary="One delivery"),
)
class DeliveryViewSet(OwnedMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilter
    owned_model = Delivery

    def owned(self, user):
        return (
            Delivery.objects.filter(channel__user=user)
            .select_related("event")
            .order_by("-created_at", "-id")
        )
