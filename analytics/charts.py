"""Server-rendered, accessible SVG charts: the geometry only (templates/analytics/partials/ draw it).

Every chart is a plain dict the templates read: an ``id`` (for ``aria-labelledby``), a ``title`` and a ``desc``
(the SVG's <title> and <desc>), the shapes, and a ``table`` (headers and rows) that the page shows as the table
view of the same numbers. Colours come from CSS classes (``series-N``, ``heat-N``, ``shade-N`` in
static/css/analytics.css), never from inline styles: the Content-Security-Policy forbids them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from django.utils.dates import WEEKDAYS, WEEKDAYS_ABBR
from django.utils.formats import number_format
from django.utils.translation import gettext as _

WIDTH, HEIGHT = 640, 240
# LEFT holds the widest y label ("100 %", "25,000") at the larger label size phones get (analytics.css).
LEFT, RIGHT, TOP, BOTTOM = 60, 28, 12, 30
SERIES_CLASSES = 8
STEPS = 5  # shading steps above zero (heat-1 .. heat-5, shade-1 .. shade-5)


def format_value(value: float | int | None, *, percent: bool = False) -> str:
    """A number as the tables show it: "—" for no value, one decimal for shares."""
    if value is None:
        return "—"
    if percent:
        return f"{number_format(value * 100, 1)} %"
    if isinstance(value, float) and not value.is_integer():
        return number_format(value, 2)
    return number_format(int(value), 0, force_grouping=True)


def _nice_max(value: float) -> float:
    """The smallest "round" number (1, 2, 2.5 or 5 times a power of ten) at least ``value``."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def _tick_label(value: float, percent: bool) -> str:
    """An axis label: shares in whole percent (the ticks are 0, 25, 50, 75 and 100 %), short enough to fit."""
    if percent:
        return f"{number_format(value * 100, 0)} %"
    return format_value(value)


def _y_axis(top: float, percent: bool) -> tuple[float, list[dict]]:
    plot_h = HEIGHT - TOP - BOTTOM
    ticks = []
    for i in range(5):
        value = top * i / 4
        ticks.append({"y": round(TOP + plot_h - plot_h * i / 4, 1), "label": _tick_label(value, percent)})
    return plot_h, ticks


def _x_ticks(labels: Sequence[str], xs: Sequence[float], most: int = 6, end_last: bool = True) -> list[dict]:
    if not labels:
        return []
    every = max(1, math.ceil(len(labels) / most))
    last = len(labels) - 1
    # A label on the last point ends there rather than centring on it, so it never runs off the right edge.
    return [
        {"x": xs[i], "label": labels[i], "anchor": "end" if end_last and i == last and i else "middle"}
        for i in range(0, len(labels), every)
    ]


def line_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    x_header: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | int | None]]],
    percent: bool = False,
) -> dict:
    """One or more lines over the same x labels; a None value breaks its line (no value that week)."""
    values = [v for _name, vs in series for v in vs if v is not None]
    top = 1.0 if percent else _nice_max(max(values, default=0))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h, y_ticks = _y_axis(top, percent)
    n = len(labels)
    xs = [round(LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2), 1) for i in range(n)]
    drawn = []
    for index, (name, vs) in enumerate(series):
        segments, current = [], []
        for x, v in zip(xs, vs, strict=False):
            if v is None:
                if current:
                    segments.append(current)
                current = []
                continue
            y = round(TOP + plot_h - plot_h * min(v / top, 1), 1)
            current.append(f"{x},{y}")
        if current:
            segments.append(current)
        drawn.append(
            {
                "name": name,
                "css": f"series-{index % SERIES_CLASSES}",
                "paths": [" ".join(s) for s in segments if len(s) > 1],
                # a lone point (one week with a value between gaps) is drawn as a dot
                "dots": [_dot(s[0]) for s in segments if len(s) == 1],
            }
        )
    rows = [
        [label, *[format_value(vs[i] if i < len(vs) else None, percent=percent) for _n, vs in series]]
        for i, label in enumerate(labels)
    ]
    return {
        "id": chart_id,
        "title": title,
        "desc": desc,
        "width": WIDTH,
        "height": HEIGHT,
        "plot": {"left": LEFT, "right": WIDTH - RIGHT, "top": TOP, "bottom": HEIGHT - BOTTOM},
        "y_ticks": y_ticks,
        "x_ticks": _x_ticks(labels, xs),
        "series": drawn,
        "legend": len(series) > 1,
        "empty": not values,
        "table": {"headers": [x_header, *[name for name, _vs in series]], "rows": rows},
    }


