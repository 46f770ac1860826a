"""Every write of the dashboards: a community's engagement-point policy."""

from __future__ import annotations

from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from analytics import permissions
from analytics.kinds import DEFAULT_POINTS
from analytics.models import PointsPolicy

WEIGHT_MIN, WEIGHT_MAX = 0, 1000
CAP_MIN, CAP_MAX = 1, 10000


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _enqueue_points_recompute(community_id: int) -> None:
    # Imported here: the task module imports the roll-up, which the dashboards never need at import time.
    from analytics.tasks import points_recompute_task

    points_recompute_task.delay(community_id)


@transaction.atomic
def points_policy_set(*, actor, community, weights: dict[str, int], daily_cap: int) -> PointsPolicy:
    """Set the community's points per activity kind and the daily cap per member, then (after commit) recompute
    every stored day's points under the new policy. Community admins and site staff only.

    ``weights`` may name any of ``analytics.kinds.DEFAULT_POINTS``' kinds (0 to 1000 points each); kinds left out
    keep their current weight. ``daily_cap`` is 1 to 10,000. Nothing is saved when any value is wrong.
    """
    if not permissions.can_edit_points_policy(actor, community):
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    for kind, value in weights.items():
        if kind not in DEFAULT_POINTS:
            errors.setdefault("weights", []).append(
                _("“%(kind)s” is not an activity that earns points.") % {"kind": kind}
            )
        elif not _is_int(value) or not WEIGHT_MIN <= value <= WEIGHT_MAX:
            errors.setdefault(kind, []).append(
                _("Points must be a whole number from %(low)s to %(high)s.") % {"low": WEIGHT_MIN, "high": WEIGHT_MAX}
            )
    if not _is_int(daily_cap) or not CAP_MIN <= daily_cap <= CAP_MAX:
        errors["daily_cap"] = [
            _("The daily cap must be a whole number from %(low)s to %(high)s.")
            % {"low": CAP_MIN, "high": f"{CAP_MAX:,}"}
        ]
    if errors:
        raise ValidationError(errors)
    policy = PointsPolicy.objects.select_for_update().filter(community=community).first()
    if policy is None:
        policy = PointsPolicy(community=community, weights={})
    current = {**DEFAULT_POINTS, **(policy.weights or {})}
    policy.weights = {kind: int(weights.get(kind, current[kind])) for kind in DEFAULT_POINTS}
    policy.daily_cap = daily_cap
    policy.updated_by = actor
    policy.full_clean()
    policy.save()
    transaction.on_commit(partial(_enqueue_points_recompute, community.pk))
    return policy
