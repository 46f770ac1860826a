"""Posts (short discussion in the space stream), likes, bookmarks and mentions.

Likes, bookmarks and mentions point at ``Item``, so they work for every content type (posts, comments,
answers, pages...) without one table per type.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .items import Item
from .space import Space


class Post(models.Model):
    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="post", verbose_name=_("item"))
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="posts", verbose_name=_("space"))
    body = models.TextField(_("text"), max_length=20_000)
    body_html = models.TextField(_("rendered text"), blank=True, editable=False)
    is_pinned = models.BooleanField(_("pinned"), default=False)
    pinned_at = models.DateTimeField(_("pinned on"), null=True, blank=True)
    is_announcement = models.BooleanField(_("announcement"), default=False)
    published_at = models.DateTimeField(
        _("published on"),
        null=True,
        blank=True,
        help_text=_("Set when the post went out (at once, or by the scheduled-post task)."),
    )
    edited_at = models.DateTimeField(_("edited"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["space", "-is_pinned", "-created_at"])]
        verbose_name = _("post")
        verbose_name_plural = _("posts")

    def __str__(self) -> str:
        return self.item.title or f"Post {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse(
            "spaces:post-detail",
            kwargs={"community_slug": self.space.community.slug, "space_slug": self.space.slug, "post_id": self.pk},
        )


class Reaction(models.Model):
    """A "like" by one member on one item (post, comment, answer, ...); withdrawn by deleting it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reactions", verbose_name=_("member")
    )
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="reactions", verbose_name=_("item"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "item"], name="one_like_per_member_and_item")]
        verbose_name = _("like")
        verbose_name_plural = _("likes")

    def __str__(self) -> str:
        return f"{self.user_id} likes {self.item_id}"


class Bookmark(models.Model):
    """An item saved to a member's list. The list shows only what the member can still see."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bookmarks", verbose_name=_("member")
    )
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="bookmarks", verbose_name=_("item"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "item"], name="one_bookmark_per_member_and_item")]
        verbose_name = _("bookmark")
        verbose_name_plural = _("bookmarks")

    def __str__(self) -> str:
        return f"{self.user_id} saved {self.item_id}"


class Mention(models.Model):
    """@username in an item's text, resolved when it is saved (notifications read these)."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="mentions", verbose_name=_("item"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentions", verbose_name=_("mentioned member")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "user"], name="one_mention_per_item_and_member")]
        verbose_name = _("mention of a member")
        verbose_name_plural = _("mentions of members")

    def __str__(self) -> str:
        return f"{self.item_id} mentions {self.user_id}"
