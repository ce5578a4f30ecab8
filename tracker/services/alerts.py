"""Alerts: watches, the events they hear about, and deliveries to email and webhooks.

1. Events come from merging and reviews (after their transaction commits, through
   `merge_alerts_on_commit` and `record_verified_on_commit`) and from the beat sweep
   (`alarms_sweep`) for the time-based ones, which reads only the due WithdrawalAlarm rows.
2. `event_emit` writes the event and one Delivery per (event, channel) in one transaction,
   then queues a task per delivery once that commits. An event's `key` makes emitting it
   twice a no-op.
3. `delivery_send` claims a delivery with a conditional UPDATE and sends it: email once
   (see tracker/mail.py), webhooks at least once with the event id for the receiver to
   dedupe. Failures retry with backoff; a channel failing TRACKER_ALERT_PAUSE_AFTER times
   in a row pauses, and its owner is told.
4. `deliveries_requeue_due` (beat) sends again whatever the broker lost: a broker outage
   delays deliveries and never drops them.
"""

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import smtplib
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlunsplit

import urllib3
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, send_mail
from django.db import transaction
from django.db.models import F, Q
from django.http import QueryDict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from tracker import fetching
from tracker.mail import message_send_once
from tracker.models import (
    AlertEvent,
    Channel,
    Conflict,
    DeadlineRevision,
    Delivery,
    Milestone,
    Party,
    Source,
    Watch,
    Withdrawal,
    WithdrawalAlarm,
    deadline_moment,
    describe_date,
    plural,
)
from tracker.status import statuses_named

log = logging.getLogger(__name__)

Kind = AlertEvent.Kind
UNSUBSCRIBE_SALT = "tracker.alerts.unsubscribe"


class AlertError(Exception):
    """A request the user must change; the message is shown as it is."""


class DeliveryRetry(Exception):
    """The send failed for now; the task should run again after `delay` seconds."""

    def __init__(self, message: str, *, delay: float):
        super().__init__(message)
        self.delay = delay


def site_url(path: str) -> str:
    return settings.TRACKER_SITE_URL.rstrip("/") + path


# ---------------------------------------------------------------------------------------
# Watches


# The dashboard's filter parameters a "watch this view" keeps (see views.DashboardFilters).
VIEW_PARAMS = ("party", "host", "status", "q")


def view_statuses(key: str) -> frozenset | None:
    # The dashboard's status words (tracker/status.py): a section or one fine status.
    try:
        return statuses_named(key)
    except KeyError:
        return None


def view_query_normalise(query: str) -> str:
    """The dashboard filter a "watch this view" keeps: its parameters only, in one order.

    A filter that names nothing (an unknown status or party) is refused here, as the
    dashboard refuses it, so a watch never silently matches nothing.
    """
    params = QueryDict(query.lstrip("?"))
    kept = {}
    for name in VIEW_PARAMS:
        value = params.get(name, "").strip()
        if not value:
            continue
        if name in ("party", "host"):
            value = value.upper()
            if not Party.objects.filter(code=value).exists():
                raise AlertError(f"this view's filter names an unknown {name} {value!r}")
        if name == "status" and view_statuses(value) is None:
            raise AlertError(f"this view's filter names an unknown status {value!r}")
        kept[name] = value[:200]
    return urlencode(kept)


def view_queryset(query: str, queryset):
    """The withdrawals a view's filter selects, except its status, which changes with time
    and is checked when an event fires (view_matches)."""
    params = QueryDict(query)
    if params.get("party"):
        queryset = queryset.filter(party__code=params["party"])
    if params.get("host"):
        queryset = queryset.filter(host__code=params["host"])
    if params.get("q"):
        q = params["q"]
        queryset = queryset.filter(
            Q(party__name__icontains=q)
            | Q(party__code__iexact=q)
            | Q(host__name__icontains=q)
            | Q(host__code__iexact=q)
            | Q(summary__icontains=q)
        )
    return queryset


def view_matches(query: str, withdrawal: Withdrawal) -> bool:
    statuses = view_statuses(QueryDict(query).get("status", "")) if "status=" in query else None
    if statuses is not None and withdrawal.get_status() not in statuses:
        return False
    return view_queryset(query, Withdrawal.objects.filter(pk=withdrawal.pk)).exists()


def watch_create(
    *,
    user,
    kind: str,
    withdrawal: Withdrawal | None = None,
    party: Party | None = None,
    query: str = "",
    lead_days: list[int] | None = None,
) -> tuple[Watch, bool]:
    """Start watching something; (watch, created). Watching it again changes nothing.

    The owner's account email becomes their first channel, so a new watch is heard.
    """
    if kind == Watch.Kind.WITHDRAWAL and withdrawal is None:
        raise AlertError("say which withdrawal to watch")
    if kind in (Watch.Kind.HOST, Watch.Kind.PARTY) and party is None:
        raise AlertError("say which country or party to watch")
    if kind == Watch.Kind.HOST and party.kind != Party.Kind.STATE:
        raise AlertError(f"{party} is not a country")
    if kind == Watch.Kind.VIEW:
        query = view_query_normalise(query)
    target = {
        Watch.Kind.WITHDRAWAL: {"withdrawal": withdrawal},
        Watch.Kind.HOST: {"party": party},
        Watch.Kind.PARTY: {"party": party},
        Watch.Kind.VIEW: {"query": query},
    }.get(kind)
    if target is None:
        raise AlertError(f"unknown kind of watch {kind!r}")
    days = sorted(set(lead_days), reverse=True) if lead_days is not None else None
    with transaction.atomic():
        watch, created = Watch.objects.get_or_create(user=user, kind=kind, **target)
        if days is not None and days != watch.lead_days:
            watch.lead_days = days
            watch_validate(watch)
            watch.save(update_fields=["lead_days"])
        channel_email_ensure(user=user)
        watch_arm_on_commit(watch)
    return watch, created


