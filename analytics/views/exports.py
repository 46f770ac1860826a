"""CSV downloads, one per figure, with the dashboard's filters. Aggregated counts below
``ANALYTICS_SUPPRESS_BELOW`` are suppressed; member-level figures only for those who may see them; every text cell
is formula-safe."""

from __future__ import annotations

import csv

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _

from analytics import metrics
from analytics.permissions import DashboardAccess
from analytics.views import breakdowns
from analytics.views.filters import LEVEL_LABELS, Filters

# Shared with the registrants export: a cell a spreadsheet will never run as a formula.
from spaces.selectors_events import _cell as csv_cell


def suppress_below() -> int:
    return int(getattr(settings, "ANALYTICS_SUPPRESS_BELOW", 5))


class _Echo:
    def write(self, value: str) -> str:
        return value


def _count(value: int | None, threshold: int) -> str:
    """An aggregated count for export: any count below the threshold reads "<threshold" (metrics.DEFINITIONS
    ["suppression"]), so that no individual can be singled out."""
    if value is None:
        return ""
    return f"<{threshold}" if value < threshold else str(value)


def _share(ratio: metrics.Ratio, threshold: int) -> str:
    """A share, left blank when its numerator or denominator is suppressed (it would give the count away)."""
    if ratio.value is None or ratio.numerator < threshold or ratio.denominator < threshold:
        return ""
    return f"{ratio.value:.4f}"


def csv_response(request, access: DashboardAccess, filters: Filters) -> HttpResponse:
    figure = request.GET.get("figure", "")
    builder = CSV_FIGURES.get(figure)
    if builder is None or (figure in MEMBER_LEVEL and not access.member_figures):
        raise Http404
    threshold = suppress_below()
    writer = csv.writer(_Echo())
    body = "".join(writer.writerow(row) for row in builder(filters, threshold))
    response = HttpResponse("\ufeff" + body, content_type="text/csv; charset=utf-8")  # BOM: spreadsheets read UTF-8
    name = access.community.slug if access.community else "all"
    response["Content-Disposition"] = f'attachment; filename="{name}-{figure}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


def _csv_return_trend(filters: Filters, t: int):
    yield [
        _("Week ending"),
        _("Active before"),
        _("Active again"),
        _("30-day return rate"),
        _("Active in last 30 days"),
        _("Active on 2+ days"),
        _("Returning members"),
    ]
    for p in metrics.return_rate_trend(filters.scope):
        r, m = p.return_rate, p.returning_members
        yield [
            p.week_end.isoformat(),
            _count(r.denominator, t),
            _count(r.numerator, t),
            _share(r, t),
            _count(m.denominator, t),
            _count(m.numerator, t),
            _share(m, t),
        ]


def _csv_cohorts(filters: Filters, t: int):
    yield [_("Cohort (join month)"), _("Months since joining"), _("Members"), _("Active"), _("Share active")]
    for row in metrics.cohort_retention(filters.scope):
        for k, share in enumerate(row.shares):
            yield [
                row.cohort.isoformat(),
                k,
                _count(share.denominator, t),
                _count(share.numerator, t),
                _share(share, t),
            ]


def _csv_active(filters: Filters, t: int):
    yield [_("Day"), _("Daily active"), _("Weekly active"), _("Monthly active"), _("Stickiness")]
    for a in metrics.active_members(filters.scope):
        yield [
            a.day.isoformat(),
            _count(a.dau, t),
            _count(a.wau, t),
            _count(a.mau, t),
            _share(metrics.Ratio(a.dau, a.mau), t),
        ]


def _csv_levels(filters: Filters, t: int):
    levels = metrics.participation_levels(filters.scope)
    yield [_("Level"), _("Members"), _("Share of members")]
    for level in metrics.LEVELS:
        count = levels.counts.get(level, 0)
        yield [str(LEVEL_LABELS[level]), _count(count, t), _share(metrics.Ratio(count, levels.total), t)]


def _csv_transitions(filters: Filters, t: int):
    levels = metrics.participation_levels(filters.scope)
    yield [_("Level in the previous 30 days"), _("Level now"), _("Members")]
    for before in metrics.LEVELS:
        for now in metrics.LEVELS:
            yield [
                str(LEVEL_LABELS[before]),
                str(LEVEL_LABELS[now]),
                _count(levels.transitions.get((before, now), 0), t),
            ]


def _csv_posting(filters: Filters, t: int):
    member_level = filters.posting_by == "member"
    yield [_("Week starting"), _("Series"), _("Contributions")]
    for p in metrics.posting_history(filters.scope, by=filters.posting_by):
        count = str(p.contributions) if member_level else _count(p.contributions, t)
        yield [p.week_start.isoformat(), csv_cell(p.key), count]


def _csv_heatmap(zone_attr: str):
    def build(filters: Filters, t: int):
        zone = getattr(filters, zone_attr)
        heat = metrics.activity_heatmap(filters.scope, zone)
        yield [_("Weekday (%(zone)s)") % {"zone": zone}, _("Hour"), _("Activity events")]
        for day, row in enumerate(heat.cells):
            for hour, value in enumerate(row):
                yield [day, f"{hour:02d}", _count(value, t)]

    return build


def _csv_knowledge(filters: Filters, t: int):
    health = metrics.knowledge_health(filters.scope)
    yield [_("Measure"), _("Value")]
    for age, count in health.unanswered_by_age.items():
        yield [_("Unanswered questions, %(age)s old") % {"age": age}, _count(count, t)]
    hours = health.median_hours_to_first_answer
    yield [_("Median hours to first answer"), "" if hours is None else f"{hours:.1f}"]
    yield [_("Pages not edited in 12 months"), _count(health.pages_not_edited_12_months, t)]
    for _item_id, title, registrations in health.events_few_registrations:
        yield [_("Registrations for upcoming event: %(title)s") % {"title": csv_cell(title)}, _count(registrations, t)]


def _csv_leaderboard(days: int | None):
    def build(filters: Filters, t: int):
        yield [_("Rank"), _("Member"), _("Points"), _("Contributions"), _("Days with a visit")]
        for row in metrics.leaderboard(filters.scope, period_days=days, limit=100):
            yield [row.rank, csv_cell(row.name), row.points, row.contributions, row.visit_days]

    return build


def _csv_referrals(filters: Filters, t: int):
    yield [_("Member"), _("Invitations accepted"), _("Ambassador level")]
    for row in metrics.referrals(filters.scope, limit=100):
        yield [csv_cell(row.name), row.accepted, row.level]


def _csv_breakdown(filters: Filters, t: int):
    yield breakdowns.headers(filters.breakdown_by)
    for row in breakdowns.rows(filters, t, count=str, share=lambda ratio: f"{ratio.value:.4f}"):
        yield [csv_cell(row[0]), *row[1:]]


CSV_FIGURES = {
    "return_trend": _csv_return_trend,
    "cohorts": _csv_cohorts,
    "active": _csv_active,
    "levels": _csv_levels,
    "transitions": _csv_transitions,
    "posting": _csv_posting,
    "heatmap": _csv_heatmap("community_zone"),
    "heatmap_chosen": _csv_heatmap("chosen_zone"),
    "knowledge": _csv_knowledge,
    "leaderboard_30": _csv_leaderboard(30),
    "leaderboard_90": _csv_leaderboard(90),
    "leaderboard_all": _csv_leaderboard(None),
    "referrals": _csv_referrals,
    "breakdown": _csv_breakdown,
}
MEMBER_LEVEL = {"leaderboard_30", "leaderboard_90", "leaderboard_all", "referrals"}
