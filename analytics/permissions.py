"""Who may see which engagement figures: the one place for the dashboards' rules (STYLE.md, "Permissions").

- Site analysts (the ``members.view_analytics`` permission) and site staff: every community and every
  space, closed ones included.
- Community admins: their community as a whole and every space of it.
- Space moderators and admins (community moderators too: they moderate every space of their community): their
  spaces only, never community-wide figures and never the names of other spaces.
- Everyone else: nothing; every dashboard answers 404, exactly as if it did not exist.

Roles come from communities/permissions.py and spaces/permissions.py; nothing here re-derives them. The query
filters (``dashboard_communities_q``, ``dashboard_spaces_q``) decide in the database which communities and spaces
a dashboard may show, and the view builds its ``metrics.Scope`` from exactly those rows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from communities.models import Community, CommunityMembership, CommunityRole
from communities.permissions import can_administer_community
from spaces.models import Space, SpaceRole

# The single definition of "holds at least this role in the space" (membership, community role or grant, never when
# banned).
from spaces.permissions import role_holder_q

ANALYST_PERMISSION = "members.view_analytics"
NAV_SESSION_KEY = "analytics_nav"
NAV_SECONDS = 300


def _active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_analyst(user) -> bool:
    """Site analysts and site staff see every dashboard, closed-space names included."""
    return _active(user) and (user.is_staff or user.has_perm(ANALYST_PERMISSION))


# --- Query filters ------------------------------------------------------------------------------------------------
def dashboard_communities_q(user) -> Q:
    """On ``Community``: communities whose figures as a whole the user may see (analysts, staff, its admins)."""
    if not _active(user):
        return Q(pk__in=[])
    if is_analyst(user):
        return Q()
    admin = CommunityMembership.objects.filter(community_id=OuterRef("pk"), user=user, role=CommunityRole.ADMIN)
    return Q(Exists(admin))


def dashboard_communities_for(user) -> QuerySet[Community]:
    return Community.objects.filter(dashboard_communities_q(user)).order_by("name")


def dashboard_spaces_q(user) -> Q:
    """On ``Space``: spaces whose figures the user may see: every space for analysts and staff; otherwise the
    spaces where they hold the moderator role or above (community admins hold it in every space of theirs)."""
    if not _active(user):
        return Q(pk__in=[])
    if is_analyst(user):
        return Q()
    return role_holder_q(user, SpaceRole.MODERATOR)


def dashboard_spaces_for(user, community: Community) -> QuerySet[Space]:
    """The spaces of ``community`` the user may see figures (and names) of."""
    return Space.objects.filter(community=community).filter(dashboard_spaces_q(user)).order_by("name")


# --- Predicates -------------------------------------------------------------------------------------------------
def can_see_community_figures(user, community: Community) -> bool:
    """Figures of the community as a whole (not only of some of its spaces)."""
    return _active(user) and (is_analyst(user) or can_administer_community(user, community))


def can_see_member_figures(user, community: Community, *, spaces_visible: bool | None = None) -> bool:
    """Names with their points, contributions and visit counts (leaderboards, referrals, posting per member):
    only for the dashboard roles, and for space moderators only within their spaces (the scope does that).

    ``spaces_visible``: whether ``dashboard_spaces_for`` is non-empty, when the caller already knows it.
    """
    if can_see_community_figures(user, community):
        return True
    if not _active(user):
        return False
    if spaces_visible is None:
        spaces_visible = dashboard_spaces_for(user, community).exists()
    return spaces_visible


def can_edit_points_policy(user, community: Community) -> bool:
    """Engagement-point weights and the daily cap: the community's admins and site staff (not analysts)."""
    return _active(user) and can_administer_community(user, community)


def can_see_any_dashboard(user) -> bool:
    """Whether the "Analytics" link is shown: at least one community or space dashboard is open to the user."""
    if not _active(user):
        return False
    if is_analyst(user):
        return True
    return (
        Community.objects.filter(dashboard_communities_q(user)).exists()
        or Space.objects.filter(dashboard_spaces_q(user)).exists()
    )


def can_see_any_dashboard_cached(request) -> bool:
    """``can_see_any_dashboard`` for the header, remembered in the session for a few minutes so that ordinary
    pages pay no query for the link (the session is loaded anyway). The dashboards check again on every request,
    so a stale answer only shows or hides a link for at most ``NAV_SECONDS``."""
    user = getattr(request, "user", None)
    if not _active(user):
        return False
    if user.is_staff:
        return True
    session = getattr(request, "session", None)
    if session is None:
        return can_see_any_dashboard(user)
    now = int(time.time())
    cached = session.get(NAV_SESSION_KEY)
    if isinstance(cached, list) and len(cached) == 3 and cached[0] == user.pk and cached[1] > now:
        return bool(cached[2])
    answer = can_see_any_dashboard(user)
    session[NAV_SESSION_KEY] = [user.pk, now + NAV_SECONDS, answer]
    return answer


# --- Fetch helper ----------------------------------------------------------------------------------------------------
@dataclass
class DashboardAccess:
    """What one person may see of one community's figures."""

    community: Community | None  # None: the all-communities overview (analysts)
    community_ids: tuple[int, ...]
    whole: bool  # figures of the community as a whole
    spaces: list[Space] = field(default_factory=list)  # spaces they may pick (and whose names they may see)
    member_figures: bool = False
    can_edit_points: bool = False


def get_dashboard_for_user(user, community_slug: str) -> DashboardAccess:
    """The community's dashboard as ``user`` may see it; 404 when they may see none of its figures."""
    if not _active(user):
        raise Http404
    community = Community.objects.filter(slug=community_slug).first()
    if community is None:
        raise Http404
    spaces = list(dashboard_spaces_for(user, community))
    whole = can_see_community_figures(user, community)
    if not whole and not spaces:
        raise Http404
    return DashboardAccess(
        community=community,
        community_ids=(community.pk,),
        whole=whole,
        spaces=spaces,
        member_figures=can_see_member_figures(user, community, spaces_visible=bool(spaces)),
        can_edit_points=can_edit_points_policy(user, community),
    )
