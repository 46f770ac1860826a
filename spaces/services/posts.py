"""Every write to posts, likes, bookmarks and mentions.

A post is an ``Item(kind="post")`` plus a ``Post`` row with the Markdown source and its rendered HTML (bare
URLs linked, @handles linked to profiles). A scheduled post gets ``Item.publish_at`` in the future and the same
instant as its ``created_at``, so streams sort it where it will appear; until then ``visible_items_q`` shows it
only to its author and the space's moderators. ``posts_publish_due`` (a Celery beat task, every minute) stamps
``published_at`` and records the activity exactly once, when the time has come.

Likes and bookmarks work on any item. ``Item.like_count`` is denormalised: it is changed with
``QuerySet.update(F(...))`` in the same transaction as the ``Reaction`` row it counts.
"""

from __future__ import annotations

import html
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from analytics.recording import record_activity
from communities.services import onboarding_ensure
from copapp.markdown import mention_handles, render_markdown
from spaces import permissions
from spaces.models import Bookmark, Item, ItemKind, Mention, Post, Reaction, Space
from spaces.services.moderation import log_moderator_edit, spam_check, spam_check_edit

MAX_BODY = 20_000  # Post.body's max_length
TITLE_LENGTH = 80
MAX_SCHEDULE_AHEAD = timedelta(days=365)


# --- Mentions ----------------------------------------------------------------------------------------------
def mentioned_users(text: str) -> dict:
    """Active members named by @handle in ``text`` (at most ``MAX_MENTIONS``), keyed by lower-cased handle.

    One query, none when the text has no @handle.
    """
    handles = mention_handles(text)
    if not handles:
        return {}
    users = (
        get_user_model()
        .objects.annotate(handle=Lower("username"))
        .filter(handle__in=handles, is_active=True, deleted_at__isnull=True)
    )
    return {user.handle: user for user in users}


def mention_links(text: str) -> dict[str, str]:
    """``render_markdown(..., mentions=...)`` for ``text``: each mentioned member's profile URL."""
    return {
        handle: reverse("members:profile", kwargs={"username": user.username})
        for handle, user in mentioned_users(text).items()
    }


def mention_sync(item: Item, text: str) -> list[Mention]:
    """Make the item's ``Mention`` rows match the @handles in ``text``; returns the rows it created.

    Only members who can see the item are recorded (the notification issue reads these rows), never the author.
    Called on create and edit of posts, comments, questions and answers, and when a scheduled post goes out
    (members who could not see it before can now).
    """
    users = [
        user
        for user in mentioned_users(text).values()
        if user.pk != item.author_id and permissions.can_see_item(user, item)
    ]
    if not users:
        Mention.objects.filter(item=item).delete()
        return []
    keep = {user.pk for user in users}
    Mention.objects.filter(item=item).exclude(user_id__in=keep).delete()
    existing = set(Mention.objects.filter(item=item).values_list("user_id", flat=True))
    return Mention.objects.bulk_create(
        [Mention(item=item, user=user) for user in users if user.pk not in existing], ignore_conflicts=True
    )


# --- Posts -------------------------------------------------------------------------------------------------
def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": [_("Write something before posting.")]})
    if len(body) > MAX_BODY:
        raise ValidationError({"body": [_("Keep posts under %d characters.") % MAX_BODY]})
    return body


def _clean_publish_at(publish_at: datetime | None, now: datetime) -> datetime | None:
    if publish_at is None:
        return None
    if timezone.is_naive(publish_at):
        raise ValidationError({"publish_at": [_("Give the publication time with its time zone.")]})
    if publish_at <= now:
        raise ValidationError({"publish_at": [_("Choose a time in the future, or leave it empty to post now.")]})
    if publish_at > now + MAX_SCHEDULE_AHEAD:
        raise ValidationError({"publish_at": [_("Schedule a post at most a year ahead.")]})
    return publish_at


def post_title(body: str) -> str:
    """The first line of the body as plain text (Markdown rendered, tags dropped), at most 80 characters."""
    first = next((line for line in body.splitlines() if line.strip()), "")
    text = " ".join(html.unescape(strip_tags(render_markdown(first))).split())
    return Truncator(text).chars(TITLE_LENGTH)


def _render(post: Post) -> None:
    post.body_html = render_markdown(post.body, linkify=True, mentions=mention_links(post.body))


