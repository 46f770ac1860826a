"""Template tags for finding peers on the member's home page (issue 9, item 2).

{% load member_peers %}
{% people_to_meet %}       up to six members the signed-in member may want to meet, each with why (one query)
{% following_stream %}     the latest contributions of the members they follow, as they may see them (one query)

Tags rather than context from the home view, so the home page (``copapp.views.home``) stays unaware of members'
follows; each tag reads through ``members.selectors`` and costs a fixed number of queries.
"""

from django import template

from members import selectors

register = template.Library()


def _user(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


@register.inclusion_tag("members/partials/people_to_meet.html", takes_context=True)
def people_to_meet(context) -> dict:
    user = _user(context)
    return {
        "suggestions": selectors.people_to_meet(user) if user else [],
        "request": context.get("request"),
    }


@register.inclusion_tag("members/partials/following_stream.html", takes_context=True)
def following_stream(context) -> dict:
    user = _user(context)
    return {"items": selectors.following_stream(user) if user else [], "request": context.get("request")}