def watch_validate(watch: Watch) -> None:
    try:
        watch.clean()
    except ValidationError as exc:
        raise AlertError(" ".join(exc.messages)) from None


def watch_update(*, watch: Watch, paused: bool | None = None, lead_days=None) -> Watch:
    if paused is not None:
        watch.paused = paused
    if lead_days is not None:
        watch.lead_days = lead_days
        watch_validate(watch)
        watch.lead_days = sorted(set(lead_days), reverse=True)
    with transaction.atomic():
        watch.save(update_fields=["paused", "lead_days"])
        watch_arm_on_commit(watch)
    return watch


def watch_delete(*, watch: Watch) -> None:
    with transaction.atomic():
        ids = list(watch_withdrawals(watch).values_list("pk", flat=True))
        watch.delete()
        transaction.on_commit(lambda: alarms_refresh(withdrawal_ids=ids))


def watch_withdrawals(watch: Watch):
    """The open withdrawals with a deadline that this watch covers (its alarms)."""
    open_ = Withdrawal.objects.filter(
        completed_on__isnull=True, cancelled_on__isnull=True, deadline__isnull=False
    )
    if watch.kind == Watch.Kind.WITHDRAWAL:
        return open_.filter(pk=watch.withdrawal_id)
    if watch.kind == Watch.Kind.HOST:
        return open_.filter(host_id=watch.party_id)
    if watch.kind == Watch.Kind.PARTY:
        return open_.filter(party_id=watch.party_id)
    return view_queryset(watch.query, open_)


def watch_arm_on_commit(watch: Watch) -> None:
    from tracker.tasks import watch_arm_task

    watch_id = watch.pk
    transaction.on_commit(lambda: task_send(watch_arm_task, watch_id))


def watch_arm(*, watch_id: int) -> int:
    """Set the alarms of every withdrawal a (new or changed) watch covers."""
    watch = Watch.objects.filter(pk=watch_id).first()
    if watch is None:
        return 0
    ids = list(watch_withdrawals(watch).values_list("pk", flat=True))
    alarms_refresh(withdrawal_ids=ids)
    return len(ids)


def watches_covering(
    withdrawal: Withdrawal, *, kinds: tuple[str, ...] | None = None
) -> list[Watch]:
    """The active watches that cover a withdrawal: on it, its host, its party, or a view
    whose filter it matches."""
    kinds = kinds or tuple(Watch.Kind.values)
    direct = Q(pk__in=[])
    if Watch.Kind.WITHDRAWAL in kinds:
        direct |= Q(kind=Watch.Kind.WITHDRAWAL, withdrawal_id=withdrawal.pk)
    if Watch.Kind.HOST in kinds:
        direct |= Q(kind=Watch.Kind.HOST, party_id=withdrawal.host_id)
    if Watch.Kind.PARTY in kinds:
        direct |= Q(kind=Watch.Kind.PARTY, party_id=withdrawal.party_id)
    watches = list(Watch.objects.filter(direct, paused=False))
    if Watch.Kind.VIEW in kinds:
        for view in Watch.objects.filter(kind=Watch.Kind.VIEW, paused=False):
            if view_matches(view.query, withdrawal):
                watches.append(view)
    return watches


# ---------------------------------------------------------------------------------------
# Channels


def channel_email_ensure(*, user) -> Channel | None:
    """The owner's account email as a channel (created once; never re-activated here)."""
    if not user.email:
        return None
    channel, _ = Channel.objects.get_or_create(
        user=user, kind=Channel.Kind.EMAIL, address=user.email.strip().lower()
    )
    return channel


def webhook_url_check(url: str) -> str:
    """A webhook URL we may post to: https (http only where private fetching is allowed),
    and no internal address, with the same rules as fetching articles."""
    try:
        parts = fetching.url_validate(url)
        scheme = parts.scheme.lower()
        if scheme != "https" and not settings.TRACKER_FETCH_ALLOW_PRIVATE:
            raise AlertError("webhook URLs must use https")
        port = parts.port or (443 if scheme == "https" else 80)
        fetching.address_check(parts.hostname, port)
    except fetching.FetchError as exc:
        raise AlertError(str(exc)) from None
    return url.strip()


def channel_webhook_create(*, user, url: str) -> Channel:
    url = webhook_url_check(url)
    channel, created = Channel.objects.get_or_create(
        user=user,
        kind=Channel.Kind.WEBHOOK,
        address=url,
        defaults={"secret": secrets.token_urlsafe(32)},
    )
    if not created:
        raise AlertError("you already have a webhook with this URL")
    return channel


def channel_update(*, channel: Channel, active: bool | None = None, digest=None) -> Channel:
    """Pause or resume a channel, or switch an email channel to the daily digest.

    Resuming starts the failure count over and sends what was held while it was paused.
    """
    with transaction.atomic():
        if digest is not None:
            if digest and channel.kind != Channel.Kind.EMAIL:
                raise AlertError("only email channels have a daily digest")
            channel.digest = digest
        if active is not None and active != channel.active:
            channel.active = active
            if active:
                channel.paused_reason = ""
                channel.consecutive_failures = 0
                held = list(
                    channel.deliveries.filter(state=Delivery.State.HELD).values_list(
                        "pk", flat=True
                    )
                )
                Delivery.objects.filter(pk__in=held).update(
                    state=Delivery.State.PENDING, next_attempt_at=timezone.now(), attempts=0
                )
                deliveries_enqueue_on_commit(held)
            else:
                channel.paused_reason = "paused by its owner"
        channel.save(update_fields=["digest", "active", "paused_reason", "consecutive_failures"])
    return channel


def channel_unsubscribe_token(channel: Channel) -> str:
    return signing.dumps({"channel": channel.pk}, salt=UNSUBSCRIBE_SALT, compress=True)


