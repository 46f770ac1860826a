#!/usr/bin/env python
"""Regenerate the README's Performance table from the newest benchmark result.

    .venv/bin/python bench/render_readme.py [--results bench/results] [--readme README.md]

Reads the newest full run in ``bench/results/`` (smoke runs are left out) and rewrites what lies between
``<!-- perf:start -->`` and ``<!-- perf:end -->`` in the README; nothing else in the file changes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
START, END = "<!-- perf:start -->", "<!-- perf:end -->"


def newest(results: Path) -> tuple[Path, dict]:
    runs = []
    for path in results.glob("*.json"):
        data = json.loads(path.read_text())
        if data.get("mode") == "full":
            runs.append((data.get("date", ""), path.name, path, data))
    if not runs:
        raise SystemExit(f"No full benchmark result in {results} (run bench/run.py first).")
    _date, _name, path, data = max(runs)
    return path, data


def _ok(value: bool | None) -> str:
    return "" if value is None else (" ✓" if value else " ✗")


def render(data: dict, source: str) -> str:
    targets = data["targets"]
    checks = data.get("checks", {})
    page_checks = checks.get("pages", {})
    m = data["machine"]
    sizes = data["database"]["sizes"]
    floor = data["floor"]
    lines = [
        f"Measured {data['date'][:10]} on `{m['hostname']}` ({m['cores']} cores, {m['cpu'] or 'unknown CPU'}, "
        f"{m['memory_gb']} GB; load average {m['load_average_at_start'][0]} at the start), from "
        f"[`bench/results/{source}`](bench/results/{source}). Data: {sizes['members']:,} members, "
        f"{sizes['spaces']:,} spaces, {sizes['pages']:,} pages ({sizes['page versions']:,} versions), "
        f"{sizes['questions']:,} questions, {sizes['answers']:,} answers, {sizes['events']:,} events, "
        f"{sizes['activity events']:,} activity events. gunicorn with {data['settings']['gunicorn_workers']} "
        f"workers, {data['settings']['duration_s']:.0f} s per run with {data['settings']['driver']}; "
        f"PostgreSQL JIT {'on' if data['settings'].get('postgres_jit') else 'off'}.",
        "",
        f"Floor (`/healthz`, a plain Django view on the same server): **{floor['c16']['rps']:.0f} requests/s** at "
        f"concurrency 16, p50 {floor['c1']['p50_ms']:.1f} ms at concurrency 1.",
        "",
        "| page | req/s (c=16) | % of floor | p50 / p99 ms (c=16) | p50 ms (c=1) | queries |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, page in data["pages"].items():
        c16, c1 = page["c16"], page["c1"]
        ok = page_checks.get(name, {})
        share = 100 * c16["rps"] / (floor["c16"]["rps"] or 1)
        latency16 = f"{c16['p50_ms']:.0f} / {c16['p99_ms']:.0f}" if c16["requests"] else "none answered"
        latency1 = f"{c1['p50_ms']:.1f}" if c1["requests"] else "none answered"
        lines.append(
            f"| {name} | {c16['rps']:.1f} | {share:.1f}%{_ok(ok.get('floor_share_c16'))} | "
            f"{latency16}{_ok(ok.get('p99_c16'))} | {latency1}{_ok(ok.get('p50_c1'))} | "
            f"{page['queries']}{_ok(ok.get('queries'))} |"
        )
    d = data["dashboard"]
    lines.append(
        f"| analytics dashboard | {d['c16']['rps']:.1f} | {100 * d['c16']['rps'] / (floor['c16']['rps'] or 1):.1f}% | "
        f"{d['c16']['p50_ms']:.0f} / {d['c16']['p99_ms']:.0f} | {d['c1']['p50_ms']:.1f}{_ok(checks.get('dashboard'))} "
        f"| {d['queries']} |"
    )
    a, s, mem = data["analytics"], data["search"], data["memory"]
    lines += [
        "",
        f"Targets: every key page at c=16 at least {100 * targets['floor_share_c16']:.0f}% of the floor with p99 under "
        f"{targets['p99_c16_ms']} ms, p50 under {targets['p50_c1_ms']} ms at c=1, at most {targets['queries']} "
        f"queries; the dashboard under {targets['dashboard_ms']} ms (✓ met, ✗ missed).",
        "",
        f"- Retention + cohort figures (roll-ups): {a['retention_and_cohort_ms']:.0f} ms "
        f"({a['return_rate_ms']:.0f} + {a['cohort_retention_ms']:.0f}) beside {a['count_star_ms']:.0f} ms for "
        f"`count(*)` of the {a['events']:,} raw events: {100 * (a['share_of_count_star'] or 0):.0f}% of it "
        f"(target at most {100 * targets['rollups_share_of_count_star']:.0f}%){_ok(checks.get('rollups'))}.",
        f"- Search, {s['queries']} typical queries: p50 {s['p50_ms']:.0f} ms, p95 {s['p95_ms']:.0f} ms "
        f"(target under {targets['search_p95_ms']} ms){_ok(checks.get('search'))}.",
    ]
    if data.get("digest"):
        g = data["digest"]
        everyone = (data.get("seed") or {}).get("sizes", {}).get("members") or g["members"]
        if g["members"] < everyone:  # a partial run: the target is for every member, so scale the time up
            projected = g["seconds"] * everyone / g["members"]
            lines.append(
                f"- Digest job, {g['members']:,} of {everyone:,} members, one Celery worker process: "
                f"{g['seconds']:.0f} s, so about {projected:.0f} s for all of them "
                f"(target under {targets['digest_seconds']} s for all){_ok(projected < targets['digest_seconds'])}."
            )
        else:
            lines.append(
                f"- Digest job, {g['members']:,} members, one Celery worker process: {g['seconds']:.0f} s "
                f"(target under {targets['digest_seconds']} s){_ok(checks.get('digest'))}."
            )
    lines.append(
        f"- gunicorn worker memory over {mem['requests']:,} requests: at most {100 * mem['max_growth']:+.1f}% "
        f"(target within {100 * targets['memory_growth']:.0f}% over {targets['memory_requests']:,} requests"
        + (
            f"; only {mem['requests']:,} fit in the {mem['seconds']:.0f} s allowed, the pages being slow"
            if mem["requests"] < targets["memory_requests"]
            else ""
        )
        + f"){_ok(checks.get('memory'))}."
    )
    seed = data.get("seed")
    if seed and seed.get("total seconds"):
        lines.append(f"- `seed_scale` built this data set in {seed['total seconds'] / 60:.1f} minutes.")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", default=str(BENCH / "results"))
    parser.add_argument("--readme", default=str(BENCH.parent / "README.md"))
    args = parser.parse_args(argv)
    path, data = newest(Path(args.results))
    readme = Path(args.readme)
    text = readme.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"{readme} has no {START} ... {END} markers.")
    before, rest = text.split(START, 1)
    _old, after = rest.split(END, 1)
    readme.write_text(f"{before}{START}\n{render(data, path.name)}\n{END}{after}")
    print(f"{readme}: Performance table from {path.name}", file=sys.stderr)


if __name__ == "__main__":
    main()
