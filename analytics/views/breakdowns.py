"""The breakdown table by country or organisation type: one row per value, with small counts suppressed in the page
as in the CSV (metrics.DEFINITIONS["breakdown_table"]), so that a country with three members never shows its
rates."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics import charts, metrics
from analytics.views.filters import BREAKDOWN_BY, LEVEL_LABELS, Filters, breakdown_labels

SWITCH_LABELS = {"country": gettext_lazy("By country"), "organisation_type": gettext_lazy("By organisation type")}


def headers(by: str) -> list[str]:
    """The table's column headers, in cell order (the CSV's header row)."""
    return [
        str(BREAKDOWN_BY[by]),
        _("Members"),
        _("30-day return rate"),
        _("Returning members"),
        _("Monthly active members"),
        *[str(LEVEL_LABELS[level]) for level in metrics.LEVELS],
        _("Contributions"),
    ]


def suppressed_cells(
    row: metrics.BreakdownRow,
    threshold: int,
    *,
    count: Callable[[int], str],
    share: Callable[[metrics.Ratio], str],
) -> list[str]:
    """The row's cells after the value label, "" where a share is suppressed.

    A row with fewer members than ``threshold`` shows only its member count as "<threshold"; in the other rows a
    count below the threshold reads "<threshold" and a share is blank when either of its counts is below it.
    ``count`` and ``share`` format the values that may be shown (the page and the CSV format them differently).
    """
    small = f"<{threshold}"
    if row.members < threshold:
        return [small] + [""] * (4 + len(metrics.LEVELS))

    def shown_count(value: int) -> str:
        return small if value < threshold else count(value)

    def shown_share(ratio: metrics.Ratio) -> str:
        if ratio.value is None or ratio.numerator < threshold or ratio.denominator < threshold:
            return ""
        return share(ratio)

    return [
        shown_count(row.members),
        shown_share(row.return_rate),
        shown_share(row.returning_members),
        shown_count(row.monthly_active),
        *[shown_share(row.level_share(level)) for level in metrics.LEVELS],
        shown_count(row.contributions),
    ]


def rows(
    filters: Filters, threshold: int, *, table: list[metrics.BreakdownRow] | None = None, **formats
) -> list[list[str]]:
    """[label, *cells] per value of the breakdown, labels as the filters show them, in the order of the labels
    (not stated last). ``table``: the breakdown table when already computed (the dashboard's figures)."""
    labels = breakdown_labels(filters.breakdown_by)
    table = list(metrics.breakdown_table(filters.scope, filters.breakdown_by) if table is None else table)
    table.sort(key=lambda row: (row.value == metrics.NOT_STATED, str(labels.get(row.value, row.value)).casefold()))
    return [[labels.get(row.value, row.value), *suppressed_cells(row, threshold, **formats)] for row in table]


def _page_count(value: int) -> str:
    return charts.format_value(value)


def _page_share(ratio: metrics.Ratio) -> str:
    return charts.format_value(ratio.value, percent=True)


def breakdown_context(
    request, filters: Filters, threshold: int, table: list[metrics.BreakdownRow] | None = None
) -> dict:
    """The dashboard's breakdown section: the switch between the two breakdowns (links that keep the other
    filters) and the table (``table``, when already computed)."""
    query = {k: v for k, v in request.GET.items() if k not in ("format", "figure", "breakdown")}
    switch = [
        {
            "label": SWITCH_LABELS[by],
            "url": f"{request.path}?{urlencode({**query, 'breakdown': by})}#breakdown",
            "current": by == filters.breakdown_by,
        }
        for by in BREAKDOWN_BY
    ]
    return {
        "by": filters.breakdown_by,
        "switch": switch,
        "headers": headers(filters.breakdown_by),
        "levels": [LEVEL_LABELS[level] for level in metrics.LEVELS],
        "rows": rows(filters, threshold, table=table, count=_page_count, share=_page_share),
    }
