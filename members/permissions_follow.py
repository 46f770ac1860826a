"""Who may follow whom (issue 9, item 2), and nothing else.

Any active member may follow any other active member whose profile they can see (the directory's rule: active,
not deleted), except themselves and except across a block in either direction. What a follower then sees of the
followed member's work is decided by ``Item.objects.visible_to``, never here.
"""

from __future__ import annotations

from django.db.models import Q

from members.models import MemberBlock


def may_follow_anyone(user) -> bool:
    """Signed-in, active members with an account that is not deleted."""
    return bool(user.is_authenticated and user.is_active and getattr(user, "deleted_at", None) is None)


def is_followable(member) -> bool:
    """Profiles shown in the directory: active accounts that are not deleted."""
    return bool(member.is_active and member.deleted_at is None)


def blocked_between(user, member) -> bool:
    """Whether either of the two blocked the other (one query)."""
    return MemberBlock.objects.filter(
        Q(blocker_id=user.pk, blocked_id=member.pk) | Q(blocker_id=member.pk, blocked_id=user.pk)
    ).exists()


def blocked_ids_q(user, field: str = "pk") -> Q:
    """Rows whose ``field`` (a member id) blocked ``user`` or was blocked by them, for ``.exclude()`` in a query."""
    made = MemberBlock.objects.filter(blocker_id=user.pk).values("blocked_id")
    received = MemberBlock.objects.filter(blocked_id=user.pk).values("blocker_id")
    return Q(**{f"{field}__in": made}) | Q(**{f"{field}__in": received})


def can_follow(user, member, *, blocked: bool | None = None) -> bool:
    """Follow ``member``: an active member, not themselves, no block either way (``blocked`` when known)."""
    if not may_follow_anyone(user) or not is_followable(member) or member.pk == user.pk:
        return False
    if blocked is None:
        blocked = blocked_between(user, member)
    return not blocked