def channel_for_unsubscribe_token(token: str) -> Channel | None:
    try:
        payload = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return Channel.objects.filter(pk=payload.get("channel")).select_related("user").first()


def channel_unsubscribe(*, channel: Channel) -> None:
    Channel.objects.filter(pk=channel.pk).update(
        active=False, paused_reason="unsubscribed from an email"
    )


def channel_send_test(*, channel: Channel) -> Delivery:
    """The "send a test" button: a test event to this one channel, through the real path."""
    with transaction.atomic():
        event = AlertEvent.objects.create(
            key=f"test:{channel.pk}:{uuid.uuid4()}",
            kind=Kind.TEST,
            data={"facts": {"channel": channel.pk}},
        )
        delivery = Delivery.objects.create(event=event, channel=channel)
        deliveries_enqueue_on_commit([delivery.pk])
    return delivery


def channel_pause_for_failures(*, channel_id: int, error: str) -> bool:
    """Pause a channel that failed too often in a row; True when this call paused it."""
    limit = settings.TRACKER_ALERT_PAUSE_AFTER
    reason = f"paused after {limit} failed sends in a row (last: {error})"[:300]
    with transaction.atomic():
        paused = Channel.objects.filter(
            pk=channel_id, active=True, consecutive_failures__gte=limit
        ).update(active=False, paused_reason=reason)
        if paused:
            Delivery.objects.filter(
                channel_id=channel_id, state__in=[Delivery.State.PENDING, Delivery.State.SENDING]
            ).update(state=Delivery.State.HELD)
    if paused:
        channel = Channel.objects.select_related("user").get(pk=channel_id)
        channel_paused_notify(channel=channel)
    return bool(paused)


def channel_paused_notify(*, channel: Channel) -> None:
    """Tell the owner by email (outside the channel that failed, which may be this one)."""
    if not channel.user.email:
        return
    body = (
        f"Your alert channel {channel.address} has been paused: {channel.paused_reason}.\n\n"
        f"Nothing sent to it is lost: deliveries wait until you resume it at "
        f"{site_url(reverse('tracker:alerts'))}\n"
    )
    try:
        send_mail(
            "[Tracker] An alert channel was paused",
            body,
            settings.DEFAULT_FROM_EMAIL,
            [channel.user.email],
        )
    except (smtplib.SMTPException, OSError) as exc:
        log.warning("could not tell the owner of channel %s it paused: %s", channel.pk, exc)


# ---------------------------------------------------------------------------------------
# Events


def withdrawal_facts(withdrawal: Withdrawal) -> dict:
    return {
        "id": withdrawal.pk,
        "party": {"code": withdrawal.party.code, "name": withdrawal.party.name},
        "host": {"code": withdrawal.host.code, "name": withdrawal.host.name},
        "deadline": withdrawal.deadline.isoformat() if withdrawal.deadline else None,
        "deadline_precision": withdrawal.deadline_precision,
        "deadline_display": withdrawal.deadline_display,
        "completed_on": withdrawal.completed_on.isoformat() if withdrawal.completed_on else None,
        "status": str(withdrawal.get_status()),
        "personnel": withdrawal.personnel,
        "url": site_url(reverse("tracker:withdrawal-detail", args=[withdrawal.pk])),
    }


def source_facts(source: Source | None) -> dict | None:
    if source is None:
        return None
    return {
        "id": source.pk,
        "title": source.title,
        "url": source.url,
        "publisher": source.publisher,
        "published_on": source.published_on.isoformat() if source.published_on else None,
    }


def event_emit(
    *,
    kind: str,
    key: str,
    withdrawal: Withdrawal | None,
    facts: dict,
    watches: list[Watch],
    source: Source | None = None,
    quote: str = "",
    lead_days: int | None = None,
) -> AlertEvent | None:
    """Write an event and its deliveries in one transaction; None if it was emitted before
    or nobody hears it. Deliveries are queued once the transaction commits.

    With `lead_days`, only watches that asked for that many days' notice hear it.
    """
    if lead_days is not None:
        watches = [w for w in watches if lead_days in (w.lead_days or [])]
    user_ids = {w.user_id for w in watches}
    if not user_ids:
        return None
    channels = list(Channel.objects.filter(user_id__in=user_ids, active=True))
    if not channels:
        return None
    with transaction.atomic():
        event, created = AlertEvent.objects.get_or_create(
            key=key[:200],
            defaults={
                "kind": kind,
                "withdrawal": withdrawal,
                "data": {
                    "withdrawal": withdrawal_facts(withdrawal) if withdrawal else None,
                    "facts": facts,
                    "source": source_facts(source),
                    "quote": quote,
                },
            },
        )
        if not created:
            return None
        now = timezone.now()
        deliveries = [
            Delivery(
                event=event,
                channel=channel,
                state=Delivery.State.DIGEST if channel.digest else Delivery.State.PENDING,
                next_attempt_at=now,
                created_at=now,
            )
            for channel in channels
        ]
        Delivery.objects.bulk_create(deliveries)
        deliveries_enqueue_on_commit(
            [d.pk for d in deliveries if d.state == Delivery.State.PENDING]
        )
    return event


@dataclass
class MergeAlertFacts:
    """What one merge did that watchers may hear about, gathered while it runs.

    `before` keeps each touched withdrawal's deadline and completion as the merge found
    them, so the events can say "old → new" once it commits.
    """

    before: dict[int, tuple] = field(default_factory=dict)
    created: set[int] = field(default_factory=set)
    conflict_ids: list[int] = field(default_factory=list)
    milestone_ids: list[int] = field(default_factory=list)

    def withdrawal_seen(self, withdrawal: Withdrawal, *, created: bool) -> None:
        if withdrawal.pk in self.before:
            return
        self.before[withdrawal.pk] = (
            withdrawal.deadline,
            withdrawal.deadline_precision,
            withdrawal.completed_on,
        )
        if created:
            self.created.add(withdrawal.pk)


