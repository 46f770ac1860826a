"""Members: the user account (e-mail login) and the profile other members see."""

import functools
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class OrganisationType(models.TextChoices):
    NSO = "nso", _("National statistics office")
    GOVERNMENT = "government", _("Other government")
    DEV_PARTNER = "dev_partner", _("Development partner")
    NGO = "ngo", _("NGO")
    ACADEMIA = "academia", _("Academia")
    OTHER = "other", _("Other")


@functools.cache
def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class MemberManager(UserManager):
    def create_user(self, username=None, email=None, password=None, **extra_fields):  # type: ignore[override]
        email = self.normalize_email(email)
        if not username:
            username = username_from_email(email, self.model)
        return super().create_user(username, email, password, **extra_fields)

    def active(self) -> "models.QuerySet[User]":
        return self.filter(is_active=True, deleted_at__isnull=True)


def username_from_email(email: str, model: type["User"]) -> str:
    """A unique @handle derived from the e-mail's local part (used for mentions and invitations)."""
    import re

    base = re.sub(r"[^a-z0-9_]", "", (email or "member").split("@")[0].lower())[:20] or "member"
    candidate, n = base, 1
    while model.objects.filter(username__iexact=candidate).exists():
        n += 1
        candidate = f"{base}{n}"
    return candidate


class User(AbstractUser):
    """A person with an account. Logs in by e-mail; ``username`` is the public @handle."""

    email = models.EmailField(_("e-mail address"), unique=True)
    display_name = models.CharField(_("display name"), max_length=120, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = MemberManager()

    REQUIRED_FIELDS = ["email"]

    class Meta:
        ordering = ["display_name", "username"]
        permissions = [("view_analytics", "Can see every analytics dashboard (site analyst)")]

    def __str__(self) -> str:
        return self.public_name

    @property
    def public_name(self) -> str:
        if self.deleted_at:
            return str(_("former member"))
        return self.display_name or self.username

    def get_absolute_url(self) -> str:
        return reverse("members:profile", kwargs={"username": self.username})


def avatar_path(instance: "Profile", filename: str) -> str:
    return f"avatars/{instance.user_id}/{filename}"


class Expertise(models.Model):
    """An area of expertise, shared between profiles so members can find peers by it."""

    name = models.CharField(max_length=80, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    organisation_type = models.CharField(
        _("organisation type"), max_length=20, choices=OrganisationType.choices, blank=True
    )
    country = models.CharField(_("country"), max_length=80, blank=True)
    job_title = models.CharField(_("job title"), max_length=200, blank=True)
    bio = models.TextField(_("short bio"), max_length=2000, blank=True)
    expertise = models.ManyToManyField(Expertise, blank=True, related_name="profiles")
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    preferred_language = models.CharField(
        _("preferred language"), max_length=10, choices=settings.LANGUAGES, default="en"
    )
    avatar = models.ImageField(_("avatar"), upload_to=avatar_path, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["country"]), models.Index(fields=["organisation_type"])]

    def __str__(self) -> str:
        return f"Profile of {self.user_id}"
