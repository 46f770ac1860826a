"""Every write to follows (issue 9, item 2): follow and unfollow a member.

Who may follow whom is decided in ``members.permissions_follow``; the service says why when it refuses.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from members import permissions_follow as perms
from members.models_follow import Follow


@transaction.atomic
def follow_create(*, actor, member) -> Follow:
    """``actor`` follows ``member``. Following someone already followed returns the existing row."""
    if not perms.may_follow_anyone(actor):
        raise PermissionDenied
    if member.pk == actor.pk:
        raise ValidationError(_("You cannot follow yourself."))
    if not perms.is_followable(member):
        raise ValidationError(_("This member cannot be followed."))
    if perms.blocked_between(actor, member):
        raise ValidationError(_("You cannot follow this member."))
    follow, _created = Follow.objects.get_or_create(follower=actor, followed=member)
    return follow


@transaction.atomic
def follow_delete(*, actor, member) -> bool:
    """``actor`` stops following ``member``. Returns whether they were following."""
    if not actor.is_authenticated:
        raise PermissionDenied
    deleted, _rows = Follow.objects.filter(follower_id=actor.pk, followed_id=member.pk).delete()
    return bool(deleted)
