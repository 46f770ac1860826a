"""Polls: single or multiple choice, optional closing time, results after voting or only after closing."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .items import Item
from .space import Space


class ResultsShown(models.TextChoices):
    AFTER_VOTE = "after_vote", _("To each member once they have voted")
    AFTER_CLOSE = "after_close", _("To everyone, only once the poll has closed")


class Poll(models.Model):
    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="poll", verbose_name=_("item"))
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="polls", verbose_name=_("space"))
    question = models.CharField(_("question"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    description_html = models.TextField(_("rendered description"), blank=True, editable=False)
    multiple = models.BooleanField(_("members may choose several options"), default=False)
    closes_at = models.DateTimeField(_("closes"), null=True, blank=True)
    results_shown = models.CharField(
        _("results shown"), max_length=12, choices=ResultsShown.choices, default=ResultsShown.AFTER_VOTE
    )
    voter_count = models.PositiveIntegerField(_("number of voters"), default=0, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("poll")
        verbose_name_plural = _("polls")

    def __str__(self) -> str:
        return self.question

    def get_absolute_url(self) -> str:
        return reverse(
            "spaces:poll-detail",
            kwargs={"community_slug": self.space.community.slug, "space_slug": self.space.slug, "poll_id": self.pk},
        )


class PollOption(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="options", verbose_name=_("poll"))
    label = models.CharField(_("option"), max_length=200)
    position = models.PositiveIntegerField(_("position"), default=0)
    vote_count = models.PositiveIntegerField(_("number of votes"), default=0, editable=False)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("poll option")
        verbose_name_plural = _("poll options")

    def __str__(self) -> str:
        return self.label


class PollVote(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="votes", verbose_name=_("poll"))
    option = models.ForeignKey(PollOption, on_delete=models.CASCADE, related_name="votes", verbose_name=_("option"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="poll_votes", verbose_name=_("member")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["option", "user"], name="one_vote_per_member_and_option")]
        indexes = [models.Index(fields=["poll", "user"])]
        verbose_name = _("poll vote")
        verbose_name_plural = _("poll votes")

    def __str__(self) -> str:
        return f"{self.user_id} chose {self.option_id}"
