"""The landing page, the community dashboards and the analysts' overview of all communities."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from analytics import charts, figures_cache, metrics, permissions
from analytics.permissions import DashboardAccess
from analytics.views.breakdowns import breakdown_context
from analytics.views.exports import csv_response, suppress_below
from analytics.views.filters import AMBASSADOR_LABELS, LEVEL_LABELS, Filters, dashboard_filters
from communities.models import Community
from communities.permissions import can_administer_community
from copapp.plans import custom_plans
from spaces.models import Space

MAX_SERIES = 8


# --- Landing page ---------------------------------------------------------------------------------------------------
@login_required
@require_GET
def dashboard_index(request):
    user = request.user
    communities = list(permissions.dashboard_communities_for(user))
    spaces = list(
        Space.objects.filter(permissions.dashboard_spaces_q(user))
        .exclude(community_id__in=[c.pk for c in communities])
        .select_related("community")
        .order_by("community__name", "name")
    )
    if not communities and not spaces:
        raise Http404
    rows = [{"community": c, "can_edit_points": can_administer_community(user, c)} for c in communities]
    return render(
        request,
        "analytics/dashboard_index.html",
        {"communities": rows, "spaces": spaces, "is_analyst": permissions.is_analyst(user)},
    )


# --- Dashboards -------------------------------------------------------------------------------------------------------
@login_required
@require_GET
def community_dashboard(request, community_slug):
    access = permissions.get_dashboard_for_user(request.user, community_slug)
    return _dashboard(request, access)


@login_required
@require_GET
def overview_dashboard(request):
    if not permissions.is_analyst(request.user):
        raise Http404
    communities = tuple(Community.objects.order_by("name").values_list("pk", flat=True))
    access = DashboardAccess(community=None, community_ids=communities, whole=True, member_figures=True)
    return _dashboard(request, access)


def _dashboard(request, access: DashboardAccess):
    # Figures read thousands of roll-up rows for dates and scopes that change what the best plan is; planning is a
    # small part of their cost, so each is planned for its own values (copapp.plans).
    with custom_plans():
        return _dashboard_page(request, access)


def _dashboard_page(request, access: DashboardAccess):
    generation = figures_cache.rollup_generation()
    filters = dashboard_filters(request, access, generation=generation)
    if request.GET.get("format") == "csv":
        return csv_response(request, access, filters)
    query = {k: v for k, v in request.GET.items() if k not in ("format", "figure")}
    csv_base = f"{request.path}?{urlencode({**query, 'format': 'csv'})}&figure="
    context = {
        "access": access,
        "community": access.community,
        "filters": filters,
        "form": filters.form,
        "notices": filters.notices,
        "csv_base": csv_base,
        "definitions": metrics.DEFINITIONS,
        "suppress_below": suppress_below(),
        "cache_seconds": figures_cache.cache_seconds(),
    }
    # The figure sections as rendered for this page (its query string, language and viewer) until the next roll-up:
    # when remembered, nothing is computed or rendered for them.
    parts = (*_figure_parts(access, filters), get_language(), request.get_full_path(), suppress_below())
    context["figures_key"] = figures_cache.fragment_key(parts, generation)
    html = figures_cache.rendered_fragment(context["figures_key"])
    if html is not None:
        context["figures_html"] = mark_safe(html)  # noqa: S308 (our own rendering, from the cache)  # nosec B308, B703
    else:
        figures = _dashboard_figures(access, filters, generation)
        context["breakdown"] = breakdown_context(request, filters, suppress_below(), table=figures.breakdown)
        context.update(_figures(access, filters, figures))
    return render(request, "analytics/dashboard.html", context)


def _ratio(ratio: metrics.Ratio) -> dict:
    return {"value": charts.format_value(ratio.value, percent=True), "n": ratio.numerator, "d": ratio.denominator}


def _heatmap_zones(filters: Filters) -> tuple[str, ...]:
    if filters.chosen_zone != filters.community_zone:
        return (filters.community_zone, filters.chosen_zone)
    return (filters.community_zone,)


def _options(access: DashboardAccess, filters: Filters) -> dict:
    return {
        "posting_by": filters.posting_by,
        "heatmap_zones": _heatmap_zones(filters),
        "breakdown_by": filters.breakdown_by,
        "member_figures": access.member_figures,
    }


def _figure_parts(access: DashboardAccess, filters: Filters) -> tuple:
    """What the figures depend on besides the roll-ups: the permission-checked scope and the page's options."""
    return (filters.scope, tuple(sorted(_options(access, filters).items())))


