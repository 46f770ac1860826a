"""Reads for a space's work plan: the summary card on the space home and the work plan page.

"Today" is the date in the space's community time zone, so a milestone turns overdue at the same moment for
everyone in the group, wherever they read from. Linked pages and events are filtered through
``Item.objects.visible_to(user)`` in the query: a restricted page linked to a milestone is not shown (not even
its title) to people who cannot see it.
"""

from __future__ import annotations

import zoneinfo
from datetime import date

from django.db.models import Case, Count, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from spaces import permissions
from spaces.models import Item, ItemKind, Milestone, MilestoneStatus, Space, SpaceMembership

OPEN_STATUSES = (MilestoneStatus.PLANNED, MilestoneStatus.IN_PROGRESS)
OVERDUE_SHOWN = 5


def space_today(space: Space) -> date:
    """Today's date where the space's community lives (UTC when its time zone is unknown)."""
    try:
        zone = zoneinfo.ZoneInfo(space.community.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return timezone.localdate(timezone=zone)


def _progress(total: int, done: int, overdue: int) -> dict:
    return {
        "total": total,
        "done": done,
        "overdue_count": overdue,
        "percent": round(100 * done / total) if total else 0,
    }


def _milestone_count(condition: Q) -> Coalesce:
    """The number of the space's milestones meeting ``condition``, as a subquery on a space row."""
    counted = (
        Milestone.objects.filter(condition, space=OuterRef("pk"))
        .order_by()
        .values("space")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted), 0)


def work_plan_summary(space: Space, user) -> dict:
    """What ``spaces/partials/work_plan_summary.html`` needs for the space home: the product and its due date,
    milestones done of total (dropped ones do not count), progress percent, the next deadline (the earliest open
    milestone due today or later) and the overdue milestones (open, due before today).

    Two queries at most, whatever the number of milestones: the plan with the counts, then, when some milestone is
    open, the next and the first overdue milestones (most spaces have no open milestone, and asking cost 1.5 ms of
    the space home). The caller decides whether the user may read the space.
    """
    today = space_today(space)
    row = (
        Space.objects.filter(pk=space.pk)
        .select_related("work_plan")
        .annotate(
            milestones_total=_milestone_count(~Q(status=MilestoneStatus.DROPPED)),
            milestones_done=_milestone_count(Q(status=MilestoneStatus.DONE)),
            milestones_overdue=_milestone_count(Q(status__in=OPEN_STATUSES, due_date__lt=today)),
        )
        .get()
    )
    plan = getattr(row, "work_plan", None)
    progress = _progress(row.milestones_total, row.milestones_done, row.milestones_overdue)
    shown = []
    if row.milestones_total > row.milestones_done:  # some are open (neither done nor dropped)
        open_milestones = Milestone.objects.filter(space=space, status__in=OPEN_STATUSES)
        next_pk = open_milestones.filter(due_date__gte=today).order_by("due_date", "pk").values("pk")[:1]
        shown = list(
            open_milestones.filter(Q(due_date__lt=today) | Q(pk=Subquery(next_pk)))
            .annotate(is_next=Case(When(due_date__gte=today, then=Value(0)), default=Value(1)))
            .order_by("is_next", "due_date", "pk")[: OVERDUE_SHOWN + 1]
        )
    next_milestone = shown[0] if shown and shown[0].is_next == 0 else None
    overdue = [m for m in shown if m.is_next == 1][:OVERDUE_SHOWN]
    return {
        "plan": plan,
        "has_work_plan": bool(plan and (plan.product or plan.due_date)) or progress["total"] > 0,
        **progress,
        "next_milestone": next_milestone,
        "days_left": (next_milestone.due_date - today).days if next_milestone else None,
        "overdue": overdue,
        "today": today,
        "can_edit_work_plan": permissions.can_edit_work_plan(user, space),
        "space": space,
        "community": space.community,
    }


def item_link(item: Item, space: Space) -> str:
    """Where a linked page or event is read (the space's home while event pages are not wired yet)."""
    kwargs = {"community_slug": space.community.slug, "space_slug": space.slug}
    try:
        if item.kind == ItemKind.PAGE and (page := getattr(item, "page", None)) is not None:
            return reverse("spaces:page-detail", kwargs={**kwargs, "page_slug": page.slug})
        if item.kind == ItemKind.EVENT and (event := getattr(item, "event", None)) is not None:
            return reverse("spaces:event-detail", kwargs={**kwargs, "event_slug": event.slug})
    except NoReverseMatch:
        pass
    return space.get_absolute_url()


def visible_linkable_items(user, space: Space) -> QuerySet[Item]:
    """Pages and events of the space the user can see: what a milestone may link to."""
    return (
        Item.objects.visible_to(user)
        .filter(space=space, kind__in=(ItemKind.PAGE, ItemKind.EVENT))
        .order_by("kind", "title", "pk")
    )


def space_member_choices(space: Space, current_owner_id: int | None = None) -> QuerySet:
    """People offered as a milestone's owner: the space's members (banned people have lost their membership),
    and the current owner, who may hold their role through the community instead."""
    from django.contrib.auth import get_user_model

    member_ids = SpaceMembership.objects.filter(space=space).values("user_id")
    people = Q(pk__in=member_ids) | Q(pk=current_owner_id) if current_owner_id else Q(pk__in=member_ids)
    return get_user_model().objects.filter(people, is_active=True).order_by("display_name", "pk")


def milestones_for(user, space: Space) -> list[Milestone]:
    """The space's milestones by due date, each with ``is_overdue``, ``can_update``, ``can_edit`` and
    ``visible_links`` (pairs of item and URL, only items the user can see). Two queries, whatever the number
    of milestones or links: the milestones with owners, and the visible linked items."""
    today = space_today(space)
    links = Item.objects.visible_to(user).select_related("page", "event").order_by("kind", "title", "pk")
    milestones = list(
        Milestone.objects.filter(space=space)
        .select_related("owner")
        .prefetch_related(Prefetch("linked_items", queryset=links, to_attr="visible_items"))
        .order_by("due_date", "pk")
    )
    can_edit = permissions.can_edit_work_plan(user, space)
    for milestone in milestones:
        milestone.space = space
        milestone.is_open = milestone.status in OPEN_STATUSES
        milestone.is_overdue = milestone.is_open and milestone.due_date < today
        milestone.can_edit = can_edit
        milestone.can_update = permissions.can_update_milestone(user, milestone)
        milestone.visible_links = [(item, item_link(item, space)) for item in milestone.visible_items]
    return milestones


def get_milestone_for_user(user, space: Space, milestone_id: int) -> Milestone:
    """A milestone of ``space`` (404 otherwise). The caller has already checked the user may read the space."""
    milestone = Milestone.objects.select_related("owner").filter(space=space, pk=milestone_id).first()
    if milestone is None:
        raise Http404
    milestone.space = space
    return milestone
