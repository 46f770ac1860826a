from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_account_email_task(subject: str, body: str, html: str, to: list[str], headers: dict | None = None) -> None:
    """Account and security e-mails (verification, password reset): rendered in the request, sent here."""
    message = EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, to, headers=headers or {})
    if html:
        message.attach_alternative(html, "text/html")
    message.send()


# --- Notifications (issue 5, items 5-6) ------------------------------------------------------------------------
@shared_task
def notification_email_task(notification_id: int) -> str:
    """E-mail one immediate notification, within the member's hourly cap; safe to run twice."""
    from members.notifications import notification_email_send

    return notification_email_send(notification_id=notification_id)


@shared_task
def event_reminders_task() -> int:
    """Every 15 minutes: reminders for events starting in about 24 hours, once per member and event."""
    from members.notifications import event_reminders_send

    return event_reminders_send()


# --- Digests (issue 5, items 7-9) --------------------------------------------------------------------------------
@shared_task
def digests_send_due_task(now: str | None = None) -> dict:
    """Hourly (beat): send the digests due now. Safe to run twice, or twice at once (members.services_digests).

    ``now``: an ISO 8601 instant to run for instead of the clock (tests, catching up by hand).
    """
    from datetime import datetime

    from members.services_digests import digests_run

    report = digests_run(now=datetime.fromisoformat(now) if now else None)
    return {"period_end": report.period_end.isoformat(), "counts": report.counts, "uncertain": report.uncertain}


# --- Members' downloads of their own data (issue 8, item 5) ------------------------------------------------------
@shared_task
def data_export_build_task(export_id: int) -> str:
    """Build one member's data archive (``members.exports``); safe to run twice."""
    from members.exports import data_export_build

    return data_export_build(export_id=export_id)


@shared_task
def data_exports_purge_task() -> int:
    """Hourly (beat): delete the files of data exports past their seven days, and of abandoned ones."""
    from members.exports import data_exports_purge

    return data_exports_purge()