def _dashboard_figures(access: DashboardAccess, filters: Filters, generation: int) -> metrics.Dashboard:
    """Every figure of the page, computed together (``metrics.dashboard``) and remembered until the roll-ups move
    (``figures_cache``): keyed by the permission-checked scope and everything else the figures depend on."""
    options = _options(access, filters)
    return figures_cache.remembered(
        "dashboard",
        _figure_parts(access, filters),
        generation,
        lambda: metrics.dashboard(filters.scope, **options),
    )


def _figures(access: DashboardAccess, filters: Filters, figures: metrics.Dashboard) -> dict:
    trend, active, cohorts, levels = figures.trend, figures.active, figures.cohorts, figures.levels
    latest = active[-1] if active else None
    context = {
        "return_rate": _ratio(figures.return_rate),
        "returning_members": _ratio(figures.returning_members),
        "latest": latest,
        "stickiness": charts.format_value(latest.stickiness if latest else None, percent=True),
        "trend_chart": _trend_chart(trend),
        "active_chart": _active_chart(active),
        "stickiness_chart": _stickiness_chart(active),
        "cohorts": _cohort_table(cohorts),
        "levels": _levels(levels),
        "levels_chart": _levels_chart(levels),
        "posting_chart": _posting_chart(figures.posting, filters.posting_by),
        "heatmaps": _heatmaps(_heatmap_zones(filters), figures.heatmaps),
        "knowledge": figures.knowledge,
        "posting_member_level": filters.posting_by == "member",
    }
    if access.member_figures:
        context["leaderboards"] = [
            {"figure": figure, "title": title, "rows": figures.leaderboards[days]}
            for figure, title, days in LEADERBOARDS
        ]
        context["referrals"] = [
            {
                "name": row.name,
                "accepted": row.accepted,
                "level": row.level,
                "level_label": AMBASSADOR_LABELS.get(row.level, ""),
            }
            for row in figures.referrals
        ]
    return context


LEADERBOARDS = [
    ("leaderboard_30", gettext_lazy("Last 30 days"), 30),
    ("leaderboard_90", gettext_lazy("Last 90 days"), 90),
    ("leaderboard_all", gettext_lazy("All time"), None),
]


def _trend_chart(trend: list[metrics.TrendPoint]) -> dict:
    return charts.line_chart(
        chart_id="chart-return-trend",
        title=_("30-day return rate and returning members, weekly"),
        desc=_(
            "Two lines over the last 12 months, one point per week: the 30-day return rate and the share of "
            "returning members, both from 0 to 100 %."
        ),
        x_header=_("Week ending"),
        labels=[p.week_end.isoformat() for p in trend],
        series=[
            (_("30-day return rate"), [p.return_rate.value for p in trend]),
            (_("Returning members"), [p.returning_members.value for p in trend]),
        ],
        percent=True,
    )


def _weekly(active: list[metrics.ActiveMembers]) -> list[metrics.ActiveMembers]:
    """Every 7th day, ending on the last: the charts stay readable (the CSV has every day)."""
    return active[::-1][::7][::-1]


def _active_chart(active: list[metrics.ActiveMembers]) -> dict:
    active = _weekly(active)
    return charts.line_chart(
        chart_id="chart-active",
        title=_("Daily, weekly and monthly active members"),
        desc=_(
            "Three lines, one point every 7th day up to the end date: members active that day, in the 7 days and in "
            "the 30 days ending that day (the CSV has every day)."
        ),
        x_header=_("Day"),
        labels=[a.day.isoformat() for a in active],
        series=[
            (_("Daily active"), [a.dau for a in active]),
            (_("Weekly active"), [a.wau for a in active]),
            (_("Monthly active"), [a.mau for a in active]),
        ],
    )


def _stickiness_chart(active: list[metrics.ActiveMembers]) -> dict:
    active = _weekly(active)
    return charts.line_chart(
        chart_id="chart-stickiness",
        title=_("Stickiness (daily over monthly active members)"),
        desc=_(
            "One line, one point every 7th day up to the end date: daily active members divided by monthly active "
            "members that day."
        ),
        x_header=_("Day"),
        labels=[a.day.isoformat() for a in active],
        series=[(_("Stickiness"), [a.stickiness for a in active])],
        percent=True,
    )


