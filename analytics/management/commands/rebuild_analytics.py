"""``python manage.py rebuild_analytics``: recompute every analytics roll-up from the activity log.

For a historical import, after changing a community's time zone, or to check the incremental roll-up: it gives
the same rows the incremental path does on the same log. Days whose raw events were purged keep their
roll-ups. Runs in one transaction: the dashboards show the old figures until it finishes.
"""

import sys

from django.core.management.base import BaseCommand
from tqdm import tqdm

from analytics.models import ActivityBucket, ActivityEvent, MemberDay, MemberMonth
from analytics.rollup import rebuild


class Command(BaseCommand):
    help = "Recompute every analytics roll-up (member days and months, activity buckets) from the activity log."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=5000, help="Events read per batch (default 5000).")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (for logs and cron).")

    def handle(self, *args, batch_size: int, no_progress: bool, **options):
        with tqdm(total=0, unit=" events", file=sys.stderr, disable=no_progress, dynamic_ncols=True) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            rebuild(progress=progress, batch_size=batch_size)
        self.stdout.write(
            f"Rebuilt the analytics roll-ups from {ActivityEvent.objects.count()} activity events: "
            f"{MemberDay.objects.count()} member days, {MemberMonth.objects.count()} member months, "
            f"{ActivityBucket.objects.count()} activity buckets."
        )
