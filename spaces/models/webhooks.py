"""Outgoing webhooks of a space (issue 8, item 3) and the log of their deliveries.

A space's admins point a webhook at a URL; new and changed content that every member of the space may see is
posted there as JSON (or as a Slack-compatible message), signed with the webhook's secret. Every delivery is a
``WebhookDelivery`` row: the exact body sent (so retries send the same bytes), how many attempts it took and
what the receiver answered. Delivery itself is in ``spaces/webhooks.py`` (signing, address checks, HTTP) and
``spaces/services/webhooks.py`` (what is sent when, retries).
"""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .items import Item
from .space import Space


def new_webhook_secret() -> str:
    return secrets.token_hex(32)


class WebhookFormat(models.TextChoices):
    JSON = "json", _("JSON")
    SLACK = "slack", _("Slack-compatible message")


class WebhookEvent(models.TextChoices):
    ITEM_CREATED = "item.created", _("Item created")
    ITEM_CHANGED = "item.changed", _("Item changed")
    PING = "ping", _("Test")


class Webhook(models.Model):
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="webhooks", verbose_name=_("space"))
    name = models.CharField(_("name"), max_length=120, help_text=_("For you: where it goes, e.g. “Team chat”."))
    url = models.URLField(_("URL"), max_length=500, help_text=_("The address the content is posted to."))
    format = models.CharField(_("format"), max_length=10, choices=WebhookFormat.choices, default=WebhookFormat.JSON)
    is_active = models.BooleanField(_("active"), default=True)
    send_created = models.BooleanField(_("new items"), default=True)
    send_changed = models.BooleanField(_("changed items"), default=False)
    secret = models.CharField(_("signing secret"), max_length=64, default=new_webhook_secret, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["space", "is_active"])]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.name

    def sends(self, event: str) -> bool:
        if event == WebhookEvent.ITEM_CREATED:
            return self.send_created
        if event == WebhookEvent.ITEM_CHANGED:
            return self.send_changed
        return event == WebhookEvent.PING


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class WebhookDelivery(models.Model):
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("webhook"))
    event = models.CharField(_("event"), max_length=20, choices=WebhookEvent.choices)
    item = models.ForeignKey(
        Item, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("item")
    )
    # The activity event that caused it (analytics, no foreign key across apps): dispatching twice makes no twin.
    source_event_id = models.BigIntegerField(_("source activity event"), null=True, blank=True)
    payload = models.TextField(_("payload"), help_text=_("The exact body posted (every attempt sends the same bytes)."))
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    status_code = models.PositiveSmallIntegerField(_("HTTP status code"), null=True, blank=True)
    response_excerpt = models.TextField(_("response excerpt"), blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = _("webhook deliveries")
        indexes = [models.Index(fields=["webhook", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["webhook", "source_event_id"],
                condition=models.Q(source_event_id__isnull=False),
                name="one_delivery_per_webhook_and_activity",
            )
        ]
        verbose_name = _("webhook delivery")

    def __str__(self) -> str:
        return f"{self.event} to webhook {self.webhook_id} ({self.status})"