def _cohort_table(cohorts: list[metrics.CohortRow]) -> dict:
    months = max((len(row.shares) for row in cohorts), default=0)
    rows = []
    for row in cohorts:
        cells = [
            {
                "value": charts.format_value(share.value, percent=True),
                "css": charts.shade_class(share.value),
                "n": share.numerator,
            }
            for share in row.shares
        ]
        cells += [{"value": "", "css": "shade-none", "n": None}] * (months - len(cells))
        rows.append({"cohort": row.cohort, "size": row.size, "cells": cells})
    return {"months": list(range(months)), "rows": rows}


def _levels(levels: metrics.Levels) -> dict:
    rows = [
        {
            "level": level,
            "label": LEVEL_LABELS[level],
            "count": levels.counts.get(level, 0),
            "share": charts.format_value(metrics.Ratio(levels.counts.get(level, 0), levels.total).value, percent=True),
        }
        for level in metrics.LEVELS
    ]
    transitions = [
        {
            "label": LEVEL_LABELS[before],
            "cells": [levels.transitions.get((before, now), 0) for now in metrics.LEVELS],
        }
        for before in metrics.LEVELS
    ]
    transitions.append(
        {"label": _("New (joined in the last 30 days)"), "cells": [levels.joined.get(now, 0) for now in metrics.LEVELS]}
    )
    return {
        "rows": rows,
        "total": levels.total,
        "headers": [LEVEL_LABELS[level] for level in metrics.LEVELS],
        "transitions": transitions,
    }


def _levels_chart(levels: metrics.Levels) -> dict:
    return charts.bar_chart(
        chart_id="chart-levels",
        title=_("Participation levels"),
        desc=_("One bar per level: the share of members at that level now."),
        x_header=_("Level"),
        y_header=_("Share of members"),
        bars=[
            (str(LEVEL_LABELS[level]), metrics.Ratio(levels.counts.get(level, 0), levels.total).value or 0)
            for level in metrics.LEVELS
        ],
        percent=True,
    )


def _posting_chart(points: list[metrics.SeriesPoint], by: str) -> dict:
    """Weekly contributions; with a breakdown, the ``MAX_SERIES`` largest series (by id: labels need not be unique)."""
    weeks = sorted({p.week_start for p in points})
    totals: dict[int, int] = {}
    labels: dict[int, str] = {}
    for p in points:
        totals[p.id] = totals.get(p.id, 0) + p.contributions
        labels[p.id] = p.key
    ids = sorted(totals, key=lambda i: (-totals[i], labels[i], i))[:MAX_SERIES]
    by_id = {(p.id, p.week_start): p.contributions for p in points}
    series = [(labels[i] or _("Contributions"), [by_id.get((i, week), 0) for week in weeks]) for i in ids]
    chart = charts.line_chart(
        chart_id="chart-posting",
        title=_("Contributions per week"),
        desc=_(
            "Contributions per week (Monday to Sunday); with a breakdown, one line for each of the %(most)s largest."
        )
        % {"most": MAX_SERIES},
        x_header=_("Week starting"),
        labels=[week.isoformat() for week in weeks],
        series=series or [(_("Contributions"), [])],
    )
    return chart | {"by": by, "more": len(totals) > MAX_SERIES}


def _heatmaps(zones: tuple[str, ...], heatmaps: list[metrics.Heatmap]) -> list[dict]:
    """The community zone's heatmap, then the chosen zone's (when another)."""
    result = []
    for index, (zone, heat) in enumerate(zip(zones, heatmaps, strict=True)):
        chart = charts.heatmap(
            chart_id=f"chart-heatmap-{index}",
            title=_("Activity by weekday and hour, %(zone)s") % {"zone": zone},
            desc=_("A grid of 7 weekdays by 24 hours in %(zone)s; darker cells had more activity.") % {"zone": zone},
            cells=heat.cells,
        )
        peak = heat.peak
        chart["peak"] = (
            _("Busiest: %(day)s at %(hour)02d:00") % {"day": chart["table"]["rows"][peak[0]][0], "hour": peak[1]}
            if peak
            else ""
        )
        chart["figure"] = "heatmap" if index == 0 else "heatmap_chosen"
        chart["zone"] = zone
        result.append(chart)
    return result