def merge_alerts_on_commit(*, source: Source, facts: MergeAlertFacts) -> None:
    """The hook merging calls: once the merge commits, emit what it changed."""
    if not facts.before:
        return
    source_id = source.pk
    # robust: a failure here is logged and never turns the committed merge into a failed job.
    transaction.on_commit(
        lambda: alerts_emit_for_merge(source_id=source_id, facts=facts), robust=True
    )


def alerts_emit_for_merge(*, source_id: int, facts: MergeAlertFacts) -> int:
    """Events for one committed merge: new withdrawals, moved deadlines, completions, met or
    missed phases, new conflicts; then the touched withdrawals' alarms. The count emitted."""
    if not Watch.objects.filter(paused=False).exists():
        return 0  # nobody listens: merging pays one query
    source = Source.objects.filter(pk=source_id).first()
    emitted = 0
    withdrawals = Withdrawal.objects.select_related("party", "host").in_bulk(list(facts.before))
    for pk, (old_deadline, old_precision, old_completed) in facts.before.items():
        withdrawal = withdrawals.get(pk)
        if withdrawal is None:
            continue
        if pk in facts.created:
            watches = watches_covering(
                withdrawal, kinds=(Watch.Kind.HOST, Watch.Kind.PARTY, Watch.Kind.VIEW)
            )
            emitted += bool(
                event_emit(
                    kind=Kind.WITHDRAWAL_NEW,
                    key=f"withdrawal_new:{pk}",
                    withdrawal=withdrawal,
                    facts={},
                    watches=watches,
                    source=source,
                )
            )
            continue
        watches = watches_covering(withdrawal)
        new = (withdrawal.deadline, withdrawal.deadline_precision)
        if withdrawal.deadline is not None and new != (old_deadline, old_precision):
            revision = (
                DeadlineRevision.objects.filter(withdrawal=withdrawal, source_id=source_id)
                .order_by("-recorded_at", "-id")
                .first()
            )
            emitted += bool(
                event_emit(
                    kind=Kind.DEADLINE_CHANGED,
                    key=f"deadline_changed:{pk}:{new[0]}:{new[1]}:{source_id}",
                    withdrawal=withdrawal,
                    facts={
                        "old": date_facts(old_deadline, old_precision),
                        "new": date_facts(*new),
                    },
                    watches=watches,
                    source=source,
                    quote=revision.phrase if revision else "",
                )
            )
        if old_completed is None and withdrawal.completed_on is not None:
            quote = (
                withdrawal.evidence.filter(source_id=source_id, field="completed_on")
                .values_list("quote", flat=True)
                .first()
            )
            emitted += bool(
                event_emit(
                    kind=Kind.COMPLETED,
                    key=f"completed:{pk}:{withdrawal.completed_on}",
                    withdrawal=withdrawal,
                    facts={
                        "completed": date_facts(
                            withdrawal.completed_on, withdrawal.completed_precision
                        )
                    },
                    watches=watches,
                    source=source,
                    quote=quote or "",
                )
            )
    # A new withdrawal's own milestones are told as "new withdrawal".
    for milestone in (
        Milestone.objects.filter(pk__in=facts.milestone_ids)
        .exclude(withdrawal_id__in=facts.created)
        .select_related("withdrawal__party", "withdrawal__host")
    ):
        emitted += bool(phase_emit(milestone=milestone, source=source))
    for conflict in Conflict.objects.filter(pk__in=facts.conflict_ids).select_related(
        "withdrawal__party", "withdrawal__host", "source"
    ):
        emitted += bool(
            event_emit(
                kind=Kind.CONFLICT_NEW,
                key=f"conflict_new:{conflict.pk}",
                withdrawal=conflict.withdrawal,
                facts={
                    "conflict": {
                        "id": conflict.pk,
                        "field": conflict.field,
                        "current_value": conflict.current_value,
                        "proposed_value": conflict.proposed_value,
                        "reason": conflict.get_reason_display(),
                    }
                },
                watches=watches_covering(conflict.withdrawal),
                source=conflict.source,
                quote=conflict.quote,
            )
        )
    alarms_refresh(withdrawal_ids=list(facts.before))
    return emitted


def phase_emit(*, milestone: Milestone, source: Source | None) -> AlertEvent | None:
    """A milestone reported done (phase met) or missed (phase missed)."""
    if milestone.status == Milestone.State.DONE:
        kind = Kind.PHASE_MET
    elif milestone.status == Milestone.State.MISSED:
        kind = Kind.PHASE_MISSED
    else:
        return None
    if milestone.kind in NOT_PHASES:
        return None
    return event_emit(
        kind=kind,
        key=f"{kind}:{milestone.pk}",
        withdrawal=milestone.withdrawal,
        facts={
            "milestone": {
                "id": milestone.pk,
                "kind": milestone.kind,
                "title": milestone.title,
                **date_facts(milestone.date, milestone.date_precision),
                "status": milestone.status,
            }
        },
        watches=watches_covering(milestone.withdrawal),
        source=source,
        quote=milestone.description,
    )


def phase_alerts_on_commit(*, milestone_id: int) -> None:
    """The hook a person's milestone edit calls: a phase marked done or missed is told once
    the edit commits (once per milestone and outcome: the event key)."""

    def emit() -> None:
        milestone = (
            Milestone.objects.filter(pk=milestone_id)
            .select_related("withdrawal__party", "withdrawal__host")
            .first()
        )
        if milestone is not None:
            phase_emit(milestone=milestone, source=None)

    transaction.on_commit(emit, robust=True)


