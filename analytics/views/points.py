"""The points policy page: community admins set the points per activity kind and the daily cap."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from analytics import permissions, services
from analytics.forms import PointsPolicyForm
from analytics.kinds import DEFAULT_DAILY_POINTS_CAP, DEFAULT_POINTS
from analytics.models import PointsPolicy
from communities.models import Community
from copapp.utils import add_service_errors


def _policy_initial(community: Community) -> dict:
    policy = PointsPolicy.objects.filter(community=community).first()
    weights = {**DEFAULT_POINTS, **{k: v for k, v in ((policy.weights if policy else None) or {}).items()}}
    initial = {kind: weights[kind] for kind in DEFAULT_POINTS}
    initial["daily_cap"] = policy.daily_cap if policy else DEFAULT_DAILY_POINTS_CAP
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def points_policy(request, community_slug):
    access = permissions.get_dashboard_for_user(request.user, community_slug)
    if not access.can_edit_points:
        raise PermissionDenied
    community = access.community
    form = PointsPolicyForm(request.POST or None, initial=_policy_initial(community))
    if request.method == "POST" and form.is_valid():
        try:
            services.points_policy_set(
                actor=request.user,
                community=community,
                weights=form.weights(),
                daily_cap=form.cleaned_data["daily_cap"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Points policy saved. Points are being recomputed."))
            return redirect(reverse("analytics:points-policy", kwargs={"community_slug": community.slug}))
    return render(request, "analytics/points_policy.html", {"community": community, "form": form})
