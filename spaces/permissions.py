"""Every rule about who may do what in spaces, and nothing else.

Two forms of each rule, kept side by side so they cannot drift apart:
- predicates for one object (``can_moderate_space(user, space)``), answered from the member's roles, which
  are loaded once per request (``access_context``);
- query filters for many objects (``listed_spaces_q(user)``), so lists are filtered in the database.

Roles are settled in ARCHITECTURE.md: space roles viewer < editor < moderator < admin; community moderators
and admins hold that role in every space of their community; site staff act as admins everywhere; an
individual can be granted a role on one space with django-guardian. A ban takes away every role in the space.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q
from django.http import Http404

from communities.models import CommunityMembership, CommunityRole
from spaces.models import (
    Item,
    ItemUserObjectPermission,
    Space,
    SpaceBan,
    SpaceMembership,
    SpaceRole,
    SpaceUserObjectPermission,
    Visibility,
)
from spaces.models.space import GRANT_CODENAMES

COMMUNITY_ROLE_IN_SPACES = {CommunityRole.MODERATOR: SpaceRole.MODERATOR, CommunityRole.ADMIN: SpaceRole.ADMIN}


# --- Roles of one member, loaded once per request ------------------------------------------------------------
@dataclass
class AccessContext:
    space_roles: dict[int, int] = field(default_factory=dict)
    grant_roles: dict[int, int] = field(default_factory=dict)
    community_roles: dict[int, str] = field(default_factory=dict)
    banned_spaces: set[int] = field(default_factory=set)


_CONTEXT_ATTR = "_copapp_access_context"


def access_context(user) -> AccessContext:
    """The member's roles, fetched in four small queries and kept on the user object for the request."""
    if not user.is_authenticated:
        return AccessContext()
    cached = getattr(user, _CONTEXT_ATTR, None)
    if cached is not None:
        return cached
    ctx = AccessContext(
        space_roles=dict(SpaceMembership.objects.filter(user=user).values_list("space_id", "role")),
        community_roles=dict(CommunityMembership.objects.filter(user=user).values_list("community_id", "role")),
        banned_spaces=set(SpaceBan.objects.filter(user=user).values_list("space_id", flat=True)),
    )
    for space_id, codename in SpaceUserObjectPermission.objects.filter(user=user).values_list(
        "content_object_id", "permission__codename"
    ):
        role = GRANT_CODENAMES.get(codename)
        if role and role > ctx.grant_roles.get(space_id, 0):
            ctx.grant_roles[space_id] = role
    setattr(user, _CONTEXT_ATTR, ctx)
    return ctx


def forget_access_context(*users) -> None:
    """Services call this after changing someone's roles so the next check sees the change."""
    for user in users:
        if user is not None and hasattr(user, _CONTEXT_ATTR):
            delattr(user, _CONTEXT_ATTR)


