"""Subscribable exports: an iCalendar feed of deadlines and milestones, an Atom feed of changes.

Both take the withdrawal list's filters (`tracker.filters.WithdrawalFilter`: ?party=US&host=NE,
?status=overdue, ...), with the same validation as the API. Calendar UIDs and Atom ids are
derived from primary keys only, so a client that re-reads a feed replaces an entry instead of
adding a copy.
"""

import datetime as dt
import hashlib
import logging

from django import forms
from django.contrib.syndication.views import Feed
from django.core.cache import cache
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.utils.http import http_date, quote_etag
from django.views.decorators.http import require_GET

from tracker import selectors
from tracker.display import detail_url_maker
from tracker.models import Milestone, Precision, day_after

log = logging.getLogger(__name__)

UID_DOMAIN = "troop-withdrawal-tracker"
ATOM_ITEMS = 50
# The calendar's default window: from 90 days ago (recent deadlines stay visible) to a year
# ahead. Calendar apps poll the feed; without a window it would grow with all of history.
ICS_PAST_DAYS = 90
ICS_FUTURE_DAYS = 365
# A written calendar is kept in the cache under its ETag: calendar apps poll every hour, and
# the body only changes when an event in the window does, or at midnight (statuses).
ICS_CACHE_SECONDS = 3600
# A window asked for with ?from=&to= spans at most this many days.
ICS_MAX_DAYS = 10 * 366


def error_response(fields: dict[str, list[str]]) -> JsonResponse:
    """A 400 in the API's error shape."""
    name, messages = next(iter(fields.items()))
    body = {
        "error": {
            "status": 400,
            "code": "invalid",
            "message": f"{name}: {messages[0]}",
            "fields": fields,
        }
    }
    return JsonResponse(body, status=400)


def export_filter(request: HttpRequest) -> tuple[QuerySet | None, JsonResponse | None]:
    """The withdrawals the query string selects (the list's FilterSet; None: all of them),
    or a 400."""
    request.tracker_now = timezone.now()
    try:
        filterset = selectors.withdrawal_filterset(request.GET, request=request)
    except selectors.FilterError as exc:
        return None, error_response(exc.fields)
    if not any(value not in (None, "", []) for value in filterset.form.cleaned_data.values()):
        return None, None
    return selectors.withdrawal_list(filterset=filterset, now=request.tracker_now), None


# ---------------------------------------------------------------------------------------
# iCalendar (RFC 5545), written by hand: a few properties, escaped and folded.


class CalendarWindow(forms.Form):
    # "from" is a Python keyword: the form reads it under its query-string name below.
    start = forms.DateField(required=False)
    end = forms.DateField(required=False)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            raise forms.ValidationError("“from” is after “to”.")
        return cleaned


def calendar_window(request: HttpRequest, today: dt.date):
    """[start, end] from ?from=&to= (ISO dates), defaulting to the window above; or a 400."""
    form = CalendarWindow({"start": request.GET.get("from"), "end": request.GET.get("to")})
    if not form.is_valid():
        names = {"start": "from", "end": "to", "__all__": "from"}
        return None, error_response(
            {names[name]: list(errors) for name, errors in form.errors.items()}
        )
    start = form.cleaned_data["start"]
    end = form.cleaned_data["end"]
    if start is None:
        start = (end or today) - dt.timedelta(days=ICS_PAST_DAYS)
    if end is None:
        end = max(start, today) + dt.timedelta(days=ICS_FUTURE_DAYS)
    if (end - start).days > ICS_MAX_DAYS:
        return None, error_response(
            {"to": [f"A window spans at most {ICS_MAX_DAYS} days; ask for several."]}
        )
    return (start, end), None


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
    if len(line) <= 75 and line.isascii():
        return line
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


def period_end(day: dt.date, precision: str) -> dt.date:
    if precision == Precision.YEAR:
        return day.replace(month=12, day=31)
    if precision == Precision.MONTH:
        following = day.replace(day=28) + dt.timedelta(days=4)
        return following - dt.timedelta(days=following.day)
    return day


def ical_event(
    *,
    uid: str,
    day: dt.date,
    summary: str,
    description: str,
    url: str,
    modified: dt.datetime,
    stamp: str,
    cancelled: bool = False,
) -> list[str]:
    # One all-day event (DTEND is exclusive). A date known to the month or year only is one
    # day too, its period's last ("by September 2025": 30 September), never a month-long
    # block in the calendar: the precision is in the words.
    return [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{stamp}",
        f"LAST-MODIFIED:{ical_stamp(modified)}",
        # Seconds since the epoch of the last change: grows with every edit, so clients
        # know the newer copy replaces the older one.
        f"SEQUENCE:{int(modified.timestamp())}",
        f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
        f"DTEND;VALUE=DATE:{day_after(day):%Y%m%d}",
        f"SUMMARY:{ical_text(summary)}",
        f"DESCRIPTION:{ical_text(description)}",
        f"URL:{url}",
        "TRANSP:TRANSPARENT",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        "END:VEVENT",
    ]


def calendar_etag(request: HttpRequest, window, version, today: dt.date) -> str:
    # What the body depends on: the query, the window, the events' number and latest change,
    # and the day (each deadline's description names its status, which moves with time).
    count, latest = version
    key = f"{request.GET.urlencode()}|{window}|{count}|{latest and latest.isoformat()}|{today}"
    return quote_etag(hashlib.sha256(key.encode()).hexdigest()[:32])


