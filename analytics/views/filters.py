"""The dashboards' filters (GET), turned into a permission-checked ``metrics.Scope``, and shared labels."""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics import figures_cache, metrics
from analytics.forms import DashboardFilterForm
from analytics.permissions import DashboardAccess
from analytics.recording import local_day
from spaces.models import Space

LEVEL_LABELS = {
    "core": gettext_lazy("Core"),
    "active": gettext_lazy("Active"),
    "peripheral": gettext_lazy("Peripheral"),
    "dormant": gettext_lazy("Dormant"),
    "never": gettext_lazy("Never logged in"),
}

AMBASSADOR_LABELS = {
    "bronze": gettext_lazy("Bronze ambassador"),
    "silver": gettext_lazy("Silver ambassador"),
    "gold": gettext_lazy("Gold ambassador"),
}


@dataclass
class Filters:
    scope: metrics.Scope
    form: DashboardFilterForm
    notices: list[str]
    space: Space | None
    community_zone: str
    chosen_zone: str
    posting_by: str
    breakdown_by: str = "country"  # the breakdown table's rows: "country" or "organisation_type"


BREAKDOWN_BY = {"country": gettext_lazy("Country"), "organisation_type": gettext_lazy("Organisation type")}


def breakdown_labels(by: str) -> dict[str, str]:
    """Labels of the values of ``by`` that are not shown as stored (organisation types are read through the app
    registry: analytics imports no members code); countries are shown as stored."""
    labels: dict[str, str] = {metrics.NOT_STATED: _("Not stated")}
    if by == "organisation_type":
        field = apps.get_model("members", "Profile")._meta.get_field("organisation_type")
        labels.update((value, str(label)) for value, label in field.choices if value)
    return labels


def _labelled(values: list[str], by: str) -> list[tuple[str, str]]:
    """The values of ``by``, with labels."""
    labels = breakdown_labels(by)
    return [(value, labels.get(value, value)) for value in values]


def dashboard_filters(request, access: DashboardAccess, *, generation: int | None = None) -> Filters:
    """The filters in effect. The country and organisation-type choices (the values among the scope's members)
    are remembered with the figures until the roll-ups move (``figures_cache``; ``generation`` when the caller
    has already read it)."""
    community_zone = access.community.time_zone if access.community else "UTC"
    today = local_day(timezone.now(), community_zone)
    permitted = tuple(s.pk for s in access.spaces)
    base_spaces = None if access.whole else permitted
    base = metrics.Scope(community_ids=access.community_ids, space_ids=base_spaces, end=today)
    if generation is None:
        generation = figures_cache.rollup_generation()
    choices = figures_cache.remembered("choices", (base,), generation, lambda: metrics.breakdown_choices(base))
    options = {
        "spaces": [(s.slug, s.name) for s in access.spaces] if access.community else [],
        "all_spaces_label": _("Whole community") if access.whole else _("All my spaces"),
        "countries": _labelled(choices["country"], "country"),
        "organisation_types": _labelled(choices["organisation_type"], "organisation_type"),
        "today": today,
        "member_figures": access.member_figures,
        "several_communities": len(access.community_ids) > 1,
    }
    form = DashboardFilterForm(request.GET, **options)
    values, notices = form.values()
    space = next((s for s in access.spaces if s.slug == values["space"]), None)
    chosen_zone = values["tz"] or timezone.get_current_timezone_name()
    if chosen_zone not in dict(form.fields["tz"].choices):
        chosen_zone = community_zone
    scope = metrics.Scope(
        community_ids=access.community_ids,
        space_ids=(space.pk,) if space else base_spaces,
        end=values["end"] or today,
        start=values["start"],
        country=values["country"] or "",
        organisation_type=values["organisation_type"] or "",
    )
    # The form as shown: every filter at the value in effect (a wrong value shows its default).
    shown = DashboardFilterForm(None, initial={**values, "tz": chosen_zone}, **options)
    breakdown_by = request.GET.get("breakdown") or "country"
    if breakdown_by not in BREAKDOWN_BY:
        notices.append(_("Breakdown: there is no such breakdown. The breakdown by country is shown instead."))
        breakdown_by = "country"
    return Filters(scope, shown, notices, space, community_zone, chosen_zone, values["posting_by"] or "", breakdown_by)
