"""The space stream: everything posted in a space, newest first, in one query per page of results.

The stream mixes pages, questions, events, posts, polls and library files. Answers and comments appear under
what they answer or comment on, not as entries of their own. Every row comes from
``Item.objects.visible_to(user)`` in the query, so hidden, restricted, scheduled and trashed items never show,
and the typed rows are joined in the same query (``select_related``), so a page of 20 costs the same as 2.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from spaces.models import Item, ItemKind, Post, Space

STREAM_KINDS = (ItemKind.PAGE, ItemKind.QUESTION, ItemKind.EVENT, ItemKind.POST, ItemKind.POLL, ItemKind.FILE)
# Every row of a space's stream is in that space: its space (and the typed row's) is handed over by ``in_space``
# rather than joined again for each kind, which keeps the query's joins (and PostgreSQL's planning time) down.
STREAM_RELATED = ("author", "page", "question", "event", "post", "poll", "file")
TYPED = ("page", "question", "event", "post", "poll", "file")
# What a stream card reads (``spaces/partials/stream_item.html``, ``item_url``, ``item_label``), and no other column:
# the stream joins seven tables, and building, reading and turning into objects their 150 columns cost 2.5 of a
# stream query's 6.5 ms at the scale data set, for a card that shows a title and a few counts. (A field left out
# here and read by the card would cost a query per card: the stream's query-count tests, with a card of every
# kind at two sizes, would see it.)
STREAM_FIELDS = (
    *("kind", "title", "publish_at", "moderation_state", "like_count", "space_id", "author_id"),
    *("author__username", "author__display_name", "author__deleted_at"),
    "page__slug",
    *("question__slug", "question__answer_count", "question__accepted_answer_id"),
    *("event__slug", "event__starts_at", "event__venue", "event__going_count"),
    *("post__body_html", "post__is_announcement", "post__is_pinned"),
    *("poll__voter_count", "poll__closes_at"),
    "file__name",
)


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
        .only(*STREAM_FIELDS)
        .order_by("-publish_at", "-pk")
    )


def has_pinned_posts() -> Exists:
    """Whether a space (the outer row) has a pinned post in any state, for ``get_space_for_user(facts=...)``: most
    spaces have none, and asking for the pinned posts the reader may see cost 2 ms of the space home."""
    return Exists(Post.objects.filter(space=OuterRef("pk"), is_pinned=True))


def space_pinned_posts(space: Space, user) -> QuerySet[Item]:
    """Pinned posts, shown above the stream (most recently pinned first).

    A post's own ``space`` is its item's (posts never move): said for the post too, the database starts from the
    space's pinned posts (index on space, is_pinned) instead of checking every post of the space for the flag
    (1.7 -> 0.3 ms for a space of 400 posts at the scale data set)."""
    return (
        Item.objects.visible_to(user, kinds=(ItemKind.POST,))
        .filter(space=space, post__space=space, post__is_pinned=True)
        .select_related(*STREAM_RELATED)
        .only(*STREAM_FIELDS)
        .order_by("-post__pinned_at", "-pk")
    )
