"""Wiki pages: versioned with django-simple-history, arranged in a tree per space."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .items import Item
from .space import Space


class PageQuerySet(models.QuerySet["Page"]):
    def visible_to(self, user) -> "PageQuerySet":
        return self.filter(item__in=Item.objects.visible_to(user, kinds=("page",)))


class Page(models.Model):
    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="page", verbose_name=_("item"))
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="pages", verbose_name=_("space"))
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children", verbose_name=_("parent page")
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    slug = models.SlugField(_("short name in addresses"), max_length=80, allow_unicode=True)
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("body"), blank=True)
    body_html = models.TextField(_("rendered body"), blank=True, editable=False)
    version = models.PositiveIntegerField(_("version number"), default=1, editable=False)
    edit_restricted = models.BooleanField(
        _("editing restricted"), default=False, help_text=_("Only named editors, the author and admins may edit.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("created by")
    )
    last_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("last edited by"),
    )
    last_edited_at = models.DateTimeField(_("last edited"), null=True)

    history = HistoricalRecords(
        excluded_fields=["body_html", "position", "parent", "item", "edit_restricted", "created_by"],
        related_name="versions",
    )
    objects = PageQuerySet.as_manager()

    class Meta:
        ordering = ["position", "title"]
        constraints = [models.UniqueConstraint(fields=["space", "slug"], name="page_slug_unique_in_space")]
        indexes = [models.Index(fields=["space", "parent", "position"])]
        verbose_name = _("wiki page")
        verbose_name_plural = _("wiki pages")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse(
            "spaces:page-detail",
            kwargs={
                "community_slug": self.space.community.slug,
                "space_slug": self.space.slug,
                "page_slug": self.slug,
            },
        )

    def get_permalink(self) -> str:
        """A link that survives moves between spaces (used in Markdown links)."""
        return reverse("spaces:page-permalink", kwargs={"page_id": self.pk})


class PageTemplate(models.Model):
    """A starting point for new pages in a space ("Meeting notes", "Good-practice case study")."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="page_templates", verbose_name=_("space"))
    name = models.CharField(_("name"), max_length=120)
    description = models.CharField(_("description"), max_length=300, blank=True)
    body = models.TextField(_("body"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["space", "name"], name="template_name_unique_in_space")]
        verbose_name = _("page template")
        verbose_name_plural = _("page templates")

    def __str__(self) -> str:
        return self.name


class PageDraft(models.Model):
    """A member's unsaved edit, kept on the server so a closed browser or an expired session loses nothing."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="page_drafts", verbose_name=_("member")
    )
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+", verbose_name=_("space"))
    page = models.ForeignKey(
        Page, null=True, blank=True, on_delete=models.CASCADE, related_name="drafts", verbose_name=_("edited page")
    )
    title = models.CharField(_("title"), max_length=300, blank=True)
    body = models.TextField(_("body"), blank=True)
    base_version = models.PositiveIntegerField(_("based on version"), null=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "page"], name="one_draft_per_member_and_page"),
            models.UniqueConstraint(
                fields=["user", "space"],
                condition=models.Q(page__isnull=True),
                name="one_new_page_draft_per_space",
            ),
        ]
        verbose_name = _("page draft")
        verbose_name_plural = _("page drafts")

    def __str__(self) -> str:
        return f"Draft by {self.user_id} of {self.page_id or 'a new page'}"


class PageEditPresence(models.Model):
    """Who opened a page for editing recently, shown to others editing it."""

    page = models.ForeignKey(
        Page, on_delete=models.CASCADE, related_name="edit_presence", verbose_name=_("edited page")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("member")
    )
    seen_at = models.DateTimeField(_("last seen"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["page", "user"], name="one_presence_per_page_and_member")]
        verbose_name = _("editing presence")
        verbose_name_plural = _("editing presences")

    def __str__(self) -> str:
        return f"{self.user_id} editing {self.page_id}"