# Milestones that are not steps of the withdrawal itself: the announcement and agreement
# precede it, and the completion is told as "withdrawal completed".
NOT_PHASES = {Milestone.Kind.ANNOUNCEMENT, Milestone.Kind.AGREEMENT, Milestone.Kind.COMPLETION}


def date_facts(value: dt.date | None, precision: str) -> dict:
    return {
        "date": value.isoformat() if value else None,
        "precision": precision,
        "display": describe_date(value, precision) or "no date",
    }


def record_verified_on_commit(*, withdrawal_id: int, user=None, note: str = "") -> None:
    """The hook reviews call when a person verifies a record: watchers hear it after commit."""
    username = user.get_username() if user is not None else ""

    def emit() -> None:
        withdrawal = Withdrawal.objects.select_related("party", "host").filter(pk=withdrawal_id)
        withdrawal = withdrawal.first()
        if withdrawal is None:
            return
        event_emit(
            kind=Kind.RECORD_VERIFIED,
            key=f"record_verified:{withdrawal_id}:{timezone.now().isoformat()}",
            withdrawal=withdrawal,
            facts={"verified_by": username, "note": note},
            watches=watches_covering(withdrawal),
        )

    transaction.on_commit(emit, robust=True)


# ---------------------------------------------------------------------------------------
# Time-based events: alarms and the sweep


def alarm_thresholds(deadline: dt.date, lead_days: set[int]) -> list[tuple[dt.datetime, int]]:
    """(moment, days) pairs, soonest first: "in N days" at the start of the day N days
    before the deadline day, and 0 ("passed") once the deadline day has ended (UTC)."""
    day_start = dt.datetime.combine(deadline, dt.time.min, tzinfo=dt.UTC)
    moments = [(day_start - dt.timedelta(days=n), n) for n in lead_days]
    moments.append((deadline_moment(deadline), 0))
    return sorted(moments)


def alarms_refresh(*, withdrawal_ids: list[int], now: dt.datetime | None = None) -> None:
    """Set (or clear) the alarm of each withdrawal from its deadline and its watchers.

    An alarm whose deadline is unchanged keeps when it was armed, so a threshold crossed
    a moment ago still fires at the next sweep; a moved deadline re-arms from now.
    """
    now = now or timezone.now()
    for withdrawal in Withdrawal.objects.filter(pk__in=withdrawal_ids):
        alarm = WithdrawalAlarm.objects.filter(pk=withdrawal.pk).first()
        watches = []
        if withdrawal.deadline and not (withdrawal.completed_on or withdrawal.cancelled_on):
            watches = watches_covering(withdrawal)
        if not watches:
            if alarm is not None:
                alarm.delete()
            continue
        lead = {n for w in watches for n in (w.lead_days or [])}
        armed_at = now if alarm is None or alarm.deadline != withdrawal.deadline else alarm.armed_at
        upcoming = [m for m, _ in alarm_thresholds(withdrawal.deadline, lead) if m > armed_at]
        if not upcoming:
            if alarm is not None:
                alarm.delete()
            continue
        WithdrawalAlarm.objects.update_or_create(
            withdrawal=withdrawal,
            defaults={
                "deadline": withdrawal.deadline,
                "armed_at": armed_at,
                "alert_after": upcoming[0],
            },
        )