def _record(actor, kind: str, post: Post, occurred_at: datetime | None = None) -> None:
    space = post.space
    record_activity(
        actor=actor,
        kind=kind,
        community_id=space.community_id,
        space_id=space.pk,
        target=post,
        occurred_at=occurred_at,
    )


@transaction.atomic
def post_create(
    *, actor, space: Space, body: str, is_announcement: bool = False, publish_at: datetime | None = None
) -> Post:
    """Post to the space's stream now, or at ``publish_at`` (a later, time-zone-aware instant).

    Announcements (a flag the notification code reads) are for the space's moderators.
    """
    if not permissions.can_post(actor, space):
        raise PermissionDenied
    if is_announcement and not permissions.can_announce(actor, space):
        raise PermissionDenied
    now = timezone.now()
    body = _clean_body(body)
    publish_at = _clean_publish_at(publish_at, now)
    onboarding_ensure(user=actor, community=space.community)
    spam_check(actor, space, body)
    item = Item.objects.create(
        kind=ItemKind.POST, space=space, author=actor, title=post_title(body), publish_at=publish_at or now
    )
    post = Post(item=item, space=space, body=body, is_announcement=is_announcement)
    post.published_at = None if publish_at else now
    _render(post)
    post.full_clean(exclude=["item", "space"])
    post.save()
    if publish_at:
        # created_at is auto_now_add: stamp the scheduled instant afterwards, so streams sort it where it appears.
        Item.objects.filter(pk=item.pk).update(created_at=publish_at)
        Post.objects.filter(pk=post.pk).update(created_at=publish_at)
        item.created_at = post.created_at = publish_at
    mention_sync(item, body)
    _record(actor, "post_schedule" if publish_at else "post_create", post)
    return post


_UNCHANGED = object()


def _same_minute(new, current: datetime) -> bool:
    """The form's datetime-local input has minutes only: the time shown back unchanged is not a new time."""
    if not isinstance(new, datetime) or timezone.is_naive(new):
        return False
    return abs(new - current) < timedelta(minutes=1)


@transaction.atomic
def post_edit(
    *,
    actor,
    post: Post,
    body: str,
    is_announcement: bool | None = None,
    publish_at: datetime | None | object = _UNCHANGED,
) -> Post:
    """Rewrite a post. ``is_announcement`` (moderators) is left alone when None. ``publish_at`` moves a post
    that has not gone out yet to another future time, or (None) publishes it now; a published post cannot be
    rescheduled."""
    if not permissions.can_edit_post(actor, post):
        raise PermissionDenied
    if is_announcement is not None and is_announcement != post.is_announcement:
        if not permissions.can_announce(actor, post.space):
            raise PermissionDenied
    now = timezone.now()
    body = _clean_body(body)
    if body != post.body:
        spam_check_edit(actor, post.space, body, post.body)
    before = {"body": post.body, "is_announcement": post.is_announcement, "publish_at": post.item.publish_at}
    fields: list[str] = []
    publish_now = False
    if publish_at is not _UNCHANGED and not _same_minute(publish_at, post.item.publish_at):
        if post.published_at is not None:
            raise ValidationError({"publish_at": [_("This post has already been published.")]})
        publish_now = publish_at is None
        when = now if publish_now else _clean_publish_at(publish_at, now)
        post.item.publish_at = post.item.created_at = post.created_at = when
        fields.append("created_at")
    if body != post.body:
        post.body, post.edited_at = body, now
        _render(post)
        fields += ["body", "body_html", "edited_at"]
    if is_announcement is not None and is_announcement != post.is_announcement:
        post.is_announcement = is_announcement
        fields.append("is_announcement")
    if not fields:
        return post
    post.full_clean(exclude=["item", "space"])
    post.save(update_fields=fields)
    post.item.title = post_title(body)
    post.item.save(update_fields=["title", "publish_at", "created_at", "updated_at"])
    if publish_now:
        _go_out(post, now)
    mention_sync(post.item, body)
    after = {"body": post.body, "is_announcement": post.is_announcement, "publish_at": post.item.publish_at}
    log_moderator_edit(actor=actor, item=post.item, before=before, after=after)
    if fields != ["created_at"] or not publish_now:
        _record(actor, "post_edit", post)
    return post


