"""Like and bookmark buttons for any item.

{% load space_reactions %}
{% like_button item %}       the like count, and a toggle (aria-pressed) for people who may like it
{% bookmark_button item %}   "Save" toggle for signed-in people who can see it

Lists annotate ``liked_by_me`` / ``bookmarked_by_me`` on each item (``selectors_content.reaction_annotations``)
so the buttons cost no query per row; without them (a detail page) each button asks once.
"""

from django import template
from django.contrib.auth.models import AnonymousUser

from spaces import selectors_posts
from spaces.models import Item

register = template.Library()


def _request_bits(context) -> dict:
    request = context.get("request")
    user = context.get("user") or getattr(request, "user", None) or AnonymousUser()
    return {"request": request, "user": user, "next": request.get_full_path() if request is not None else ""}


@register.inclusion_tag("spaces/partials/like_button.html", takes_context=True)
def like_button(context, item: Item) -> dict:
    bits = _request_bits(context)
    return {**selectors_posts.like_button_context(item, bits["user"]), **bits}


@register.inclusion_tag("spaces/partials/bookmark_button.html", takes_context=True)
def bookmark_button(context, item: Item) -> dict:
    bits = _request_bits(context)
    return {**selectors_posts.bookmark_button_context(item, bits["user"]), **bits}
