"""From activity events to notifications (issue 5, item 5).

Lower apps record an ``ActivityEvent`` for every meaningful action, in the transaction of the action; this
receiver turns the events members should hear about into ``Notification`` rows in that same transaction
(ARCHITECTURE.md: the notification code subscribes to activity events; members reads spaces' models, selectors
and permissions, and never writes them). ``KIND_HANDLERS`` maps an activity kind to the function that finds
the recipients; ``TARGET_HANDLERS`` catches events by what they point at, for the moderation module, whose
kind names are its own to choose.

Within one event a member gets at most one notification: the first handler step that reaches them wins
(a mention before a reply, an announcement before "new in a space you watch").
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics.models import ActivityEvent
from communities.models import CommunityRole
from copapp.signals import account_erasing
from members import notifications
from members.language import language_of_id
from members.models import Notification, NotificationKind, NotificationPreferences, SpaceMute
from members.selectors_messages import forget_header_counts
from spaces.models import (
    Answer,
    Comment,
    Event,
    FileAsset,
    Flag,
    FlagStatus,
    Invitation,
    Item,
    JoinRequest,
    JoinRequestStatus,
    ModerationAction,
    ModerationLogEntry,
    Page,
    Paper,
    Poll,
    Post,
    Question,
    SpaceRole,
)
from spaces.permissions import item_viewers_q, space_role_holders_q

logger = logging.getLogger(__name__)
User = get_user_model()
Kind = NotificationKind


class Fanout:
    """The notifications of one activity event: remembers who was notified, so nobody gets two."""

    def __init__(self, event: ActivityEvent):
        self.event = event
        self.notified: set[int] = set()
        self._viewers: dict[int, Q] = {}

    def notify(self, kind: str, recipients, *, item: Item | None = None, skip_notified: bool = True, **kwargs) -> None:
        """``skip_notified=False``: the caller's recipients query already leaves out those told before (an
        announcement reaches thousands: their ids are not sent back to the database as a list)."""
        viewers = None
        if item is not None:  # the item's context is read once per event, however many kinds it notifies
            if item.pk not in self._viewers:
                self._viewers[item.pk] = item_viewers_q(item)
            viewers = self._viewers[item.pk]
        done = notifications.notify(
            kind=kind,
            recipients=recipients,
            actor_id=self.event.member_id,
            exclude=self.notified if skip_notified else (),
            item=item,
            viewers=viewers,
            **kwargs,
        )
        self.notified.update(done)


def _people(*user_ids: int | None):
    return User.objects.filter(pk__in=[pk for pk in user_ids if pk is not None])


def _mentions(fanout: Fanout, item: Item) -> None:
    """Members named by @handle in the item (``Mention`` rows, kept by the spaces services). The dedupe key makes
    an edit notify only the people it newly mentions."""
    fanout.notify(Kind.MENTION, User.objects.filter(mentions__item=item), item=item, dedupe_key=f"mention:{item.pk}")


def _space_watchers_new_item(fanout: Fanout, item: Item) -> None:
    fanout.notify(
        Kind.NEW_ITEM,
        User.objects.filter(watches__space_id=item.space_id),
        item=item,
        dedupe_key=f"new-item:{item.pk}",
    )


def _typed(event: ActivityEvent, model, *related: str):
    return model.objects.select_related(*related).filter(pk=event.target_id).first()


# --- Handlers, one per activity kind ------------------------------------------------------------------------
def on_answer_post(event: ActivityEvent) -> None:
    """An answer: the asker hears of it (REPLY); people it mentions too."""
    answer = _typed(event, Answer, "item__space", "question__item")
    if answer is None:
        return
    fanout = Fanout(event)
    _mentions(fanout, answer.item)
    fanout.notify(Kind.REPLY, _people(answer.question.item.author_id), item=answer.item)


def on_comment_create(event: ActivityEvent) -> None:
    """A comment: the author of what it is on, and of the comment it replies to (REPLY); people it mentions."""
    comment = _typed(event, Comment, "item__space", "target", "parent__item")
    if comment is None:
        return
    fanout = Fanout(event)
    _mentions(fanout, comment.item)
    parent_author = comment.parent.item.author_id if comment.parent_id else None
    fanout.notify(Kind.REPLY, _people(comment.target.author_id, parent_author), item=comment.item)


def on_answer_accept(event: ActivityEvent) -> None:
    answer = _typed(event, Answer, "item__space")
    if answer is not None:
        Fanout(event).notify(Kind.ACCEPTED, _people(answer.item.author_id), item=answer.item)


def on_mentions_only(event: ActivityEvent) -> None:
    """Edits: only the people newly mentioned."""
    model = {
        "spaces.question": Question,
        "spaces.answer": Answer,
        "spaces.comment": Comment,
        "spaces.post": Post,
    }.get(event.target_type)
    target = _typed(event, model, "item__space") if model is not None else None
    if target is None:
        return
    if isinstance(target, Post) and target.published_at is None:
        return  # a scheduled post speaks when it goes out
    _mentions(Fanout(event), target.item)


def on_new_item(event: ActivityEvent) -> None:
    """A new page, question, event, poll or library file: watchers of the space; people it mentions."""
    model = {
        "spaces.page": Page,
        "spaces.question": Question,
        "spaces.event": Event,
        "spaces.poll": Poll,
        "spaces.fileasset": FileAsset,
    }.get(event.target_type)
    target = _typed(event, model, "item__space") if model is not None else None
    if target is None:
        return
    if isinstance(target, FileAsset) and (target.page_id or target.event_id):
        return  # an attachment is part of its page or event, not news of its own
    fanout = Fanout(event)
    _mentions(fanout, target.item)
    _space_watchers_new_item(fanout, target.item)


def on_post_create(event: ActivityEvent) -> None:
    """A post that went out: people it mentions; every member of the space if it is an announcement (one
    bulk insert per batch, however many members); watchers of the space otherwise."""
    post = _typed(event, Post, "item__space")
    if post is None or post.published_at is None:
        return
    fanout = Fanout(event)
    _mentions(fanout, post.item)
    if not post.is_announcement:
        _space_watchers_new_item(fanout, post.item)
        return
    _announce(fanout, post)
    # Members were told by the announcement (or muted the space): "new in a space you watch" is for the others.
    fanout.notify(
        Kind.NEW_ITEM,
        User.objects.filter(watches__space_id=post.space_id).exclude(space_memberships__space_id=post.space_id),
        item=post.item,
        dedupe_key=f"new-item:{post.item_id}",
        skip_notified=False,
    )


def on_post_edit(event: ActivityEvent) -> None:
    """An edit: newly mentioned people; and members, if the post became an announcement."""
    post = _typed(event, Post, "item__space")
    if post is None or post.published_at is None:
        return
    fanout = Fanout(event)
    _mentions(fanout, post.item)
    if post.is_announcement:
        _announce(fanout, post)


def _announce(fanout: Fanout, post: Post) -> None:
    fanout.notify(
        Kind.ANNOUNCEMENT,
        User.objects.filter(space_memberships__space_id=post.space_id).exclude(mentions__item_id=post.item_id),
        item=post.item,
        dedupe_key=f"announcement:{post.item_id}",
        skip_notified=False,  # those mentioned are left out by the query above
    )


def on_page_edit(event: ActivityEvent) -> None:
    """Watchers of the page; one unread notification per page however often it is saved."""
    page = _typed(event, Page, "item__space")
    if page is not None:
        Fanout(event).notify(
            Kind.PAGE_CHANGED, User.objects.filter(watches__item_id=page.item_id), item=page.item, collapse_unread=True
        )


def on_join_request(event: ActivityEvent) -> None:
    """The space's moderators (by membership, community role or grant) hear of a request to join."""
    request = _typed(event, JoinRequest, "space__community", "user")
    if request is None or request.status != JoinRequestStatus.PENDING:
        return
    space = request.space
    Fanout(event).notify(
        Kind.JOIN_REQUEST,
        User.objects.filter(space_role_holders_q(space, SpaceRole.MODERATOR)),
        space=space,
        text=lambda: _("%(name)s asks to join %(space)s") % {"name": request.user.public_name, "space": space.name},
        url=reverse("spaces:requests", kwargs={"community_slug": space.community.slug, "space_slug": space.slug}),
    )


