"""Template tags for notifications.

{% load member_notifications %}
{% mute_button space %}    mute or unmute notifications from a space (htmx; works without JavaScript)
"""

from django import template

from members.selectors_notifications import is_muted
from spaces.permissions import can_read_space

register = template.Library()


@register.inclusion_tag("members/partials/mute_button.html", takes_context=True)
def mute_button(context, space) -> dict:
    """A toggle for signed-in people who read the space (or muted it before); one query for the state."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    muted = is_muted(user, space)
    return {
        "show": muted or can_read_space(user, space),
        "muted": muted,
        "space": space,
        "request": request,
        "next": request.get_full_path(),
    }
