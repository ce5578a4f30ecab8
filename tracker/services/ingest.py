"""Sources, ingest jobs and feeds: how a text, a file, a URL or a feed entry becomes a source
whose facts are merged.

Ingest jobs move queued → fetching (URLs) → extracting → merged, or → failed with an error
the user can read. A job whose source had been read before finishes at once as merged with
`changes == {"unchanged": True}`.
"""

import datetime as dt
import logging
import random
import threading
import time
import uuid
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from tracker import fetching
from tracker.models import DATE_RANGE_MESSAGE, Feed, IngestJob, Source, date_in_range
from tracker.services.merging import result_bound_dates, source_merge_facts

log = logging.getLogger(__name__)

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
# Publication dates: under "stated last wins" a source's date decides which deadline is
# current, so a date out of range or in the future must never enter.


def latest_publication_date(*, now: dt.datetime | None = None) -> dt.date:
    # Tomorrow in UTC: somewhere it already is (Kiribati is UTC+14).
    return (now or timezone.now()).astimezone(dt.UTC).date() + dt.timedelta(days=1)


def published_on_check(value: dt.date | None, *, now: dt.datetime | None = None) -> None:
    """A publication date a person gave (API, form, CLI): refused when it cannot be true."""
    if value is None:
        return
    if not date_in_range(value):
        raise IngestError(f"published on {value.isoformat()}: {DATE_RANGE_MESSAGE}")
    if value > latest_publication_date(now=now):
        raise IngestError(f"published on {value.isoformat()}: that is in the future")


def published_on_from_page(
    value: dt.date | None, *, warnings: list[str], now: dt.datetime | None = None
) -> dt.date | None:
    """A publication date a page or a feed states: out of range it is dropped, in the
    future it becomes today; either way the job's warnings say so."""
    if value is None:
        return None
    if not date_in_range(value):
        warnings.append(f"ignored the publication date {value.isoformat()}: {DATE_RANGE_MESSAGE}")
        return None
    latest = latest_publication_date(now=now)
    if value > latest:
        today = latest - dt.timedelta(days=1)
        warnings.append(
            f"the stated publication date {value.isoformat()} is in the future: "
            f"read as {today.isoformat()}"
        )
        return today
    return value


# ---------------------------------------------------------------------------------------
# Sources and jobs


