"""Events: a meeting in a space, with registration (capacity and waiting list), registration questions,
attendance, paper and abstract submission, and files (agenda, presentations) attached to the event.

Start and end are stored in UTC (``DateTimeField`` with ``USE_TZ``) together with the event's own IANA time
zone, so the page can show both the viewer's local time and the organiser's. Counters (``going_count``,
``waitlist_count``) are kept by ``spaces/services/events.py`` under a row lock on the event.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .files import private_storage
from .items import Item
from .space import Space


class Event(models.Model):
    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="event", verbose_name=_("item"))
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="events", verbose_name=_("space"))
    slug = models.SlugField(_("short name in addresses"), max_length=80, allow_unicode=True)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    description_html = models.TextField(_("rendered description"), blank=True, editable=False)
    starts_at = models.DateTimeField(_("starts"), db_index=True)
    ends_at = models.DateTimeField(_("ends"))
    timezone = models.CharField(_("time zone"), max_length=64, help_text=_("The time zone the event happens in."))
    venue = models.CharField(_("venue"), max_length=300, blank=True)
    online_url = models.URLField(
        _("online meeting link"), max_length=500, blank=True, help_text=_("Shown only to registered participants.")
    )
    capacity = models.PositiveIntegerField(
        _("capacity"), null=True, blank=True, help_text=_("Leave empty for no limit. Beyond it, a waiting list.")
    )
    registration_deadline = models.DateTimeField(_("registration deadline"), null=True, blank=True)
    papers_open = models.BooleanField(_("accept paper and abstract submissions"), default=False)
    papers_deadline = models.DateTimeField(_("submission deadline"), null=True, blank=True)
    going_count = models.PositiveIntegerField(_("people going"), default=0, editable=False)
    maybe_count = models.PositiveIntegerField(_("people who may come"), default=0, editable=False)
    waitlist_count = models.PositiveIntegerField(_("people on the waiting list"), default=0, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("last edited by"),
    )
    last_edited_at = models.DateTimeField(_("last edited"), null=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["space", "slug"], name="event_slug_unique_in_space"),
            models.CheckConstraint(
                condition=models.Q(ends_at__gte=models.F("starts_at")), name="event_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["space", "starts_at"])]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse(
            "spaces:event-detail",
            kwargs={
                "community_slug": self.space.community.slug,
                "space_slug": self.space.slug,
                "event_slug": self.slug,
            },
        )


class RegistrationQuestionKind(models.TextChoices):
    TEXT = "text", _("Short text")
    CHOICE = "choice", _("One of a list")
    YES_NO = "yes_no", _("Yes or no")


class RegistrationQuestion(models.Model):
    """A question the organiser asks everyone who registers (dietary needs, organisation, ...)."""

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="registration_questions", verbose_name=_("event")
    )
    label = models.CharField(_("question"), max_length=200)
    kind = models.CharField(_("answer type"), max_length=10, choices=RegistrationQuestionKind.choices, default="text")
    choices = models.TextField(_("choices"), blank=True, help_text=_("For 'one of a list': one choice per line."))
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("registration question")
        verbose_name_plural = _("registration questions")

    def __str__(self) -> str:
        return self.label

    @property
    def choice_list(self) -> list[str]:
        return [c.strip() for c in self.choices.splitlines() if c.strip()]


class RegistrationStatus(models.TextChoices):
    GOING = "going", _("Going")
    MAYBE = "maybe", _("Maybe")
    NOT_GOING = "not_going", _("Not going")
    WAITLISTED = "waitlisted", _("On the waiting list")


class Registration(models.Model):
    """One member's answer to an event. ``waitlisted`` people move up, oldest first, when a place frees."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations", verbose_name=_("event"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_registrations", verbose_name=_("member")
    )
    status = models.CharField(_("status"), max_length=12, choices=RegistrationStatus.choices)
    answers = models.JSONField(
        _("answers"), default=dict, blank=True, help_text=_("Registration question id -> answer.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    status_changed_at = models.DateTimeField(_("status changed"), help_text=_("Waiting-list order: earliest first."))
    attended = models.BooleanField(
        _("attended"), null=True, blank=True, help_text=_("Marked by an organiser after the event.")
    )
    attendance_marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("attendance marked by"),
    )

    class Meta:
        ordering = ["status_changed_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["event", "user"], name="one_registration_per_member")]
        indexes = [models.Index(fields=["event", "status", "status_changed_at"])]
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")

    def __str__(self) -> str:
        return f"{self.user_id} {self.status} {self.event_id}"


class PaperStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted, awaiting review")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")


def paper_path(instance: "Paper", filename: str) -> str:
    return f"papers/{instance.event_id}/{instance.author_id}/{filename}"


class Paper(models.Model):
    """A paper or abstract submitted to an event by a registered participant, reviewed by its organisers.

    Not an ``Item``: until accepted it is seen only by its author and the organisers; once accepted it is
    listed on the event page for everyone who can see the event.
    """

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="papers", verbose_name=_("event"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="papers", verbose_name=_("author")
    )
    title = models.CharField(_("title"), max_length=300)
    abstract = models.TextField(_("abstract"))
    abstract_html = models.TextField(_("rendered abstract"), blank=True, editable=False)
    file = models.FileField(_("file"), upload_to=paper_path, storage=private_storage, max_length=500, blank=True)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    file_size = models.PositiveBigIntegerField(_("file size"), default=0)
    file_content_type = models.CharField(_("file type"), max_length=120, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=PaperStatus.choices, default=PaperStatus.SUBMITTED)
    decision_message = models.TextField(_("message to the author"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["submitted_at"]
        indexes = [models.Index(fields=["event", "status"])]
        verbose_name = _("paper")
        verbose_name_plural = _("papers")

    def __str__(self) -> str:
        return self.title
