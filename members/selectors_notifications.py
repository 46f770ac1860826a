"""Reads of notifications, preferences and mutes (issue 5, items 5-6).

A notification is shown only while the member may still see its item: the filter is in the query
(``Item.objects.visible_to``), so a notification about something in a space that was closed to them, a page
restricted away from them or content hidden since is simply not listed, nor counted in the header.
"""

from __future__ import annotations

from django.db.models import Exists, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from members.models import Notification, NotificationKind, NotificationPreferences, SpaceMute
from spaces.models import Item
from spaces.permissions import row_is
from spaces.selectors_content import (
    ITEM_LABEL_RELATED,
    ITEM_LABEL_TEXTS,
    ITEM_LINK_RELATED,
    ITEM_LINK_TEXTS,
    item_label,
    item_url,
)

# What a list of notifications reads: who acted, where, and the item with what its link and label need.
NOTIFICATION_RELATED = ("actor", "space__community", "item__space__community") + tuple(
    f"item__{name}" for name in ITEM_LINK_RELATED
)
# What the notifications page reads: who acted, the space's name and what an item's label needs (``item_label``),
# not where it leads (the page links through ``open_url``). A third of the tables: the statement with every link's
# tables cost PostgreSQL 2.4 ms to plan at scale, and Django as long again to build and read.
NOTIFICATION_LABEL_RELATED = ("actor", "space") + tuple(f"item__{name}" for name in ITEM_LABEL_RELATED)
# Neither reads the joined rows' long texts (an answer's body, the search text of a comment's target: a PDF's words).
NOTIFICATION_TEXTS = tuple(f"item__{name}" for name in ITEM_LINK_TEXTS)
NOTIFICATION_LABEL_TEXTS = tuple(f"item__{name}" for name in ITEM_LABEL_TEXTS)


def _shown_q(user) -> Q:
    """Notifications about nothing in particular, or about an item the user may see now. The item is checked row by
    row (a correlated EXISTS on its key): a member has hundreds of notifications, the site millions of items."""
    return Q(item__isnull=True) | Exists(Item.objects.visible_to(user).filter(row_is("pk", "item_id")))


def shown_notifications(user) -> QuerySet[Notification]:
    """The member's notifications that may be shown now, newest first, as bare rows: the list to page through or
    find one in. ``with_related`` then reads the few rows shown. Apart, because asking PostgreSQL to check each
    item's visibility and join the twenty tables a row shows in one statement cost 60 ms of planning on the scale
    data set (bench/), five times what the two statements cost together."""
    return Notification.objects.filter(recipient=user).filter(_shown_q(user)).order_by("-created_at", "-pk")


def with_related(notifications, *, links: bool = True) -> list[Notification]:
    """The given notifications (rows or keys, from ``shown_notifications``), in the same order, read again with
    everything a row shows (``links=False``: all but what its target address needs): one query. One deleted in
    between is left out."""
    keys = [getattr(notification, "pk", notification) for notification in notifications]
    if not keys:
        return []
    related, texts = (
        (NOTIFICATION_RELATED, NOTIFICATION_TEXTS) if links else (NOTIFICATION_LABEL_RELATED, NOTIFICATION_LABEL_TEXTS)
    )
    rows = Notification.objects.select_related(*related).defer(*texts).in_bulk(keys)
    return [rows[key] for key in keys if key in rows]


def member_notifications(user) -> QuerySet[Notification]:
    """``shown_notifications`` with the related rows in the same query: for reading them all at once (the
    member's data export), where one plan serves thousands of rows."""
    return shown_notifications(user).select_related(*NOTIFICATION_RELATED)


def unread_notifications(user) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).filter(_shown_q(user))


def unread_notification_count(user) -> int:
    """The number in the header: one query."""
    return unread_notifications(user).count()


MESSAGES = {
    NotificationKind.REPLY: gettext_lazy("%(who)s replied to you: %(label)s"),
    NotificationKind.ACCEPTED: gettext_lazy("%(who)s accepted your answer: %(label)s"),
    NotificationKind.MENTION: gettext_lazy("%(who)s mentioned you: %(label)s"),
    NotificationKind.PAGE_CHANGED: gettext_lazy("%(who)s changed a page you watch: %(label)s"),
    NotificationKind.NEW_ITEM: gettext_lazy("New in %(space)s: %(label)s"),
    NotificationKind.ANNOUNCEMENT: gettext_lazy("Announcement in %(space)s: %(label)s"),
    NotificationKind.FLAG: gettext_lazy("A new flag to review in %(space)s: %(label)s"),
    NotificationKind.MODERATION: gettext_lazy("A moderator acted on your content: %(label)s"),
    NotificationKind.EVENT_REMINDER: gettext_lazy("Reminder: %(label)s starts in about 24 hours"),
}


def notification_message(notification: Notification) -> str:
    """One line saying what happened, in plain text (templates escape it)."""
    if notification.text:
        return notification.text
    actor = notification.actor
    values = {
        "who": actor.public_name if actor is not None else _("Someone"),
        "label": item_label(notification.item) if notification.item_id else "",
        "space": notification.space.name if notification.space_id else "",
    }
    template = MESSAGES.get(notification.kind, _("%(label)s"))
    return str(template) % values


def notification_target(notification: Notification) -> str:
    """Where the notification leads: its stored address, its item, its space, or the notifications page."""
    if notification.url:
        return notification.url
    if notification.item_id:
        return item_url(notification.item)
    if notification.space_id:
        return notification.space.get_absolute_url()
    return reverse("members:notifications")


def notification_rows(notifications, *, links: bool = True) -> list[Notification]:
    """Attach ``message``, ``open_url`` (marks it read, then goes to the target) and, with ``links``,
    ``target_url`` to each."""
    rows = list(notifications)
    for row in rows:
        row.message = notification_message(row)
        if links:
            row.target_url = notification_target(row)
        row.open_url = reverse("members:notification-open", kwargs={"notification_id": row.pk})
    return rows


def notification_preferences_of(user) -> NotificationPreferences:
    """The member's preferences, or the defaults (unsaved) when they never changed them: reading writes nothing."""
    return NotificationPreferences.objects.filter(user=user).first() or NotificationPreferences(user=user)


def muted_spaces(user) -> QuerySet[SpaceMute]:
    return SpaceMute.objects.filter(user=user).select_related("space__community").order_by("space__name")


def is_muted(user, space) -> bool:
    return user.is_authenticated and SpaceMute.objects.filter(user=user, space=space).exists()
