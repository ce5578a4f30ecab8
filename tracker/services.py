"""Writes that touch several models: sources, ingest jobs, feeds, and merging extracted facts.

Every function here is keyword-only, typed and atomic where it writes. Views, the API, tasks
and management commands call these; none of them holds a business rule of its own.

Ingest jobs move queued → fetching (URLs) → extracting → merged, or → failed with an error
the user can read. A job whose source had been read before finishes at once as merged with
`changes == {"unchanged": True}`.
"""

import datetime as dt
import logging
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from tracker import fetching
from tracker.models import (
    Conflict,
    DeadlineRevision,
    Deployment,
    Evidence,
    Feed,
    IngestJob,
    Milestone,
    Party,
    Precision,
    Source,
    Withdrawal,
)

log = logging.getLogger(__name__)

# Milestone kinds a withdrawal has at most one of; others (base handovers, personnel
# updates) can happen many times and are told apart by their date.
SINGLE_MILESTONE_KINDS = {
    Milestone.Kind.ANNOUNCEMENT,
    Milestone.Kind.AGREEMENT,
    Milestone.Kind.ORDER_TO_LEAVE,
    Milestone.Kind.WITHDRAWAL_START,
    Milestone.Kind.COMPLETION,
}
UPLOAD_SUFFIXES = (".txt", ".md", ".html", ".htm")
UNFINISHED_STATES = [IngestJob.State.QUEUED, IngestJob.State.FETCHING, IngestJob.State.EXTRACTING]
REPLACED_WARNING = "invalid UTF-8 bytes were replaced with \ufffd"


class IngestError(Exception):
    """A source that cannot be read; the message is shown to the user as it is."""


class IngestRetry(Exception):
    """Network trouble: the job is queued again and its task should retry after `delay`."""

    def __init__(self, message: str, *, delay: float):
        super().__init__(message)
        self.delay = delay


# ---------------------------------------------------------------------------------------
# Sources and jobs


