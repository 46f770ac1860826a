"""Flags, the moderators' review queue and the moderation audit log (issue 5).

A flag points at any target through a generic relation (an item in a space, a paper, a profile, later a
direct message). For content in a space ``item`` and ``space`` are set too, so the queue, the weights and the
automatic hiding are plain queries on indexed columns. The audit log is append-only: no service edits it and
the admin shows it read-only.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from .items import Item
from .space import Space


class FlagReason(models.TextChoices):
    SPAM = "spam", _("Spam")
    OFF_TOPIC = "off_topic", _("Off-topic")
    ABUSIVE = "abusive", _("Abusive or disrespectful")
    MISLEADING = "misleading", _("Misleading or wrong")
    OTHER = "other", _("Something else")


class FlagStatus(models.TextChoices):
    OPEN = "open", _("Waiting for review")
    UPHELD = "upheld", _("Upheld")
    DISMISSED = "dismissed", _("Dismissed")


class Flag(models.Model):
    target_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, related_name="+", verbose_name=_("target type")
    )
    target_id = models.PositiveBigIntegerField(_("target ID"))
    target = GenericForeignKey("target_type", "target_id")
    item = models.ForeignKey(
        Item, null=True, blank=True, on_delete=models.CASCADE, related_name="flags", verbose_name=_("item")
    )
    space = models.ForeignKey(
        Space, null=True, blank=True, on_delete=models.CASCADE, related_name="flags", verbose_name=_("space")
    )
    community = models.ForeignKey(
        "communities.Community",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="flags",
        verbose_name=_("community"),
    )
    flagger = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="flags_raised",
        verbose_name=_("flagged by"),
    )
    target_author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="flags_received",
        verbose_name=_("author of the content"),
    )
    reason = models.CharField(_("reason"), max_length=12, choices=FlagReason.choices)
    note = models.TextField(_("note"), max_length=1000, blank=True)
    weight = models.DecimalField(_("weight"), max_digits=3, decimal_places=1, default=1)
    status = models.CharField(_("status"), max_length=10, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("resolved by"),
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["flagger", "target_type", "target_id"],
                condition=models.Q(status="open"),
                name="one_open_flag_per_member_and_target",
            )
        ]
        indexes = [
            models.Index(fields=["target_type", "target_id", "status"]),
            models.Index(fields=["space", "status"]),
            models.Index(fields=["community", "status"]),
            models.Index(fields=["flagger", "status"]),
        ]
        verbose_name = _("flag")
        verbose_name_plural = _("flags")

    def __str__(self) -> str:
        return f"{self.reason} flag on {self.target_type_id}:{self.target_id}"


class ModerationAction(models.TextChoices):
    DISMISS = "dismiss", _("Dismissed the flags")
    HIDE = "hide", _("Hid the content")
    AUTO_HIDE = "auto_hide", _("Hid the content automatically, pending review")
    UNHIDE = "unhide", _("Showed the content again")
    EDIT = "edit", _("Edited the content")
    WARN = "warn", _("Warned the author")
    REMOVE = "remove", _("Removed the content")
    REMOVE_MEMBER = "remove_member", _("Removed the author from the space")
    BAN_SPACE = "ban_space", _("Banned the author from the space")
    BAN_COMMUNITY = "ban_community", _("Banned the author from the community")
    UNBAN = "unban", _("Lifted a ban")


class ModerationLogEntry(models.Model):
    """One moderator action, never edited: who did what to what, why, and the state before and after."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Empty for automatic actions (content hidden by the weight of its flags)."),
        verbose_name=_("done by"),
    )
    action = models.CharField(_("moderation action"), max_length=16, choices=ModerationAction.choices)
    target_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("target type")
    )
    target_id = models.PositiveBigIntegerField(_("target ID"), null=True, blank=True)
    target_label = models.CharField(_("target label"), max_length=300, blank=True)
    space = models.ForeignKey(
        Space, null=True, blank=True, on_delete=models.SET_NULL, related_name="moderation_log", verbose_name=_("space")
    )
    community = models.ForeignKey(
        "communities.Community",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderation_log",
        verbose_name=_("community"),
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The member the action concerns (the content's author)."),
        verbose_name=_("member concerned"),
    )
    reason = models.TextField(_("reason"), blank=True)
    before = models.JSONField(_("state before"), default=dict, blank=True)
    after = models.JSONField(_("state after"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["space", "-created_at"]), models.Index(fields=["community", "-created_at"])]
        verbose_name_plural = _("moderation log entries")
        verbose_name = _("moderation log entry")

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_id} at {self.created_at:%Y-%m-%d %H:%M}"
