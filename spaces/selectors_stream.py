"""The space stream: everything posted in a space, newest first, in one query per page of results.

The stream mixes pages, questions, events, posts, polls and library files. Answers and comments appear under
what they answer or comment on, not as entries of their own. Every row comes from
``Item.objects.visible_to(user)`` in the query, so hidden, restricted, scheduled and trashed items never show,
and the typed rows are joined in the same query (``select_related``), so a page of 20 costs the same as 2.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from spaces.models import Item, ItemKind, Space
from spaces.selectors_content import long_texts

STREAM_KINDS = (ItemKind.PAGE, ItemKind.QUESTION, ItemKind.EVENT, ItemKind.POST, ItemKind.POLL, ItemKind.FILE)
# Every row of a space's stream is in that space: its space (and the typed row's) is handed over by ``in_space``
# rather than joined again for each kind, which keeps the query's joins (and PostgreSQL's planning time) down.
STREAM_RELATED = ("author__profile", "page", "question", "event", "post", "poll", "file")
TYPED = ("page", "question", "event", "post", "poll", "file")
# What a stream card never shows: the long texts of its typed rows (a card is a page's, question's, event's or
# poll's title and counts), except a post's rendered text, which is the card. A wiki page's body is kilobytes,
# twice over with its rendering, and every card's was read and decoded to be thrown away.
STREAM_DEFERRED = tuple(name for name in long_texts(TYPED) if name != "post__body_html")


def in_space(items, space: Space) -> list[Item]:
    """The stream's rows with ``space`` set on each item and its typed row, so links cost no query."""
    rows = list(items)
    for item in rows:
        item.space = space
        for name in TYPED:
            typed = getattr(item, name, None) if name in item._state.fields_cache else None
            if typed is not None:
                typed.space = space
    return rows


def space_stream(space: Space, user, kind: str | None = None) -> QuerySet[Item]:
    """The space's stream for ``user``, newest first (by when each item appeared: scheduled posts at their time).

    Files attached to a page or an event are part of that page or event, not entries of their own.
    """
    kinds = (kind,) if kind in STREAM_KINDS else STREAM_KINDS
    # Told the kinds, the visibility filter carries only the context checks they need (a file's page or event):
    # none of an answer's or a comment's, which PostgreSQL planned for every page view (half its planning time).
    return (
        Item.objects.visible_to(user, kinds=tuple(kinds))
        .filter(space=space)
        .filter(~Q(kind=ItemKind.FILE) | Q(file__page__isnull=True, file__event__isnull=True))
        .select_related(*STREAM_RELATED)
        .defer(*STREAM_DEFERRED)
        .order_by("-publish_at", "-pk")
    )


def space_pinned_posts(space: Space, user) -> QuerySet[Item]:
    """Pinned posts, shown above the stream (most recently pinned first).

    A post's own ``space`` is its item's (posts never move): said for the post too, the database starts from the
    space's pinned posts (index on space, is_pinned) instead of checking every post of the space for the flag
    (1.7 -> 0.3 ms for a space of 400 posts at the scale data set)."""
    return (
        Item.objects.visible_to(user, kinds=(ItemKind.POST,))
        .filter(space=space, post__space=space, post__is_pinned=True)
        .select_related(*STREAM_RELATED)
        .defer(*STREAM_DEFERRED)
        .order_by("-post__pinned_at", "-pk")
    )
