import datetime as dt
import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tracker import services
from tracker.models import Source

SEEDS_DIR = Path(settings.BASE_DIR) / "seeds"


class Command(BaseCommand):
    help = "Load the seed articles in seeds/ (once; loading again changes nothing)."

    def handle(self, *args, **options):
        try:
            manifest = json.loads((SEEDS_DIR / "manifest.json").read_text())
        except (OSError, ValueError) as exc:
            raise CommandError(f"seeds/manifest.json: {exc}") from None
        for entry in manifest:
            path = SEEDS_DIR / entry["file"]
            source, job = services.source_submit_text(
                text=path.read_text(encoding="utf-8"),
                origin=Source.Origin.SEED,
                label=entry["file"],
                title=entry["title"],
                url=entry.get("url", ""),
                publisher=entry.get("publisher", ""),
                published_on=dt.date.fromisoformat(entry["published_on"])
                if entry.get("published_on")
                else None,
                # Read here, not by a worker: a new user sees the records at once.
                enqueue=False,
            )
            if job is not None:
                job = services.ingest_job_run(job_id=job.pk, retry=False)
            state = "unchanged" if job is None else job.state
            self.stdout.write(f"{entry['file']}: {state}")