def _dot(point: str) -> dict:
    x, y = point.split(",")
    return {"x": x, "y": y}


def bar_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    x_header: str,
    y_header: str,
    bars: Sequence[tuple[str, float | int]],
    percent: bool = False,
) -> dict:
    """Vertical bars, one per label."""
    values = [v for _label, v in bars]
    top = 1.0 if percent else _nice_max(max(values, default=0))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h, y_ticks = _y_axis(top, percent)
    n = max(len(bars), 1)
    slot = plot_w / n
    width = round(max(slot * 0.7, 1), 1)
    drawn, xs = [], []
    for i, (label, value) in enumerate(bars):
        h = round(plot_h * min(value / top, 1), 1) if top else 0
        x = round(LEFT + slot * i + (slot - width) / 2, 1)
        xs.append(round(x + width / 2, 1))
        drawn.append(
            {
                "x": x,
                "y": round(TOP + plot_h - h, 1),
                "w": width,
                "h": h,
                "label": label,
                "value": format_value(value, percent=percent),
            }
        )
    return {
        "id": chart_id,
        "title": title,
        "desc": desc,
        "width": WIDTH,
        "height": HEIGHT,
        "plot": {"left": LEFT, "right": WIDTH - RIGHT, "top": TOP, "bottom": HEIGHT - BOTTOM},
        "y_ticks": y_ticks,
        "x_ticks": _x_ticks([b[0] for b in bars], xs, most=8, end_last=False),
        "bars": drawn,
        "empty": not any(values),
        "table": {"headers": [x_header, y_header], "rows": [[b["label"], b["value"]] for b in drawn]},
    }


def step(value: float | int | None, top: float | int) -> int:
    """The shading step of ``value`` on a scale up to ``top``: 0 for nothing, else 1..STEPS."""
    if not value or not top or value <= 0:
        return 0
    return max(1, min(STEPS, math.ceil(STEPS * value / top)))


def heatmap(*, chart_id: str, title: str, desc: str, cells: Sequence[Sequence[int]]) -> dict:
    """A weekday x hour grid (Monday first, hours 0-23) shaded in steps of the busiest cell."""
    cell_w, cell_h, left, top_pad = 24, 22, 40, 20
    peak = max((v for row in cells for v in row), default=0)
    days = [str(WEEKDAYS[d]) for d in range(7)]
    rows, table_rows = [], []
    for d, row in enumerate(cells):
        drawn = []
        for h, value in enumerate(row):
            drawn.append(
                {
                    "x": left + h * cell_w,
                    "y": top_pad + d * cell_h,
                    "css": f"heat-{step(value, peak)}",
                    "label": _("%(day)s %(hour)02d:00: %(count)s") % {"day": days[d], "hour": h, "count": value},
                }
            )
        rows.append({"label": str(WEEKDAYS_ABBR[d]), "y": top_pad + d * cell_h + cell_h / 2 + 4, "cells": drawn})
        table_rows.append([days[d], *[format_value(v) for v in row]])
    return {
        "id": chart_id,
        "title": title,
        "desc": desc,
        "width": left + 24 * cell_w + 4,
        "height": top_pad + 7 * cell_h + 4,
        "cell_w": cell_w - 2,
        "cell_h": cell_h - 2,
        "hours": [{"x": left + h * cell_w + cell_w / 2, "label": f"{h:02d}"} for h in range(0, 24, 3)],
        "rows": rows,
        "empty": peak == 0,
        "table": {"headers": [_("Weekday"), *[f"{h:02d}" for h in range(24)]], "rows": table_rows},
    }


def shade_class(value: float | None) -> str:
    """The CSS class of a share (0..1) in the cohort table: ``shade-0`` .. ``shade-5``, ``shade-none``."""
    if value is None:
        return "shade-none"
    return f"shade-{step(value, 1)}"
