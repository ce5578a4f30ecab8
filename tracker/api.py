"""The read-only JSON API. Querysets name their joins so a page costs a fixed number of queries."""

from django.db.models import Prefetch
from django.utils import timezone
from rest_framework import viewsets

from tracker.models import Evidence, Milestone, Source, Withdrawal
from tracker.serializers import (
    MilestoneSerializer,
    SourceSerializer,
    WithdrawalDetailSerializer,
    WithdrawalSerializer,
)


class ClockMixin:
    # One clock reading per request, so every row's status is computed against the same now.
    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["now"] = timezone.now()
        return context


class WithdrawalViewSet(ClockMixin, viewsets.ReadOnlyModelViewSet):
    def get_queryset(self):
        queryset = Withdrawal.objects.select_related("party", "host").order_by("deadline", "id")
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                "milestones",
                "deadline_revisions",
                # Evidence of the whole withdrawal in one query, in reading order.
                Prefetch("evidence", queryset=Evidence.objects.order_by("source_id", "start")),
            )
        return queryset

    def get_serializer_class(self):
        return WithdrawalDetailSerializer if self.action == "retrieve" else WithdrawalSerializer


class MilestoneViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Milestone.objects.order_by("date", "id")
    serializer_class = MilestoneSerializer


class SourceViewSet(viewsets.ReadOnlyModelViewSet):
    # The text is left out of lists: it is what the evidence offsets point into, and large.
    queryset = Source.objects.order_by("-created_at", "-id")
    serializer_class = SourceSerializer