def on_join_request_decided(event: ActivityEvent) -> None:
    request = _typed(event, JoinRequest, "space__community")
    if request is None:
        return
    space = request.space
    with translation.override(language_of_id(request.user_id)):  # stored text: in the recipient's language
        if request.status == JoinRequestStatus.APPROVED:
            text = _("Your request to join %(space)s was approved.") % {"space": space.name}
        else:
            text = _("Your request to join %(space)s was declined.") % {"space": space.name}
    Fanout(event).notify(
        Kind.REQUEST_DECIDED, _people(request.user_id), space=space, text=text, url=space.get_absolute_url()
    )


def on_invite(event: ActivityEvent) -> None:
    """An invitation to someone who already has an account (others only get the e-mail)."""
    invitation = _typed(event, Invitation, "space__community", "invited_by")
    if invitation is None or invitation.invitee_id is None:
        return
    with translation.override(language_of_id(invitation.invitee_id)):  # stored text: in the recipient's language
        who = invitation.invited_by.public_name if invitation.invited_by else _("Someone")
        text = _("%(who)s invited you to %(space)s") % {"who": who, "space": invitation.space.name}
    Fanout(event).notify(
        Kind.INVITATION,
        _people(invitation.invitee_id),
        space=invitation.space,
        text=text,
        url=reverse("spaces:invitation", kwargs={"token": invitation.token}),
    )


