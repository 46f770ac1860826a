"""``python manage.py send_digests``: the hourly digest job, run in this process (no Celery, no Redis).

The embedded default has no broker and no beat, so a cron line runs the job instead, e.g. at every full hour::

    0 * * * *  cd /srv/copapp && .venv/bin/python manage.py send_digests

It is the very job the beat task runs (``members.services_digests.digests_run``), with the same outbox, so a
cron run and a Celery run at the same time still send each member one digest.
"""

from datetime import UTC, datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from members import digests
from members.models import DigestStatus
from members.services_digests import digests_run


class Command(BaseCommand):
    help = "Send the digests due now (daily and weekly, at each member's local hour)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            help="Run as if it were this instant (ISO 8601, e.g. 2025-03-03T08:00:00+00:00); default: the clock.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Show who would get what; send and record nothing.")
        parser.add_argument("--batch-size", type=int, default=None, help="Members per batch (DIGEST_BATCH_SIZE).")

    def handle(self, *args, now=None, dry_run=False, batch_size=None, **options):
        moment = self._parse(now) if now else timezone.now()
        if dry_run:
            return self._dry_run(moment, batch_size or settings.DIGEST_BATCH_SIZE)
        report = digests_run(now=moment, batch_size=batch_size)
        counts = ", ".join(f"{status}: {n}" for status, n in sorted(report.counts.items())) or "nothing to send"
        self.stdout.write(f"Digests up to {report.period_end:%Y-%m-%d %H:%M} UTC: {counts}.")
        if report.uncertain:
            self.stderr.write(
                self.style.WARNING(
                    f"{len(report.uncertain)} digest(s) left 'sending' by a stopped run are now 'uncertain' "
                    f"(not resent): records {report.uncertain}"
                )
            )
        if report.stopped:
            raise CommandError(f"Stopped early: {report.stopped}. Unsent digests stay pending for the next run.")

    def _dry_run(self, moment: datetime, batch_size: int) -> None:
        results = digests.dry_run(moment, batch_size)
        self.stdout.write(f"Dry run for {digests.period_end_for(moment):%Y-%m-%d %H:%M} UTC: {len(results)} digest(s).")
        labels = {DigestStatus.SENDING: "would send"}
        for member, job, digest in results:
            outcome = digests.outcome_of(digest)
            label = labels.get(outcome, outcome)
            self.stdout.write(f"  {member.email}: {job.frequency}, {label}, {digest.item_count} item(s)")

    @staticmethod
    def _parse(value: str) -> datetime:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError as exc:
            raise CommandError(f"--now: not an ISO 8601 date and time: {value!r}") from exc
        return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)
