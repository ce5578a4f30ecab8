"""`manage.py poll_feeds [--all]`: poll the due feeds (or all active ones) in this process.

For deployments without Celery beat, or to check a feed by hand; new entries are queued
as ingest jobs like any other.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tracker import services
from tracker.models import Feed


class Command(BaseCommand):
    help = "Poll RSS/Atom feeds that are due (or --all active ones) and queue their new entries."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="poll every active feed now")

    def handle(self, *args, **options):
        feeds = Feed.objects.filter(active=True)
        if not options["all"]:
            feeds = feeds.filter(next_poll_at__lte=timezone.now())
        failed = 0
        for feed in feeds:
            queued = services.feed_poll(feed_id=feed.pk)
            feed.refresh_from_db(fields=["last_error"])
            if feed.last_error:
                failed += 1
                self.stderr.write(f"{feed.url}: {feed.last_error}")
            else:
                self.stdout.write(f"{feed.url}: {queued} new entries queued")
        if failed:
            raise CommandError(f"{failed} feed(s) failed", returncode=1)
