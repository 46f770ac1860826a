"""Who may do what to a community. Anyone may see a community; staff create them; admins run them."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from communities.models import Community, CommunityMembership, CommunityRole
from copapp import rolecache

_ATTR = "_copapp_community_roles"


def community_role(user, community: Community) -> str | None:
    if not user.is_authenticated or not user.is_active:
        return None
    cached = getattr(user, _ATTR, None)
    if cached is None or cached[0] != rolecache.current():
        cached = (
            rolecache.current(),
            dict(CommunityMembership.objects.filter(user=user).values_list("community_id", "role")),
        )
        setattr(user, _ATTR, cached)
    return cached[1].get(community.pk)


def forget_community_roles(*users) -> None:
    rolecache.bump()
    for user in users:
        if user is not None and hasattr(user, _ATTR):
            delattr(user, _ATTR)


def can_create_community(user) -> bool:
    return user.is_authenticated and user.is_active and user.is_staff


def can_administer_community(user, community: Community) -> bool:
    """Edit the community, its guidelines and questions, create spaces, set community roles, focal points."""
    if not user.is_authenticated:
        return False
    return user.is_staff or community_role(user, community) == CommunityRole.ADMIN


def can_moderate_community(user, community: Community) -> bool:
    if not user.is_authenticated:
        return False
    return user.is_staff or community_role(user, community) in (CommunityRole.MODERATOR, CommunityRole.ADMIN)


def can_create_space(user, community: Community) -> bool:
    return can_administer_community(user, community)


def can_see_onboarding_answers(user, community: Community, member) -> bool:
    """Answers show on the member's own profile and to the community's moderators."""
    return user.is_authenticated and (user.pk == member.pk or can_moderate_community(user, community))


def can_export_member_list(user, community: Community) -> bool:
    """The member list as CSV (e-mail addresses, profile fields, onboarding answers): the community's admins and
    site staff; not its moderators, who see the list on the site but do not take the addresses away."""
    return can_administer_community(user, community)


def get_community_for_user(user, community_slug: str, action: str = "view") -> Community:
    try:
        community = Community.objects.get(slug=community_slug)
    except Community.DoesNotExist as exc:
        raise Http404 from exc
    if action == "administer" and not can_administer_community(user, community):
        raise PermissionDenied
    if action == "moderate" and not can_moderate_community(user, community):
        raise PermissionDenied
    return community


# --- Community bans (issue 5) ----------------------------------------------------------------------------------
_LOOK_UP = object()


def can_ban_from_community(actor, community: Community, target, *, target_role=_LOOK_UP) -> bool:
    """Community moderators and admins (and site staff) ban members from the whole community; never themselves,
    site staff, or anyone holding the community's moderator or admin role.

    ``target_role``: the target's community role (None for none), for lists that load many people's roles at once.
    """
    if not can_moderate_community(actor, community) or target.pk == actor.pk or target.is_staff:
        return False
    if target_role is _LOOK_UP:
        target_role = (
            CommunityMembership.objects.filter(community=community, user=target).values_list("role", flat=True).first()
        )
    return target_role not in (CommunityRole.MODERATOR, CommunityRole.ADMIN)


def can_lift_community_ban(actor, community: Community) -> bool:
    return can_moderate_community(actor, community)
