"""Send the webhook attempts that are due (issue 8). Beat does this every minute (``webhooks-retry``); on the
embedded default, with eager Celery and no beat, run it from cron every minute. Safe to run any number of times.

python manage.py retry_webhooks
"""

from django.core.management.base import BaseCommand

from spaces.services.webhooks import webhook_deliveries_retry_due


class Command(BaseCommand):
    help = "Make the webhook delivery attempts that are due."

    def handle(self, *args, **options) -> None:
        ids = webhook_deliveries_retry_due()
        self.stdout.write(f"{len(ids)} webhook deliveries attempted.")