# --- Predicates for one space --------------------------------------------------------------------------------
def space_role(user, space: Space) -> int | None:
    """The effective role of ``user`` in ``space`` (a SpaceRole value), or None for no role."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_staff:
        return SpaceRole.ADMIN
    ctx = access_context(user)
    if space.pk in ctx.banned_spaces:
        return None
    candidates = [
        ctx.space_roles.get(space.pk, 0),
        ctx.grant_roles.get(space.pk, 0),
        COMMUNITY_ROLE_IN_SPACES.get(ctx.community_roles.get(space.community_id, ""), 0),
    ]
    best = max(candidates)
    return best or None


def is_banned(user, space: Space) -> bool:
    return user.is_authenticated and not user.is_staff and space.pk in access_context(user).banned_spaces


def is_space_member(user, space: Space) -> bool:
    """Holds a membership row (not only a role through the community or a grant)."""
    return user.is_authenticated and space.pk in access_context(user).space_roles


def has_space_role(user, space: Space, role: int) -> bool:
    current = space_role(user, space)
    return current is not None and current >= role


def can_see_space(user, space: Space) -> bool:
    """Listed and openable: closed spaces exist only for people who hold a role there."""
    return space.visibility != Visibility.CLOSED or space_role(user, space) is not None


def can_read_space(user, space: Space) -> bool:
    return space.visibility == Visibility.OPEN or space_role(user, space) is not None


def can_join_space(user, space: Space) -> bool:
    return (
        user.is_authenticated
        and space.visibility == Visibility.OPEN
        and not space.is_archived
        and not is_banned(user, space)
        and not is_space_member(user, space)
    )


def can_request_to_join(user, space: Space) -> bool:
    return (
        user.is_authenticated
        and space.visibility == Visibility.PRIVATE
        and not space.is_archived
        and not is_banned(user, space)
        and space_role(user, space) is None
    )


def can_leave_space(user, space: Space) -> bool:
    return is_space_member(user, space)


def can_moderate_space(user, space: Space) -> bool:
    """Handle join requests, invite, manage members up to editor (and, later, hide content and flags)."""
    return has_space_role(user, space, SpaceRole.MODERATOR)


def can_administer_space(user, space: Space) -> bool:
    """Settings, visibility, every role, archive and delete."""
    return has_space_role(user, space, SpaceRole.ADMIN)


def can_contribute(user, space: Space) -> bool:
    """Create and edit content: editors and above, and never in an archived space."""
    return not space.is_archived and has_space_role(user, space, SpaceRole.EDITOR)


def assignable_roles(user, space: Space) -> list[int]:
    """Roles this person may give others (when inviting or changing a role)."""
    if can_administer_space(user, space):
        return [SpaceRole.VIEWER, SpaceRole.EDITOR, SpaceRole.MODERATOR, SpaceRole.ADMIN]
    if can_moderate_space(user, space):
        return [SpaceRole.VIEWER, SpaceRole.EDITOR]
    return []


def can_manage_member(actor, space: Space, target_role: int | None) -> bool:
    """Change the role of, remove or ban someone who currently holds ``target_role`` (None: no role)."""
    if can_administer_space(actor, space):
        return True
    return can_moderate_space(actor, space) and (target_role is None or target_role <= SpaceRole.EDITOR)


def can_ban(actor, space: Space, target) -> bool:
    """Site staff and community moderators/admins cannot be banned from a space of that community."""
    if target.pk == actor.pk or target.is_staff:
        return False
    community_role = CommunityMembership.objects.filter(community_id=space.community_id, user=target).values_list(
        "role", flat=True
    ).first()
    if community_role in COMMUNITY_ROLE_IN_SPACES:
        return False
    target_role = SpaceMembership.objects.filter(space=space, user=target).values_list("role", flat=True).first()
    return can_manage_member(actor, space, target_role)


# --- Query filters for many spaces and items --------------------------------------------------------------------
def _role_holder_q(user, min_role: int, space_ref: str = "pk", community_ref: str = "community_id") -> Q:
    """Rows whose space the user holds at least ``min_role`` in, by membership, community role or grant."""
    community_roles = [c for c, r in COMMUNITY_ROLE_IN_SPACES.items() if r >= min_role]
    codenames = [c for c, r in GRANT_CODENAMES.items() if r >= min_role]
    held = (
        Exists(SpaceMembership.objects.filter(space_id=OuterRef(space_ref), user=user, role__gte=min_role))
        | Exists(
            CommunityMembership.objects.filter(
                community_id=OuterRef(community_ref), user=user, role__in=community_roles
            )
        )
        | Exists(
            SpaceUserObjectPermission.objects.filter(
                content_object_id=OuterRef(space_ref), user=user, permission__codename__in=codenames
            )
        )
    )
    return Q(held) & ~Q(Exists(SpaceBan.objects.filter(space_id=OuterRef(space_ref), user=user)))


def _everything(user) -> bool:
    return user.is_authenticated and user.is_active and user.is_staff


def listed_spaces_q(user) -> Q:
    """Spaces that show in lists and open for the user."""
    if _everything(user):
        return Q()
    public = ~Q(visibility=Visibility.CLOSED)
    if not user.is_authenticated:
        return public
    return public | _role_holder_q(user, SpaceRole.VIEWER)


def readable_spaces_q(user) -> Q:
    """Spaces whose content the user may read."""
    if _everything(user):
        return Q()
    public = Q(visibility=Visibility.OPEN)
    if not user.is_authenticated:
        return public
    return public | _role_holder_q(user, SpaceRole.VIEWER)


def visible_items_q(user) -> Q:
    """Items the user may see. Restricted items: named people, the author, space and community admins.

    Items in the trash are never "visible": the trash has its own list, for space admins.
    """
    live = Q(deleted_at__isnull=True)
    if _everything(user):
        return live
    readable = Q(space__visibility=Visibility.OPEN)
    not_hidden = Q(moderation_state="visible")
    unrestricted = Q(is_restricted=False)
    if not user.is_authenticated:
        return live & readable & not_hidden & unrestricted
    refs = {"space_ref": "space_id", "community_ref": "space__community_id"}
    readable |= _role_holder_q(user, SpaceRole.VIEWER, **refs)
    not_hidden |= Q(author=user) | _role_holder_q(user, SpaceRole.MODERATOR, **refs)
    unrestricted |= (
        Q(author=user)
        | Q(
            Exists(
                ItemUserObjectPermission.objects.filter(
                    content_object_id=OuterRef("pk"), user=user, permission__codename="view_restricted_item"
                )
            )
        )
        | _role_holder_q(user, SpaceRole.ADMIN, **refs)
    )
    return live & readable & not_hidden & unrestricted


# --- Fetch helpers: 404 when the user may not see it at all, 403 when they may see it but not act ----------------
SPACE_ACTIONS = {
    "view": can_see_space,
    "read": can_read_space,
    "contribute": can_contribute,
    "moderate": can_moderate_space,
    "administer": can_administer_space,
}


def get_space_for_user(user, community_slug: str, space_slug: str, action: str = "view") -> Space:
    try:
        space = Space.objects.select_related("community").get(community__slug=community_slug, slug=space_slug)
    except Space.DoesNotExist as exc:
        raise Http404 from exc
    if not can_see_space(user, space):
        raise Http404
    if not SPACE_ACTIONS[action](user, space):
        raise PermissionDenied
    return space


def get_item_for_user(user, item_id: int) -> Item:
    item = Item.objects.visible_to(user).select_related("space__community").filter(pk=item_id).first()
    if item is None:
        raise Http404
    return item


def member_spaces_q(user) -> Q:
    """Spaces where the user holds a role (the "my spaces" list)."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    return _role_holder_q(user, SpaceRole.VIEWER)