def on_paper_decided(event: ActivityEvent) -> None:
    paper = _typed(event, Paper, "event__item__space__community", "event__space__community")
    if paper is None:
        return
    event_ = paper.event
    with translation.override(language_of_id(paper.author_id)):  # stored text: in the recipient's language
        if event.kind == "paper_accepted":
            text = _("Your paper “%(title)s” was accepted.") % {"title": paper.title}
        else:
            text = _("Your paper “%(title)s” was declined.") % {"title": paper.title}
    url = reverse(
        "spaces:paper-detail",
        kwargs={
            "community_slug": event_.space.community.slug,
            "space_slug": event_.space.slug,
            "event_slug": event_.slug,
            "paper_id": paper.pk,
        },
    )
    Fanout(event).notify(Kind.PAPER_DECIDED, _people(paper.author_id), item=event_.item, text=text, url=url)


def on_waitlist_promoted(event: ActivityEvent) -> None:
    """Someone left a full event and the longest-waiting member moved up: they are told at once (by e-mail too, within
    their limits), since they may have stopped planning to come. Recorded with them as its member, so nobody is
    left out as "the actor"."""
    event_ = _typed(event, Event, "item", "space__community")
    if event_ is None:
        return
    with translation.override(language_of_id(event.member_id)):  # stored text: in the recipient's language
        text = _("A place came free at “%(title)s”: you are now registered as going.") % {"title": event_.title}
    notifications.notify(
        kind=Kind.EVENT_PLACE,
        recipients=_people(event.member_id),
        item=event_.item,
        text=text,
        url=event_.get_absolute_url(),
        dedupe_key=f"event_place:{event.pk}",
    )


# --- Moderation: by target, whatever the kind is called ----------------------------------------------------------
def _review_queue_url(flag: Flag) -> str:
    """Where moderators act on the flag: the space's review queue, the community's, or the site's."""
    if flag.space is not None:
        kwargs = {"community_slug": flag.space.community.slug, "space_slug": flag.space.slug}
        return reverse("spaces:review-queue", kwargs=kwargs)
    if flag.community is not None:
        return reverse("spaces:community-review-queue", kwargs={"community_slug": flag.community.slug})
    return reverse("spaces:site-review-queue")


