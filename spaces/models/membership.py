"""Who belongs to a space, who asked to, who was invited, and who was banned."""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .space import Space, SpaceRole


class SpaceMembership(models.Model):
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("space"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="space_memberships", verbose_name=_("member")
    )
    role = models.PositiveSmallIntegerField(_("role"), choices=SpaceRole.choices, default=SpaceRole.VIEWER)
    joined_at = models.DateTimeField(_("joined"), auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["space", "user"], name="one_membership_per_space")]
        indexes = [models.Index(fields=["user", "space"]), models.Index(fields=["space", "role", "joined_at"])]
        ordering = ["-role", "joined_at"]
        verbose_name = _("space membership")
        verbose_name_plural = _("space memberships")

    def __str__(self) -> str:
        return f"{self.user_id} in {self.space_id} ({self.get_role_display()})"


class SpaceBan(models.Model):
    """A ban: the person loses every role in the space at once and cannot rejoin, request or accept invites."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="bans", verbose_name=_("space"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="space_bans", verbose_name=_("member")
    )
    banned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("banned by")
    )
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["space", "user"], name="one_ban_per_space")]
        verbose_name = _("space ban")
        verbose_name_plural = _("space bans")

    def __str__(self) -> str:
        return f"{self.user_id} banned from {self.space_id}"


class JoinRequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class JoinRequest(models.Model):
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="join_requests", verbose_name=_("space"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="join_requests", verbose_name=_("member")
    )
    message = models.TextField(_("message to the moderators"), max_length=2000, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=JoinRequestStatus.choices, default=JoinRequestStatus.PENDING
    )
    response_message = models.TextField(_("message to the requester"), max_length=2000, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["space", "user"],
                condition=models.Q(status="pending"),
                name="one_pending_request_per_space",
            )
        ]
        verbose_name = _("join request")
        verbose_name_plural = _("join requests")

    def __str__(self) -> str:
        return f"{self.user_id} asks to join {self.space_id} ({self.status})"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")


def new_invitation_token() -> str:
    return secrets.token_urlsafe(32)


class Invitation(models.Model):
    """An invitation by e-mail address or to an existing member, with the role chosen when inviting."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("space"))
    email = models.EmailField(_("e-mail address"))
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("invited member"),
    )
    role = models.PositiveSmallIntegerField(_("role"), choices=SpaceRole.choices, default=SpaceRole.VIEWER)
    message = models.TextField(_("message"), max_length=2000, blank=True)
    token = models.CharField(_("token"), max_length=64, unique=True, default=new_invitation_token, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("invited by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("accepted by"),
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["email", "status"])]
        verbose_name = _("invitation to a space")
        verbose_name_plural = _("invitations to spaces")

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.space_id}"


class SpaceVisit(models.Model):
    """When the member last opened a space, so its stream can mark what is new since then."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="space_visits", verbose_name=_("member")
    )
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="visits", verbose_name=_("space"))
    last_visit_at = models.DateTimeField(_("last visit"))
    previous_visit_at = models.DateTimeField(_("previous visit"), null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "space"], name="one_visit_row_per_space")]
        verbose_name = _("space visit")
        verbose_name_plural = _("space visits")

    def __str__(self) -> str:
        return f"{self.user_id} visited {self.space_id}"
