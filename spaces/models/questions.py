"""Questions and answers: tags per space, votes, one accepted answer, edits versioned with django-simple-history.

Counters (``answer_count``, ``vote_score``) are denormalised so lists sort and show them without a query per
row; only the services in ``spaces/services/questions.py`` change them, inside the same transaction.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .items import Item
from .space import Space


class Tag(models.Model):
    """A topic label for questions, scoped to one space."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="tags", verbose_name=_("space"))
    name = models.CharField(_("name"), max_length=50)
    slug = models.SlugField(_("short name in addresses"), max_length=60, allow_unicode=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["space", "slug"], name="tag_slug_unique_in_space")]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class QuestionQuerySet(models.QuerySet["Question"]):
    def visible_to(self, user) -> "QuestionQuerySet":
        return self.filter(item__in=Item.objects.visible_to(user, kinds=("question",)))


class Question(models.Model):
    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="question", verbose_name=_("item"))
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="questions", verbose_name=_("space"))
    slug = models.SlugField(_("short name in addresses"), max_length=80, allow_unicode=True)
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("body"), blank=True)
    body_html = models.TextField(_("rendered body"), blank=True, editable=False)
    tags = models.ManyToManyField(Tag, blank=True, related_name="questions", verbose_name=_("tags"))
    accepted_answer = models.ForeignKey(
        "Answer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("accepted answer")
    )
    answer_count = models.PositiveIntegerField(_("number of answers"), default=0, editable=False)
    vote_score = models.IntegerField(_("vote score"), default=0, editable=False)
    version = models.PositiveIntegerField(_("version number"), default=1, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    last_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("last edited by"),
    )
    last_edited_at = models.DateTimeField(_("last edited"), null=True)

    history = HistoricalRecords(
        excluded_fields=["body_html", "item", "accepted_answer", "answer_count", "vote_score", "created_at"],
        related_name="versions",
    )
    objects = QuestionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["space", "slug"], name="question_slug_unique_in_space")]
        indexes = [
            models.Index(fields=["space", "-created_at"]),
            models.Index(fields=["space", "-vote_score"]),
        ]
        verbose_name = _("question")
        verbose_name_plural = _("questions")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse(
            "spaces:question-detail",
            kwargs={
                "community_slug": self.space.community.slug,
                "space_slug": self.space.slug,
                "question_slug": self.slug,
            },
        )


class Answer(models.Model):
    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="answer", verbose_name=_("item"))
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers", verbose_name=_("question"))
    body = models.TextField(_("answer"))
    body_html = models.TextField(_("rendered answer"), blank=True, editable=False)
    vote_score = models.IntegerField(_("vote score"), default=0, editable=False)
    version = models.PositiveIntegerField(_("version number"), default=1, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("last edited by"),
    )
    last_edited_at = models.DateTimeField(_("last edited"), null=True)

    history = HistoricalRecords(
        excluded_fields=["body_html", "item", "question", "vote_score", "created_at"], related_name="versions"
    )

    class Meta:
        ordering = ["-vote_score", "created_at"]
        indexes = [models.Index(fields=["question", "-vote_score"])]
        verbose_name = _("answer")
        verbose_name_plural = _("answers")

    def __str__(self) -> str:
        return f"Answer {self.pk} to {self.question_id}"

    def get_absolute_url(self) -> str:
        return f"{self.question.get_absolute_url()}#answer-{self.pk}"


class Vote(models.Model):
    """One up-vote by one member on one question or answer (never their own); withdrawn by deleting it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="votes", verbose_name=_("member")
    )
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="votes", verbose_name=_("item"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "item"], name="one_vote_per_member_and_item")]
        verbose_name = _("up-vote")
        verbose_name_plural = _("up-votes")

    def __str__(self) -> str:
        return f"{self.user_id} votes for {self.item_id}"
