import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tracker import services
from tracker.models import IngestJob, Source

TEXT_SUFFIXES = {".txt", ".md", ".text"}


def parse_published(raw: str | None) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise CommandError(f"--published {raw}: not a date (use YYYY-MM-DD)") from None


def expand_paths(raw_paths: list[str]) -> tuple[list[Path], list[str]]:
    """Files to read, and one problem line per path that gives none."""
    files: list[Path] = []
    problems: list[str] = []
    for raw in raw_paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in TEXT_SUFFIXES)
            if not found:
                problems.append(f"{raw}: directory holds no text files (.txt, .md)")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(f"{raw}: no such file or directory")
    return files, problems


class Command(BaseCommand):
    help = "Store article files as sources and queue their extraction and merging."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="text files or folders of them")
        parser.add_argument("--published", help="publication date of the articles, YYYY-MM-DD")
        parser.add_argument("--origin", default=Source.Origin.UPLOAD, choices=Source.Origin.values)

    def handle(self, *args, **options):
        published = parse_published(options["published"])
        files, problems = expand_paths(options["paths"])
        ingested = unchanged = 0
        for path in files:
            try:
                text, replaced = services.decode_text(path.read_bytes(), name=str(path))
                if not text.strip():
                    raise services.IngestError(f"{path}: the file is empty")
                source, job = services.source_submit_text(
                    text=text,
                    origin=options["origin"],
                    label=path.name,
                    title=path.stem.replace("_", " "),
                    published_on=published,
                )
            except (OSError, services.IngestError) as exc:
                problems.append(str(exc) if str(path) in str(exc) else f"{path}: {exc}")
                continue
            if replaced:
                self.stderr.write(f"{path}: invalid UTF-8 bytes were replaced")
            if job is None:
                unchanged += 1
                self.stdout.write(f"{path}: unchanged (source {source.pk})")
                continue
            job.refresh_from_db()
            ingested += 1
            state = job.get_state_display()
            self.stdout.write(f"{path}: source {source.pk}, job {job.pk} {state}")
            if job.state == IngestJob.State.FAILED:
                problems.append(f"{path}: {job.error}")
        for problem in problems:
            self.stderr.write(problem)
        self.stdout.write(f"{ingested} ingested, {unchanged} unchanged, {len(problems)} failed")
        if problems:
            raise CommandError(f"{len(problems)} path(s) failed", returncode=1)
