#!/usr/bin/env python
"""CPU per key page on the demo data, in-process: a quick check of Python-side cost between full benchmark runs.

    .venv/bin/python bench/page_cpu.py                      # builds $TMPDIR/copapp-page-cpu.sqlite3 once (demo data)
    .venv/bin/python bench/page_cpu.py --profile page       # and a cProfile of one page, by cumulative time
    .venv/bin/python bench/page_cpu.py --member someone@example.org --requests 50
    .venv/bin/python bench/page_cpu.py --scale              # the benchmark's database (bench_scale, PostgreSQL +
                                                            # Redis), member and pages; adds wall and database time
    .venv/bin/python bench/page_cpu.py --scale --slow 5     # and each query over 5 ms with its plan (EXPLAIN
                                                            # ANALYZE): planning time is often most of it

It signs in a demo member with Django's test client and requests each key page ``--requests`` times, measuring the
process's CPU time (``time.process_time``), so other work on the machine barely changes the figures. It counts no
network, database server or worker time: ``bench/run.py`` measures those, on the scale data set. Most of a page's
cost at any size is building the SQL of its permission filters in Python, which this shows directly.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _prepare(database: Path) -> None:
    if database.exists():
        return
    env = {**os.environ, "SQLITE_PATH": str(database)}
    env.pop("DATABASE_URL", None)
    for command in (["migrate", "-v0"], ["seed_demo"]):
        # our own manage.py with fixed arguments
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)  # noqa: S603


def _demo_pages(member) -> dict[str, str]:
    from spaces.models import Event, Item, Page, Question

    visible = Item.objects.visible_to(member)
    page = Page.objects.filter(item__in=visible).select_related("item__space__community").order_by("pk").first()
    question = Question.objects.filter(item__in=visible).order_by("pk").first()
    event = Event.objects.filter(item__in=visible).order_by("pk").first()
    return {
        "space home": page.item.space.get_absolute_url(),
        "page": page.get_absolute_url(),
        "page history": page.get_absolute_url() + "history/",
        "question": question.get_absolute_url(),
        "question list": question.item.space.get_absolute_url() + "questions/",
        "event": event.get_absolute_url(),
        "search": "/search/?q=census+linkage",
        "notifications": "/me/notifications/",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_database = Path(tempfile.gettempdir()) / "copapp-page-cpu.sqlite3"
    parser.add_argument("--database", type=Path, default=default_database)
    parser.add_argument("--member", default="priya.nair@example.org")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--profile", metavar="PAGE", help="print a cProfile of this page (a name from the table)")
    parser.add_argument(
        "--slow",
        type=float,
        metavar="MS",
        help="after the table, each page's queries slower than MS (median of --requests runs), with EXPLAIN ANALYZE",
    )
    parser.add_argument(
        "--scale",
        action="store_true",
        help="use bench/run.py's database (seed it with bench/run.py first), member and key pages",
    )
    args = parser.parse_args()

    if args.scale:
        os.environ["DATABASE_URL"] = os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_scale"
        )
        os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/3")
        os.environ["DB_CONN_MAX_AGE"] = "600"
        sys.path.insert(0, str(ROOT / "bench"))
    else:
        _prepare(args.database)
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("REDIS_URL", None)
        os.environ["SQLITE_PATH"] = str(args.database)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "copapp.settings")
    sys.path.insert(0, str(ROOT))
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    if args.scale:
        import _django_side

        personas = _django_side.personas()
        member = personas.member
        pages = _django_side.key_pages(personas)
        args.member = member.email
    else:
        member = get_user_model().objects.get(email=args.member)
        pages = _demo_pages(member)
    browser = Client(HTTP_HOST="localhost")
    browser.force_login(member)
    database_seconds = [0.0]

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            database_seconds[0] += time.perf_counter() - started

    print(
        f"{'page':16} {'CPU ms':>8} {'wall ms':>8} {'SQL ms':>8} {'queries':>8}  address"
        f"   (member {args.member}, {args.requests} requests each)"
    )
    for name, url in pages.items():
        response = browser.get(url)  # warms the caches a running site would have warm
        if response.status_code != 200:
            raise SystemExit(f"{name}: {url} answered {response.status_code}")
        connection.queries_log.clear()  # a full log (DEBUG keeps the last 9,000) would count nothing
        with CaptureQueriesContext(connection) as queries:
            browser.get(url)
        database_seconds[0] = 0.0
        start, wall = time.process_time(), time.perf_counter()
        with connection.execute_wrapper(timed):
            for _ in range(args.requests):
                browser.get(url)
        cpu = (time.process_time() - start) / args.requests * 1000
        wall = (time.perf_counter() - wall) / args.requests * 1000
        sql = database_seconds[0] / args.requests * 1000
        print(f"{name:16} {cpu:8.1f} {wall:8.1f} {sql:8.1f} {len(queries.captured_queries):8d}  {url}")
    if args.slow is not None:
        _slow_queries(browser, pages, args)
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.requests):
            browser.get(pages[args.profile])
        profiler.disable()
        if os.environ.get("PROFILE_DUMP"):
            profiler.dump_stats(os.environ["PROFILE_DUMP"])
        stats = pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "cumulative"))
        stats.print_stats(int(os.environ.get("PROFILE_LINES", "40")))


def _timed_queries(browser, url: str, requests: int) -> tuple[dict[int, list[float]], dict[int, tuple]]:
    """Each query of ``requests`` requests of ``url``, by its place in the request: its times (ms) and its SQL."""
    from django.db import connection

    times: dict[int, list[float]] = {}
    statements: dict[int, tuple] = {}
    position = [0]

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            times.setdefault(position[0], []).append((time.perf_counter() - started) * 1000)
            statements[position[0]] = (sql, params)
            position[0] += 1

    with connection.execute_wrapper(timed):
        for _ in range(requests):
            position[0] = 0
            browser.get(url)
    return times, statements


def _slow_queries(browser, pages: dict[str, str], args) -> None:
    """Per page, the queries whose median time over ``--requests`` runs exceeds ``--slow`` ms, each with the plan
    PostgreSQL (or SQLite) chose for it, to read with ``EXPLAIN`` rather than guess."""
    import statistics

    from django.db import connection

    for name, url in pages.items():
        times, statements = _timed_queries(browser, url, args.requests)
        for index, runs in sorted(times.items()):
            median = statistics.median(runs)
            if median < args.slow:
                continue
            sql, params = statements[index]
            print(f"\n== {name}: query {index + 1}, median {median:.1f} ms\n{sql[:600]}")
            prefix = "EXPLAIN (ANALYZE, BUFFERS) " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
            with connection.cursor() as cursor:
                cursor.execute(prefix + sql, params)
                print("\n".join(" ".join(str(c) for c in row) for row in cursor.fetchall()))


if __name__ == "__main__":
    main()
