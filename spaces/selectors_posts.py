"""Reads for posts, likes and bookmarks. Every list starts from ``Item.objects.visible_to(user)`` in the query
and runs a fixed number of queries whatever the number of rows (the like and bookmark state of each row is
annotated with ``Exists``, never fetched per row)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import Http404
from django.urls import reverse

from spaces import permissions, selectors_content
from spaces.models import Bookmark, Comment, Item, Post, Reaction, Space


def visible_posts(user, space: Space) -> QuerySet[Post]:
    """Posts of the space the user may see; scheduled ones only for their author and the space's moderators."""
    return Post.objects.filter(space=space, item__in=Item.objects.visible_to(user, kinds=("post",)))


def post_list(user, space: Space) -> QuerySet[Post]:
    """Pinned posts first (most recently pinned first), then the newest (a scheduled post by its time)."""
    return (
        visible_posts(user, space)
        .select_related("item__author")
        .defer(*selectors_content.JOINED_ITEM_TEXTS)
        .annotate(**selectors_content.reaction_annotations(user))
        .order_by("-is_pinned", "-pinned_at", "-created_at", "-pk")
    )


def _ready(post: Post, user, space: Space) -> Post:
    post.space = post.item.space = space
    selectors_content.share_reactions(post)
    post.is_scheduled = permissions.is_scheduled(post.item)
    post.can_edit = permissions.can_edit_post(user, post)
    return post


def post_rows(posts, user, space: Space) -> list[Post]:
    """One page of ``post_list`` for the template: ready booleans and the visible comment count of each post
    (one query for all the counts)."""
    posts = list(posts)
    counts = dict(
        Comment.objects.filter(
            target_id__in=[p.item_id for p in posts], item__in=Item.objects.visible_to(user, kinds=("comment",))
        )
        .order_by()
        .values("target_id")
        .annotate(n=Count("pk"))
        .values_list("target_id", "n")
    )
    for post in posts:
        _ready(post, user, space)
        post.comment_count = counts.get(post.item_id, 0)
    return posts


POST_ACTIONS = {"edit": "can_edit_post", "pin": "can_pin_post"}


def get_post_for_user(user, community_slug: str, space_slug: str, post_id: int, action: str = "view") -> Post:
    """404 when the user may not see the post (exactly as if it did not exist), 403 when they may not act.

    People who see a private space but may not read it get 403, as for its other content.
    """
    space = permissions.get_space_for_user(user, community_slug, space_slug, action="read")
    post = (
        visible_posts(user, space)
        .select_related("item__author")
        .defer(*selectors_content.JOINED_ITEM_TEXTS)
        .annotate(**selectors_content.reaction_annotations(user))
        .filter(pk=post_id)
        .first()
    )
    if post is None:
        raise Http404
    _ready(post, user, space)
    if action in POST_ACTIONS and not getattr(permissions, POST_ACTIONS[action])(user, post):
        raise PermissionDenied
    return post


# --- Like and bookmark buttons ------------------------------------------------------------------------------
def _button_url(name: str, item: Item) -> str:
    space = item.space
    return reverse(
        f"spaces:{name}", kwargs={"community_slug": space.community.slug, "space_slug": space.slug, "item_id": item.pk}
    )


def like_button_context(item: Item, user, *, liked: bool | None = None) -> dict:
    """What ``spaces/partials/like_button.html`` needs. Lists annotate ``liked_by_me`` (and may set
    ``can_like``) on the item; otherwise this costs one query, as on a detail page."""
    if liked is None:
        liked = getattr(item, "liked_by_me", None)
    if liked is None:
        liked = user.is_authenticated and Reaction.objects.filter(user=user, item=item).exists()
    can_like = getattr(item, "can_like", None)
    if can_like is None:
        can_like = permissions.can_like(user, item)
    return {
        "item": item,
        "liked": liked,
        "can_like": can_like,
        "like_count": item.like_count,
        "toggle_url": _button_url("like", item),
    }


def bookmark_button_context(item: Item, user, *, saved: bool | None = None) -> dict:
    """What ``spaces/partials/bookmark_button.html`` needs; as ``like_button_context``, with ``bookmarked_by_me``
    and ``can_bookmark``. Renders nothing for anonymous visitors."""
    if not user.is_authenticated:
        return {"item": item, "can_bookmark": False, "saved": False}
    if saved is None:
        saved = getattr(item, "bookmarked_by_me", None)
    if saved is None:
        saved = Bookmark.objects.filter(user=user, item=item).exists()
    can_bookmark = getattr(item, "can_bookmark", None)
    if can_bookmark is None:
        can_bookmark = permissions.can_bookmark(user, item)
    return {"item": item, "saved": saved, "can_bookmark": can_bookmark, "toggle_url": _button_url("bookmark", item)}


# --- The member's saved list -----------------------------------------------------------------------------------
@dataclass
class SavedEntry:
    bookmark: Bookmark
    item: Item
    label: str
    url: str


def saved_items(user) -> QuerySet[Bookmark]:
    """The member's bookmarks of items they can still see, most recently saved first.

    A bookmark of something that was trashed, hidden, restricted, or is in a space the member has left (or that
    turned closed) simply stops showing; it comes back if the item becomes visible again.
    """
    return (
        selectors_content.with_links(Bookmark.objects.filter(user=user, item__in=Item.objects.visible_to(user)), "item")
        .select_related("item__author")
        .defer(*selectors_content.JOINED_ITEM_TEXTS)
        .order_by("-created_at", "-pk")
    )


def saved_entries(bookmarks) -> list[SavedEntry]:
    """One page of ``saved_items`` for the template; no queries (everything was select_related)."""
    entries = []
    for bookmark in bookmarks:
        item = bookmark.item
        # Every row is visible (the query said so) and saved: the button needs no query to know it.
        item.bookmarked_by_me = item.can_bookmark = True
        entries.append(
            SavedEntry(
                bookmark=bookmark,
                item=item,
                label=selectors_content.item_label(item),
                url=selectors_content.item_url(item),
            )
        )
    return entries
