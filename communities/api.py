"""Communities in the REST API (issue 8): anyone may list and read them, as on the web.

Creating and running communities (staff and community admins) stays on the web site for now.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest
from ninja import Query, Router

from communities.api_schemas import CommunityDetailOut, CommunityList
from communities.permissions import community_role
from communities.selectors import communities_with_counts
from copapp.api_schemas import ErrorOut, PageParams
from copapp.api_support import paginate, public, reject_nul, web_url

router = Router(tags=["communities"])
ERRORS = {code: ErrorOut for code in (404, 422, 429)}


def _out(request: HttpRequest, community) -> dict:
    return {
        "slug": community.slug,
        "name": community.name,
        "description": community.description,
        "guidelines": community.guidelines,
        "time_zone": community.time_zone,
        "created_at": community.created_at,
        # The counts the web shows: members, and spaces that are listed for everyone (closed ones never count).
        "member_count": community.member_total,
        "space_count": community.public_space_total,
        "my_role": community_role(request.user, community),
        "url": web_url(request, community.get_absolute_url()),
    }


@router.get("", response={200: CommunityList, **ERRORS}, **public())
def community_list(request: HttpRequest, paging: Query[PageParams]):
    """Every community, by name, with its member and (listed) space counts."""
    page = paginate(request, communities_with_counts(), paging)
    page["results"] = [_out(request, community) for community in page["results"]]
    return page


@router.get("/{community_slug}", response={200: CommunityDetailOut, **ERRORS}, **public())
def community_detail(request: HttpRequest, community_slug: str):
    """One community, with its guidelines."""
    reject_nul(community_slug)
    community = communities_with_counts().filter(slug=community_slug).first()
    if community is None:
        raise Http404
    return _out(request, community)
