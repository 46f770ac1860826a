"""Communities: the top level a secretariat runs, with its members, roles, guidelines and onboarding."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class CommunityRole(models.TextChoices):
    MEMBER = "member", _("Member")
    MODERATOR = "moderator", _("Moderator")
    ADMIN = "admin", _("Admin")


def logo_path(instance: "Community", filename: str) -> str:
    return f"community-logos/{instance.slug}/{filename}"


class Community(models.Model):
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("short name in addresses"), max_length=60, unique=True)
    description = models.TextField(_("description"), blank=True)
    guidelines = models.TextField(
        _("guidelines"), blank=True, help_text=_("Accepted by each member before their first join or post.")
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    logo = models.ImageField(_("logo"), upload_to=logo_path, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = _("communities")
        verbose_name = _("community")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("communities:detail", kwargs={"community_slug": self.slug})


class CommunityMembership(models.Model):
    """Membership of a community. Joining any space of the community creates one with the member role."""

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("community")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="community_memberships",
        verbose_name=_("member"),
    )
    role = models.CharField(_("role"), max_length=12, choices=CommunityRole.choices, default=CommunityRole.MEMBER)
    is_focal_point = models.BooleanField(
        _("country focal point"), default=False, help_text=_("Marked by community admins.")
    )
    joined_at = models.DateTimeField(_("joined"), auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["community", "user"], name="one_membership_per_community")]
        indexes = [models.Index(fields=["user", "role"])]
        verbose_name = _("community membership")
        verbose_name_plural = _("community memberships")

    def __str__(self) -> str:
        return f"{self.user_id} in {self.community_id} ({self.role})"


class IntroQuestion(models.Model):
    """An introductory question a member answers before their first join or post in the community."""

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="intro_questions", verbose_name=_("community")
    )
    text = models.CharField(_("question"), max_length=300)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    required = models.BooleanField(_("required"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("introductory question")
        verbose_name_plural = _("introductory questions")

    def __str__(self) -> str:
        return self.text


class Onboarding(models.Model):
    """A member's acceptance of a community's guidelines (recorded with the text they accepted)."""

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="onboardings", verbose_name=_("community")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="onboardings", verbose_name=_("member")
    )
    accepted_at = models.DateTimeField(_("accepted"), auto_now_add=True)
    guidelines_accepted = models.TextField(_("accepted guidelines"), blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["community", "user"], name="one_onboarding_per_community")]
        verbose_name = _("guidelines acceptance")
        verbose_name_plural = _("guidelines acceptances")

    def __str__(self) -> str:
        return f"{self.user_id} onboarded in {self.community_id}"


class IntroAnswer(models.Model):
    question = models.ForeignKey(
        IntroQuestion, on_delete=models.CASCADE, related_name="answers", verbose_name=_("question")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="intro_answers", verbose_name=_("member")
    )
    text = models.TextField(_("answer"), max_length=2000)
    answered_at = models.DateTimeField(_("answered"), auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["question", "user"], name="one_answer_per_question")]
        ordering = ["question__position", "question_id"]
        verbose_name = _("introductory answer")
        verbose_name_plural = _("introductory answers")

    def __str__(self) -> str:
        return f"Answer by {self.user_id} to {self.question_id}"


class CommunityBan(models.Model):
    """A ban from a whole community (by its moderators): no role in any of its spaces, present or future.

    The ban service also writes a ``SpaceBan`` for every space of the community, so the space permission
    queries need no extra rule; new spaces copy the community's bans when they are created.
    """

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="bans", verbose_name=_("community"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="community_bans", verbose_name=_("member")
    )
    reason = models.TextField(_("reason"), blank=True)
    banned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("banned by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["community", "user"], name="one_ban_per_community")]
        verbose_name = _("community ban")
        verbose_name_plural = _("community bans")

    def __str__(self) -> str:
        return f"{self.user_id} banned from {self.community_id}"
