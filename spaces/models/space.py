"""Spaces: where a group works. Visibility and roles are defined here; who may do what is in permissions.py."""

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class Visibility(models.TextChoices):
    OPEN = "open", _("Open")
    PRIVATE = "private", _("Private")
    CLOSED = "closed", _("Closed")


VISIBILITY_HELP = {
    Visibility.OPEN: _("Listed and readable by anyone. Any signed-in person can join with one click."),
    Visibility.PRIVATE: _(
        "Listed with its name and description only. Content is for members; people ask to join and a "
        "moderator approves."
    ),
    Visibility.CLOSED: _("Invisible to everyone but its members. People join only by invitation."),
}


class SpaceRole(models.IntegerChoices):
    """Space roles in rising order: each role can do everything the ones below it can."""

    VIEWER = 10, _("Viewer")
    EDITOR = 20, _("Editor")
    MODERATOR = 30, _("Moderator")
    ADMIN = 40, _("Admin")


# guardian permission codename on Space -> the role an individual grant confers on that one space.
GRANT_CODENAMES = {
    "hold_viewer_role": SpaceRole.VIEWER,
    "hold_editor_role": SpaceRole.EDITOR,
    "hold_moderator_role": SpaceRole.MODERATOR,
    "hold_admin_role": SpaceRole.ADMIN,
}


class SpaceQuerySet(models.QuerySet["Space"]):
    def visible_to(self, user) -> "SpaceQuerySet":
        """Spaces the user may see in lists and open (closed ones only for people who hold a role there)."""
        from spaces.permissions import listed_spaces_q

        return self.filter(listed_spaces_q(user))

    def readable_by(self, user) -> "SpaceQuerySet":
        """Spaces whose content the user may read."""
        from spaces.permissions import readable_spaces_q

        return self.filter(readable_spaces_q(user))


class Space(models.Model):
    community = models.ForeignKey(
        "communities.Community", on_delete=models.CASCADE, related_name="spaces", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("short name in addresses"), max_length=60)
    description = models.TextField(_("description"), blank=True)
    visibility = models.CharField(_("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.OPEN)
    default_role = models.PositiveSmallIntegerField(
        _("default role for new members"),
        choices=[(SpaceRole.VIEWER, _("Viewer")), (SpaceRole.EDITOR, _("Editor"))],
        default=SpaceRole.EDITOR,
    )
    is_archived = models.BooleanField(_("archived"), default=False)
    archived_at = models.DateTimeField(_("archived on"), null=True, blank=True)
    member_count = models.PositiveIntegerField(_("number of members"), default=0, editable=False)
    # Kept by spaces.services.courses: the "Courses" tab shows without a query on every page of the space.
    published_course_count = models.PositiveIntegerField(_("number of published courses"), default=0, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )

    objects = SpaceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["community", "slug"], name="space_slug_unique_in_community")]
        indexes = [models.Index(fields=["community", "visibility"])]
        permissions = [
            (codename, f"Holds the {role.label} role on this space") for codename, role in GRANT_CODENAMES.items()
        ]
        verbose_name = _("space")
        verbose_name_plural = _("spaces")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("spaces:home", kwargs={"community_slug": self.community.slug, "space_slug": self.slug})

    @property
    def visibility_help(self) -> str:
        return str(VISIBILITY_HELP[Visibility(self.visibility)])


class SpaceUserObjectPermission(UserObjectPermissionBase):
    """Per-space grants to individuals (django-guardian, direct foreign key so queries can join it)."""

    # guardian's own fields carry no label: declared again here, as guardian declares them, with one.
    permission = models.ForeignKey(Permission, on_delete=models.CASCADE, verbose_name=_("permission"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, verbose_name=_("member"))
    content_object = models.ForeignKey(
        Space, on_delete=models.CASCADE, related_name="user_grants", verbose_name=_("space")
    )

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = _("member grant on a space")
        verbose_name_plural = _("member grants on spaces")


class SpaceGroupObjectPermission(GroupObjectPermissionBase):
    # guardian's own fields carry no label: declared again here, as guardian declares them, with one.
    permission = models.ForeignKey(Permission, on_delete=models.CASCADE, verbose_name=_("permission"))
    group = models.ForeignKey(Group, on_delete=models.CASCADE, verbose_name=_("group"))
    content_object = models.ForeignKey(
        Space, on_delete=models.CASCADE, related_name="group_grants", verbose_name=_("space")
    )

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = _("group grant on a space")
        verbose_name_plural = _("group grants on spaces")
