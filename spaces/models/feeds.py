"""Secret-token feed URLs (iCalendar now, Atom later) for content that is not public.

A token belongs to one member and either one space (that space's feed) or none (the member's own feed, e.g.
"my events"). It only opens what its owner may read *now*: permissions are checked at every request, so a
member who leaves or is removed stops getting content even before the token is revoked.
"""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .space import Space


def new_token() -> str:
    return secrets.token_urlsafe(32)


class FeedToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feed_tokens", verbose_name=_("member")
    )
    space = models.ForeignKey(
        Space, null=True, blank=True, on_delete=models.CASCADE, related_name="feed_tokens", verbose_name=_("space")
    )
    token = models.CharField(_("token"), max_length=64, unique=True, default=new_token)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "space"], condition=models.Q(space__isnull=False), name="one_feed_token_per_space"
            ),
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(space__isnull=True), name="one_personal_feed_token"
            ),
        ]
        verbose_name = _("feed token")
        verbose_name_plural = _("feed tokens")

    def __str__(self) -> str:
        return f"feed token of {self.user_id} for {self.space_id or 'me'}"
