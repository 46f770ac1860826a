"""Every write to secret-token feed URLs: get one, regenerate it, revoke it, note its use.

A token only opens what its owner may read at the time of each request (checked in the view), so these
functions guard who may hold a token, not what it shows.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from spaces import permissions
from spaces.models import FeedToken, Space
from spaces.models.feeds import new_token

# Calendar clients poll every few minutes: note the use at most this often, not on every request.
TOUCH_EVERY = timedelta(minutes=15)


def _check(actor, space: Space | None) -> None:
    if not actor.is_authenticated:
        raise PermissionDenied
    if space is not None and not permissions.can_use_space_feed(actor, space):
        raise PermissionDenied(_("You cannot follow this space's calendar."))


@transaction.atomic
def feed_token_get_or_create(*, actor, space: Space | None = None) -> FeedToken:
    """The member's token for ``space`` (or their personal one when ``space`` is None), made if missing."""
    _check(actor, space)
    token = FeedToken.objects.filter(user=actor, space=space).first()
    if token is not None:
        return token
    try:
        with transaction.atomic():
            return FeedToken.objects.create(user=actor, space=space)
    except IntegrityError:  # made by a parallel request a moment ago
        return FeedToken.objects.get(user=actor, space=space)


@transaction.atomic
def feed_token_regenerate(*, actor, space: Space | None = None) -> FeedToken:
    """A new secret for the member's token (made if missing): the old URL stops working at once."""
    _check(actor, space)
    token = FeedToken.objects.select_for_update().filter(user=actor, space=space).first()
    if token is None:
        return feed_token_get_or_create(actor=actor, space=space)
    token.token, token.last_used_at = new_token(), None
    token.full_clean()
    token.save(update_fields=["token", "last_used_at"])
    return token


@transaction.atomic
def feed_token_revoke(*, actor, space: Space | None = None) -> bool:
    """Delete the member's token for ``space`` (or their personal one); True if there was one."""
    if not actor.is_authenticated:
        raise PermissionDenied
    deleted, _rows = FeedToken.objects.filter(user=actor, space=space).delete()
    return bool(deleted)


def feed_token_touch(token: FeedToken) -> None:
    """Note when the token was last used (at most every ``TOUCH_EVERY``). Not an activity: a client polling."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        FeedToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
