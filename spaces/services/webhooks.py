"""Every write to outgoing webhooks and their deliveries (issue 8, item 3).

What is sent. New and changed pages, questions, answers, events, posts and polls, found through the activity
events the content services record (ARCHITECTURE.md: code that reacts to "an item was created or changed"
subscribes to those; ``spaces/receivers.py`` connects ``webhooks_on_activity``). Only content that every member of
the space may see is sent (``permissions.items_for_every_member_q``: visible, published, not restricted), checked
when the delivery is made and again before each attempt, so content hidden or restricted in the meantime is not
sent late.

How. ``webhooks_dispatch`` writes one ``WebhookDelivery`` per webhook (at most one per activity event, so running it
twice sends nothing twice) with the exact body, then a Celery task makes the attempts
(``webhook_delivery_attempt``): at most ``MAX_ATTEMPTS``, waiting ``retry_countdown(n)`` after the n-th failure
(30 s, 2 min, 8 min, 32 min). Each attempt is claimed by a conditional UPDATE, so two workers never send the same
attempt. ``webhook_deliveries_retry_due`` (beat, every minute) picks up attempts whose task was lost, and on the
embedded default (eager Celery, no worker to wait) it is what makes the retries.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import urllib3
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.recording import record_activity
from spaces import permissions, syndication, webhooks
from spaces.models import (
    Answer,
    DeliveryStatus,
    Event,
    Item,
    ItemKind,
    Page,
    Poll,
    Post,
    Question,
    Space,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
    WebhookFormat,
)

MAX_ATTEMPTS = 5
RETRY_BASE_SECONDS = 30
RETRY_FACTOR = 4
# A pending attempt this late was lost (its task never ran): the sweep sends it.
LOST_AFTER = timedelta(minutes=1)
EXCERPT_CHARS = 300
LOG_LENGTH = 20
# Retrying helps with these; any other 4xx means the receiver refuses what we send.
RETRY_STATUSES = frozenset({408, 425, 429})

# The activity kinds that mean "an item was created" or "changed", and what they point at.
ACTIVITY_EVENTS = {
    "page_create": WebhookEvent.ITEM_CREATED,
    "page_copy": WebhookEvent.ITEM_CREATED,
    "page_move": WebhookEvent.ITEM_CREATED,  # new in the space it was moved to
    "question_ask": WebhookEvent.ITEM_CREATED,
    "answer_post": WebhookEvent.ITEM_CREATED,
    "event_create": WebhookEvent.ITEM_CREATED,
    "post_create": WebhookEvent.ITEM_CREATED,  # also when a scheduled post goes out
    "poll_created": WebhookEvent.ITEM_CREATED,
    "page_edit": WebhookEvent.ITEM_CHANGED,
    "question_edit": WebhookEvent.ITEM_CHANGED,
    "answer_edit": WebhookEvent.ITEM_CHANGED,
    "event_edit": WebhookEvent.ITEM_CHANGED,
    "post_edit": WebhookEvent.ITEM_CHANGED,
}
TARGET_MODELS = {
    "spaces.page": Page,
    "spaces.question": Question,
    "spaces.answer": Answer,
    "spaces.event": Event,
    "spaces.post": Post,
    "spaces.poll": Poll,
}


def retry_countdown(attempt: int) -> int:
    """Seconds to wait after the failed attempt number ``attempt`` (1-based): exponential back-off."""
    return RETRY_BASE_SECONDS * RETRY_FACTOR ** (attempt - 1)


# --- Managing webhooks ----------------------------------------------------------------------------------------
def _check_manage(actor, space: Space) -> None:
    if not permissions.can_manage_webhooks(actor, space):
        raise PermissionDenied


def _check_url(url: str) -> None:
    try:
        webhooks.check_url(url)
    except webhooks.WebhookAddressError as exc:
        raise ValidationError({"url": [str(exc)]}) from exc


def _clean(webhook: Webhook) -> None:
    if webhook.format not in WebhookFormat.values:
        raise ValidationError({"format": [_("Choose a format.")]})
    if webhook.is_active and not (webhook.send_created or webhook.send_changed):
        raise ValidationError({"send_created": [_("Choose at least one kind of event to send.")]})
    webhook.full_clean(exclude=["space", "created_by"])


def _record(actor, kind: str, webhook: Webhook) -> None:
    space = webhook.space
    record_activity(actor=actor, kind=kind, community_id=space.community_id, space_id=space.pk, target=webhook)


@transaction.atomic
def webhook_create(
    *,
    actor,
    space: Space,
    name: str,
    url: str,
    format: str = WebhookFormat.JSON,
    is_active: bool = True,
    send_created: bool = True,
    send_changed: bool = False,
) -> Webhook:
    """A new webhook of ``space`` (space admins). The address is resolved and refused if it is private."""
    _check_manage(actor, space)
    webhook = Webhook(
        space=space,
        name=name.strip(),
        url=url.strip(),
        format=format,
        is_active=is_active,
        send_created=send_created,
        send_changed=send_changed,
        created_by=actor,
    )
    _clean(webhook)
    _check_url(webhook.url)
    webhook.save()
    _record(actor, "webhook_create", webhook)
    return webhook


WEBHOOK_FIELDS = ("name", "url", "format", "is_active", "send_created", "send_changed")


@transaction.atomic
def webhook_update(*, actor, webhook: Webhook, **values) -> Webhook:
    """Change a webhook. The address is checked again when it changes or the webhook is switched on (a webhook
    whose host now leads somewhere private can still be switched off)."""
    _check_manage(actor, webhook.space)
    unknown = set(values) - set(WEBHOOK_FIELDS)
    if unknown:
        raise TypeError(f"Unknown webhook fields: {sorted(unknown)}")
    before_url, was_active = webhook.url, webhook.is_active
    changed = [name for name, value in values.items() if getattr(webhook, name) != value]
    for name in changed:
        value = values[name]
        setattr(webhook, name, value.strip() if isinstance(value, str) else value)
    if not changed:
        return webhook
    _clean(webhook)
    if webhook.is_active and (webhook.url != before_url or not was_active):
        _check_url(webhook.url)
    webhook.save(update_fields=[*changed, "updated_at"])
    _record(actor, "webhook_edit", webhook)
    return webhook


@transaction.atomic
def webhook_secret_regenerate(*, actor, webhook: Webhook) -> Webhook:
    """A new signing secret: the receiver must be given it, requests signed with the old one stop at once."""
    _check_manage(actor, webhook.space)
    from spaces.models.webhooks import new_webhook_secret

    webhook.secret = new_webhook_secret()
    webhook.save(update_fields=["secret", "updated_at"])
    _record(actor, "webhook_secret", webhook)
    return webhook


@transaction.atomic
def webhook_delete(*, actor, webhook: Webhook) -> None:
    """Delete a webhook and its delivery log; attempts still waiting are dropped."""
    _check_manage(actor, webhook.space)
    _record(actor, "webhook_delete", webhook)
    webhook.delete()


# --- Payloads --------------------------------------------------------------------------------------------------
def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _space_data(space: Space) -> dict:
    community = space.community
    return {
        "id": space.pk,
        "name": space.name,
        "url": _absolute(space.get_absolute_url()),
        "community": {"id": community.pk, "name": community.name, "url": _absolute(community.get_absolute_url())},
    }


def _data(event: str, space: Space, item: Item | None = None, obj=None) -> dict:
    data: dict = {
        "event": event,
        "sent_at": timezone.now().isoformat(),
        "site": {"name": settings.SITE_NAME, "url": settings.SITE_URL},
        "space": _space_data(space),
    }
    if item is not None:
        data["item"] = {
            "id": item.pk,
            "kind": item.kind,
            "kind_label": str(ItemKind(item.kind).label),
            "title": syndication.item_title(item, obj),
            "url": _absolute(obj.get_absolute_url()),
            "author": syndication.author_name(item),
            "created_at": item.publish_at.isoformat(),
            "updated_at": item.updated_at.isoformat(),
            "excerpt": syndication.plain_excerpt(syndication.stored_html(obj, item.kind), EXCERPT_CHARS),
        }
    return data


def payload_for(webhook: Webhook, data: dict) -> str:
    return webhooks.slack_body(data) if webhook.format == WebhookFormat.SLACK else webhooks.json_body(data)


# --- Deliveries ----------------------------------------------------------------------------------------------------
def _enqueue(delivery_ids: list[int]) -> None:
    from spaces.tasks import webhook_deliver_task

    for delivery_id in delivery_ids:
        transaction.on_commit(lambda d=delivery_id: webhook_deliver_task.delay(d))


def webhooks_on_activity(activity) -> None:
    """Called for every new activity event (in the action's transaction): content created or changed is handed
    to ``webhooks_dispatch`` after commit, when the space has an active webhook. No query before the commit."""
    event = ACTIVITY_EVENTS.get(activity.kind)
    if event is None or activity.target_type not in TARGET_MODELS or activity.space_id is None:
        return
    args = (event, activity.target_type, activity.target_id, activity.space_id, activity.pk)
    transaction.on_commit(lambda: _dispatch_if_hooked(*args))


def _dispatch_if_hooked(event: str, target_type: str, target_id: int, space_id: int, source_event_id: int) -> None:
    if Webhook.objects.filter(space_id=space_id, is_active=True).exists():
        from spaces.tasks import webhooks_dispatch_task

        webhooks_dispatch_task.delay(event, target_type, target_id, space_id, source_event_id)


def _shared_with_every_member(model, target_id: int, space_id: int):
    """The typed row, if its item is in ``space_id`` and every member of the space may see it; else None."""
    related = ["item__space__community", "item__author"]
    if model is Answer:
        related.append("question")
    everyone = Item.objects.filter(permissions.items_for_every_member_q(), space_id=space_id).values("pk")
    obj = model.objects.select_related(*related).filter(pk=target_id, item__in=everyone).first()
    if obj is not None:
        obj.space = obj.item.space
    return obj


@transaction.atomic
def webhooks_dispatch(
    *, event: str, target_type: str, target_id: int, space_id: int, source_event_id: int | None = None
) -> list[int]:
    """Write a delivery for each active webhook of the space that sends ``event``, if the content is visible to
    every member of the space, and queue the attempts after commit. Returns the new deliveries' ids."""
    hooks = [h for h in Webhook.objects.filter(space_id=space_id, is_active=True) if h.sends(event)]
    model = TARGET_MODELS.get(target_type)
    if not hooks or model is None:
        return []
    obj = _shared_with_every_member(model, target_id, space_id)
    if obj is None:
        return []
    data = _data(event, obj.space, obj.item, obj)
    created_ids = []
    for hook in hooks:
        try:
            with transaction.atomic():
                delivery, created = WebhookDelivery.objects.get_or_create(
                    webhook=hook,
                    source_event_id=source_event_id,
                    defaults={"event": event, "item": obj.item, "payload": payload_for(hook, data)},
                )
        except IntegrityError:  # the same activity dispatched twice at once
            continue
        if created:
            created_ids.append(delivery.pk)
    _enqueue(created_ids)
    return created_ids


@transaction.atomic
def webhook_send_test(*, actor, webhook: Webhook) -> WebhookDelivery:
    """A test message ("ping") to the webhook, whatever its events and even when switched off."""
    _check_manage(actor, webhook.space)
    delivery = WebhookDelivery.objects.create(
        webhook=webhook, event=WebhookEvent.PING, payload=payload_for(webhook, _data("ping", webhook.space))
    )
    _enqueue([delivery.pk])
    return delivery


def _cancel_reason(delivery: WebhookDelivery) -> str:
    webhook = delivery.webhook
    if delivery.event == WebhookEvent.PING:
        return ""
    if not webhook.is_active:
        return _("The webhook was switched off.")
    still_shared = (
        delivery.item_id is not None
        and Item.objects.filter(permissions.items_for_every_member_q(), pk=delivery.item_id, space_id=webhook.space_id)
        .values("pk")
        .exists()
    )
    if not still_shared:
        return _("The content is no longer visible to every member of the space.")
    return ""


def _describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:500]