def alarms_sweep(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """Fire the alarms that are due; the number of events emitted.

    Reads only alarms whose alert_after has passed (alarm_alert_after_idx): with nothing
    due it is one index probe, whatever the number of withdrawals and watches.
    """
    now = now or timezone.now()
    due = list(
        WithdrawalAlarm.objects.filter(alert_after__lte=now)
        .order_by("alert_after")
        .values_list("pk", flat=True)[:batch]
    )
    return sum(alarm_fire(withdrawal_id=pk, now=now) for pk in due)


def alarm_fire(*, withdrawal_id: int, now: dt.datetime) -> int:
    """1. Lock the alarm (a second sweep skips it). 2. Find the thresholds crossed since
    it was armed and fire the latest one only (after a long outage, "passed" supersedes
    "in 1 day"). 3. Re-arm for the next threshold, or drop the alarm."""
    with transaction.atomic():
        alarm = (
            WithdrawalAlarm.objects.select_for_update(skip_locked=True)
            .filter(pk=withdrawal_id, alert_after__lte=now)
            .first()
        )
        if alarm is None:
            return 0
        withdrawal = Withdrawal.objects.select_related("party", "host").get(pk=withdrawal_id)
        open_ = withdrawal.deadline and not (withdrawal.completed_on or withdrawal.cancelled_on)
        watches = watches_covering(withdrawal) if open_ else []
        if not watches:
            alarm.delete()
            return 0
        if withdrawal.deadline != alarm.deadline:
            # Moved by a path that did not refresh the alarm: start over from now.
            alarm.deadline, alarm.armed_at = withdrawal.deadline, now
            crossed = []
        else:
            lead = {n for w in watches for n in (w.lead_days or [])}
            thresholds = alarm_thresholds(withdrawal.deadline, lead)
            crossed = [(m, n) for m, n in thresholds if alarm.armed_at < m <= now]
            alarm.armed_at = now
        emitted = 0
        if crossed:
            _, days = crossed[-1]
            event = deadline_event_emit(withdrawal=withdrawal, days=days, now=now, watches=watches)
            emitted = event is not None
        lead = {n for w in watches for n in (w.lead_days or [])}
        upcoming = [m for m, _ in alarm_thresholds(withdrawal.deadline, lead) if m > now]
        if upcoming:
            alarm.alert_after = upcoming[0]
            alarm.save()
        else:
            alarm.delete()
    return int(emitted)


def deadline_event_emit(
    *, withdrawal: Withdrawal, days: int, now: dt.datetime, watches: list[Watch]
) -> AlertEvent | None:
    deadline = withdrawal.deadline
    today = Withdrawal.today(now)
    facts = {"deadline": date_facts(deadline, withdrawal.deadline_precision)}
    if days == 0:
        facts["days_past"] = (today - deadline).days
        return event_emit(
            kind=Kind.DEADLINE_PASSED,
            key=f"deadline_passed:{withdrawal.pk}:{deadline}",
            withdrawal=withdrawal,
            facts=facts,
            watches=watches,
        )
    facts["days_left"] = (deadline - today).days
    facts["lead_days"] = days
    return event_emit(
        kind=Kind.DEADLINE_SOON,
        key=f"deadline_soon:{withdrawal.pk}:{deadline}:{days}",
        withdrawal=withdrawal,
        facts=facts,
        watches=watches,
        lead_days=days,
    )


# ---------------------------------------------------------------------------------------
# Messages


def event_title(event: AlertEvent) -> str:
    data = event.data or {}
    w = data.get("withdrawal") or {}
    facts = data.get("facts") or {}
    name = f"{w.get('party', {}).get('name', '')} from {w.get('host', {}).get('name', '')}"
    if event.kind == Kind.DEADLINE_SOON:
        return f"Deadline in {plural(facts.get('days_left', 0), 'day')}: {name}"
    if event.kind == Kind.DEADLINE_PASSED:
        return f"Deadline passed with no completion reported: {name}"
    if event.kind == Kind.DEADLINE_CHANGED:
        old, new = facts["old"]["display"], facts["new"]["display"]
        return f"Deadline changed: {name}, {old} → {new}"
    if event.kind in (Kind.PHASE_MET, Kind.PHASE_MISSED):
        verb = "met" if event.kind == Kind.PHASE_MET else "missed"
        return f"Phase {verb}: {name}: {facts['milestone']['title']}"
    if event.kind == Kind.COMPLETED:
        return f"Withdrawal completed: {name} ({facts['completed']['display']})"
    if event.kind == Kind.WITHDRAWAL_NEW:
        return f"New withdrawal: {name}"
    if event.kind == Kind.CONFLICT_NEW:
        return f"New conflict on {name}: {facts['conflict']['field']}"
    if event.kind == Kind.RECORD_VERIFIED:
        return f"Record verified: {name}"
    if event.kind == Kind.DIGEST:
        return f"Daily digest: {plural(facts.get('count', 0), 'update')} on what you watch"
    return "Test alert from the troop-withdrawal tracker"


def event_lines(event: AlertEvent) -> list[str]:
    """The facts of an event as sentences, each with where it came from."""
    data = event.data or {}
    w = data.get("withdrawal") or {}
    facts = data.get("facts") or {}
    lines = []
    if event.kind == Kind.DEADLINE_SOON:
        lines.append(f"The deadline is {facts['deadline']['display']}.")
    elif event.kind == Kind.DEADLINE_PASSED:
        lines.append(
            f"The deadline was {facts['deadline']['display']}; no source has reported the "
            "withdrawal completed."
        )
    elif event.kind == Kind.DEADLINE_CHANGED:
        lines.append(f"Old deadline: {facts['old']['display']}. New: {facts['new']['display']}.")
    elif event.kind in (Kind.PHASE_MET, Kind.PHASE_MISSED):
        m = facts["milestone"]
        lines.append(f"{m['title']} ({m['display']}): {m['status']}.")
    elif event.kind == Kind.CONFLICT_NEW:
        c = facts["conflict"]
        lines.append(
            f"{c['field']}: the record says {c['current_value'] or 'nothing'}, a source says "
            f"{c['proposed_value']} ({c['reason']})."
        )
    elif event.kind == Kind.RECORD_VERIFIED:
        who = facts.get("verified_by") or "a reviewer"
        lines.append(f"Verified by {who}." + (f" {facts['note']}" if facts.get("note") else ""))
    elif event.kind == Kind.TEST:
        lines.append("This is a test. Your channel works.")
    if w.get("status"):
        lines.append(f"Status: {w['status'].replace('_', ' ')}.")
    if data.get("quote"):
        lines.append(f"“{data['quote']}”")
    source = data.get("source")
    if source:
        said = source.get("title") or source.get("url") or f"source {source['id']}"
        if source.get("publisher"):
            said += f", {source['publisher']}"
        if source.get("published_on"):
            said += f", {source['published_on']}"
        lines.append(f"Source: {said}" + (f" <{source['url']}>" if source.get("url") else ""))
    elif w and event.kind not in (Kind.TEST, Kind.DIGEST):
        lines.append("Source: the tracker's records and calendar (machine-computed).")
    return lines


def event_body(event: AlertEvent) -> dict:
    """The webhook JSON body: the same for every attempt of one delivery."""
    data = event.data or {}
    return {
        "id": str(event.uuid),
        "type": event.kind,
        "occurred_at": event.occurred_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "summary": event_title(event),
        "withdrawal": data.get("withdrawal"),
        "facts": data.get("facts") or {},
        "source": data.get("source"),
        "quote": data.get("quote", ""),
    }


def email_build(*, delivery: Delivery) -> EmailMultiAlternatives:
    event, channel = delivery.event, delivery.channel
    unsubscribe = site_url(
        reverse("tracker:alerts-unsubscribe", args=[channel_unsubscribe_token(channel)])
    )
    items = []
    if event.kind == Kind.DIGEST:
        items = [
            {"title": event_title(e), "lines": event_lines(e), "url": event_url(e)}
            for e in digest_events(event)
        ]
    context = {
        "title": event_title(event),
        "lines": event_lines(event),
        "url": event_url(event),
        "items": items,
        "event": event,
        "unsubscribe_url": unsubscribe,
        "alerts_url": site_url(reverse("tracker:alerts")),
    }
    message = EmailMultiAlternatives(
        subject=f"[Tracker] {context['title']}"[:250],
        body=render_to_string("tracker/alerts/email.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[channel.address],
        headers={
            "Message-ID": f"<{delivery.uuid}@{settings.TRACKER_MAIL_DOMAIN}>",
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Tracker-Event-Id": str(event.uuid),
            "X-Tracker-Event": event.kind,
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(render_to_string("tracker/alerts/email.html", context), "text/html")
    return message


def event_url(event: AlertEvent) -> str:
    return ((event.data or {}).get("withdrawal") or {}).get("url") or ""


def digest_events(event: AlertEvent) -> list[AlertEvent]:
    ids = (event.data.get("facts") or {}).get("event_ids", [])
    return list(AlertEvent.objects.filter(pk__in=ids).order_by("occurred_at", "id"))


# ---------------------------------------------------------------------------------------
# Sending


def task_send(task, *args) -> bool:
    """Queue a task; False (logged) when the broker is down: the sweep sends it later."""
    try:
        task.apply_async(args=list(args))
    except Exception as exc:  # kombu/redis raise a variety of connection errors
        log.warning("broker unavailable, %s%s waits for the sweep: %s", task.name, args, exc)
        return False
    return True


def deliveries_enqueue_on_commit(delivery_ids: list[int]) -> None:
    from tracker.tasks import delivery_send_task

    ids = list(delivery_ids)
    if not ids:
        return

    def send() -> None:
        for pk in ids:
            if not task_send(delivery_send_task, pk):
                return  # the rest stay pending for deliveries_requeue_due

    transaction.on_commit(send)


def delivery_send(*, delivery_id: int, retry: bool = True) -> Delivery | None:
    """Send one delivery. Idempotent: a delivery that is sent, or taken by another worker,
    is left alone.

    1. Claim it with a conditional UPDATE (pending and due, or sending with its lease
       expired: its worker died), counting the attempt.
    2. A paused channel holds it. Email goes out once (tracker/mail.py); a webhook POSTs
       the signed JSON body.
    3. Success marks it sent and clears the channel's failure run; a failure retries with
       backoff (DeliveryRetry), fails after TRACKER_ALERT_MAX_ATTEMPTS, and may pause the
       channel.
    """
    now = timezone.now()
    lease = dt.timedelta(seconds=settings.TRACKER_ALERT_LEASE_SECONDS)
    # A retry's task may arrive a moment before next_attempt_at; a second is close enough.
    due = now + dt.timedelta(seconds=1)
    row = Delivery.objects.filter(pk=delivery_id).values("attempts", "state").first()
    if row is None:
        return None
    attempts = row["attempts"] + 1
    claimed = (
        Delivery.objects.filter(pk=delivery_id, attempts=row["attempts"], next_attempt_at__lte=due)
        .filter(state__in=[Delivery.State.PENDING, Delivery.State.SENDING])
        .update(
            state=Delivery.State.SENDING,
            attempts=attempts,
            claimed_at=now,
            next_attempt_at=now + lease,
        )
    )
    if not claimed:
        return None
    delivery = Delivery.objects.select_related("event", "channel__user").get(pk=delivery_id)
    channel = delivery.channel
    if not channel.active:
        Delivery.objects.filter(pk=delivery_id).update(state=Delivery.State.HELD)
        return delivery
    mine = Delivery.objects.filter(pk=delivery_id, state=Delivery.State.SENDING, attempts=attempts)

    def sent(code: int) -> None:
        mine.update(
            state=Delivery.State.SENT, sent_at=timezone.now(), last_error="", response_code=code
        )

    try:
        if channel.kind == Channel.Kind.EMAIL:
            message_send_once(email_build(delivery=delivery), handed_over=lambda: sent(250))
        else:
            sent(webhook_post(delivery=delivery))
    except (DeliveryFailure, smtplib.SMTPException, OSError) as exc:
        failure = exc if isinstance(exc, DeliveryFailure) else smtp_failure(exc)
        delivery_failed(
            delivery=delivery,
            error=str(failure),
            code=failure.code,
            permanent=failure.permanent,
            retry=retry,
        )
    else:
        Channel.objects.filter(pk=channel.pk, consecutive_failures__gt=0).update(
            consecutive_failures=0
        )
    delivery.refresh_from_db()
    return delivery


class DeliveryFailure(Exception):
    def __init__(self, message: str, *, code: int | None = None, permanent: bool = False):
        super().__init__(message)
        self.code = code
        self.permanent = permanent


def smtp_failure(exc: Exception) -> "DeliveryFailure":
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        addresses = ", ".join(exc.recipients)
        return DeliveryFailure(f"the mail server refused {addresses}", permanent=True)
    if isinstance(exc, smtplib.SMTPResponseException):
        return DeliveryFailure(
            f"the mail server answered {exc.smtp_code} {exc.smtp_error!r}",
            code=exc.smtp_code,
            permanent=500 <= exc.smtp_code < 600,
        )
    return DeliveryFailure(
        f"the mail server could not be reached ({exc.__class__.__name__}: {exc})"
    )


def delivery_failed(
    *, delivery: Delivery, error: str, code: int | None, permanent: bool, retry: bool
) -> None:
    """Record a failed attempt: retry later, give up, and count it against the channel."""
    from tracker.services.ingest import retry_delay

    Channel.objects.filter(pk=delivery.channel_id).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    attempts = Delivery.objects.get(pk=delivery.pk).attempts
    give_up = permanent or attempts >= settings.TRACKER_ALERT_MAX_ATTEMPTS
    delay = retry_delay(attempts)
    # "sent" too: an SMTP server can refuse a message after it was handed over.
    mine = Delivery.objects.filter(
        pk=delivery.pk, attempts=attempts, state__in=[Delivery.State.SENDING, Delivery.State.SENT]
    )
    mine.update(
        state=Delivery.State.FAILED if give_up else Delivery.State.PENDING,
        next_attempt_at=timezone.now() + dt.timedelta(seconds=delay),
        last_error=(
            f"attempt {attempts}: {error}" + ("" if give_up else f" (retrying in {delay:.0f}s)")
        )[:500],
        response_code=code,
    )
    if channel_pause_for_failures(channel_id=delivery.channel_id, error=error):
        return  # held with the channel's other deliveries until its owner resumes it
    if not give_up and retry:
        raise DeliveryRetry(error, delay=delay)


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def webhook_post(*, delivery: Delivery) -> int:
    """POST the event to the channel's URL, connecting only to the checked address.

    No redirects are followed (a 3xx is a failure), timeouts are short, and the answer's
    body is not read beyond a few kilobytes. Returns the 2xx status.
    """
    channel, event = delivery.channel, delivery.event
    body = json.dumps(event_body(event), separators=(",", ":"), ensure_ascii=False).encode()
    timestamp = str(int(time.time()))
    # The address rules again at every send: DNS may point the name elsewhere since.
    try:
        parts = fetching.url_validate(channel.address)
        scheme = parts.scheme.lower()
        if scheme != "https" and not settings.TRACKER_FETCH_ALLOW_PRIVATE:
            raise DeliveryFailure("webhook URLs must use https", permanent=True)
        port = parts.port or (443 if scheme == "https" else 80)
        ip = fetching.address_check(parts.hostname, port)
    except fetching.FetchError as exc:
        raise DeliveryFailure(str(exc), permanent=not exc.retryable) from None
    timeout = urllib3.Timeout(
        connect=settings.TRACKER_WEBHOOK_TIMEOUT, read=settings.TRACKER_WEBHOOK_TIMEOUT
    )
    host = parts.hostname
    if scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            str(ip),
            port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            ca_certs=settings.TRACKER_CA_BUNDLE or fetching.ca_bundle(),
            server_hostname=host,
            assert_hostname=host,
        )
    else:
        pool = urllib3.HTTPConnectionPool(str(ip), port, timeout=timeout, retries=False, maxsize=1)
    host_header = f"[{host}]" if ":" in host else host
    if port != (443 if scheme == "https" else 80):
        host_header = f"{host_header}:{port}"
    headers = {
        "Host": host_header,
        "User-Agent": settings.TRACKER_FETCH_USER_AGENT,
        "Content-Type": "application/json",
        "X-Tracker-Event": event.kind,
        "X-Tracker-Event-Id": str(event.uuid),
        "X-Tracker-Delivery-Id": str(delivery.uuid),
        "X-Tracker-Signature": webhook_signature(
            secret=channel.secret, timestamp=timestamp, body=body
        ),
    }
    path = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    try:
        response = pool.urlopen(
            "POST",
            path,
            body=body,
            headers=headers,
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            status = response.status
            response.read(4096)
        finally:
            response.release_conn()
            response.close()
    except urllib3.exceptions.SSLError as exc:
        raise DeliveryFailure(f"{host}: TLS failed ({exc.__class__.__name__})") from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise DeliveryFailure(f"{host}: {fetching.network_problem(exc)}") from None
    finally:
        pool.close()
    if 200 <= status < 300:
        return status
    if 300 <= status < 400:
        message = f"the receiver answered {status} (redirects are not followed)"
        raise DeliveryFailure(message, code=status)
    raise DeliveryFailure(f"the receiver answered {status}", code=status)


def deliveries_requeue_due(*, now: dt.datetime | None = None, grace_seconds: int = 60) -> int:
    """Queue again the deliveries whose task was lost: the broker was down when they were
    written, Redis was wiped, or their worker died mid-send (its lease ran out).

    Each is claimed by moving its next_attempt_at with a conditional UPDATE, so
    overlapping sweeps queue it once; a duplicate task would find it already claimed.
    """
    from tracker.tasks import delivery_send_task

    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=grace_seconds)
    rows = list(
        Delivery.objects.filter(
            state__in=[Delivery.State.PENDING, Delivery.State.SENDING], next_attempt_at__lte=cutoff
        )
        .order_by("next_attempt_at")
        .values_list("pk", "next_attempt_at")[:1000]
    )
    queued = 0
    for pk, at in rows:
        # Due now (a claim needs next_attempt_at <= now); the sweep leaves it for a grace
        # period before looking again.
        if not Delivery.objects.filter(pk=pk, next_attempt_at=at).update(next_attempt_at=now):
            continue
        if not task_send(delivery_send_task, pk):
            Delivery.objects.filter(pk=pk, next_attempt_at=now).update(next_attempt_at=at)
            break
        queued += 1
    return queued


def digests_send(*, now: dt.datetime | None = None) -> int:
    """Each digest channel's waiting deliveries become one email: "what changed in what you
    watch since yesterday". The digest is an event of its own, delivered like any other."""
    now = now or timezone.now()
    sent = 0
    channel_ids = (
        Delivery.objects.filter(state=Delivery.State.DIGEST)
        .values_list("channel_id", flat=True)
        .distinct()
    )
    for channel in Channel.objects.filter(pk__in=list(channel_ids), active=True):
        with transaction.atomic():
            waiting = list(
                Delivery.objects.select_for_update(skip_locked=True)
                .filter(channel=channel, state=Delivery.State.DIGEST)
                .order_by("created_at", "id")
            )
            if not waiting:
                continue
            event = AlertEvent.objects.create(
                key=f"digest:{channel.pk}:{now.isoformat()}",
                kind=Kind.DIGEST,
                data={"facts": {"event_ids": [d.event_id for d in waiting], "count": len(waiting)}},
            )
            digest = Delivery.objects.create(event=event, channel=channel)
            Delivery.objects.filter(pk__in=[d.pk for d in waiting]).update(
                state=Delivery.State.DIGESTED, digest=digest, sent_at=now
            )
            deliveries_enqueue_on_commit([digest.pk])
            sent += 1
    return sent
