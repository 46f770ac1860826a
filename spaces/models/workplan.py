"""A space's work plan: the product the group works towards, and milestones with due dates and owners."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .items import Item
from .space import Space


class WorkPlan(models.Model):
    space = models.OneToOneField(Space, on_delete=models.CASCADE, related_name="work_plan", verbose_name=_("space"))
    product = models.CharField(
        _("product"),
        max_length=300,
        blank=True,
        help_text=_('What the group is making, e.g. "good practices for June".'),
    )
    description = models.TextField(_("description"), blank=True)
    due_date = models.DateField(_("product due"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("updated by")
    )

    class Meta:
        verbose_name = _("work plan")
        verbose_name_plural = _("work plans")

    def __str__(self) -> str:
        return self.product or f"Work plan of {self.space_id}"


class MilestoneStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    DROPPED = "dropped", _("Dropped")


class Milestone(models.Model):
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="milestones", verbose_name=_("space"))
    title = models.CharField(_("title"), max_length=200)
    due_date = models.DateField(_("due"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="milestones",
        verbose_name=_("owner"),
    )
    status = models.CharField(_("status"), max_length=12, choices=MilestoneStatus.choices, default="planned")
    linked_items = models.ManyToManyField(Item, blank=True, related_name="milestones", verbose_name=_("linked items"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        ordering = ["due_date", "pk"]
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")

    def __str__(self) -> str:
        return self.title
