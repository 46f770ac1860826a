"""Template tags for content of any kind: the comment thread and the watch button.

{% load space_comments %}
{% comment_section page.item user %}   the thread and the form to post (htmx; works without JS)
{% watch_button page.item user %}      or {% watch_button space user %}
"""

from django import template

from spaces import selectors_content
from spaces.models import Item, Space

register = template.Library()


@register.inclusion_tag("spaces/partials/comment_section.html", takes_context=True)
def comment_section(context, item: Item, user) -> dict:
    """Comments on ``item`` as ``user`` may see them, in a fixed number of queries however many there are."""
    thread = selectors_content.comment_thread_context(item, user)
    return {**thread, "user": user, "request": context.get("request")}


@register.inclusion_tag("spaces/partials/watch_button.html", takes_context=True)
def watch_button(context, target: Item | Space, user) -> dict:
    """A toggle to watch an item or a space; renders nothing for people who may not watch it."""
    request = context.get("request")
    data = selectors_content.watch_button_context(target, user)
    data.update(user=user, request=request, next=request.get_full_path() if request is not None else "")
    return data