def on_flag(event: ActivityEvent) -> None:
    """A new flag (an open flag, the event recorded by its flagger): the moderators of its space (who may see
    the item: flags on a restricted page reach its admins only), or of its community, or site staff. It links to
    the review queue, where they act; unread ones on the same item are not repeated."""
    flag = _typed(event, Flag, "item__space", "space__community", "community")
    if flag is None or flag.status != FlagStatus.OPEN or event.member_id != flag.flagger_id:
        return
    if flag.space is not None:
        moderators = User.objects.filter(space_role_holders_q(flag.space, SpaceRole.MODERATOR))
    elif flag.community_id is not None:
        moderators = User.objects.filter(
            community_memberships__community_id=flag.community_id,
            community_memberships__role__in=(CommunityRole.MODERATOR, CommunityRole.ADMIN),
        )
    else:
        moderators = User.objects.filter(is_staff=True)
    try:
        url = _review_queue_url(flag)
    except NoReverseMatch:  # the queue is not wired in this build: the item (or space) is the next best place
        url = ""

    def text() -> str:  # composed in each moderator's language (notifications.notify)
        return "" if flag.item_id else _("A new flag to review: %(reason)s") % {"reason": flag.get_reason_display()}

    Fanout(event).notify(
        Kind.FLAG,
        moderators,
        item=flag.item,
        space=flag.space,
        text=text,
        url=url,
        dedupe_key=f"flag:{flag.pk}",
        collapse_unread=True,
    )


MODERATION_TOLD = {
    ModerationAction.HIDE: gettext_lazy("A moderator hid your content"),
    ModerationAction.AUTO_HIDE: gettext_lazy("Your content was hidden until a moderator reviews it"),
    ModerationAction.UNHIDE: gettext_lazy("A moderator showed your content again"),
    ModerationAction.EDIT: gettext_lazy("A moderator edited your content"),
    ModerationAction.WARN: gettext_lazy("A moderator warned you"),
    ModerationAction.REMOVE: gettext_lazy("A moderator removed your content"),
    ModerationAction.REMOVE_MEMBER: gettext_lazy("A moderator removed you from the space"),
    ModerationAction.BAN_SPACE: gettext_lazy("You were banned from the space"),
    ModerationAction.BAN_COMMUNITY: gettext_lazy("You were banned from the community"),
    ModerationAction.UNBAN: gettext_lazy("Your ban was lifted"),
}


def on_moderation_entry(event: ActivityEvent) -> None:
    """An activity event that points at a moderation log entry (the log itself is subscribed to below)."""
    entry = ModerationLogEntry.objects.filter(pk=event.target_id).first()
    if entry is not None:
        moderation_notify(entry)


def moderation_notify(entry: ModerationLogEntry) -> None:
    """A moderator's action on a member's content, or on the member: the member (``subject``) is told what and
    why. Content that was removed is named, not linked; hidden content stays linked (its author still sees it).
    One notification per log entry, however many events point at it."""
    if entry.subject_id is None or entry.action not in MODERATION_TOLD:
        return
    item, model = None, None
    if entry.target_type_id is not None and entry.target_id is not None:
        model = entry.target_type.model_class()
        target = model.objects.filter(pk=entry.target_id).first() if model is not None else None
        item = target if isinstance(target, Item) else getattr(target, "item", None)
        if not isinstance(item, Item) or item.deleted_at is not None:
            item = None
    where = entry.space.name if entry.space_id else (entry.community.name if entry.community_id else "")
    with translation.override(language_of_id(entry.subject_id)):  # stored text: in the recipient's language
        text = str(MODERATION_TOLD[entry.action])
        if entry.target_label and model is not None and model is not User:  # a member's profile: they know it
            text += _(": “%(label)s”") % {"label": entry.target_label}
        if where:
            text += _(" in %(where)s") % {"where": where}
        if entry.reason:
            text += _(". Reason: %(reason)s") % {"reason": entry.reason}
    notifications.notify(
        kind=Kind.MODERATION,
        recipients=_people(entry.subject_id),
        actor_id=entry.actor_id,
        item=item,
        space=entry.space,
        text=text,
        dedupe_key=f"moderation:{entry.pk}",
    )


