"""Views and visits for the activity log (issue 6), recorded by the views that show a whole page.

Called only after the permission check has passed, and only for a GET of the full page: an htmx fragment, a HEAD
or a form post is not someone opening the page. The space and its community are already loaded by the fetch
helpers, so a repeat visit costs no query and an item view one INSERT.
"""

from analytics.kinds import VIEW_KINDS
from analytics.recording import record_view, record_visit


def _full_page_get(request) -> bool:
    return request.method == "GET" and not getattr(request, "htmx", False)


def record_item_view(request, obj, kind: str) -> None:
    """The member opened ``obj`` (a Page, Question, Event, Post, Poll or FileAsset); also counts their visit today."""
    assert kind in VIEW_KINDS, kind
    if _full_page_get(request):
        space = obj.space
        record_view(actor=request.user, kind=kind, community=space.community, space_id=space.pk, target=obj)


def record_space_visit(request, space) -> None:
    """The member opened a page of ``space`` that shows no single item (its home, one of its lists)."""
    if _full_page_get(request):
        record_visit(actor=request.user, community=space.community, space_id=space.pk)


def record_community_visit(request, community) -> None:
    """The member opened the community's own page."""
    if _full_page_get(request):
        record_visit(actor=request.user, community=community)
