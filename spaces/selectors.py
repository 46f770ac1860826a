"""Non-trivial reads for spaces. Every list starts from a permission-filtered queryset."""

from django.db.models import QuerySet

from spaces import permissions
from spaces.models import (
    Invitation,
    InvitationStatus,
    JoinRequest,
    JoinRequestStatus,
    Space,
    SpaceMembership,
    SpaceRole,
)


def spaces_listed_for(user, community=None) -> QuerySet[Space]:
    qs = Space.objects.visible_to(user).select_related("community")
    if community is not None:
        qs = qs.filter(community=community)
    return qs.order_by("is_archived", "name")


def spaces_of_member(user) -> QuerySet[Space]:
    return (
        Space.objects.filter(permissions.member_spaces_q(user))
        .select_related("community")
        .order_by("is_archived", "community__name", "name")
    )


def space_members(space: Space) -> QuerySet[SpaceMembership]:
    return (
        SpaceMembership.objects.filter(space=space, user__deleted_at__isnull=True)
        .select_related("user__profile")
        .order_by("-role", "user__display_name", "user__username")
    )


def space_members_preview(space: Space, limit: int = 12) -> list[SpaceMembership]:
    """The space home's few members: who runs it first (admins, then moderators), then whoever joined most recently.
    Read along the (space, role, joined_at) index and stopped at ``limit``: sorting by name meant reading and
    sorting every member of a big space for twelve of them (3 ms for 558 at the scale data set)."""
    return list(
        SpaceMembership.objects.filter(space=space, user__deleted_at__isnull=True)
        .select_related("user")
        .order_by("-role", "-joined_at")[:limit]
    )


def space_pending_requests(space: Space) -> QuerySet[JoinRequest]:
    return (
        JoinRequest.objects.filter(space=space, status=JoinRequestStatus.PENDING)
        .select_related("user__profile")
        .order_by("created_at")
    )


def space_pending_invitations(space: Space) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(space=space, status=InvitationStatus.PENDING)
        .select_related("invited_by", "invitee")
        .order_by("-created_at")
    )


def member_pending_request(space: Space, user) -> JoinRequest | None:
    if not user.is_authenticated:
        return None
    return JoinRequest.objects.filter(space=space, user=user, status=JoinRequestStatus.PENDING).first()


def spaces_where_sole_admin(user) -> QuerySet[Space]:
    """Spaces that would be left without an admin if this member went."""
    from django.db.models import Count, Q

    return (
        Space.objects.filter(memberships__user=user, memberships__role=SpaceRole.ADMIN)
        .annotate(admins=Count("memberships", filter=Q(memberships__role=SpaceRole.ADMIN)))
        .filter(admins__lte=1)
        .select_related("community")
    )
