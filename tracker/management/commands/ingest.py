"""`manage.py ingest PATH|URL…`: files, folders and URLs become sources and ingest jobs.

Each job goes to Celery. With a broker (REDIS_URL) the workers read them and the summary
counts them as queued; on the embedded default, or with --in-process, they are read and
merged here, so the summary is the outcome: "N ingested, N queued, N unchanged, N failed",
each failure with its reason, exit status 1 if any failed. A bad item never stops the rest.
"""

import datetime as dt
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from config.celery import app as celery_app
from tracker import services
from tracker.models import IngestJob, Source


def parse_published(raw: str | None) -> dt.date | None:
    if not raw:
        return None
    try:
        published = dt.date.fromisoformat(raw)
    except ValueError:
        raise CommandError(f"--published {raw}: not a date (use YYYY-MM-DD)") from None
    try:
        services.published_on_check(published)
    except services.IngestError as exc:
        raise CommandError(f"--{exc}") from None
    return published


def is_url(raw: str) -> bool:
    return "://" in raw or raw.lower().startswith(("http:", "https:"))


def expand(raw_items: list[str]) -> tuple[list[str | Path], list[str]]:
    """URLs and files to read, and one problem line per item that gives none."""
    items: list[str | Path] = []
    problems: list[str] = []
    for raw in raw_items:
        path = Path(raw)
        if is_url(raw):
            items.append(raw)
        elif path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in services.UPLOAD_SUFFIXES
            )
            if not found:
                problems.append(f"{raw}: directory holds no text files (.txt, .md, .html)")
            items.extend(found)
        elif path.is_file():
            items.append(path)
        else:
            problems.append(f"{raw}: no such file or directory")
    return items, problems


def broker_problem() -> str:
    """Why the task queue cannot be reached, or "" when it answers."""
    try:
        with celery_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=0)
    except Exception as exc:  # kombu and redis raise several kinds of connection errors
        return str(exc) or exc.__class__.__name__
    return ""


class Command(BaseCommand):
    help = "Read article files, folders of them, and URLs into sources, and merge their facts."

    def add_arguments(self, parser):
        parser.add_argument("items", nargs="+", metavar="PATH|URL", help="files, folders, URLs")
        parser.add_argument("--published", help="publication date of the articles, YYYY-MM-DD")
        parser.add_argument("--origin", default=Source.Origin.UPLOAD, choices=Source.Origin.values)
        parser.add_argument(
            "--in-process",
            action="store_true",
            help="read and merge here instead of queueing for the workers",
        )

    def handle(self, *args, **options):
        published = parse_published(options["published"])
        items, problems = expand(options["items"])
        ingested = queued = unchanged = 0
        # Without a broker Celery runs tasks in-process anyway; say so explicitly here.
        in_process = (
            options["in_process"]
            or settings.TRACKER_TASKS_IN_PROCESS
            or celery_app.conf.task_always_eager
        )
        if not in_process:
            # Saying "queued for the workers" when no worker can hear it would be a lie.
            problem = broker_problem()
            if problem:
                raise CommandError(
                    f"the task queue is unreachable ({problem}): nothing was queued. "
                    "Start Redis, or read the items here with --in-process.",
                    returncode=2,
                )
        # The bar goes to stderr and hides itself when stderr is not a terminal.
        bar = tqdm(items, file=sys.stderr, unit="item", disable=None, leave=False)
        for item in bar:
            outcome, message = self.ingest_one(item, published, options["origin"], in_process)
            with tqdm.external_write_mode(file=sys.stderr):
                if outcome == "failed":
                    problems.append(message)
                else:
                    self.stdout.write(message)
            if outcome == "ingested":
                ingested += 1
            elif outcome == "unchanged":
                unchanged += 1
            elif outcome == "queued":
                queued += 1
        bar.close()
        for problem in problems:
            self.stderr.write(problem)
        counts = [f"{ingested} ingested"]
        if not in_process:
            counts.append(f"{queued} queued")
        counts += [f"{unchanged} unchanged", f"{len(problems)} failed"]
        self.stdout.write(", ".join(counts))
        if problems:
            raise CommandError(f"{len(problems)} item(s) failed", returncode=1)

    def ingest_one(
        self, item: str | Path, published: dt.date | None, origin: str, in_process: bool
    ):
        """(outcome, line): outcome is "ingested", "queued", "unchanged" or "failed"."""
        try:
            if isinstance(item, Path):
                source, job = services.source_submit_upload(
                    name=str(item),
                    data=item.read_bytes(),
                    published_on=published,
                    origin=origin,
                    enqueue=not in_process,
                )
            else:
                job = services.source_submit_url(
                    url=item, published_on=published, enqueue=not in_process
                )
        except (OSError, services.IngestError) as exc:
            message = str(exc)
            return "failed", message if str(item) in message else f"{item}: {message}"
        if job is None:
            return "unchanged", f"{item}: unchanged (source {source.pk})"
        if not in_process:
            job.refresh_from_db()
            if not job.task_id and not job.is_finished:
                # The broker went away after the check: the job waits in the database.
                return "failed", f"{item}: job {job.pk} saved but not queued ({job.error})"
            if not job.is_finished:
                return "queued", f"{item}: job {job.pk} queued for the workers"
        elif not job.is_finished:
            from config import runner
            from tracker.tasks import source_ingest_task

            if celery_app.conf.task_always_eager:
                services.ingest_job_run(job_id=job.pk, retry=False)
            else:
                # The runner's thread, under the task time limits, as a worker would.
                runner.submit(source_ingest_task, [job.pk], None, None).result()
        job.refresh_from_db()
        notes = "".join(f" ({warning})" for warning in job.warnings)
        if job.state == IngestJob.State.FAILED:
            return "failed", f"{item}: {job.error}"
        if job.changes.get("unchanged"):
            return "unchanged", f"{item}: unchanged (source {job.source_id})"
        if job.state != IngestJob.State.MERGED:
            return "failed", f"{item}: left {job.state} (another process is reading it)"
        return "ingested", f"{item}: source {job.source_id}, job {job.pk} merged{notes}"