def _set_pinned(actor, post: Post, pinned: bool) -> Post:
    if not permissions.can_pin_post(actor, post):
        raise PermissionDenied
    if post.is_pinned == pinned:
        return post
    post.is_pinned, post.pinned_at = pinned, timezone.now() if pinned else None
    post.save(update_fields=["is_pinned", "pinned_at"])
    _record(actor, "post_pin" if pinned else "post_unpin", post)
    return post


@transaction.atomic
def post_pin(*, actor, post: Post) -> Post:
    """Moderators pin a post to the top of the space's posts (most recently pinned first)."""
    return _set_pinned(actor, post, True)


@transaction.atomic
def post_unpin(*, actor, post: Post) -> Post:
    return _set_pinned(actor, post, False)


def _go_out(post: Post, now: datetime) -> bool:
    """Claim the post's publication and record it (``post_create``, by its author, at its time).

    The claim is a conditional UPDATE: of two workers (or a worker and a "publish now") only one wins.
    """
    if not Post.objects.filter(pk=post.pk, published_at__isnull=True).update(published_at=now):
        return False
    post.published_at = now
    # Mentions first: the notification code reads the item's Mention rows when it sees the activity.
    mention_sync(post.item, post.body)
    if post.item.author is not None:
        _record(post.item.author, "post_create", post, occurred_at=post.item.publish_at)
    return True


PUBLISH_RELATED = ("item__space__community", "item__author__profile", "space")


def posts_publish_due(*, now: datetime | None = None) -> int:
    """Publish scheduled posts whose time has come: stamp ``published_at``, record the mentions they now may
    carry and the ``post_create`` activity (dated at the scheduled time). Returns how many went out.

    Safe to run twice and from two workers at once: each post is claimed by a conditional UPDATE, which only
    one of them can win; the activity is recorded in the same transaction as the claim. Trashed posts wait.
    """
    now = now or timezone.now()
    due = Post.objects.filter(
        published_at__isnull=True, item__publish_at__lte=now, item__deleted_at__isnull=True
    ).values_list("pk", flat=True)
    published = 0
    for post_id in list(due[:500]):
        with transaction.atomic():
            # None if it was deleted for good meanwhile.
            post = Post.objects.select_related(*PUBLISH_RELATED).filter(pk=post_id).first()
            if post is not None and _go_out(post, now):
                published += 1
    return published


# --- Likes and bookmarks -----------------------------------------------------------------------------------
def _count(item: Item) -> int:
    return Item.objects.values_list("like_count", flat=True).get(pk=item.pk)


@transaction.atomic
def like_toggle(*, actor, item: Item) -> tuple[bool, int]:
    """Like ``item`` (any kind) or take the like back; returns (liked now, like count).

    One like per member and item (a unique constraint: a double click cannot count twice); never on one's own
    content. Viewers may like.
    """
    if actor.is_authenticated and item.author_id == actor.pk:
        raise ValidationError(_("You cannot like your own content."))
    if not permissions.can_like(actor, item):
        raise PermissionDenied
    if Reaction.objects.filter(user=actor, item=item).delete()[0]:
        Item.objects.filter(pk=item.pk, like_count__gt=0).update(like_count=F("like_count") - 1)
        item.like_count = _count(item)
        return False, item.like_count
    try:
        with transaction.atomic():
            Reaction.objects.create(user=actor, item=item)
    except IntegrityError:  # the same member's other request got there first
        item.like_count = _count(item)
        return True, item.like_count
    Item.objects.filter(pk=item.pk).update(like_count=F("like_count") + 1)
    item.like_count = _count(item)
    record_activity(
        actor=actor, kind="like_add", community_id=item.space.community_id, space_id=item.space_id, target=item
    )
    return True, item.like_count


@transaction.atomic
def bookmark_toggle(*, actor, item: Item) -> bool:
    """Save ``item`` to the member's list, or take it off; returns whether it is saved now.

    Taking a bookmark off needs no permission (one may drop one's own bookmark of anything).
    """
    if not actor.is_authenticated:
        raise PermissionDenied
    if Bookmark.objects.filter(user=actor, item=item).delete()[0]:
        return False
    if not permissions.can_bookmark(actor, item):
        raise PermissionDenied
    try:
        with transaction.atomic():
            Bookmark.objects.create(user=actor, item=item)
    except IntegrityError:
        return True
    record_activity(
        actor=actor, kind="bookmark_add", community_id=item.space.community_id, space_id=item.space_id, target=item
    )
    return True
