"""Template helpers for lists that mix kinds of content (the space stream, saved items)."""

from django import template

from spaces import selectors_content

register = template.Library()


@register.filter
def item_url(item) -> str:
    return selectors_content.item_url(item)


@register.filter
def item_label(item) -> str:
    return selectors_content.item_label(item)