def decode_text(data: bytes, *, name: str) -> tuple[str, bool]:
    """Bytes of an uploaded or local file as text; (text, had_invalid_bytes).

    Binary files (a NUL byte, or mostly undecodable) are refused; stray invalid bytes in
    otherwise good UTF-8 are replaced, and the caller says so to the user.
    """
    # The whole file, not its head: a NUL byte anywhere is refused by PostgreSQL later
    # (attack 13 of issue 14), and the scan is a C loop over at most 5 MB.
    if b"\x00" in data:
        raise IngestError(f"{name}: looks like a binary file, not text (it contains NUL bytes)")
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
    stated_url: str = "",
    publisher: str = "",
    published_on: dt.date | None = None,
    language: str = "en",
) -> tuple[Source, bool]:
    """The source for this text (or URL), created when new. Safe under concurrent calls.

    `url` only for text fetched from it; `stated_url` for where a person says a text they
    pasted or uploaded comes from (see Source.stated_url).
    """
    if not text.strip():
        raise IngestError("the text is empty")
    if "\x00" in text:
        # PostgreSQL text cannot hold NUL: refused here with a reason, whatever the way in.
        raise IngestError("the text contains NUL characters: it is not a text document")
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
                stated_url=stated_url,
                publisher=publisher[:200],
                publisher_key=Source.publisher_key_for(
                    publisher=publisher, url=url or stated_url, text=text
                ),
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
    # The task id is stored with the job, in its transaction: no second commit per job.
    task_id = str(uuid.uuid4())
    IngestJob.objects.filter(pk=job_id).update(task_id=task_id)
    job.task_id = task_id

    def send() -> None:
        try:
            source_ingest_task.apply_async(args=[job_id], task_id=task_id)
        except Exception as exc:  # kombu/redis raise a variety of connection errors
            log.warning("broker unavailable, job %s stays queued: %s", job_id, exc)
            IngestJob.objects.filter(pk=job_id, state=IngestJob.State.QUEUED).update(
                error=f"waiting for the task queue: {exc}"[:500], task_id=""
            )

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

    `url` is where the person says the text was published: kept as Source.stated_url, a
    reference, since nothing here fetched it (attack 4 of issue 14: text stored under a URL
    would shadow the real page). enqueue=False leaves the job for the caller to run (the
    bulk command runs it in-process).
    """
    published_on_check(published_on)
    with transaction.atomic():
        source, created = source_get_or_create(
            text=text,
            origin=origin,
            title=title,
            stated_url=url,
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
) -> tuple[Source | None, IngestJob | None]:
    """Store an uploaded .txt, .md or .html file as a source; HTML gives its main text.

    A text file is the source at once. An HTML file waits on its job, unparsed, and the
    job's task reads it (upload_read): (None, job). Invalid UTF-8 is replaced and the job
    says so in `warnings`.
    """
    published_on_check(published_on)
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
    warnings = [REPLACED_WARNING] if replaced else []
    if suffix in (".html", ".htm"):
        # Markup is read by the job's task, under its time limits, never in this request.
        job = IngestJob.objects.create(
            kind=IngestJob.Kind.FILE,
            label=Path(name).name[:2000],
            published_on=published_on,
            created_by=user_or_none(user),
            warnings=warnings,
            upload_html=text,
            upload_origin=origin,
        )
        if enqueue:
            ingest_job_enqueue(job)
        return None, job
    return source_submit_text(
        text=text,
        origin=origin,
        label=Path(name).name,
        title=Path(name).stem.replace("_", " "),
        published_on=published_on,
        user=user,
        warnings=warnings,
        enqueue=enqueue,
    )


def upload_read(*, job: IngestJob) -> tuple[Source, bool]:
    """The source of an uploaded HTML file: its main text, title, publisher and date."""
    try:
        article = fetching.article_from_html(job.upload_html)
    except fetching.FetchError as exc:
        raise IngestError(f"{job.label}: {exc}") from None
    warnings = list(job.warnings) + article.warnings
    published_on = job.published_on or published_on_from_page(
        article.published_on, warnings=warnings
    )
    source, created = source_get_or_create(
        text=article.text,
        origin=job.upload_origin or Source.Origin.UPLOAD,
        title=article.title or Path(job.label).stem.replace("_", " "),
        publisher=article.publisher,
        published_on=published_on,
    )
    job.source, job.warnings, job.upload_html = source, warnings, ""
    job.save(update_fields=["source", "warnings", "upload_html"])
    return source, created


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
    published_on_check(published_on)
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


def ingest_job_run(*, job_id: int, retry: bool = True, heartbeat: bool = False) -> IngestJob | None:
    """Run one job: fetch (URLs), extract facts, merge them. Idempotent.

    1. Claim the job by counting an attempt with a conditional UPDATE (a poison job stops
       after MAX_ATTEMPTS, also when the worker died mid-task). A job another worker is
       running (its heartbeat is fresh) is left to it: this is a duplicate delivery.
    2. URL jobs: fetch the page safely and store its main text as the source; a source read
       before finishes the job as unchanged.
    3. Extract facts from the source text.
    4. Merge them into the records in one transaction, and record what changed.

    With heartbeat on (a real worker), a thread writes the job's heartbeat while it runs.
    Network and database trouble raises IngestRetry (the job is queued again) while attempts
    remain and retry is on; anything else fails the job with an error the user can read.
    """
    job = IngestJob.objects.filter(pk=job_id).select_related("source").first()
    if job is None or job.is_finished:
        return job
    if job.is_running and not ingest_job_is_stale(job):
        return job  # a live worker holds it
    if job.attempts >= IngestJob.MAX_ATTEMPTS:
        last = f": {job.error}" if job.error else ""
        ingest_job_fail(job=job, error=f"gave up after {job.attempts} attempts{last}")
        return job
    needs_fetch = job.source_id is None and bool(job.url)
    now = timezone.now()
    claim = {
        "attempts": job.attempts + 1,
        "state": IngestJob.State.FETCHING if needs_fetch else IngestJob.State.EXTRACTING,
        "started_at": now,
        "heartbeat_at": now,
    }
    with transaction.atomic():
        # The attempt count needs no disk flush of its own: after a database crash a job at
        # worst gets one attempt more. The merge below commits durably as usual.
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        claimed = IngestJob.objects.filter(
            pk=job.pk, attempts=job.attempts, state=job.state
        ).update(**claim)
    if not claimed:
        return job  # another worker took it
    for name, value in claim.items():
        setattr(job, name, value)
    log.info("job stage", extra=job_log_fields(job, stage=job.state))
    beating = JobHeartbeat(job.pk) if heartbeat else None
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
        # The driver's message names hosts and ports: it stays in the log.
        ingest_job_retry_or_fail(
            job=job, error=f"database busy ({exc.__class__.__name__})", retry=retry
        )
    except IngestError as exc:
        ingest_job_fail(job=job, error=str(exc))
    except SoftTimeLimitExceeded:
        limit = settings.CELERY_TASK_SOFT_TIME_LIMIT
        ingest_job_fail(job=job, error=f"took longer than the time limit ({limit} s)")
    except Exception as exc:
        # A bug: logged with its traceback, and the job never left "running".
        log.exception("job %s failed", job.pk, extra=job_log_fields(job, stage="error"))
        # The exception's own text can name hosts, paths or queries: it stays in the log.
        ingest_job_fail(
            job=job,
            error=f"internal error ({exc.__class__.__name__}): "
            f"logged for the administrators as job {job.pk}",
        )
    finally:
        if beating is not None:
            beating.stop()
    return job


def ingest_job_is_stale(job: IngestJob, *, now: dt.datetime | None = None) -> bool:
    """A running job whose worker stopped writing its heartbeat."""
    last = job.heartbeat_at or job.started_at
    limit = dt.timedelta(seconds=settings.TRACKER_JOB_STALE_SECONDS)
    return last is None or last < (now or timezone.now()) - limit


def job_log_fields(job: IngestJob, *, stage: str) -> dict:
    """What a structured log line says about a job (see config/logs.py)."""
    return {
        "job_id": job.pk,
        "source_id": job.source_id,
        "stage": stage,
        "attempt": job.attempts,
    }


class JobHeartbeat:
    """Writes a running job's heartbeat_at every TRACKER_JOB_HEARTBEAT_SECONDS until stopped.

    Its own thread and so its own database connection, closed when it stops. Only while the
    job is still running: a heartbeat never brings a finished job back to life.
    """

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.beat, name=f"heartbeat-{job_id}", daemon=True)
        self.thread.start()

    def beat(self) -> None:
        from django.db import connection as thread_connection

        try:
            while not self.stopped.wait(settings.TRACKER_JOB_HEARTBEAT_SECONDS):
                try:
                    IngestJob.objects.filter(
                        pk=self.job_id,
                        state__in=[IngestJob.State.FETCHING, IngestJob.State.EXTRACTING],
                    ).update(heartbeat_at=timezone.now())
                except Exception as exc:  # the database may be away for a moment
                    log.warning("job %s: heartbeat not written: %s", self.job_id, exc)
        finally:
            thread_connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=10)


def ingest_job_retry_or_fail(*, job: IngestJob, error: str, retry: bool) -> None:
    if not retry or job.attempts >= IngestJob.MAX_ATTEMPTS:
        suffix = f" after {job.attempts} attempts" if retry else ""
        ingest_job_fail(job=job, error=f"{error}{suffix}")
        return
    delay = retry_delay(job.attempts)
    # queued_at restarts so the stale sweep, which waits longer than any backoff, leaves a
    # job alone while its task waits out the delay. Only this attempt is put back: a job
    # that meanwhile failed, finished or was taken again keeps what it has.
    requeued = IngestJob.objects.filter(
        pk=job.pk, attempts=job.attempts, state__in=[job.state]
    ).update(
        state=IngestJob.State.QUEUED,
        error=f"attempt {job.attempts} failed, retrying in {delay:.0f}s: {error}"[:2000],
        queued_at=timezone.now(),
    )
    if requeued:
        raise IngestRetry(error, delay=delay)


def ingest_job_stages(*, job: IngestJob, needs_fetch: bool) -> None:
    timings = dict(job.timings or {})
    if needs_fetch:
        started = time.monotonic()
        article = url_read(url=job.url)
        published_on = job.published_on or published_on_from_page(
            article.published_on, warnings=article.warnings
        )
        source, created = source_get_or_create(
            text=article.text,
            origin=Source.Origin.FEED if job.feed_id else Source.Origin.URL,
            title=article.title,
            url=job.url,
            publisher=article.publisher,
            published_on=published_on,
        )
        timings["fetch_ms"] = elapsed_ms(started)
        job.source = source
        job.state = IngestJob.State.EXTRACTING
        job.timings = timings
        job.warnings = list(job.warnings) + article.warnings
        job.save(update_fields=["source", "state", "timings", "warnings"])
        log.info("job stage", extra=job_log_fields(job, stage=job.state))
        if not created and source_was_merged(source, excluding=job):
            ingest_job_finish(job=job, changes={"unchanged": True})
            return
    if job.source is None and job.upload_html:
        started = time.monotonic()
        source, created = upload_read(job=job)
        timings["parse_ms"] = elapsed_ms(started)
        if not created and source_was_merged(source, excluding=job):
            job.timings = timings
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
    except OverflowError:
        raise IngestError("a date in the text is too far from today to read") from None
    timings["extract_ms"] = elapsed_ms(started)
    ignored = result_bound_dates(result)
    if ignored:
        job.warnings = list(job.warnings) + ignored
        job.save(update_fields=["warnings"])
    started = time.monotonic()
    with transaction.atomic():
        # Jobs for one source (the same URL submitted many times at once) merge one at a
        # time, and all but the first find it merged: nothing is counted twice.
        Source.objects.select_for_update().filter(pk=source.pk).first()
        if source_was_merged(source, excluding=job):
            ingest_job_finish(job=job, changes={"unchanged": True})
            return
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
    log.info("job stage", extra=job_log_fields(job, stage=job.state))


def ingest_job_fail(*, job: IngestJob, error: str) -> None:
    job.state = IngestJob.State.FAILED
    job.error = error[:2000]
    job.finished_at = timezone.now()
    job.save(update_fields=["state", "error", "finished_at"])
    log.info("job stage", extra={**job_log_fields(job, stage=job.state), "error": job.error})


def ingest_jobs_requeue_stale(*, now: dt.datetime | None = None) -> int:
    """Send again the jobs whose task was lost (broker down or wiped, worker killed).

    A running job is stale when its heartbeat is older than TRACKER_JOB_STALE_SECONDS: its
    worker died, and it goes back to queued and is sent again. A queued job is stale when it
    has waited longer than any retry backoff plus that margin: its message was lost. Each is
    claimed with a conditional UPDATE, so overlapping sweeps send a job once; a job sent
    twice anyway runs once (see ingest_job_run).
    """
    now = now or timezone.now()
    stale_after = dt.timedelta(seconds=settings.TRACKER_JOB_STALE_SECONDS)
    heartbeat_cutoff = now - stale_after
    queued_cutoff = now - stale_after - dt.timedelta(seconds=settings.TRACKER_RETRY_BACKOFF_MAX)
    running = [IngestJob.State.FETCHING, IngestJob.State.EXTRACTING]
    stale = IngestJob.objects.filter(
        state=IngestJob.State.QUEUED, queued_at__lt=queued_cutoff
    ) | IngestJob.objects.filter(state__in=running, heartbeat_at__lt=heartbeat_cutoff)
    # Jobs started before heartbeats existed are judged by when they started.
    stale |= IngestJob.objects.filter(
        state__in=running, heartbeat_at__isnull=True, started_at__lt=heartbeat_cutoff
    )
    count = 0
    for job in stale.only("pk", "state", "queued_at", "heartbeat_at"):
        if job.state == IngestJob.State.QUEUED:
            claim = IngestJob.objects.filter(pk=job.pk, state=job.state, queued_at=job.queued_at)
        else:
            claim = IngestJob.objects.filter(
                pk=job.pk, state=job.state, heartbeat_at=job.heartbeat_at
            )
        with transaction.atomic():
            if claim.update(state=IngestJob.State.QUEUED, queued_at=now):
                log.info(
                    "job stage",
                    extra={"job_id": job.pk, "stage": "requeued", "was": job.state},
                )
                ingest_job_enqueue(job)
                count += 1
    return count


def ingest_jobs_retry(*, job_ids: list[int]) -> int:
    """A person asks for failed jobs to run again (after fixing a feed or a site came back):
    their attempts start over."""
    count = 0
    with transaction.atomic():
        for job in IngestJob.objects.select_for_update().filter(
            pk__in=job_ids, state=IngestJob.State.FAILED
        ):
            job.state, job.attempts, job.error = IngestJob.State.QUEUED, 0, ""
            job.queued_at, job.started_at, job.finished_at = timezone.now(), None, None
            job.save(
                update_fields=[
                    "state",
                    "attempts",
                    "error",
                    "queued_at",
                    "started_at",
                    "finished_at",
                ]
            )
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
    2. Parse it safely; of the entries whose URL is not yet known, the newest
       TRACKER_FEED_MAX_ENTRIES_PER_POLL become queued IngestJobs, in one short transaction.
    3. Record when it was polled and is due next, and any error (errors never raise: they
       wait on the feed for a person, and the next poll retries). When entries were left
       over, the feed is due again in a minute and its ETag and Last-Modified are not kept,
       so the next poll reads the whole feed again and queues the next batch.
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
    entries = feed_entries_new(parsed.entries if parsed else [])
    batch = entries[: settings.TRACKER_FEED_MAX_ENTRIES_PER_POLL]
    left_over = len(entries) - len(batch)
    with transaction.atomic():
        for canonical, entry in batch:
            warnings: list[str] = []
            job = IngestJob.objects.create(
                kind=IngestJob.Kind.FEED_ENTRY,
                label=entry.url[:2000],
                url=canonical,
                feed=feed,
                published_on=published_on_from_page(entry.published_on, warnings=warnings),
                warnings=warnings,
            )
            ingest_job_enqueue(job)
        update = {"last_polled_at": now, "next_poll_at": next_poll, "last_error": ""}
        if left_over:
            update["next_poll_at"] = now + dt.timedelta(minutes=1)
            update["etag"] = update["last_modified"] = ""
        elif fetched.status != 304:
            update["etag"] = fetched.etag
            update["last_modified"] = fetched.last_modified
        if parsed and parsed.title and not feed.title:
            update["title"] = parsed.title
        Feed.objects.filter(pk=feed.pk).update(**update)
    if left_over:
        log.info("feed %s: %s new entries left for the next poll", feed.pk, left_over)
    return len(batch)


def feed_entries_new(
    entries: list[fetching.FeedEntry],
) -> list[tuple[str, fetching.FeedEntry]]:
    """(canonical URL, entry) for entries not yet known as a source or a job, newest first.

    Known URLs are looked up in chunks, not one query per entry: a feed may list thousands.
    Entries without a date keep their place after the dated ones (feeds list newest first).
    """
    candidates: dict[str, fetching.FeedEntry] = {}
    for entry in entries:
        try:
            canonical = fetching.url_canonical(entry.url)
        except fetching.FetchError:
            continue  # a javascript: or ftp: link in a feed is not an article
        candidates.setdefault(canonical, entry)
    urls = list(candidates)
    known: set[str] = set()
    for start in range(0, len(urls), 500):
        chunk = urls[start : start + 500]
        known.update(Source.objects.filter(url__in=chunk).values_list("url", flat=True))
        known.update(IngestJob.objects.filter(url__in=chunk).values_list("url", flat=True))
    fresh = [(url, entry) for url, entry in candidates.items() if url not in known]
    # Stable sort: undated entries (date.min) go last in their original order.
    fresh.sort(key=lambda item: item[1].published_on or dt.date.min, reverse=True)
    return fresh


def feeds_poll_now(*, feed_ids: list[int]) -> tuple[int, list[str]]:
    """Queue a poll of each feed now (a person asked); (number queued, problems)."""
    from tracker.tasks import feed_poll_task

    queued, problems = 0, []
    for feed_id in feed_ids:
        try:
            feed_poll_task.apply_async(args=[feed_id])
        except Exception as exc:  # kombu/redis raise a variety of connection errors
            problems.append(f"the task queue is unreachable, feed {feed_id} not polled: {exc}")
            continue
        queued += 1
    return queued, problems


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
