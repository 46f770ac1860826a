"""A member following another (issue 9, item 2): their public contributions appear in the follower's stream.

Following reveals nothing by itself: the stream reads the followed member's items through
``Item.objects.visible_to(follower)``, so content of spaces the follower cannot read never shows.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Follow(models.Model):
    follower = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows_made", verbose_name=_("follower")
    )
    followed = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="followers", verbose_name=_("followed member")
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        app_label = "members"
        verbose_name = _("follow")
        verbose_name_plural = _("follows")
        ordering = ["-created", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["follower", "followed"], name="one_follow_per_pair"),
            models.CheckConstraint(condition=~models.Q(follower=models.F("followed")), name="no_self_follow"),
        ]
        indexes = [models.Index(fields=["followed", "follower"])]

    def __str__(self) -> str:
        return f"{self.follower_id} follows {self.followed_id}"
