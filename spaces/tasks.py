"""Thin Celery tasks: fetch by id, call a service or send an e-mail. Each is safe to run twice."""

from celery import shared_task
from django.urls import reverse

from copapp.emails import send_templated_email
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
