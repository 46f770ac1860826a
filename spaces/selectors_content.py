"""Reads shared by every kind of content: comment threads, watchers, the trash and "recently changed".

Every list starts from ``Item.objects.visible_to(user)`` in the query, and each runs a fixed number of queries
whatever the number of rows (select_related / prefetch_related, permission flags from the cached roles).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Value
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from spaces import permissions
from spaces.models import Bookmark, Comment, Item, ItemKind, ModerationState, Reaction, Space, Watch
from spaces.models.items import SEARCH_FIELDS

User = get_user_model()

# The relations ``item_url`` and ``item_label`` read, for lists of items of any kind. Only the item's own space and
# community are joined: a typed row, an answer's question and a comment's target live in the item's space, and
# ``item_url`` hands them the item's space (``_share_space``) instead of the list joining a space and a community for
# every one of them (fifty joins cost PostgreSQL 40 ms of planning per list; these twenty a fraction of it).
ITEM_LINK_RELATED = (
    "space__community",
    "page",
    "file",
    "question",
    "answer__question",
    "event",
    "post",
    "poll",
    "comment__target__page",
    "comment__target__file",
    "comment__target__question",
    "comment__target__answer__question",
    "comment__target__event",
    "comment__target__post",
    "comment__target__poll",
)


def long_texts(paths: tuple[str, ...]) -> tuple[str, ...]:
    """The long texts (text fields: bodies, descriptions and their renderings; an item's search text and vector)
    of the content rows joined along ``paths`` (the space and community aside), for ``.defer()``: a link or a label
    never reads them, and a list of twenty results carried kilobytes of each. (The item manager defers an item's
    own search fields, not those of an item reached through a join: a comment's target.)"""
    deferred = []
    for path in paths:
        model, parts = Item, path.split("__")
        for n, part in enumerate(parts, 1):
            model = model._meta.get_field(part).related_model
            if parts[0] != "space":
                prefix = "__".join(parts[:n])
                deferred += [
                    f"{prefix}__{field.name}"
                    for field in model._meta.concrete_fields
                    if isinstance(field, models.TextField) or (model is Item and field.name in SEARCH_FIELDS)
                ]
    return tuple(dict.fromkeys(deferred))


ITEM_LINK_TEXTS = long_texts(ITEM_LINK_RELATED)


def with_links(rows: QuerySet, via: str = "") -> QuerySet:
    """``rows`` with what ``item_url`` and ``item_label`` read joined in (``ITEM_LINK_RELATED``; reached through
    the relation ``via`` when the rows are not items) and the long texts of those joins left out: for lists of
    links and labels. A list that shows texts (the moderation queue's excerpts) joins ``ITEM_LINK_RELATED`` itself."""
    prefix = f"{via}__" if via else ""
    return rows.select_related(*(prefix + name for name in ITEM_LINK_RELATED)).defer(
        *(prefix + name for name in ITEM_LINK_TEXTS)
    )


# What ``item_label`` reads besides the item: a comment's target, an answer's question, a file's name.
ITEM_LABEL_RELATED = (
    "file",
    "answer__question",
    "comment__target__file",
    "comment__target__answer__question",
)
ITEM_LABEL_TEXTS = long_texts(ITEM_LABEL_RELATED)


# --- Links and labels for any item --------------------------------------------------------------------------
def _related(item: Item, name: str):
    """The typed row behind an item, or None (a reverse one-to-one raises when the row is missing)."""
    return getattr(item, name, None)


def _share_space(source, row) -> None:
    """Give ``row`` the space already read with ``source`` when it is the same one, so building its link reads no
    more rows; a row in another space (or a source whose space was not read) keeps loading its own."""
    if row is None or row.space_id != source.space_id or not type(source).space.is_cached(source):
        return
    if not type(row).space.is_cached(row):
        row.space = source.space


def item_url(item: Item) -> str:
    """Where an item is read: the page, the file, the comment's anchor on its target; else the space."""
    try:
        return _typed_url(item)
    except NoReverseMatch:
        # A kind whose views are not wired yet: the space is still a fine place to send people.
        return item.space.get_absolute_url()


def _typed_url(item: Item) -> str:
    for kind in (ItemKind.PAGE, ItemKind.FILE, ItemKind.QUESTION, ItemKind.EVENT, ItemKind.POST, ItemKind.POLL):
        if item.kind == kind and (typed := _related(item, kind.value)) is not None:
            _share_space(item, typed)
            return typed.get_absolute_url()
    if item.kind == ItemKind.ANSWER and (answer := _related(item, "answer")) is not None:
        _share_space(item, answer.question)
        return answer.get_absolute_url()
    if item.kind == ItemKind.COMMENT and (comment := _related(item, "comment")) is not None:
        _share_space(item, comment.target)
        return f"{item_url(comment.target)}#comment-{comment.pk}"
    return item.space.get_absolute_url()


def item_label(item: Item) -> str:
    """A human title for any item; comments have none of their own and are named after what they are on."""
    if item.kind == ItemKind.COMMENT and (comment := _related(item, "comment")) is not None:
        return _("Comment on “%(title)s”") % {"title": item_label(comment.target)}
    if item.kind == ItemKind.ANSWER and (answer := _related(item, "answer")) is not None:
        return _("Answer to “%(title)s”") % {"title": answer.question.title}
    if item.title:
        return item.title
    if item.kind == ItemKind.FILE and (asset := _related(item, "file")) is not None:
        return asset.name
    return str(item.get_kind_display())


# --- Likes and bookmarks on lists -----------------------------------------------------------------------------
def reaction_annotations(user, item_ref: str = "item_id") -> dict:
    """``liked_by_me`` and ``bookmarked_by_me`` for ``.annotate(**...)`` on a list of items or typed rows, so the
    like and bookmark buttons need no query per row (``share_reactions`` hands them to the row's item)."""
    if not user.is_authenticated:
        return {"liked_by_me": Value(False), "bookmarked_by_me": Value(False)}
    return {
        "liked_by_me": Exists(Reaction.objects.filter(user=user, item_id=OuterRef(item_ref))),
        "bookmarked_by_me": Exists(Bookmark.objects.filter(user=user, item_id=OuterRef(item_ref))),
    }


# An item's search fields as a typed row's join reaches them (``select_related("item...")``), for ``.defer()``: the
# item manager leaves them out of an item's own SELECT, not out of a join from a page, question, answer, comment,
# event or post, which then carried the item's whole text again (a file's, all its extracted text) and its search
# vector, parsed into a Python string for every row. No page shows them.
JOINED_ITEM_TEXTS = tuple(f"item__{name}" for name in SEARCH_FIELDS)


def detail_annotations(user, item_ref: str = "item_id") -> dict:
    """``reaction_annotations`` plus ``watched_by_me``: what a detail page's buttons read, fetched with the row."""
    if not user.is_authenticated:
        return {**reaction_annotations(user, item_ref), "watched_by_me": Value(False)}
    return {
        **reaction_annotations(user, item_ref),
        "watched_by_me": Exists(Watch.objects.filter(user=user, item_id=OuterRef(item_ref))),
    }


def share_reactions(row) -> None:
    """Copy a typed row's ``reaction_annotations`` (and ``watched_by_me``) onto its item, where the tags read them."""
    row.item.liked_by_me = row.liked_by_me
    row.item.bookmarked_by_me = row.bookmarked_by_me
    if hasattr(row, "watched_by_me"):
        row.item.watched_by_me = row.watched_by_me


# --- Comments -----------------------------------------------------------------------------------------------
def _versions_prefetch() -> Prefetch:
    history = Comment.history.model.objects.select_related("history_user").order_by("-history_date", "-history_id")
    return Prefetch("versions", queryset=history, to_attr="version_list")


def comment_thread(target: Item, user) -> list[Comment]:
    """Top-level comments on ``target`` that the user may see, oldest first, each with ``.reply_list``.

    Two queries in all: the comments (with their items and authors) and their earlier versions. Only for a target
    the user may see (``comment_thread_context`` checks); replies whose parent the user may not see are left out by
    the query itself (``permissions.visible_comments_on_seen_target_q``). Each comment carries ready booleans for
    the template: ``can_edit``, ``can_delete``, ``can_hide``, ``is_hidden``.
    """
    # Only called for a target the user may see (comment_thread_context checks): the target is not checked again.
    visible = Item.objects.filter(permissions.visible_comments_on_seen_target_q(user))
    comments = list(
        Comment.objects.filter(target=target, item__in=visible)
        .select_related("item__author")
        .defer(*JOINED_ITEM_TEXTS)
        .prefetch_related(_versions_prefetch())
        .annotate(**reaction_annotations(user))
        .order_by("created_at", "pk")
    )
    by_id = {comment.pk: comment for comment in comments}
    top: list[Comment] = []
    for comment in comments:
        comment.target = target
        comment.item.space = target.space  # its community is loaded: the like button links through it
        share_reactions(comment)
        comment.reply_list = []
        comment.earlier_versions = comment.version_list[1:]
        comment.is_hidden = comment.item.moderation_state != ModerationState.VISIBLE
        comment.can_edit = permissions.can_edit_comment(user, comment)
        comment.can_delete = permissions.can_trash_item(user, comment.item)
        comment.can_hide = permissions.can_hide_item(user, comment.item)
    for comment in comments:
        if comment.parent_id is None:
            top.append(comment)
        elif (parent := by_id.get(comment.parent_id)) is not None:
            comment.parent = parent
            parent.reply_list.append(comment)
    return top


def comment_thread_context(target: Item, user) -> dict:
    """Everything ``spaces/partials/comment_thread.html`` needs, for the inclusion tag and the htmx views."""
    can_read = permissions.can_see_in_context(user, target)
    comments = comment_thread(target, user) if can_read else []
    return {
        "target": target,
        "comments": comments,
        "comment_count": sum(1 + len(c.reply_list) for c in comments),
        "can_comment": can_read and permissions.can_comment(user, target),
        "thread_id": f"comment-thread-{target.pk}",
        "space": target.space,
        "community": target.space.community,
    }


# --- Watches ------------------------------------------------------------------------------------------------
def watchers_of(item: Item) -> QuerySet:
    """Active members watching the item, the item a comment is on, or the item's space.

    Visibility is not applied here: whoever sends notifications filters with the set-based visibility form.
    """
    targets = Q(watches__item_id=item.pk) | Q(watches__space_id=item.space_id)
    if item.kind == ItemKind.COMMENT:
        target_id = Comment.objects.filter(item_id=item.pk).values_list("target_id", flat=True).first()
        if target_id is not None:
            targets |= Q(watches__item_id=target_id)
    return User.objects.filter(targets, is_active=True).distinct()


def is_watching(user, *, item: Item | None = None, space: Space | None = None) -> bool:
    if not user.is_authenticated:
        return False
    if item is not None:
        return Watch.objects.filter(user=user, item=item).exists()
    return Watch.objects.filter(user=user, space=space).exists()


def watch_button_context(target: Item | Space, user, *, watching: bool | None = None) -> dict:
    """What ``spaces/partials/watch_button.html`` needs for an item or a space (one query for the state)."""
    is_space = isinstance(target, Space)
    space = target if is_space else target.space
    kwargs = {"community_slug": space.community.slug, "space_slug": space.slug}
    if is_space:
        can_watch = permissions.can_watch_space(user, target)
        url = reverse("spaces:watch-space", kwargs=kwargs)
    else:
        can_watch = permissions.can_watch_item(user, target) and target.kind != ItemKind.COMMENT
        url = reverse("spaces:watch-item", kwargs={**kwargs, "item_id": target.pk})
    if watching is None and can_watch:
        watching = getattr(target, "watched_by_me", None)
    if watching is None:
        watching = can_watch and is_watching(user, **({"space": target} if is_space else {"item": target}))
    return {
        "can_watch": can_watch,
        "watching": watching,
        "toggle_url": url,
        "is_space": is_space,
        "target": target,
    }


# --- Trash --------------------------------------------------------------------------------------------------
def retention() -> timedelta:
    return timedelta(days=getattr(settings, "TRASH_RETENTION_DAYS", 30))


@dataclass
class TrashEntry:
    item: Item
    label: str
    purge_at: object
    days_left: int


def space_trash(space: Space) -> QuerySet[Item]:
    """Trashed items of a space, newest first. Only for people who pass ``can_manage_trash`` (space admins).

    Not built on ``visible_to``: trashed rows are never "visible" there. The admins who may open the trash can
    see every item of their space (restricted and hidden ones included), so no further filter applies.
    """
    return (
        with_links(Item.objects.filter(space=space, deleted_at__isnull=False))
        .select_related("deleted_by", "author")
        .order_by("-deleted_at", "kind", "pk")
    )


def trash_entries(items) -> list[TrashEntry]:
    now = timezone.now()
    keep = retention()
    entries = []
    for item in items:
        purge_at = item.deleted_at + keep
        days_left = max(0, math.ceil((purge_at - now).total_seconds() / 86400))
        entries.append(TrashEntry(item=item, label=item_label(item), purge_at=purge_at, days_left=days_left))
    return entries


# --- Recently changed ---------------------------------------------------------------------------------------
@dataclass
class Change:
    item: Item
    label: str
    url: str
    changed_by: object
    changed_at: object
    is_hidden: bool


def recent_changes(space: Space, user) -> QuerySet[Item]:
    """Items of the space the user may see, most recently changed first."""
    return (
        with_links(Item.objects.visible_to(user).filter(space=space))
        .select_related("author", "page__last_edited_by")
        .order_by("-updated_at", "-pk")
    )


def change_rows(items) -> list[Change]:
    """One page of ``recent_changes`` ready for the template; no queries (everything was select_related)."""
    rows = []
    for item in items:
        page = _related(item, "page") if item.kind == ItemKind.PAGE else None
        changed_by = (page.last_edited_by if page is not None and page.last_edited_by_id else None) or item.author
        rows.append(
            Change(
                item=item,
                label=item_label(item),
                url=item_url(item),
                changed_by=changed_by,
                changed_at=item.updated_at,
                is_hidden=item.moderation_state != ModerationState.VISIBLE,
            )
        )
    return rows
