"""Subscribable exports: an iCalendar feed of deadlines and milestones, an Atom feed of changes.

Both accept ?party=US&host=NE. Calendar UIDs and Atom ids are derived from primary keys only,
so a calendar app that re-reads the feed replaces an event instead of adding a copy.
"""

import datetime as dt

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.views.decorators.http import require_GET

from tracker import selectors
from tracker.models import (
    Conflict,
    DeadlineRevision,
    Milestone,
    Precision,
    Withdrawal,
    day_after,
    describe_date,
)
from tracker.status import period_start

UID_DOMAIN = "troop-withdrawal-tracker"
ATOM_ITEMS = 50


def export_filter(request: HttpRequest) -> tuple[QuerySet | None, JsonResponse | None]:
    """The withdrawals the query string selects (the API's FilterSet), or a 400 in the API's
    error shape."""
    request.tracker_now = timezone.now()
    try:
        filterset = selectors.withdrawal_filterset(request.GET, request=request)
    except selectors.FilterError as exc:
        name, messages = next(iter(exc.fields.items()))
        body = {
            "error": {
                "status": 400,
                "code": "invalid",
                "message": f"{name}: {messages[0]}",
                "fields": exc.fields,
            }
        }
        return None, JsonResponse(body, status=400)
    return selectors.withdrawal_list(filterset=filterset, now=request.tracker_now), None


def withdrawal_condition(withdrawals: QuerySet, prefix: str = "") -> Q:
    # Rows of the selected withdrawals, as a subquery: every filter of the list applies.
    return Q(**{f"{prefix}pk__in": withdrawals.order_by().values("pk")})


# ---------------------------------------------------------------------------------------
# iCalendar (RFC 5545), written by hand: a few properties, escaped and folded.


