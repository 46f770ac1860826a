"""Open Graph and Twitter card tags, and the Atom feed link, for the page head (issue 8, item 2).

{% load space_og %}
{% og_meta page %}        a page, question, event or post; a space; a community

Content anyone may read (an open space's visible, unrestricted, published content; an open space's home; a
community's page) gets its title, a plain-text excerpt and its address. Anything else gets only the site's
generic tags: none of its text, not even its address (a slug carries words of the title). The decision is the
anonymous visitor's ``can_see_item``, answered without a query from the rows the detail view already loaded.
"""

from __future__ import annotations

from django import template
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from communities.models import Community
from spaces import permissions, syndication
from spaces.models import Item, Space, Visibility

register = template.Library()


def _space_feed(space: Space) -> str:
    if space.visibility != Visibility.OPEN:
        return ""
    return reverse("spaces:space-feed", kwargs={"community_slug": space.community.slug, "space_slug": space.slug})


def _about(obj) -> dict | None:
    """Title, description, type and feed of ``obj`` when anyone may read it; None otherwise."""
    if isinstance(obj, Community):
        return {
            "title": obj.name,
            "description": syndication.plain_excerpt(obj.description or ""),
            "type": "website",
            "feed": reverse("spaces:community-feed", kwargs={"community_slug": obj.slug}),
            "feed_title": obj.name,
        }
    if isinstance(obj, Space):
        if obj.visibility != Visibility.OPEN:
            return None
        return {
            "title": obj.name,
            "description": syndication.plain_excerpt(obj.description or ""),
            "type": "website",
            "feed": _space_feed(obj),
            "feed_title": obj.name,
        }
    item = getattr(obj, "item", None)
    if not isinstance(item, Item):
        return None
    if not Item._meta.get_field("space").is_cached(item):
        item.space = obj.space  # the view loaded it with the content: no query
    if not permissions.can_see_item(AnonymousUser(), item):
        return None
    if item.kind == "post" and getattr(obj, "published_at", True) is None:
        return None  # due, but not gone out yet
    return {
        "title": syndication.item_title(item, obj),
        "description": syndication.plain_excerpt(syndication.stored_html(obj, item.kind)),
        "type": "article",
        "feed": _space_feed(obj.space),
        "feed_title": obj.space.name,
    }


@register.inclusion_tag("spaces/partials/og_meta.html", takes_context=True)
def og_meta(context, obj) -> dict:
    about = _about(obj)
    request = context.get("request")
    data = {"site_name": settings.SITE_NAME, "public": about is not None}
    if about is not None:
        data.update(about)
        url = obj.get_absolute_url()
        data["url"] = request.build_absolute_uri(url) if request is not None else f"{settings.SITE_URL}{url}"
    return data