def _finish(delivery_id: int, **values) -> None:
    WebhookDelivery.objects.filter(pk=delivery_id).update(**values)


def webhook_delivery_attempt(*, delivery_id: int, now: datetime | None = None) -> int | None:
    """Make the next attempt of a delivery. Returns the seconds to wait before the next attempt, or None when
    there is none to make (delivered, failed for good, cancelled, already claimed or not due yet)."""
    now = now or timezone.now()
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return None
    if delivery.next_attempt_at is not None and delivery.next_attempt_at > now + timedelta(seconds=5):
        return None  # a duplicate task: the one scheduled for that time will make the attempt
    reason = _cancel_reason(delivery)
    if reason:
        _finish(delivery.pk, status=DeliveryStatus.CANCELLED, error=reason, next_attempt_at=None)
        return None
    attempt = delivery.attempts + 1
    claimed = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.PENDING, attempts=delivery.attempts
    ).update(attempts=attempt, last_attempt_at=now, next_attempt_at=None)
    if not claimed:
        return None
    webhook = delivery.webhook
    body = delivery.payload.encode()
    headers = webhooks.signed_headers(
        secret=webhook.secret, body=body, event=delivery.event, delivery_id=delivery.pk, timestamp=int(now.timestamp())
    )
    status_code, excerpt, permanent = None, "", False
    try:
        result = webhooks.post(webhook.url, body, headers)
    except webhooks.WebhookAddressError as exc:
        error, permanent = str(exc), exc.permanent
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        error = _describe(exc)
    else:
        status_code, excerpt = result.status_code, result.excerpt
        if result.ok:
            _finish(
                delivery.pk,
                status=DeliveryStatus.DELIVERED,
                status_code=status_code,
                response_excerpt=excerpt,
                error="",
                delivered_at=timezone.now(),
            )
            return None
        error = _("The receiver answered with status %(code)s.") % {"code": status_code}
        permanent = 400 <= status_code < 500 and status_code not in RETRY_STATUSES
    values = {"status_code": status_code, "response_excerpt": excerpt, "error": error}
    if permanent or attempt >= MAX_ATTEMPTS:
        _finish(delivery.pk, status=DeliveryStatus.FAILED, **values)
        return None
    countdown = retry_countdown(attempt)
    _finish(delivery.pk, next_attempt_at=now + timedelta(seconds=countdown), **values)
    return countdown


def webhook_deliveries_retry_due(*, now: datetime | None = None) -> list[int]:
    """Queue the attempts that are due and whose task was lost (or, on eager Celery, never waited). Safe to run
    twice: each attempt is claimed by one task only."""
    now = now or timezone.now()
    late = now - LOST_AFTER
    due = WebhookDelivery.objects.filter(
        Q(next_attempt_at__lte=late) | Q(next_attempt_at__isnull=True, attempts=0, created_at__lte=late),
        status=DeliveryStatus.PENDING,
    ).values_list("pk", flat=True)
    ids = list(due[:500])
    from spaces.tasks import webhook_deliver_task

    for delivery_id in ids:
        webhook_deliver_task.delay(delivery_id)
    return ids


def webhook_recent_deliveries(webhook: Webhook) -> list[WebhookDelivery]:
    """The webhook's last deliveries, newest first (its page's log). One query."""
    return list(webhook.deliveries.select_related("item").order_by("-created_at", "-pk")[:LOG_LENGTH])