def ical_text(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def ical_fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1)."""
    encoded = line.encode("utf-8")
    if len(encoded) <= 75:
        return line
    parts, current, limit = [], b"", 75
    for char in line:
        octets = char.encode("utf-8")
        if len(current) + len(octets) > limit:
            parts.append(current.decode("utf-8"))
            current, limit = b"", 74  # continuation lines start with a space
        current += octets
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


def ical_stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def ical_event(
    *,
    uid: str,
    day: dt.date,
    precision: str,
    summary: str,
    description: str,
    url: str,
    modified: dt.datetime,
    now: dt.datetime,
    cancelled: bool = False,
) -> list[str]:
    # A deadline "by September 2025" spans the month: from its first day to the stored
    # (last) day, as an all-day event. DTEND is exclusive.
    start = period_start(day, precision) if precision != Precision.DAY else day
    if start > day:
        start = day
    return [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{ical_stamp(now)}",
        f"LAST-MODIFIED:{ical_stamp(modified)}",
        # Seconds since the epoch of the last change: grows with every edit, so clients
        # know the newer copy replaces the older one.
        f"SEQUENCE:{int(modified.timestamp())}",
        f"DTSTART;VALUE=DATE:{start:%Y%m%d}",
        f"DTEND;VALUE=DATE:{day_after(day):%Y%m%d}",
        f"SUMMARY:{ical_text(summary)}",
        f"DESCRIPTION:{ical_text(description)}",
        f"URL:{url}",
        "TRANSP:TRANSPARENT",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        "END:VEVENT",
    ]


@require_GET
def deadlines_ics(request: HttpRequest) -> HttpResponse:
    selected, error = export_filter(request)
    if error:
        return error
    now = timezone.now()
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//troop-withdrawal-tracker//deadlines//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:Troop withdrawals: deadlines and milestones",
        "X-PUBLISHED-TTL:PT1H",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
    ]
    withdrawals = (
        Withdrawal.objects.select_related("party", "host")
        .filter(withdrawal_condition(selected), deadline__isnull=False)
        .order_by("deadline", "id")
    )
    for withdrawal in withdrawals:
        status = withdrawal.get_status(now=now)
        lines += ical_event(
            uid=f"withdrawal-{withdrawal.pk}-deadline@{UID_DOMAIN}",
            day=withdrawal.deadline,
            precision=withdrawal.deadline_precision,
            summary=f"Deadline: {withdrawal.party} leaves {withdrawal.host}",
            description=f"{withdrawal.party} withdrawing from {withdrawal.host} by "
            f"{withdrawal.deadline_display} ({status.label}). {withdrawal.summary}".strip(),
            url=request.build_absolute_uri(
                reverse("tracker:withdrawal-detail", args=[withdrawal.pk])
            ),
            modified=withdrawal.updated_at,
            now=now,
            cancelled=withdrawal.cancelled_on is not None,
        )
    milestones = (
        Milestone.objects.select_related("withdrawal__party", "withdrawal__host")
        .filter(withdrawal_condition(selected, "withdrawal__"), date__isnull=False)
        .order_by("date", "id")
    )
    for milestone in milestones:
        withdrawal = milestone.withdrawal
        lines += ical_event(
            uid=f"milestone-{milestone.pk}@{UID_DOMAIN}",
            day=milestone.date,
            precision=milestone.date_precision,
            summary=f"{withdrawal.party} / {withdrawal.host}: {milestone.title}",
            description=f"{milestone.get_kind_display().capitalize()}, "
            f"{milestone.get_status_display()}: {milestone.date_display}. "
            f"{milestone.description}".strip(),
            url=request.build_absolute_uri(
                reverse("tracker:withdrawal-detail", args=[withdrawal.pk])
            ),
            modified=milestone.updated_at,
            now=now,
            cancelled=milestone.status == Milestone.State.CANCELLED,
        )
    lines.append("END:VCALENDAR")
    body = "\r\n".join(ical_fold(line) for line in lines) + "\r\n"
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="deadlines.ics"'
    return response


# ---------------------------------------------------------------------------------------
# Atom


def changes(selected: QuerySet) -> list[dict]:
    """The latest changes of four kinds, newest first: one query per kind."""
    items = []
    withdrawals = (
        Withdrawal.objects.select_related("party", "host")
        .filter(withdrawal_condition(selected))
        .order_by("-created_at", "-id")[:ATOM_ITEMS]
    )
    for withdrawal in withdrawals:
        deadline = f" by {withdrawal.deadline_display}" if withdrawal.deadline else ""
        items.append(
            {
                "id": f"withdrawal/{withdrawal.pk}",
                "title": f"New withdrawal: {withdrawal.party} from {withdrawal.host}{deadline}",
                "description": withdrawal.summary,
                "withdrawal": withdrawal,
                "when": withdrawal.created_at,
            }
        )
    revisions = (
        DeadlineRevision.objects.select_related("withdrawal__party", "withdrawal__host")
        .filter(withdrawal_condition(selected, "withdrawal__"))
        .order_by("-recorded_at", "-id")[:ATOM_ITEMS]
    )
    for revision in revisions:
        phrase = f' ("{revision.phrase}")' if revision.phrase else ""
        items.append(
            {
                "id": f"deadline-revision/{revision.pk}",
                "title": f"Deadline: {revision.withdrawal} by "
                f"{describe_date(revision.deadline, revision.precision)}",
                "description": f"Deadline stated{phrase}"
                + (f" on {revision.stated_on.isoformat()}" if revision.stated_on else "")
                + ".",
                "withdrawal": revision.withdrawal,
                "when": revision.recorded_at,
            }
        )
    milestones = (
        Milestone.objects.select_related("withdrawal__party", "withdrawal__host")
        .filter(withdrawal_condition(selected, "withdrawal__"), status=Milestone.State.DONE)
        .order_by("-updated_at", "-id")[:ATOM_ITEMS]
    )
    for milestone in milestones:
        items.append(
            {
                "id": f"milestone/{milestone.pk}/done",
                "title": f"Milestone done: {milestone.withdrawal}: {milestone.title}",
                "description": f"{milestone.date_display}. {milestone.description}".strip(". "),
                "withdrawal": milestone.withdrawal,
                "when": milestone.updated_at,
            }
        )
    conflicts = (
        Conflict.objects.select_related("withdrawal__party", "withdrawal__host")
        .filter(withdrawal_condition(selected, "withdrawal__"))
        .order_by("-created_at", "-id")[:ATOM_ITEMS]
    )
    for conflict in conflicts:
        items.append(
            {
                "id": f"conflict/{conflict.pk}",
                "title": f"Conflict on {conflict.withdrawal}: {conflict.field} "
                f"{conflict.current_value or '(none)'} vs {conflict.proposed_value}",
                "description": f"{conflict.get_reason_display()}. {conflict.quote}".strip(),
                "withdrawal": conflict.withdrawal,
                "when": conflict.created_at,
            }
        )
    items.sort(key=lambda item: (item["when"], item["id"]), reverse=True)
    return items[:ATOM_ITEMS]


@require_GET
def changes_atom(request: HttpRequest) -> HttpResponse:
    selected, error = export_filter(request)
    if error:
        return error
    items = changes(selected)
    feed = Atom1Feed(
        title="Troop withdrawals: changes",
        link=request.build_absolute_uri(reverse("tracker:dashboard")),
        description="New withdrawals, deadline revisions, completed milestones and conflicts.",
        feed_url=request.build_absolute_uri(),
        feed_guid=f"tag:{UID_DOMAIN},2024:changes",
    )
    for item in items:
        feed.add_item(
            title=item["title"],
            link=request.build_absolute_uri(
                reverse("tracker:withdrawal-detail", args=[item["withdrawal"].pk])
            ),
            description=item["description"],
            unique_id=f"tag:{UID_DOMAIN},2024:{item['id']}",
            updateddate=item["when"],
            pubdate=item["when"],
        )
    response = HttpResponse(content_type="application/atom+xml; charset=utf-8")
    feed.write(response, "utf-8")
    return response