KIND_HANDLERS: dict[str, Callable[[ActivityEvent], None]] = {
    "answer_post": on_answer_post,
    "answer_edit": on_mentions_only,
    "answer_accept": on_answer_accept,
    "comment_create": on_comment_create,
    "comment_edit": on_mentions_only,
    "question_ask": on_new_item,
    "question_edit": on_mentions_only,
    "page_create": on_new_item,
    "page_edit": on_page_edit,
    "event_create": on_new_item,
    "poll_created": on_new_item,
    "file_upload": on_new_item,
    "post_create": on_post_create,
    "post_edit": on_post_edit,
    "flagged": on_flag,
    "join_request": on_join_request,
    "join_request_approved": on_join_request_decided,
    "join_request_declined": on_join_request_decided,
    "invite": on_invite,
    "paper_accepted": on_paper_decided,
    "paper_declined": on_paper_decided,
    "event_waitlist_promoted": on_waitlist_promoted,
}
TARGET_HANDLERS: dict[str, Callable[[ActivityEvent], None]] = {
    "spaces.flag": on_flag,
    "spaces.moderationlogentry": on_moderation_entry,
}


@receiver(post_save, sender=ActivityEvent, dispatch_uid="members.notify_on_activity")
def notify_on_activity(sender, instance: ActivityEvent, created: bool, raw: bool = False, **kwargs) -> None:
    """Notifications are written in the transaction of the action. A failure here is logged and rolled back to
    a savepoint: a bug in notifications must not stop a member from posting."""
    if not created or raw:
        return
    handler = KIND_HANDLERS.get(instance.kind) or TARGET_HANDLERS.get(instance.target_type)
    if handler is None:
        return
    try:
        with transaction.atomic():
            handler(instance)
    except Exception:
        logger.exception("Notifications for activity %s (%s) failed", instance.pk, instance.kind)


@receiver(post_save, sender=ModerationLogEntry, dispatch_uid="members.notify_on_moderation")
def notify_on_moderation(sender, instance: ModerationLogEntry, created: bool, raw: bool = False, **kwargs) -> None:
    """The moderation audit log is itself a record of events (append-only, written in the moderator's
    transaction): each entry about a member tells that member."""
    if not created or raw:
        return
    try:
        with transaction.atomic():
            moderation_notify(instance)
    except Exception:
        logger.exception("Notification for moderation log entry %s failed", instance.pk)


@receiver(account_erasing, dispatch_uid="members.erase_notifications")
def erase_notification_data(sender, user, **kwargs) -> None:
    """A deleted account keeps no notifications, preferences or mutes."""
    Notification.objects.filter(recipient=user).delete()
    SpaceMute.objects.filter(user=user).delete()
    NotificationPreferences.objects.filter(user=user).delete()


@receiver(account_erasing, dispatch_uid="members.erase_data_exports")
def erase_data_exports(sender, user, **kwargs) -> None:
    """A deleted account's data archives (issue 8) go with the rest of its personal data."""
    from members.exports import data_exports_delete_for

    data_exports_delete_for(user=user)


@receiver(post_save, sender=Notification, dispatch_uid="members.header_counts_saved")
@receiver(post_delete, sender=Notification, dispatch_uid="members.header_counts_deleted")
def notification_changed(sender, instance: Notification, raw: bool = False, **kwargs) -> None:
    """A notification saved or deleted one at a time (the admin, a cascade) changes its recipient's header count.
    The services' bulk writes say so themselves (``forget_header_counts``)."""
    if not raw:
        forget_header_counts([instance.recipient_id])
