"""The app's URLs plus the floor for benchmarks/api.py: the same page of rows as the API,
read with values() and written with orjson, with no DRF in between."""

import orjson
from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as app_urlpatterns
from tracker.models import Milestone, Withdrawal
from tracker.status import urgency_order, withdrawals_annotate

WITHDRAWAL_FIELDS = [
    "id", "party__code", "party__name", "party__kind", "host__code", "host__name",
    "host__kind", "summary", "announced_on", "announced_precision", "started_on",
    "started_precision", "deadline", "deadline_precision", "completed_on",
    "completed_precision", "cancelled_on", "personnel", "personnel_qualifier",
    "personnel_withdrawn", "created_at", "updated_at",
]  # fmt: skip
MILESTONE_FIELDS = [
    "id", "withdrawal_id", "kind", "title", "date", "date_precision", "status",
    "description", "locked", "updated_at",
]  # fmt: skip


def page(queryset, fields, request) -> HttpResponse:
    size = int(request.GET.get("page_size", 100))
    body = {"count": queryset.count(), "results": list(queryset.values(*fields)[:size])}
    return HttpResponse(orjson.dumps(body), content_type="application/json")


def bare_withdrawals(request):
    # The API's own order (most urgent section first): the floor reads the same page.
    ordered = withdrawals_annotate(Withdrawal.objects.all()).order_by(*urgency_order())
    return page(ordered, [*WITHDRAWAL_FIELDS, "status"], request)


def bare_milestones(request):
    return page(Milestone.objects.order_by("date", "id"), MILESTONE_FIELDS, request)


urlpatterns = [
    path("bare/withdrawals/", bare_withdrawals),
    path("bare/milestones/", bare_milestones),
    *app_urlpatterns,
]
