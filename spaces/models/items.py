"""The one registry for all content in spaces (ARCHITECTURE.md, "One registry for all content").

Every page, question, answer, event, post, poll, comment and file has an ``Item`` row; the typed model points
at it one-to-one. Visibility is decided once, in ``Item.objects.visible_to(user)``.
"""

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from .space import Space


class ItemKind(models.TextChoices):
    PAGE = "page", _("Page")
    FILE = "file", _("File")
    COMMENT = "comment", _("Comment")
    QUESTION = "question", _("Question")
    ANSWER = "answer", _("Answer")
    EVENT = "event", _("Event")
    POST = "post", _("Post")
    POLL = "poll", _("Poll")


class ModerationState(models.TextChoices):
    VISIBLE = "visible", _("Visible")
    PENDING = "pending", _("Hidden, pending review")
    HIDDEN = "hidden", _("Hidden")


class ItemQuerySet(models.QuerySet["Item"]):
    def visible_to(self, user, kinds: tuple[str, ...] | None = None) -> "ItemQuerySet":
        """Items the user may see: readable space, not hidden from them, not restricted away from them.

        ``kinds`` keeps only items of those kinds, with a simpler filter (see ``visible_items_q``).
        """
        from spaces.permissions import visible_items_q

        return self.filter(visible_items_q(user, kinds))


# Written only by spaces/search_index.py (and, for the vector, by a database trigger); never read back into
# ordinary lists, so the default manager leaves them out of every SELECT (a long PDF's text would otherwise
# travel with each stream row), and a full ``save()`` of a fetched item cannot write a stale copy back.
SEARCH_FIELDS = ("search_text", "extracted_text", "search_vector")


class ItemManager(models.Manager.from_queryset(ItemQuerySet)):  # type: ignore[misc]
    def get_queryset(self) -> ItemQuerySet:
        return super().get_queryset().defer(*SEARCH_FIELDS)


class Item(models.Model):
    kind = models.CharField(_("kind"), max_length=12, choices=ItemKind.choices)
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="items", verbose_name=_("space"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="items",
        verbose_name=_("author"),
    )
    title = models.CharField(_("title"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    moderation_state = models.CharField(
        _("moderation state"), max_length=10, choices=ModerationState.choices, default=ModerationState.VISIBLE
    )
    deleted_at = models.DateTimeField(
        _("deleted"), null=True, blank=True, help_text=_("In the space's trash since then.")
    )
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("deleted by"),
    )
    is_restricted = models.BooleanField(
        _("restricted"), default=False, help_text=_("Only named people, the author and the space's admins may see it.")
    )
    publish_at = models.DateTimeField(
        _("publication date"),
        default=timezone.now,
        db_index=True,
        help_text=_(
            "When it appears; later than now for a scheduled post, which until then only its author and "
            "the space's moderators see."
        ),
    )
    like_count = models.PositiveIntegerField(_("number of likes"), default=0, editable=False)
    # Search (issue 7). ``search_text`` is the plain text of the body (Markdown stripped, a poll's options, a
    # file's description and the text inside it), kept current by ``spaces.search_index``; the full-text index
    # over title and search_text is a stored tsvector on PostgreSQL (weighted, kept by a trigger) and an FTS5
    # table on SQLite (kept by triggers); see migration 0006.
    search_text = models.TextField(_("search text"), blank=True, default="", editable=False)
    extracted_text = models.TextField(
        _("extracted text"),
        blank=True,
        default="",
        editable=False,
        help_text=_("Text read from an uploaded file's current version."),
    )
    search_vector = SearchVectorField(_("search vector"), null=True, blank=True, editable=False)

    objects = ItemManager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["space", "-created_at"]),
            models.Index(fields=["kind", "space"]),
            # a space's stream, newest first: read in order and stopped at the page's end (80 -> 3 ms at 2,800 items)
            models.Index(fields=["space", "-publish_at", "-id"], name="spaces_item_space_publish_idx"),
        ]
        permissions = [
            ("view_restricted_item", "May see this restricted item"),
            ("edit_restricted_item", "May edit this restricted item"),
        ]
        verbose_name = _("item")
        verbose_name_plural = _("items")

    def __str__(self) -> str:
        return self.title or f"{self.kind} {self.pk}"

    def get_kind_display(self) -> str:
        """Django's own rebuilds the choices' dictionary on every call (40 us): lists show one per row."""
        try:
            return ItemKind(self.kind).label
        except ValueError:
            return self.kind


class ItemUserObjectPermission(UserObjectPermissionBase):
    """Named people on a restricted item (django-guardian, direct foreign key)."""

    # guardian's own fields carry no label: declared again here, as guardian declares them, with one.
    permission = models.ForeignKey(Permission, on_delete=models.CASCADE, verbose_name=_("permission"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, verbose_name=_("member"))
    content_object = models.ForeignKey(
        Item, on_delete=models.CASCADE, related_name="user_grants", verbose_name=_("item")
    )

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = _("member grant on an item")
        verbose_name_plural = _("member grants on items")


class ItemGroupObjectPermission(GroupObjectPermissionBase):
    # guardian's own fields carry no label: declared again here, as guardian declares them, with one.
    permission = models.ForeignKey(Permission, on_delete=models.CASCADE, verbose_name=_("permission"))
    group = models.ForeignKey(Group, on_delete=models.CASCADE, verbose_name=_("group"))
    content_object = models.ForeignKey(
        Item, on_delete=models.CASCADE, related_name="group_grants", verbose_name=_("item")
    )

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = _("group grant on an item")
        verbose_name_plural = _("group grants on items")
