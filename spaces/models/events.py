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
    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="event")
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="events")
    slug = models.SlugField(max_length=80, allow_unicode=True)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    description_html = models.TextField(blank=True, editable=False)
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
    going_count = models.PositiveIntegerField(default=0, editable=False)
    maybe_count = models.PositiveIntegerField(default=0, editable=False)
    waitlist_count = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_edited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    last_edited_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["space", "slug"], name="event_slug_unique_in_space"),
            models.CheckConstraint(
                condition=models.Q(ends_at__gte=models.F("starts_at")), name="event_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["space", "starts_at"])]

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

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registration_questions")
    label = models.CharField(_("question"), max_length=200)
    kind = models.CharField(max_length=10, choices=RegistrationQuestionKind.choices, default="text")
    choices = models.TextField(_("choices"), blank=True, help_text=_("For 'one of a list': one choice per line."))
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

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

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_registrations")
    status = models.CharField(max_length=12, choices=RegistrationStatus.choices)
    answers = models.JSONField(default=dict, blank=True, help_text=_("Registration question id -> answer."))
    created_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField(help_text=_("Waiting-list order: earliest first."))
    attended = models.BooleanField(null=True, blank=True, help_text=_("Marked by an organiser after the event."))
    attendance_marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["status_changed_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["event", "user"], name="one_registration_per_member")]
        indexes = [models.Index(fields=["event", "status", "status_changed_at"])]

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

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="papers")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="papers")
    title = models.CharField(_("title"), max_length=300)
    abstract = models.TextField(_("abstract"))
    abstract_html = models.TextField(blank=True, editable=False)
    file = models.FileField(_("file"), upload_to=paper_path, storage=private_storage, max_length=500, blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    file_size = models.PositiveBigIntegerField(default=0)
    file_content_type = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=10, choices=PaperStatus.choices, default=PaperStatus.SUBMITTED)
    decision_message = models.TextField(_("message to the author"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["submitted_at"]
        indexes = [models.Index(fields=["event", "status"])]

    def __str__(self) -> str:
        return self.title
