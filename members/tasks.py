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
