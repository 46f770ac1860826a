"""``python manage.py rollup_analytics``: one incremental roll-up pass, run in this process (no Celery, no beat).

The embedded default has no beat, so a cron line runs the job instead, every 5 minutes::

    */5 * * * *  cd /srv/copapp && .venv/bin/python manage.py rollup_analytics

It is the job the beat task runs (``analytics.tasks.rollup_task``): an event is never counted twice however
often either runs.
"""

from django.core.management.base import BaseCommand

from analytics.rollup import rollup_new_events


class Command(BaseCommand):
    help = "Count the activity events recorded since the last run into the analytics roll-ups."

    def handle(self, *args, **options):
        counted = rollup_new_events()
        self.stdout.write(f"Activity events rolled up: {counted}.")
