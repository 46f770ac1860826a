"""Every write to notifications, notification preferences and space mutes (issue 5, items 5-6).

Notifications are made by ``members/receivers.py`` from activity events, in the transaction of the action that
caused them (ARCHITECTURE.md: lower apps record activity, the notification code subscribes). ``notify`` is the
one place that decides who gets one: never the actor, never someone who cannot see the item at that moment
(``spaces.permissions.item_viewers_q``, one query however many recipients), never someone who muted the space,
unless the notification is addressed to them personally.

E-mail. Direct kinds (``IMMEDIATE_KINDS``) are e-mailed at once by a task after commit, at most
``IMMEDIATE_EMAIL_CAP_PER_HOUR`` per member per window; a capped one is left for the digest (``email_state``
"digest"), or stays in-app when the member's digest is off ("none"). Every other kind waits for the digest the
same way. A kind whose e-mail the member turned off is never e-mailed, alone or in the digest. Account, security
and invitation e-mails do not pass through here and are never capped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from members.models import (
    IMMEDIATE_KINDS,
    DigestFrequency,
    EmailState,
    Notification,
    NotificationKind,
    NotificationPreferences,
    SpaceMute,
)
from members.selectors_messages import forget_header_counts
from spaces import permissions as space_permissions
from spaces.models import Event, Item, Space

logger = logging.getLogger(__name__)
User = get_user_model()

# Addressed to the member personally: muting the space they happen in does not silence them.
DIRECT_KINDS = IMMEDIATE_KINDS | {NotificationKind.ACCEPTED, NotificationKind.INVITATION}
# E-mailed by spaces already, like invitations: never capped, so never e-mailed (or put in a digest) again here.
EMAILED_ELSEWHERE = frozenset({NotificationKind.INVITATION, NotificationKind.REQUEST_DECIDED})
BATCH_SIZE = 500

EVENT_REMINDER_LEAD = timedelta(hours=24)
# The beat task runs every 15 minutes; each event falls in two runs (the dedupe key makes the second a no-op),
# so one missed run loses no reminder.
EVENT_REMINDER_WINDOW = timedelta(minutes=15)
REGISTERED = ("going", "maybe")


# --- Creating notifications ------------------------------------------------------------------------------------
def initial_email_state(kind: str, email_off: Iterable[str] | None, digest_frequency: str | None) -> str:
    """What happens to a new notification by e-mail, before the hourly cap (applied when it is sent)."""
    if kind in EMAILED_ELSEWHERE or kind in (email_off or ()):
        return EmailState.NONE
    if kind in IMMEDIATE_KINDS:
        return EmailState.PENDING
    return EmailState.NONE if digest_frequency == DigestFrequency.OFF else EmailState.DIGEST


def _texts_by_language(text: str | Callable[[], str], languages: set[str | None]) -> dict[str | None, str]:
    """The stored text for each recipient language. A callable is composed once per language, under that
    language (several moderators may each read a different one); a plain string is the same for everyone."""
    from members.language import is_supported

    if not callable(text):
        return dict.fromkeys(languages, text)
    texts = {}
    for language in languages:
        with translation.override(language if is_supported(language) else settings.LANGUAGE_CODE):
            texts[language] = str(text())
    return texts


def notify(
    *,
    kind: str,
    recipients: QuerySet,
    actor_id: int | None = None,
    item: Item | None = None,
    space: Space | None = None,
    text: str | Callable[[], str] = "",
    url: str = "",
    dedupe_key: str = "",
    collapse_unread: bool = False,
    exclude: Iterable[int] = (),
    viewers: Q | None = None,
) -> list[int]:
    """Create a ``kind`` notification for each of ``recipients`` (a ``User`` queryset) who may have it; returns
    the ids of the members notified.

    Filtered in the one query that reads the recipients: active accounts, not the actor, not ``exclude``, people
    who may see ``item`` now, not those who muted ``space`` (unless the kind is direct), not those who already
    have ``dedupe_key``, and with ``collapse_unread`` not those who have an unread one of this kind on this item.
    Rows are written with ``bulk_create`` in batches; immediate e-mails are queued after commit. ``viewers``:
    ``item_viewers_q(item)`` when the caller has it already.
    """
    space = space if space is not None else (item.space if item is not None else None)
    qs = recipients.filter(is_active=True, deleted_at__isnull=True)
    if actor_id is not None:
        qs = qs.exclude(pk=actor_id)
    exclude = list(exclude)
    if exclude:
        qs = qs.exclude(pk__in=exclude)
    if item is not None:
        qs = qs.filter(viewers if viewers is not None else space_permissions.item_viewers_q(item))
    if space is not None and kind not in DIRECT_KINDS:
        qs = qs.exclude(Exists(SpaceMute.objects.filter(user_id=OuterRef("pk"), space_id=space.pk)))
    if dedupe_key:
        qs = qs.exclude(Exists(Notification.objects.filter(recipient_id=OuterRef("pk"), dedupe_key=dedupe_key)))
    if collapse_unread and item is not None:
        unread = Notification.objects.filter(recipient_id=OuterRef("pk"), kind=kind, item_id=item.pk, read_at=None)
        qs = qs.exclude(Exists(unread))
    rows = list(
        qs.order_by()
        .values_list(
            "pk", "notification_prefs__email_off", "notification_prefs__digest_frequency", "profile__preferred_language"
        )
        .distinct()
    )
    if not rows:
        return []
    texts = _texts_by_language(text, {language for *_, language in rows})
    notifications = [
        Notification(
            recipient_id=user_id,
            kind=kind,
            actor_id=actor_id,
            item=item,
            space=space,
            text=texts[language],  # in full: a moderator's warning must reach its author whole
            url=url[:500],
            dedupe_key=dedupe_key,
            email_state=initial_email_state(kind, email_off, frequency),
        )
        for user_id, email_off, frequency, language in rows
    ]
    created = Notification.objects.bulk_create(notifications, batch_size=BATCH_SIZE, ignore_conflicts=bool(dedupe_key))
    forget_header_counts(row[0] for row in rows)
    pending = [n for n in created if n.email_state == EmailState.PENDING]
    if pending:
        if dedupe_key:  # rows written with ignore_conflicts come back without ids
            pending_ids = list(
                Notification.objects.filter(
                    dedupe_key=dedupe_key, recipient_id__in=[n.recipient_id for n in pending], email_state="pending"
                ).values_list("pk", flat=True)
            )
        else:
            pending_ids = [n.pk for n in pending]
        _queue_emails(pending_ids)
    return [row[0] for row in rows]


def _queue_emails(notification_ids: list[int]) -> None:
    from members.tasks import notification_email_task

    for notification_id in notification_ids:
        transaction.on_commit(partial(notification_email_task.delay, notification_id))


# --- Reading them ------------------------------------------------------------------------------------------------
@transaction.atomic
def notification_mark_read(*, actor, notification: Notification) -> Notification:
    """The member has seen this one (opened it, or marked it read)."""
    if notification.recipient_id != actor.pk:
        raise PermissionDenied
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        forget_header_counts([actor.pk])
    return notification


@transaction.atomic
def notifications_mark_all_read(*, actor) -> int:
    """Mark every unread notification of the member read (also those whose item they can no longer see, so the
    count in the header never stays above what the page shows). Returns how many."""
    if not actor.is_authenticated:
        raise PermissionDenied
    marked = Notification.objects.filter(recipient=actor, read_at__isnull=True).update(read_at=timezone.now())
    forget_header_counts([actor.pk])
    return marked


# --- Immediate e-mail, within the hourly cap -------------------------------------------------------------------------
def _locked_preferences(user) -> NotificationPreferences:
    """The member's preferences row, created on demand, locked until the transaction ends: two e-mails for the
    same member are decided one after the other, so the cap holds under concurrency."""
    NotificationPreferences.objects.get_or_create(user=user)
    return NotificationPreferences.objects.select_for_update().get(user=user)


def _cap_reached(user, now: datetime) -> bool:
    cap = settings.IMMEDIATE_EMAIL_CAP_PER_HOUR
    since = now - timedelta(minutes=settings.IMMEDIATE_EMAIL_CAP_WINDOW_MINUTES)
    sent = Notification.objects.filter(
        recipient=user, kind__in=IMMEDIATE_KINDS, email_state=EmailState.SENT, emailed_at__gt=since
    ).count()
    return sent >= cap


def _still_visible(notification: Notification, recipient) -> bool:
    if notification.item_id is None:
        return True
    return Item.objects.visible_to(recipient).filter(pk=notification.item_id).exists()


def _fallback_state(prefs: NotificationPreferences) -> str:
    return EmailState.NONE if prefs.digest_frequency == DigestFrequency.OFF else EmailState.DIGEST


def notification_email_send(*, notification_id: int) -> str:
    """E-mail one pending notification now, unless the member's cap for the window is reached (then it is left
    for the digest), the member turned this kind's e-mail off, or they can no longer see its item (then it stays
    in-app only). Returns the notification's resulting ``email_state``. Safe to run twice: only a pending
    notification is handled, under the member's preferences lock.
    """
    with transaction.atomic():
        notification = (
            Notification.objects.select_related("recipient", "actor", "space__community")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None:
            return ""
        recipient = notification.recipient
        prefs = _locked_preferences(recipient)
        # Re-read under the lock: another run of this task may have handled it meanwhile.
        state = Notification.objects.values_list("email_state", flat=True).get(pk=notification_id)
        if state != EmailState.PENDING:
            return state
        now = timezone.now()
        if not recipient.is_active or recipient.deleted_at is not None or notification.kind in prefs.email_off:
            state = EmailState.NONE
        elif not _still_visible(notification, recipient):
            state = EmailState.NONE  # never e-mail what the member cannot see at the moment of sending
        elif _cap_reached(recipient, now):
            state = _fallback_state(prefs)
        else:
            state = EmailState.SENT
            prefs.last_immediate_email_at = now
            prefs.save(update_fields=["last_immediate_email_at"])
        notification.email_state = state
        notification.emailed_at = now if state == EmailState.SENT else None
        notification.save(update_fields=["email_state", "emailed_at"])
        fallback = _fallback_state(prefs)
    if state != EmailState.SENT:
        return state
    try:
        _send(notification)
    except Exception:
        # Not lost: it goes into the next digest (or stays in-app), and the cap is not spent on it.
        logger.exception("Notification e-mail %s could not be sent", notification_id)
        Notification.objects.filter(pk=notification_id).update(email_state=fallback, emailed_at=None)
        return fallback
    return state


def _send(notification: Notification) -> None:
    from copapp.emails import send_templated_email
    from members.language import language_of
    from members.selectors_notifications import notification_rows

    language = language_of(notification.recipient)
    with translation.override(language):  # the one-line message is composed here, in the recipient's language
        row = notification_rows([_with_item(notification)])[0]
    send_templated_email(
        "notification",
        [notification.recipient.email],
        {
            "notification": row,
            "recipient": notification.recipient,
            "open_url": settings.SITE_URL + row.open_url,
            "preferences_url": settings.SITE_URL + _preferences_path(),
        },
        language=language,
    )


def _with_item(notification: Notification) -> Notification:
    """The notification with its item and the relations its link and label read (one query)."""
    from members.selectors_notifications import NOTIFICATION_RELATED

    return Notification.objects.select_related(*NOTIFICATION_RELATED).get(pk=notification.pk)


def _preferences_path() -> str:
    from django.urls import reverse

    return reverse("members:notification-preferences")


# --- Preferences and mutes -----------------------------------------------------------------------------------
def _check_self(actor, user) -> None:
    if not actor.is_authenticated or (actor.pk != user.pk and not actor.is_staff):
        raise PermissionDenied


@transaction.atomic
def notification_preferences_update(
    *,
    actor,
    user,
    email_off: Iterable[str],
    digest_frequency: str,
    digest_hour: int,
    skip_digest_if_seen: bool,
) -> NotificationPreferences:
    """Which kinds the member wants by e-mail, and how often (and at which local hour) their digest comes."""
    _check_self(actor, user)
    email_off = sorted(set(email_off))
    unknown = set(email_off) - set(NotificationKind.values)
    if unknown:
        raise ValidationError({"email_off": _("Unknown kinds of notification: %s") % ", ".join(sorted(unknown))})
    prefs, _created = NotificationPreferences.objects.get_or_create(user=user)
    prefs.email_off = email_off
    prefs.digest_frequency = digest_frequency
    prefs.digest_hour = digest_hour
    prefs.skip_digest_if_seen = skip_digest_if_seen
    prefs.full_clean(exclude=["user"])
    if not 0 <= prefs.digest_hour <= 23:
        raise ValidationError({"digest_hour": _("Choose an hour from 0 to 23.")})
    prefs.save(update_fields=["email_off", "digest_frequency", "digest_hour", "skip_digest_if_seen"])
    return prefs


@transaction.atomic
def space_mute_set(*, actor, space: Space, muted: bool) -> bool:
    """Mute a space (no notifications from it, except those addressed to the member personally, and no digest
    entries) or unmute it. Muting needs to see the space; unmuting never does. Returns the new state."""
    if not actor.is_authenticated:
        raise PermissionDenied
    if not muted:
        SpaceMute.objects.filter(user=actor, space=space).delete()
        return False
    if not space_permissions.can_see_space(actor, space):
        raise PermissionDenied
    SpaceMute.objects.get_or_create(user=actor, space=space)
    return True


# --- Event reminders (Celery beat, every 15 minutes) -------------------------------------------------------------
def event_reminders_send(*, now: datetime | None = None) -> int:
    """Remind people registered as going or maybe, about 24 hours before an event starts. Each member gets one
    reminder per event however often this runs (dedupe key ``event-reminder:<event id>``). Returns how many
    reminders were created."""
    now = now or timezone.now()
    low, high = now + EVENT_REMINDER_LEAD - EVENT_REMINDER_WINDOW, now + EVENT_REMINDER_LEAD + EVENT_REMINDER_WINDOW
    events = Event.objects.filter(starts_at__gt=low, starts_at__lte=high, item__deleted_at__isnull=True).select_related(
        "item__space__community", "space__community"
    )
    created = 0
    for event in events:
        with transaction.atomic():
            registered = User.objects.filter(
                Q(event_registrations__event=event) & Q(event_registrations__status__in=REGISTERED)
            )
            created += len(
                notify(
                    kind=NotificationKind.EVENT_REMINDER,
                    recipients=registered,
                    item=event.item,
                    space=event.space,
                    dedupe_key=f"event-reminder:{event.pk}",
                )
            )
    return created
