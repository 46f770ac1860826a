"""Content as it is shown outside the site: Atom feeds, Open Graph previews and webhook payloads (issue 8).

Every entry starts from ``Item`` rows filtered in the query (``visible_items_q`` for the reader, anonymous for
public feeds), and on top of that a feed never carries hidden, restricted or not-yet-published content, whoever
its reader is: a feed URL travels to feed readers and their servers, so it gets only what any member reads.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser
from django.contrib.syndication.views import Feed
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from spaces import permissions
from spaces.models import Item, ItemKind, Space

FEED_KINDS = (ItemKind.PAGE, ItemKind.QUESTION, ItemKind.EVENT, ItemKind.POST)
FEED_LIMIT = 30
SUMMARY_WORDS = 60
DESCRIPTION_CHARS = 200
# The typed row of each kind and the attribute holding its stored, sanitised HTML.
HTML_FIELDS = {
    ItemKind.PAGE: "body_html",
    ItemKind.QUESTION: "body_html",
    ItemKind.ANSWER: "body_html",
    ItemKind.EVENT: "description_html",
    ItemKind.POST: "body_html",
    ItemKind.POLL: "description_html",
}
FEED_RELATED = ("author", "space__community", "page", "question", "event", "post")


# --- Presentation helpers (feeds, Open Graph, webhooks) -------------------------------------------------------------
def typed(item: Item):
    """The page, question, answer, event, post or poll behind ``item`` (None for other kinds)."""
    if item.kind not in HTML_FIELDS:
        return None
    return getattr(item, item.kind, None)


def stored_html(obj, kind: str) -> str:
    if obj is None or kind not in HTML_FIELDS:
        return ""
    return getattr(obj, HTML_FIELDS[kind]) or ""


def plain_text(stored: str) -> str:
    """The stored HTML as one line of plain text (tags dropped, entities decoded, spaces collapsed)."""
    return " ".join(html.unescape(strip_tags(stored)).split())


def plain_excerpt(stored: str, chars: int = DESCRIPTION_CHARS) -> str:
    return Truncator(plain_text(stored)).chars(chars)


def html_excerpt(stored: str, words: int = SUMMARY_WORDS) -> str:
    """The first words of the stored, sanitised HTML, with its tags closed (safe to embed)."""
    return Truncator(stored).words(words, html=True)


def item_title(item: Item, obj=None) -> str:
    if item.title:
        return item.title
    if item.kind == ItemKind.ANSWER and obj is not None:
        return _("Answer to “%(question)s”") % {"question": obj.question.title}
    return item.get_kind_display()


def author_name(item: Item) -> str:
    return item.author.public_name if item.author_id and item.author else _("former member")


# --- What a feed carries ----------------------------------------------------------------------------------------
def _shown_to_any_reader_q() -> Q:
    """On top of the reader's own visibility: nothing hidden, restricted or waiting for its publication time."""
    return Q(deleted_at__isnull=True, moderation_state="visible", is_restricted=False, publish_at__lte=timezone.now())


def feed_items(user, spaces: QuerySet[Space] | Space) -> list[Item]:
    """The newest content of ``spaces`` (one space, or a queryset of them) that ``user`` may read now. One query."""
    where = Q(space=spaces) if isinstance(spaces, Space) else Q(space__in=spaces.values("pk"))
    items = list(
        Item.objects.visible_to(user)
        .filter(_shown_to_any_reader_q(), where, kind__in=FEED_KINDS)
        .select_related(*FEED_RELATED)
        .order_by("-publish_at", "-pk")[:FEED_LIMIT]
    )
    for item in items:
        obj = typed(item)
        if obj is not None:
            obj.space = item.space  # its URL needs the space and community, already joined
    return items


@dataclass
class FeedSource:
    """One feed: its title, where it points, and its entries (already fetched)."""

    title: str
    link: str
    description: str
    items: list[Item] = field(default_factory=list)

    def etag(self) -> str:
        """Changes whenever an entry appears, goes, or changes (title, text, author)."""
        parts = [self.title, self.description] + [
            f"{i.pk}:{i.updated_at.isoformat()}:{i.title}:{author_name(i)}" for i in self.items
        ]
        return '"' + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32] + '"'


def space_source(space: Space, user=None) -> FeedSource:
    reader = user or AnonymousUser()
    return FeedSource(
        title=space.name,
        link=space.get_absolute_url(),
        description=space.description or _("Recent content in %(space)s") % {"space": space.name},
        items=feed_items(reader, space),
    )


def community_source(community) -> FeedSource:
    """The public content of the community's open spaces."""
    spaces = Space.objects.filter(community=community).filter(permissions.readable_spaces_q(AnonymousUser()))
    return FeedSource(
        title=community.name,
        link=community.get_absolute_url(),
        description=community.description or _("Recent content in %(community)s") % {"community": community.name},
        items=feed_items(AnonymousUser(), spaces),
    )


def member_source(user, site_name: str) -> FeedSource:
    """A member's own feed: what is new in every space where they hold a role, as they may read it now."""
    spaces = Space.objects.filter(permissions.member_spaces_q(user))
    return FeedSource(
        title=_("My spaces · %(site)s") % {"site": site_name},
        link="/",
        description=_("Recent content in your spaces"),
        items=feed_items(user, spaces),
    )


# --- The Atom document ------------------------------------------------------------------------------------------
class ItemsFeed(Feed):
    """An Atom feed of ``FeedSource`` entries; one instance per request."""

    feed_type = Atom1Feed

    def __init__(self, source: FeedSource):
        super().__init__()
        self.source = source

    def get_object(self, request, *args, **kwargs) -> FeedSource:
        self.request = request
        return self.source

    def _absolute(self, path: str) -> str:
        # Built from the request, as the calendar feeds do (the sites framework's domain is not kept up to date).
        return self.request.build_absolute_uri(path)

    def title(self, source: FeedSource) -> str:
        return source.title

    def link(self, source: FeedSource) -> str:
        return self._absolute(source.link)

    def feed_url(self, source: FeedSource) -> str:
        return self.request.build_absolute_uri()

    def subtitle(self, source: FeedSource) -> str:
        return source.description

    def items(self, source: FeedSource) -> list[Item]:
        return source.items

    def item_title(self, item: Item) -> str:
        return item_title(item, typed(item))

    def item_link(self, item: Item) -> str:
        obj = typed(item)
        return self._absolute(obj.get_absolute_url() if obj is not None else item.space.get_absolute_url())

    def item_guid(self, item: Item) -> str:
        return f"tag:copapp,item:{item.pk}"

    item_guid_is_permalink = False

    def item_description(self, item: Item) -> str:
        return html_excerpt(stored_html(typed(item), item.kind))

    def item_author_name(self, item: Item) -> str:
        return author_name(item)

    def item_pubdate(self, item: Item):
        return item.publish_at

    def item_updateddate(self, item: Item):
        return max(item.updated_at, item.publish_at)

    def item_categories(self, item: Item) -> list[str]:
        return [str(item.get_kind_display())]
