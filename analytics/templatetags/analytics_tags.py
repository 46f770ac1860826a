"""Template helpers of the dashboards: the header's "Analytics" link."""

from django import template

from analytics.permissions import can_see_any_dashboard_cached

register = template.Library()


@register.simple_tag(takes_context=True)
def analytics_nav_allowed(context) -> bool:
    """Whether the header shows the "Analytics" link (no query on most pages: see the permission's docstring)."""
    request = context.get("request")
    return request is not None and can_see_any_dashboard_cached(request)
