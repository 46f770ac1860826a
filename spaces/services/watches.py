"""Watching a page (or any item) or a whole space; notifications read ``selectors_content.watchers_of``."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from analytics.recording import record_activity
from spaces import permissions
from spaces.models import Item, ItemKind, Space, Watch


@transaction.atomic
def watch_toggle(*, actor, item: Item | None = None, space: Space | None = None) -> bool:
    """Start watching ``item`` or ``space`` (exactly one), or stop if already watching. Returns the new state.

    Stopping needs no permission: anyone may drop their own watch, even on something they can no longer see.
    """
    if (item is None) == (space is None):
        raise ValidationError(_("Choose either an item or a space to watch."))
    if not actor.is_authenticated:
        raise PermissionDenied
    existing = (
        Watch.objects.filter(user=actor, item=item)
        if item is not None
        else Watch.objects.filter(user=actor, space=space)
    )
    if existing.delete()[0]:
        return False
    if item is not None:
        if item.kind == ItemKind.COMMENT:
            raise ValidationError(_("Watch the page the comment is on instead."))
        if not permissions.can_watch_item(actor, item):
            raise PermissionDenied
    elif not permissions.can_watch_space(actor, space):
        raise PermissionDenied
    try:
        with transaction.atomic():
            Watch.objects.create(user=actor, item=item, space=space)
    except IntegrityError:
        # A double click raced us to the same row: the member is watching, which is what they asked for.
        return True
    where = item.space if item is not None else space
    record_activity(actor=actor, kind="watch", community_id=where.community_id, space_id=where.pk, target=item or space)
    return True
