"""Every write to a space's work plan: the product, and milestones with due dates, owners, status and links.

The product and the milestones are set by the space's moderators (``can_edit_work_plan``); a milestone's owner
may move their own milestone along (``milestone_set_status``). Links point at pages and events of the same
space that the actor can see; links the actor cannot see are kept untouched when they edit a milestone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.recording import record_activity
from spaces import permissions
from spaces.models import Item, ItemKind, Milestone, MilestoneStatus, Space, WorkPlan

MAX_PRODUCT = 300
MAX_TITLE = 200
MAX_DESCRIPTION = 20_000
LINKABLE_KINDS = (ItemKind.PAGE, ItemKind.EVENT)


@transaction.atomic
def work_plan_update(
    *, actor, space: Space, product: str, description: str = "", due_date: date | None = None
) -> WorkPlan:
    """State (or change) what the group is making and when it is due. One work plan per space."""
    if not permissions.can_edit_work_plan(actor, space):
        raise PermissionDenied
    product = " ".join((product or "").split())
    errors: dict[str, list[str]] = {}
    if len(product) > MAX_PRODUCT:
        errors["product"] = [_("Keep the product under %d characters.") % MAX_PRODUCT]
    if len(description or "") > MAX_DESCRIPTION:
        errors["description"] = [_("Keep the description under %d characters.") % MAX_DESCRIPTION]
    if errors:
        raise ValidationError(errors)
    plan = WorkPlan.objects.select_for_update().filter(space=space).first() or WorkPlan(space=space)
    plan.product, plan.description, plan.due_date, plan.updated_by = product, description or "", due_date, actor
    plan.full_clean()
    plan.save()
    record_activity(
        actor=actor, kind="work_plan_update", community_id=space.community_id, space_id=space.pk, target=plan
    )
    return plan


def _check_owner(space: Space, owner) -> None:
    """A milestone's owner takes part in the space: a role there (membership, community role or grant)."""
    if owner is not None and (not owner.is_active or permissions.space_role(owner, space) is None):
        raise ValidationError({"owner": [_("The owner must be a member of this space.")]})


def _linkable(actor, space: Space, items: Iterable[Item | int]) -> list[Item]:
    """The chosen items, if every one is a page or event of ``space`` that ``actor`` can see."""
    ids = {item.pk if isinstance(item, Item) else int(item) for item in items or []}
    if not ids:
        return []
    found = list(Item.objects.visible_to(actor).filter(pk__in=ids, space=space, kind__in=LINKABLE_KINDS).order_by("pk"))
    if len(found) != len(ids):
        raise ValidationError({"linked_items": [_("Link only pages and events of this space that you can see.")]})
    return found


def _validate_milestone(title: str, due_date: date | None, status: str) -> str:
    title = " ".join((title or "").split())
    errors: dict[str, list[str]] = {}
    if not title:
        errors["title"] = [_("Give the milestone a title.")]
    elif len(title) > MAX_TITLE:
        errors["title"] = [_("Keep the title under %d characters.") % MAX_TITLE]
    if due_date is None:
        errors["due_date"] = [_("Give the milestone a due date.")]
    if status not in MilestoneStatus.values:
        errors["status"] = [_("Choose a status.")]
    if errors:
        raise ValidationError(errors)
    return title


def _completed_at(status: str, current=None):
    if status != MilestoneStatus.DONE:
        return None
    return current or timezone.now()


@transaction.atomic
def milestone_create(
    *,
    actor,
    space: Space,
    title: str,
    due_date: date | None,
    owner=None,
    status: str = MilestoneStatus.PLANNED,
    linked_items: Iterable[Item | int] = (),
) -> Milestone:
    """Add a milestone to the space's work plan (moderators)."""
    if not permissions.can_edit_work_plan(actor, space):
        raise PermissionDenied
    title = _validate_milestone(title, due_date, status)
    _check_owner(space, owner)
    items = _linkable(actor, space, linked_items)
    milestone = Milestone(
        space=space, title=title, due_date=due_date, owner=owner, status=status, completed_at=_completed_at(status)
    )
    milestone.full_clean()
    milestone.save()
    milestone.linked_items.set(items)
    record_activity(
        actor=actor, kind="milestone_create", community_id=space.community_id, space_id=space.pk, target=milestone
    )
    return milestone


@transaction.atomic
def milestone_edit(
    *,
    actor,
    milestone: Milestone,
    title: str,
    due_date: date | None,
    owner=None,
    status: str | None = None,
    linked_items: Iterable[Item | int] = (),
) -> Milestone:
    """Change a milestone (moderators). Links the actor cannot see are kept, so an edit never drops them."""
    space = milestone.space
    if not permissions.can_edit_work_plan(actor, space):
        raise PermissionDenied
    status = status or milestone.status
    title = _validate_milestone(title, due_date, status)
    _check_owner(space, owner)
    items = _linkable(actor, space, linked_items)
    unseen = list(milestone.linked_items.exclude(pk__in=Item.objects.visible_to(actor).values("pk")))
    milestone.title, milestone.due_date, milestone.owner, milestone.status = title, due_date, owner, status
    milestone.completed_at = _completed_at(status, milestone.completed_at)
    milestone.full_clean()
    milestone.save(update_fields=["title", "due_date", "owner", "status", "completed_at"])
    milestone.linked_items.set([*items, *unseen])
    record_activity(
        actor=actor, kind="milestone_edit", community_id=space.community_id, space_id=space.pk, target=milestone
    )
    return milestone


@transaction.atomic
def milestone_set_status(*, actor, milestone: Milestone, status: str) -> Milestone:
    """Move a milestone along (moderators, or its owner). Done milestones remember when they were completed."""
    if not permissions.can_update_milestone(actor, milestone):
        raise PermissionDenied
    if status not in MilestoneStatus.values:
        raise ValidationError({"status": [_("Choose a status.")]})
    if status == milestone.status:
        return milestone
    milestone.status = status
    milestone.completed_at = _completed_at(status)
    milestone.save(update_fields=["status", "completed_at"])
    record_activity(
        actor=actor,
        kind="milestone_status",
        community_id=milestone.space.community_id,
        space_id=milestone.space_id,
        target=milestone,
    )
    return milestone


@transaction.atomic
def milestone_delete(*, actor, milestone: Milestone) -> None:
    """Remove a milestone from the work plan (moderators). Linked pages and events are not touched."""
    space = milestone.space
    if not permissions.can_edit_work_plan(actor, space):
        raise PermissionDenied
    record_activity(
        actor=actor, kind="milestone_delete", community_id=space.community_id, space_id=space.pk, target=milestone
    )
    milestone.delete()