@require_GET
def deadlines_ics(request: HttpRequest) -> HttpResponse:
    """1. Read the filters and the window (400 when they name nothing).
    2. Answer 304 when the client's copy is current (ETag or Last-Modified).
    3. Otherwise write the window's deadlines and dated milestones."""
    selected, error = export_filter(request)
    if error:
        return error
    now = request.tracker_now
    today = now.astimezone(dt.UTC).date()
    window, error = calendar_window(request, today)
    if error:
        return error
    version = selectors.calendar_version(selected, *window)
    etag = calendar_etag(request, window, version, today)
    # Never earlier than today's start: statuses in the descriptions change at midnight.
    midnight = dt.datetime.combine(today, dt.time.min, tzinfo=dt.UTC)
    last_modified = max(version[1] or midnight, midnight)
    not_modified = get_conditional_response(
        request, etag=etag, last_modified=int(last_modified.timestamp())
    )
    if not_modified is not None:
        return not_modified
    key = f"tracker:ics:{etag.strip(chr(34))}"
    body = cache_get(key)
    if body is None:
        body = calendar_body(request, selected, window, now)
        cache_set(key, body)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="deadlines.ics"'
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified.timestamp())
    return response


def cache_get(key: str):
    try:
        return cache.get(key)
    except Exception:  # the cache (Redis) down: write the calendar instead
        log.warning("calendar cache unavailable", exc_info=True)
        return None


def cache_set(key: str, body: str) -> None:
    try:
        cache.set(key, body, ICS_CACHE_SECONDS)
    except Exception:
        log.warning("calendar cache unavailable", exc_info=True)


def calendar_body(request: HttpRequest, selected, window, now: dt.datetime) -> str:
    stamp = ical_stamp(now)
    url = detail_url_maker(request=request)
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
    deadlines, milestones = selectors.calendar_events(selected, *window)
    for withdrawal in deadlines:
        status = withdrawal.get_status(now=now)
        phrase = withdrawal.deadline_phrase
        exact = withdrawal.deadline_precision == Precision.DAY
        lines += ical_event(
            uid=f"withdrawal-{withdrawal.pk}-deadline@{UID_DOMAIN}",
            day=period_end(withdrawal.deadline, withdrawal.deadline_precision),
            summary=f"Deadline{'' if exact else ' (' + phrase + ')'}: "
            f"{withdrawal.party} leaves {withdrawal.host}",
            description=f"{withdrawal.party} withdrawing from {withdrawal.host} {phrase} "
            f"({status.label}). {withdrawal.summary}".strip(),
            url=url(withdrawal.pk),
            modified=withdrawal.updated_at,
            stamp=stamp,
            cancelled=withdrawal.cancelled_on is not None,
        )
    for milestone in milestones:
        withdrawal = milestone.withdrawal
        lines += ical_event(
            uid=f"milestone-{milestone.pk}@{UID_DOMAIN}",
            day=period_end(milestone.date, milestone.date_precision),
            summary=f"{withdrawal.party} / {withdrawal.host}: {milestone.title}",
            description=f"{milestone.get_kind_display().capitalize()}, "
            f"{milestone.get_status_display()}: {milestone.date_display}. "
            f"{milestone.description}".strip(),
            url=url(withdrawal.pk),
            modified=milestone.updated_at,
            stamp=stamp,
            cancelled=milestone.status == Milestone.State.CANCELLED,
        )
    lines.append("END:VCALENDAR")
    return "\r\n".join(ical_fold(line) for line in lines) + "\r\n"


# ---------------------------------------------------------------------------------------
# Atom, on Django's syndication framework.


def midnight_utc(day: dt.date | None) -> dt.datetime | None:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC) if day else None


class ChangesFeed(Feed):
    """New withdrawals, deadline revisions, completed milestones and conflicts, newest first.

    Each entry's `published` is its source's publication date where a source says, and its
    `updated` when the tracker recorded it. Summaries are plain text, escaped: Atom declares
    them HTML, so a feed reader shows "<script>" in an article as text, never as markup.
    """

    feed_type = Atom1Feed
    title = "Troop withdrawals: changes"
    description = "New withdrawals, deadline revisions, completed milestones and conflicts."
    subtitle = description
    feed_guid = f"tag:{UID_DOMAIN},2024:changes"

    # One instance serves every request: per-request state travels on the request.
    def __call__(self, request, *args, **kwargs):
        selected, error = export_filter(request)
        if error:
            return error
        request.tracker_selected = selected
        return super().__call__(request, *args, **kwargs)

    def get_object(self, request, *args, **kwargs):
        return request.tracker_selected

    def link(self):
        return reverse("tracker:dashboard")

    def items(self, selected):
        return selectors.withdrawal_changes(selected, limit=ATOM_ITEMS)

    def item_title(self, change: selectors.Change) -> str:
        return change.title

    def item_description(self, change: selectors.Change) -> str:
        return escape(change.description)

    def item_link(self, change: selectors.Change) -> str:
        # Made absolute by the framework.
        return reverse("tracker:withdrawal-detail", args=[change.withdrawal_id])

    def item_guid(self, change: selectors.Change) -> str:
        return f"tag:{UID_DOMAIN},2024:{change.key}"

    item_guid_is_permalink = False

    def item_pubdate(self, change: selectors.Change) -> dt.datetime:
        return midnight_utc(change.published_on) or change.recorded_at

    def item_updateddate(self, change: selectors.Change) -> dt.datetime:
        return change.recorded_at


changes_atom = require_GET(ChangesFeed())