def decode_text(data: bytes, *, name: str) -> tuple[str, bool]:
    """Bytes of an uploaded or local file as text; (text, had_invalid_bytes).

    Binary files (a NUL byte, or mostly undecodable) are refused; stray invalid bytes in
    otherwise good UTF-8 are replaced, and the caller says so to the user.
    """
    if b"\x00" in data[:65536]:
        raise IngestError(f"{name}: looks like a binary file, not text")
    try:
        return data.decode("utf-8-sig"), False
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        if text.count("\ufffd") > max(10, len(text) // 100):
            raise IngestError(f"{name}: is not UTF-8 text") from None
        return text, True


def source_find(*, text: str, url: str = "") -> Source | None:
    if url:
        found = Source.objects.filter(url=url).first()
        if found:
            return found
    return Source.objects.filter(content_hash=Source.hash_text(text)).first()


def source_get_or_create(
    *,
    text: str,
    origin: str,
    title: str = "",
    url: str = "",
    publisher: str = "",
    published_on: dt.date | None = None,
    language: str = "en",
) -> tuple[Source, bool]:
    """The source for this text (or URL), created when new. Safe under concurrent calls."""
    if not text.strip():
        raise IngestError("the text is empty")
    existing = source_find(text=text, url=url)
    if existing:
        return existing, False
    try:
        with transaction.atomic():
            source = Source.objects.create(
                text=text,
                content_hash=Source.hash_text(text),
                origin=origin,
                title=title[:500],
                url=url,
                publisher=publisher[:200],
                publisher_key=Source.publisher_key_for(publisher=publisher, url=url, text=text),
                published_on=published_on,
                language=language,
            )
    except IntegrityError:
        # Another request stored the same article between our look-up and insert.
        existing = source_find(text=text, url=url)
        if existing is None:
            raise
        return existing, False
    return source, True


def source_was_merged(source: Source, *, excluding: IngestJob | None = None) -> bool:
    jobs = source.jobs.filter(state=IngestJob.State.MERGED)
    if excluding is not None:
        jobs = jobs.exclude(pk=excluding.pk)
    return jobs.exists()


def ingest_job_enqueue(job: IngestJob) -> None:
    """Queue the job's task once the surrounding transaction commits.

    If the broker is down the job stays "queued" in the database and the periodic sweep
    (ingest_jobs_requeue_stale) sends it again later: nothing is lost.
    """
    from tracker.tasks import source_ingest_task

    job_id = job.pk

    def send() -> None:
        try:
            result = source_ingest_task.apply_async(args=[job_id])
        except Exception as exc:  # kombu/redis raise a variety of connection errors
            log.warning("broker unavailable, job %s stays queued: %s", job_id, exc)
            IngestJob.objects.filter(pk=job_id, state=IngestJob.State.QUEUED).update(
                error=f"waiting for the task queue: {exc}"[:500]
            )
            return
        IngestJob.objects.filter(pk=job_id).update(task_id=result.id or "")

    transaction.on_commit(send)


def source_submit_text(
    *,
    text: str,
    origin: str,
    label: str = "",
    title: str = "",
    url: str = "",
    publisher: str = "",
    published_on: dt.date | None = None,
    user=None,
    warnings: list[str] | None = None,
    enqueue: bool = True,
) -> tuple[Source, IngestJob | None]:
    """Store a text as a source and queue its ingestion; (source, job or None if unchanged).

    enqueue=False leaves the job for the caller to run (the bulk command runs it in-process).
    """
    with transaction.atomic():
        source, created = source_get_or_create(
            text=text,
            origin=origin,
            title=title,
            url=url,
            publisher=publisher,
            published_on=published_on,
        )
        if not created and source_was_merged(source):
            return source, None
        job = IngestJob.objects.create(
            kind=IngestJob.Kind.FILE if origin in ("upload", "seed") else IngestJob.Kind.TEXT,
            label=(label or title or "pasted text")[:2000],
            source=source,
            published_on=published_on,
            created_by=user_or_none(user),
            warnings=list(warnings or []),
        )
        if enqueue:
            ingest_job_enqueue(job)
    return source, job


def user_or_none(user):
    return user if user is not None and user.is_authenticated else None


def source_submit_upload(
    *,
    name: str,
    data: bytes,
    user=None,
    published_on: dt.date | None = None,
    origin: str = Source.Origin.UPLOAD,
    enqueue: bool = True,
) -> tuple[Source, IngestJob | None]:
    """Store an uploaded .txt, .md or .html file as a source; HTML gives its main text.

    Invalid UTF-8 is replaced and the job says so in `warnings`.
    """
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise IngestError(
            f"{name}: only .txt, .md and .html files can be ingested"
            + (f" (not {suffix})" if suffix else "")
        )
    if len(data) > settings.TRACKER_FETCH_MAX_HTML_BYTES:
        raise IngestError(f"{name}: larger than 5 MB")
    text, replaced = decode_text(data, name=name)
    if not text.strip():
        raise IngestError(f"{name}: the file is empty")
    title = Path(name).stem.replace("_", " ")
    publisher = ""
    if suffix in (".html", ".htm"):
        try:
            article = fetching.article_from_html(text)
        except fetching.FetchError as exc:
            raise IngestError(f"{name}: {exc}") from None
        text, title = article.text, article.title or title
        publisher, published_on = article.publisher, published_on or article.published_on
    return source_submit_text(
        text=text,
        origin=origin,
        label=Path(name).name,
        title=title,
        publisher=publisher,
        published_on=published_on,
        user=user,
        warnings=[REPLACED_WARNING] if replaced else [],
        enqueue=enqueue,
    )


def source_submit_url(
    *,
    url: str,
    user=None,
    feed: Feed | None = None,
    published_on: dt.date | None = None,
    enqueue: bool = True,
) -> IngestJob:
    """Queue a URL to be fetched and read. The URL is checked here; the fetch runs in a task.

    A URL whose source was read before gives a job that is already finished (merged, with
    `changes == {"unchanged": True}`); a URL already being read gives that job.
    """
    try:
        canonical = fetching.url_canonical(url)
    except fetching.FetchError as exc:
        raise IngestError(str(exc)) from None
    kind = IngestJob.Kind.FEED_ENTRY if feed is not None else IngestJob.Kind.URL
    with transaction.atomic():
        existing = Source.objects.filter(url=canonical).first()
        if existing is not None and source_was_merged(existing):
            now = timezone.now()
            return IngestJob.objects.create(
                kind=kind,
                state=IngestJob.State.MERGED,
                label=url.strip()[:2000],
                url=canonical,
                source=existing,
                feed=feed,
                published_on=published_on,
                changes={"unchanged": True},
                created_by=user_or_none(user),
                started_at=now,
                finished_at=now,
            )
        pending = IngestJob.objects.filter(url=canonical, state__in=UNFINISHED_STATES).first()
        if pending is not None:
            return pending
        job = IngestJob.objects.create(
            kind=kind,
            label=url.strip()[:2000],
            url=canonical,
            feed=feed,
            published_on=published_on,
            created_by=user_or_none(user),
        )
        if enqueue:
            ingest_job_enqueue(job)
    return job


def retry_delay(attempt: int) -> float:
    """Exponential backoff with jitter: about base·2^(attempt-1) seconds, capped."""
    ceiling = min(
        settings.TRACKER_RETRY_BACKOFF_MAX, settings.TRACKER_RETRY_BACKOFF_BASE * 2 ** (attempt - 1)
    )
    # Jitter spreads the retries of many jobs that failed together (one site down).
    return random.uniform(ceiling / 2, ceiling)


def ingest_job_run(*, job_id: int, retry: bool = True) -> IngestJob | None:
    """Run one job: fetch (URLs), extract facts, merge them. Idempotent.

    1. Claim the job by counting an attempt with a conditional UPDATE (a poison job stops
       after MAX_ATTEMPTS, also when the worker died mid-task).
    2. URL jobs: fetch the page safely and store its main text as the source; a source read
       before finishes the job as unchanged.
    3. Extract facts from the source text.
    4. Merge them into the records in one transaction, and record what changed.

    Network and database trouble raises IngestRetry (the job is queued again) while attempts
    remain and retry is on; anything else fails the job with an error the user can read.
    """
    job = IngestJob.objects.filter(pk=job_id).select_related("source").first()
    if job is None or job.is_finished:
        return job
    if job.attempts >= IngestJob.MAX_ATTEMPTS:
        last = f": {job.error}" if job.error else ""
        ingest_job_fail(job=job, error=f"gave up after {job.attempts} attempts{last}")
        return job
    needs_fetch = job.source_id is None and bool(job.url)
    claimed = IngestJob.objects.filter(pk=job.pk, attempts=job.attempts).update(
        attempts=job.attempts + 1,
        state=IngestJob.State.FETCHING if needs_fetch else IngestJob.State.EXTRACTING,
        started_at=timezone.now(),
    )
    if not claimed:
        return job  # another worker took it
    job.refresh_from_db()
    try:
        ingest_job_stages(job=job, needs_fetch=needs_fetch)
    except fetching.FetchError as exc:
        if not exc.retryable:
            ingest_job_fail(job=job, error=str(exc))
            return job
        ingest_job_retry_or_fail(job=job, error=str(exc), retry=retry)
    except OperationalError as exc:
        # A lost connection or a deadlock between two merges: try again later.
        log.warning("job %s: database trouble: %s", job.pk, exc)
        ingest_job_retry_or_fail(job=job, error=f"database busy ({exc})", retry=retry)
    except IngestError as exc:
        ingest_job_fail(job=job, error=str(exc))
    except Exception as exc:
        # A bug or a time limit: logged with its traceback, and never left "running".
        log.exception("job %s failed", job.pk)
        ingest_job_fail(job=job, error=f"internal error ({exc.__class__.__name__}): {exc}")
    return job


def ingest_job_retry_or_fail(*, job: IngestJob, error: str, retry: bool) -> None:
    if not retry or job.attempts >= IngestJob.MAX_ATTEMPTS:
        suffix = f" after {job.attempts} attempts" if retry else ""
        ingest_job_fail(job=job, error=f"{error}{suffix}")
        return
    delay = retry_delay(job.attempts)
    # queued_at restarts so the stale sweep, which waits longer than any backoff, leaves a
    # job alone while its task waits out the delay.
    IngestJob.objects.filter(pk=job.pk).update(
        state=IngestJob.State.QUEUED,
        error=f"attempt {job.attempts} failed, retrying in {delay:.0f}s: {error}"[:2000],
        queued_at=timezone.now(),
    )
    raise IngestRetry(error, delay=delay)


def ingest_job_stages(*, job: IngestJob, needs_fetch: bool) -> None:
    timings = dict(job.timings or {})
    if needs_fetch:
        started = time.monotonic()
        article = url_read(url=job.url)
        source, created = source_get_or_create(
            text=article.text,
            origin=Source.Origin.FEED if job.feed_id else Source.Origin.URL,
            title=article.title,
            url=job.url,
            publisher=article.publisher,
            published_on=job.published_on or article.published_on,
        )
        timings["fetch_ms"] = elapsed_ms(started)
        job.source = source
        job.state = IngestJob.State.EXTRACTING
        job.timings = timings
        job.warnings = list(job.warnings) + article.warnings
        job.save(update_fields=["source", "state", "timings", "warnings"])
        if not created and source_was_merged(source, excluding=job):
            ingest_job_finish(job=job, changes={"unchanged": True})
            return
    source = job.source
    if source is None:
        raise IngestError("the job has no source to read")
    from tracker import extraction

    started = time.monotonic()
    try:
        result = extraction.extract(source.text, published=source.published_on)
    except extraction.ExtractionError as exc:
        raise IngestError(str(exc)) from None
    timings["extract_ms"] = elapsed_ms(started)
    started = time.monotonic()
    with transaction.atomic():
        changes = source_merge_facts(source=source, result=result)
        timings["merge_ms"] = elapsed_ms(started)
        job.timings = timings
        ingest_job_finish(job=job, changes=changes)


def elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def url_read(*, url: str) -> fetching.Article:
    """Fetch a web page and read its main text, title, publisher and publication date."""
    fetched = fetching.fetch(
        url, max_bytes=settings.TRACKER_FETCH_MAX_HTML_BYTES, accept=fetching.HTML_TYPES
    )
    html, replaced = fetching.bytes_decode(fetched.content, charset=fetched.charset)
    if fetched.content_type == "text/plain":
        article = fetching.Article(text=html.strip())
        if not article.text:
            raise IngestError("the page is empty")
    else:
        article = fetching.article_from_html(html, url=fetched.url)
    if replaced:
        article.warnings.append(REPLACED_WARNING)
    return article


def ingest_job_finish(*, job: IngestJob, changes: dict) -> None:
    job.state = IngestJob.State.MERGED
    job.changes = changes
    job.error = ""
    job.finished_at = timezone.now()
    job.save(update_fields=["state", "changes", "error", "finished_at", "timings"])


def ingest_job_fail(*, job: IngestJob, error: str) -> None:
    job.state = IngestJob.State.FAILED
    job.error = error[:2000]
    job.finished_at = timezone.now()
    job.save(update_fields=["state", "error", "finished_at"])


def ingest_jobs_requeue_stale(*, older_than: dt.timedelta = dt.timedelta(minutes=10)) -> int:
    """Send again the jobs whose task was lost (broker down or wiped, worker killed).

    Queued jobs count from when they were queued; running ones from when they started, so a
    job that waited long in a busy queue and has just started is not sent twice.
    """
    cutoff = timezone.now() - older_than
    running_cutoff = timezone.now() - max(
        older_than, dt.timedelta(seconds=2 * settings.CELERY_TASK_TIME_LIMIT)
    )
    stale = IngestJob.objects.filter(
        state=IngestJob.State.QUEUED, queued_at__lt=cutoff
    ) | IngestJob.objects.filter(
        state__in=[IngestJob.State.FETCHING, IngestJob.State.EXTRACTING],
        started_at__lt=running_cutoff,
    )
    count = 0
    for job in stale.only("pk", "queued_at"):
        # Claim by the old queued_at so two overlapping sweeps send a job once.
        if IngestJob.objects.filter(pk=job.pk, queued_at=job.queued_at).update(
            queued_at=timezone.now()
        ):
            with transaction.atomic():
                ingest_job_enqueue(job)
            count += 1
    return count


# ---------------------------------------------------------------------------------------
# Feeds


def feed_add(*, url: str, interval_minutes: int = 60) -> Feed:
    """Subscribe to an RSS or Atom feed (once per URL); it is polled on the next beat."""
    try:
        canonical = fetching.url_canonical(url)
    except fetching.FetchError as exc:
        raise IngestError(str(exc)) from None
    if not 5 <= interval_minutes <= 7 * 24 * 60:
        raise IngestError("the interval must be between 5 minutes and a week")
    feed, created = Feed.objects.get_or_create(
        url=canonical, defaults={"interval_minutes": interval_minutes}
    )
    if not created and (feed.interval_minutes, feed.active) != (interval_minutes, True):
        feed.interval_minutes, feed.active = interval_minutes, True
        feed.save(update_fields=["interval_minutes", "active"])
    return feed


def feed_poll(*, feed_id: int) -> int:
    """Read a feed once; the number of new entries queued as jobs.

    1. Fetch it with If-None-Match / If-Modified-Since; 304 means nothing new.
    2. Parse it safely; every entry whose URL is not yet known becomes a queued IngestJob.
    3. Record the ETag, Last-Modified, when it was polled and is due next, and any error
       (errors never raise: they wait on the feed for a person, and the next poll retries).
    """
    feed = Feed.objects.filter(pk=feed_id).first()
    if feed is None:
        return 0
    now = timezone.now()
    next_poll = now + dt.timedelta(minutes=feed.interval_minutes)
    headers = {}
    if feed.etag:
        headers["If-None-Match"] = feed.etag
    if feed.last_modified:
        headers["If-Modified-Since"] = feed.last_modified
    try:
        fetched = fetching.fetch(
            feed.url,
            max_bytes=settings.TRACKER_FETCH_MAX_FEED_BYTES,
            accept=fetching.FEED_TYPES,
            headers=headers,
        )
        parsed = None
        if fetched.status != 304:
            parsed = fetching.feed_parse(fetched.content, base_url=fetched.url)
    except fetching.FetchError as exc:
        Feed.objects.filter(pk=feed.pk).update(
            last_polled_at=now, next_poll_at=next_poll, last_error=str(exc)[:2000]
        )
        return 0
    queued = 0
    with transaction.atomic():
        for entry in parsed.entries if parsed else []:
            try:
                canonical = fetching.url_canonical(entry.url)
            except fetching.FetchError:
                continue  # a javascript: or ftp: link in a feed is not an article
            if (
                Source.objects.filter(url=canonical).exists()
                or IngestJob.objects.filter(url=canonical).exists()
            ):
                continue
            job = IngestJob.objects.create(
                kind=IngestJob.Kind.FEED_ENTRY,
                label=entry.url[:2000],
                url=canonical,
                feed=feed,
                published_on=entry.published_on,
            )
            ingest_job_enqueue(job)
            queued += 1
        update = {"last_polled_at": now, "next_poll_at": next_poll, "last_error": ""}
        if fetched.status != 304:
            update["etag"] = fetched.etag
            update["last_modified"] = fetched.last_modified
            if parsed.title and not feed.title:
                update["title"] = parsed.title
        Feed.objects.filter(pk=feed.pk).update(**update)
    return queued


def feeds_poll_due(*, now: dt.datetime | None = None) -> int:
    """Queue a poll for each active feed that is due; the number queued.

    Each feed is claimed by moving its next_poll_at with a conditional UPDATE first, so
    overlapping beats never poll a feed twice.
    """
    from tracker.tasks import feed_poll_task

    now = now or timezone.now()
    queued = 0
    for feed in Feed.objects.filter(active=True, next_poll_at__lte=now).only(
        "pk", "next_poll_at", "interval_minutes"
    ):
        claimed = Feed.objects.filter(pk=feed.pk, next_poll_at=feed.next_poll_at).update(
            next_poll_at=now + dt.timedelta(minutes=feed.interval_minutes)
        )
        if not claimed:
            continue
        try:
            feed_poll_task.apply_async(args=[feed.pk])
        except Exception as exc:  # broker down: the feed stays due for the next beat
            log.warning("broker unavailable, feed %s not polled: %s", feed.pk, exc)
            Feed.objects.filter(pk=feed.pk).update(next_poll_at=feed.next_poll_at)
            continue
        queued += 1
    return queued


# ---------------------------------------------------------------------------------------
# Corroboration


def withdrawal_corroboration(withdrawal: Withdrawal, *, field: str | None = None) -> dict:
    """How many distinct sources and distinct publishers back a withdrawal: {"sources": n,
    "publishers": m}. With `field`, only the evidence that agrees with the record's value.

    A wire story republished by two sites is two sources but one publisher.
    """
    evidence = Evidence.objects.filter(withdrawal=withdrawal)
    if field is None:
        return evidence.aggregate(
            sources=Count("source", distinct=True),
            publishers=Count("source__publisher_key", distinct=True),
        )
    rows = evidence.filter(field=field).values_list("value", "source_id", "source__publisher_key")
    current = getattr(withdrawal, field, None)
    precision = getattr(withdrawal, field.replace("_on", "_precision"), Precision.DAY)
    if field == "deadline":
        precision = withdrawal.deadline_precision

    def agrees(value: str) -> bool:
        if current is None:
            return True
        if isinstance(current, dt.date):
            try:
                stated = dt.date.fromisoformat(value)
            except ValueError:
                return False
            return dates_agree(current, precision, stated, Precision.DAY)
        return value == str(current)

    agreeing = [(source_id, key) for value, source_id, key in rows if agrees(value)]
    return {
        "sources": len({source_id for source_id, _ in agreeing}),
        "publishers": len({key for _, key in agreeing}),
    }


def withdrawals_with_corroboration(queryset: QuerySet[Withdrawal]) -> QuerySet[Withdrawal]:
    """Annotate corroborating_sources and corroborating_publishers (one query for a list)."""
    return queryset.annotate(
        corroborating_sources=Count("evidence__source", distinct=True),
        corroborating_publishers=Count("evidence__source__publisher_key", distinct=True),
    )


# ---------------------------------------------------------------------------------------
# Merging facts into records


@dataclass
class MergeReport:
    """What one source changed, stored on its job and shown to the user."""

    withdrawals_created: list[int] = field(default_factory=list)
    withdrawals_updated: list[int] = field(default_factory=list)
    fields_set: list[str] = field(default_factory=list)
    evidence_added: int = 0
    milestones_created: int = 0
    deadline_revisions: int = 0
    conflicts: int = 0
    deployments: int = 0

    def as_dict(self) -> dict:
        return {
            "withdrawals_created": self.withdrawals_created,
            "withdrawals_updated": sorted(set(self.withdrawals_updated)),
            "fields_set": self.fields_set,
            "evidence_added": self.evidence_added,
            "milestones_created": self.milestones_created,
            "deadline_revisions": self.deadline_revisions,
            "conflicts": self.conflicts,
            "deployments": self.deployments,
        }


def party_get_or_create(*, ref) -> Party:
    party, created = Party.objects.get_or_create(
        code=ref.code.upper(),
        defaults={"name": ref.name, "kind": ref.kind or Party.Kind.STATE},
    )
    return party


def source_merge_facts(*, source: Source, result) -> dict:
    report = MergeReport()
    for fact in result.withdrawals:
        withdrawal_merge_fact(source=source, fact=fact, report=report)
    for fact in getattr(result, "deployments", []) or []:
        deployment_merge_fact(fact=fact, report=report)
    return report.as_dict()


def deployment_merge_fact(*, fact, report: MergeReport) -> None:
    party = party_get_or_create(ref=fact.deploying)
    host = party_get_or_create(ref=fact.host)
    if party == host:
        return
    deployment, created = Deployment.objects.get_or_create(party=party, host=host)
    if fact.personnel is not None and deployment.personnel is None:
        deployment.personnel = fact.personnel.value
        deployment.personnel_qualifier = fact.personnel.qualifier
    if fact.since is not None and deployment.since is None:
        deployment.since = fact.since.date
        deployment.since_precision = fact.since.precision
    deployment.save()
    report.deployments += 1


def withdrawal_for_pair(*, party: Party, host: Party) -> Withdrawal | None:
    # The most recent record for the pair: a party can leave the same country twice
    # (the US left Iraq in 2011 and again later), and new sources speak of the latest.
    return (
        Withdrawal.objects.select_for_update()
        .filter(party=party, host=host, cancelled_on__isnull=True)
        .order_by("-created_at", "-id")
        .first()
    )


def withdrawal_merge_fact(*, source: Source, fact, report: MergeReport) -> Withdrawal | None:
    """Fold one extracted withdrawal into the records.

    1. Find the withdrawal for the (party, host) pair, or create it.
    2. For each field: fill it when empty, add evidence when the source agrees, file a
       conflict when it disagrees or the field was edited by a person (locked).
    3. A different deadline becomes a DeadlineRevision; the current deadline is the one
       stated last.
    4. Milestones are added or corroborated; locked milestones only get suggestions.
    """
    party = party_get_or_create(ref=fact.deploying)
    host = party_get_or_create(ref=fact.host)
    if party == host:
        return None
    # Lock the party row: merges for the same pair from concurrent workers queue up here
    # instead of creating two records.
    Party.objects.select_for_update().filter(pk=party.pk).first()
    withdrawal = withdrawal_for_pair(party=party, host=host)
    created = withdrawal is None
    if created:
        withdrawal = Withdrawal.objects.create(
            party=party, host=host, summary=(fact.summary or "")[:2000]
        )
        report.withdrawals_created.append(withdrawal.pk)
    changed: list[str] = []
    evidence_for_pair = fact_evidence(fact)
    if evidence_for_pair is not None:
        evidence_add(
            source=source,
            withdrawal=withdrawal,
            field="pair",
            value="",
            evidence=evidence_for_pair,
            report=report,
        )
    if fact.personnel is not None:
        merge_value(
            source=source,
            withdrawal=withdrawal,
            field="personnel",
            value=fact.personnel.value,
            extra={"personnel_qualifier": fact.personnel.qualifier},
            evidence=fact.personnel.evidence,
            report=report,
            changed=changed,
        )
    for name in ("announced_on", "completed_on"):
        date_fact = getattr(fact, name)
        if date_fact is not None:
            merge_date(
                source=source,
                withdrawal=withdrawal,
                field=name,
                date_fact=date_fact,
                report=report,
                changed=changed,
            )
    if fact.deadline is not None:
        withdrawal_revise_deadline(
            withdrawal=withdrawal,
            deadline=fact.deadline.date,
            precision=fact.deadline.precision,
            phrase=fact.deadline.phrase,
            source=source,
            report=report,
            changed=changed,
        )
        evidence_add(
            source=source,
            withdrawal=withdrawal,
            field="deadline",
            value=fact.deadline.date.isoformat(),
            evidence=fact.deadline.evidence,
            report=report,
        )
    for milestone_fact in fact.milestones:
        milestone_merge_fact(
            source=source,
            withdrawal=withdrawal,
            fact=milestone_fact,
            report=report,
            changed=changed,
        )
    if changed:
        withdrawal.save()
        report.fields_set.extend(f"{withdrawal.pk}:{name}" for name in changed)
        if not created:
            report.withdrawals_updated.append(withdrawal.pk)
    return withdrawal


def fact_evidence(fact):
    for candidate in (fact.announced_on, fact.deadline, fact.completed_on, fact.personnel):
        if candidate is not None:
            return candidate.evidence
    for milestone in fact.milestones:
        return milestone.evidence
    return None


def evidence_add(
    *,
    source: Source,
    withdrawal: Withdrawal,
    field: str,
    value: str,
    evidence,
    report,
    milestone: Milestone | None = None,
) -> None:
    if evidence is None or evidence.end <= evidence.start:
        return
    _, created = Evidence.objects.get_or_create(
        source=source,
        withdrawal=withdrawal,
        milestone=milestone,
        field=field,
        start=evidence.start,
        end=evidence.end,
        defaults={"quote": evidence.text, "value": str(value)[:100]},
    )
    if created:
        report.evidence_added += 1


def conflict_file(
    *,
    withdrawal: Withdrawal,
    field: str,
    current,
    proposed,
    source: Source,
    quote: str,
    reason: str,
    report: MergeReport,
    milestone: Milestone | None = None,
) -> None:
    _, created = Conflict.objects.get_or_create(
        withdrawal=withdrawal,
        field=field,
        proposed_value=str(proposed)[:200],
        source=source,
        defaults={
            "current_value": str(current)[:200],
            "reason": reason,
            "quote": quote,
            "milestone": milestone,
        },
    )
    if created:
        report.conflicts += 1


def merge_value(
    *, source, withdrawal: Withdrawal, field: str, value, extra: dict, evidence, report, changed
) -> None:
    current = getattr(withdrawal, field)
    locked = field in withdrawal.locked_fields
    if current is None and not locked:
        setattr(withdrawal, field, value)
        for name, extra_value in extra.items():
            setattr(withdrawal, name, extra_value)
        changed.append(field)
    elif current != value:
        conflict_file(
            withdrawal=withdrawal,
            field=field,
            current=current if current is not None else "",
            proposed=value,
            source=source,
            quote=evidence.text,
            reason=Conflict.Reason.LOCKED if locked else Conflict.Reason.DISAGREEMENT,
            report=report,
        )
    evidence_add(
        source=source,
        withdrawal=withdrawal,
        field=field,
        value=str(value),
        evidence=evidence,
        report=report,
    )


def dates_agree(a: dt.date, a_precision: str, b: dt.date, b_precision: str) -> bool:
    """Same date, or the same period where one of them is only known to the month or year."""
    if a == b:
        return True
    coarsest = max(a_precision, b_precision, key=lambda p: ["day", "month", "year"].index(p))
    if coarsest == Precision.YEAR:
        return a.year == b.year
    if coarsest == Precision.MONTH:
        return (a.year, a.month) == (b.year, b.month)
    return False


def merge_date(*, source, withdrawal: Withdrawal, field: str, date_fact, report, changed) -> None:
    precision_field = field.replace("_on", "_precision")
    current = getattr(withdrawal, field)
    current_precision = getattr(withdrawal, precision_field)
    locked = field in withdrawal.locked_fields
    if current is None and not locked:
        setattr(withdrawal, field, date_fact.date)
        setattr(withdrawal, precision_field, date_fact.precision)
        changed.append(field)
    elif current is not None and dates_agree(
        current, current_precision, date_fact.date, date_fact.precision
    ):
        # A more precise statement of the same period refines the record.
        rank = ["day", "month", "year"]
        if not locked and rank.index(date_fact.precision) < rank.index(current_precision):
            setattr(withdrawal, field, date_fact.date)
            setattr(withdrawal, precision_field, date_fact.precision)
            changed.append(field)
    else:
        conflict_file(
            withdrawal=withdrawal,
            field=field,
            current=current.isoformat() if current else "",
            proposed=date_fact.date.isoformat(),
            source=source,
            quote=date_fact.evidence.text,
            reason=Conflict.Reason.LOCKED if locked else Conflict.Reason.DISAGREEMENT,
            report=report,
        )
    evidence_add(
        source=source,
        withdrawal=withdrawal,
        field=field,
        value=date_fact.date.isoformat(),
        evidence=date_fact.evidence,
        report=report,
    )


def withdrawal_revise_deadline(
    *,
    withdrawal: Withdrawal,
    deadline: dt.date,
    precision: str,
    phrase: str = "",
    source: Source | None = None,
    user=None,
    report: MergeReport | None = None,
    changed: list[str] | None = None,
) -> DeadlineRevision | None:
    """Record a deadline as a new revision; the current deadline is the one stated last.

    A value already in the history is not recorded twice. When a person has locked the
    deadline, a source's new value becomes a suggestion (Conflict) instead.
    """
    report = report or MergeReport()
    changed = changed if changed is not None else []
    if source is not None and "deadline" in withdrawal.locked_fields:
        if withdrawal.deadline != deadline:
            conflict_file(
                withdrawal=withdrawal,
                field="deadline",
                current=withdrawal.deadline or "",
                proposed=deadline.isoformat(),
                source=source,
                quote=phrase,
                reason=Conflict.Reason.LOCKED,
                report=report,
            )
        return None
    revisions = list(withdrawal.deadline_revisions.all())
    for revision in revisions:
        if dates_agree(revision.deadline, revision.precision, deadline, precision):
            return None
    revision = DeadlineRevision.objects.create(
        withdrawal=withdrawal,
        deadline=deadline,
        precision=precision,
        phrase=phrase[:300],
        source=source,
        stated_on=source.published_on if source else timezone.now().date(),
        recorded_by=user,
    )
    report.deadline_revisions += 1
    revisions.append(revision)
    latest = current_revision(revisions)
    if (withdrawal.deadline, withdrawal.deadline_precision) != (latest.deadline, latest.precision):
        withdrawal.deadline = latest.deadline
        withdrawal.deadline_precision = latest.precision
        changed.append("deadline")
    return revision


def current_revision(revisions: Iterable[DeadlineRevision]) -> DeadlineRevision:
    # Stated last wins; a revision with no statement date counts as oldest.
    return max(
        revisions,
        key=lambda r: (r.stated_on or dt.date.min, r.recorded_at, r.pk or 0),
    )


def milestone_merge_fact(*, source, withdrawal: Withdrawal, fact, report, changed) -> None:
    kind = fact.kind if fact.kind in Milestone.Kind.values else Milestone.Kind.OTHER
    date = fact.date.date if fact.date else None
    precision = fact.date.precision if fact.date else Precision.DAY
    candidates = withdrawal.milestones.filter(kind=kind)
    if kind not in SINGLE_MILESTONE_KINDS:
        candidates = candidates.filter(date=date)
    milestone = candidates.first()
    reference = source.published_on or timezone.now().date()
    if milestone is None:
        milestone = Milestone.objects.create(
            withdrawal=withdrawal,
            kind=kind,
            title=(fact.summary or Milestone.Kind(kind).label.capitalize())[:300],
            date=date,
            date_precision=precision,
            status=milestone_status_for(kind=kind, date=date, reference=reference),
            description=fact.evidence.text[:2000] if fact.evidence else "",
        )
        report.milestones_created += 1
    elif date is not None and (
        milestone.date is None
        or not dates_agree(milestone.date, milestone.date_precision, date, precision)
    ):
        if milestone.locked or milestone.date is not None:
            conflict_file(
                withdrawal=withdrawal,
                milestone=milestone,
                field=f"milestone:{kind}",
                current=milestone.date.isoformat() if milestone.date else "",
                proposed=date.isoformat(),
                source=source,
                quote=fact.evidence.text if fact.evidence else "",
                reason=Conflict.Reason.LOCKED if milestone.locked else Conflict.Reason.DISAGREEMENT,
                report=report,
            )
        else:
            milestone.date = date
            milestone.date_precision = precision
            milestone.save(update_fields=["date", "date_precision", "updated_at"])
    if kind == Milestone.Kind.WITHDRAWAL_START and date is not None:
        if withdrawal.started_on is None and "started_on" not in withdrawal.locked_fields:
            withdrawal.started_on = date
            withdrawal.started_precision = precision
            changed.append("started_on")
    if fact.evidence is not None:
        evidence_add(
            source=source,
            withdrawal=withdrawal,
            milestone=milestone,
            field="milestone",
            value=date.isoformat() if date else "",
            evidence=fact.evidence,
            report=report,
        )


def milestone_status_for(*, kind: str, date: dt.date | None, reference: dt.date) -> str:
    if kind == Milestone.Kind.DEADLINE:
        # Extracted deadline milestones are the superseded ones.
        return Milestone.State.CANCELLED
    if date is not None and date <= reference:
        return Milestone.State.DONE
    return Milestone.State.PLANNED


def milestone_save_by_person(*, milestone: Milestone, fields: Iterable[str] | None = None) -> None:
    """A person's edit (admin or API): the milestone is locked against merging from now on."""
    milestone.locked = True
    if fields is None:
        milestone.save()
    else:
        milestone.save(update_fields=sorted(set(fields) | {"locked", "updated_at"}))
