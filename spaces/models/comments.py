"""Comments on any item (pages now; questions, answers and posts later), threaded one level deep."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .items import Item


class Comment(models.Model):
    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="comment", verbose_name=_("item"))
    target = models.ForeignKey(
        Item, on_delete=models.CASCADE, related_name="comments", verbose_name=_("commented item")
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies", verbose_name=_("reply to")
    )
    body = models.TextField(_("comment"), max_length=10000)
    body_html = models.TextField(_("rendered comment"), blank=True, editable=False)
    edited_at = models.DateTimeField(_("edited"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("author")
    )

    history = HistoricalRecords(excluded_fields=["body_html", "item", "target", "parent"], related_name="versions")

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["target", "created_at"])]
        verbose_name = _("comment")
        verbose_name_plural = _("comments")

    def __str__(self) -> str:
        return f"Comment {self.pk} on {self.target_id}"


class Watch(models.Model):
    """A member watching one item or a whole space (notifications use it)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watches", verbose_name=_("member")
    )
    item = models.ForeignKey(
        Item, null=True, blank=True, on_delete=models.CASCADE, related_name="watches", verbose_name=_("item")
    )
    space = models.ForeignKey(
        "spaces.Space", null=True, blank=True, on_delete=models.CASCADE, related_name="watches", verbose_name=_("space")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "item"], condition=models.Q(item__isnull=False), name="one_watch_per_item"
            ),
            models.UniqueConstraint(
                fields=["user", "space"], condition=models.Q(space__isnull=False), name="one_watch_per_space"
            ),
            models.CheckConstraint(
                condition=models.Q(item__isnull=False, space__isnull=True)
                | models.Q(item__isnull=True, space__isnull=False),
                name="watch_item_or_space",
            ),
        ]
        verbose_name = _("watch")
        verbose_name_plural = _("watches")

    def __str__(self) -> str:
        return f"{self.user_id} watches {self.item_id or self.space_id}"
