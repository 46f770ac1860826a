"""Thin Celery tasks: fetch by id, call a service or send an e-mail. Each is safe to run twice."""

from celery import shared_task
from django.urls import reverse

from copapp.emails import send_templated_email
from members.language import language_for_email, language_of
from spaces import services
from spaces.models import Invitation, InvitationStatus, JoinRequest
from spaces.services import posts as post_services


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def invitation_email_task(invitation_id: int) -> None:
    invitation = Invitation.objects.select_related("space__community", "invited_by").filter(pk=invitation_id).first()
    if invitation is None or invitation.status != InvitationStatus.PENDING:
        return
    send_templated_email(
        "invitation",
        [invitation.email],
        {
            "invitation": invitation,
            "space": invitation.space,
            "accept_path": reverse("spaces:invitation", kwargs={"token": invitation.token}),
        },
        # The invitee's language if they have an account, else the inviter's (likely a colleague's).
        language=language_for_email(invitation.email, fallback=language_of(invitation.invited_by)),
    )


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def join_request_decided_email_task(join_request_id: int) -> None:
    join_request = JoinRequest.objects.select_related("space__community", "user").filter(pk=join_request_id).first()
    if join_request is None:
        return
    send_templated_email(
        "join_request_decided",
        [join_request.user.email],
        {
            "join_request": join_request,
            "space": join_request.space,
            "approved": join_request.status == "approved",
        },
        language=language_of(join_request.user),
    )


@shared_task
def invitations_expire_task() -> int:
    return services.invitations_expire()


@shared_task
def trash_purge_task() -> int:
    """Daily: delete for good what has been in the trash longer than TRASH_RETENTION_DAYS."""
    return services.trash_purge()


@shared_task
def posts_publish_due_task() -> int:
    """Every minute: scheduled posts whose time has come go out (see ``posts_publish_due``)."""
    return post_services.posts_publish_due()


@shared_task
def file_text_extract_task(asset_id: int) -> bool:
    """After an upload (on commit): read the text inside the file's current version so search finds it."""
    from spaces.search_index import file_text_extract

    return file_text_extract(asset_id)


# --- Outgoing webhooks (issue 8, item 3) ------------------------------------------------------------------------
@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def webhooks_dispatch_task(event: str, target_type: str, target_id: int, space_id: int, source_event_id: int) -> int:
    """After an item was created or changed: one delivery per webhook of its space (none twice for one event)."""
    from spaces.services import webhooks as webhook_services

    ids = webhook_services.webhooks_dispatch(
        event=event, target_type=target_type, target_id=target_id, space_id=space_id, source_event_id=source_event_id
    )
    return len(ids)


@shared_task(bind=True, acks_late=True, max_retries=None)
def webhook_deliver_task(self, delivery_id: int) -> int | None:
    """One attempt of a delivery; after a failure the next one is scheduled with exponential back-off.

    The service counts the attempts and stops after the last one (``MAX_ATTEMPTS``). Under eager Celery (tests,
    the embedded default) a retry would run at once, without waiting: the beat sweep
    (``webhook_deliveries_retry_task``) makes it when it is due instead."""
    from spaces.services import webhooks as webhook_services

    countdown = webhook_services.webhook_delivery_attempt(delivery_id=delivery_id)
    if countdown is not None and not self.request.is_eager:
        raise self.retry(countdown=countdown)
    return countdown


@shared_task
def webhook_deliveries_retry_task() -> int:
    """Every minute: attempts that are due but whose task was lost (or never waited, under eager Celery)."""
    from spaces.services import webhooks as webhook_services

    return len(webhook_services.webhook_deliveries_retry_due())


@shared_task
def search_words_collect_task() -> int:
    """Words of items written lately into the misspelling word list (a misspelled search collects them too)."""
    from spaces.search_index import search_words_collect

    return search_words_collect()
