"""``python manage.py send_event_reminders``: event reminders, run in this process (no Celery, no beat).

The embedded default has no beat, so a cron line runs the job instead, every 15 minutes::

    */15 * * * *  cd /srv/copapp && .venv/bin/python manage.py send_event_reminders

It is the job the beat task runs (``members.notifications.event_reminders_send``): each member gets one reminder
per event however often either runs.
"""

from django.core.management.base import BaseCommand

from members.notifications import event_reminders_send


class Command(BaseCommand):
    help = "Remind people registered for events that start in about 24 hours (once per member and event)."

    def handle(self, *args, **options):
        count = event_reminders_send()
        self.stdout.write(f"Event reminders created: {count}.")
