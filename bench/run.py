#!/usr/bin/env python
"""The copapp benchmark (issue 7): the platform under gunicorn on the scale data set, held to its targets.

    .venv/bin/python bench/run.py            # full run: builds the scale database once (seed_scale), then measures
    .venv/bin/python bench/run.py --smoke    # tiny data, 2-second runs: checks that everything works (CI)

What it does, in order:

1. makes sure the PostgreSQL database exists (``--database``, default ``bench_scale`` on the server of
   ``BENCH_DATABASE_URL`` or ``postgres://postgres@127.0.0.1:5432``), migrates it and, when it holds no scale data
   yet, runs ``manage.py seed_scale`` (``--smoke``: a fresh database and ``seed_scale --tiny`` every time);
2. ``collectstatic``, then gunicorn with 2 workers and production settings (``DEBUG=0``, a ``SECRET_KEY``,
   ``ALLOWED_HOSTS``, PostgreSQL with persistent connections and health checks, Redis; no HTTPS redirect, since
   it is plain HTTP on localhost);
3. the floor: ``/healthz`` (a plain Django view behind the whole middleware stack) on the same server;
4. each key page as a signed-in member (a session created in the session store, as a login does) for a fixed
   time at concurrency 1 and 16 with ``wrk`` (``apt-get install wrk``; without it a Python driver, slower),
   and separately the community's analytics dashboard as its admin; queries per request are counted with
   Django's test client in a separate pass;
5. retention and cohort figures (``analytics.metrics``) beside ``SELECT count(*)`` of the activity log; search for
   20 typical queries (p50/p95); the digest job for every member with a real Celery worker (one process);
   the gunicorn workers' memory over 20,000 requests;
6. writes ``bench/results/<date>-<machine>.json`` (``--out``) and prints the table; ``bench/render_readme.py``
   turns the newest result into the README's Performance table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import _load  # noqa: E402
from _server import children, free_port, gunicorn, stop  # noqa: E402

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
DEFAULT_REDIS = "redis://127.0.0.1:6379/11"
WORK = BENCH / ".work"

# Targets of issue 7 (benchmark, not timed tests).
TARGETS = {
    "floor_share_c16": 0.04,
    "p99_c16_ms": 150,
    "p50_c1_ms": 15,
    "queries": 12,
    "rollups_share_of_count_star": 0.5,
    "dashboard_ms": 500,
    "digest_seconds": 300,
    "search_p95_ms": 100,
    "memory_growth": 0.10,
    "memory_requests": 20_000,
}


def log(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", flush=True)


# --- Options ------------------------------------------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="Tiny data, 2-second runs: checks that it all works.")
    parser.add_argument("--database", help="Database name (default bench_scale; bench_smoke with --smoke).")
    parser.add_argument("--reseed", action="store_true", help="Drop the database and build it again.")
    parser.add_argument("--seed-args", default="", help='Extra seed_scale options, e.g. "--small".')
    parser.add_argument("--duration", type=float, help="Seconds per load run (default 30; 2 with --smoke).")
    parser.add_argument("--memory-requests", type=int, help="Requests for the memory check (default 20000).")
    parser.add_argument(
        "--memory-seconds", type=float, help="At most this long for the memory check (default 900; 60 with --smoke)."
    )
    parser.add_argument("--digest-members", type=int, help="Members due a digest (default: every member).")
    parser.add_argument("--python-driver", action="store_true", help="Use the Python load driver even with wrk.")
    parser.add_argument("--out", help="Folder for the results JSON (default bench/results).")
    parser.add_argument("--skip-digest", action="store_true", help="Leave out the digest job.")
    parser.add_argument(
        "--pg-jit",
        action="store_true",
        help="Leave PostgreSQL's JIT on (its default). Off by default here: see the README's Performance section.",
    )
    args = parser.parse_args(argv)
    args.database = args.database or ("bench_smoke" if args.smoke else "bench_scale")
    args.duration = args.duration or (2.0 if args.smoke else 30.0)
    args.memory_requests = args.memory_requests or (500 if args.smoke else 20_000)
    args.memory_seconds = args.memory_seconds or (60.0 if args.smoke else 900.0)
    args.out = Path(args.out) if args.out else BENCH / "results"
    return args


def database_url(name: str) -> str:
    server = urlsplit(os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER))
    return urlunsplit((server.scheme or "postgres", server.netloc, f"/{name}", "", ""))


def production_env(args, *, port: int, static_root: Path, queue: str, secret: str) -> dict[str, str]:
    """The environment of every process of the run: production settings, on localhost over plain HTTP."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "EMAIL_", "DATABASE_", "CELERY_"))}
    keep.update(
        DJANGO_SETTINGS_MODULE="copapp.settings",
        COPAPP_TESTING="0",
        DEBUG="0",
        SECRET_KEY=secret,
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        SITE_URL=f"http://127.0.0.1:{port}",
        DATABASE_URL=database_url(args.database),
        DB_CONN_MAX_AGE="600",  # persistent connections (settings add health checks)
        REDIS_URL=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS),
        CELERY_QUEUE=queue,
        CELERY_TASK_ALWAYS_EAGER="0",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="0",
        BEHIND_TLS_PROXY="0",
        STATIC_ROOT=str(static_root),
        LOG_LEVEL="WARNING",
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        PYTHONUNBUFFERED="1",
    )
    if not args.pg_jit:
        # libpq reads PGOPTIONS for every connection (gunicorn, the worker, this process). PostgreSQL's JIT
        # compiles the permission-filtered queries for longer than they run (over 1 s each; see the README).
        keep["PGOPTIONS"] = (keep.get("PGOPTIONS", "") + " -c jit=off").strip()
    return keep


# --- Processes ----------------------------------------------------------------------------------------------------
def manage(env: dict, *arguments: str, quiet: bool = False) -> str:
    command = [sys.executable, str(ROOT / "manage.py"), *arguments]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)  # noqa: S603
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(arguments)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    if not quiet and result.stdout.strip():
        print(result.stdout.rstrip())
    return result.stdout


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@contextmanager
def celery_worker(env: dict, queue: str, log_path: Path):
    command = [
        str(Path(sys.executable).parent / "celery"),
        "-A",
        "copapp",
        "worker",
        "-Q",
        queue,
        "--concurrency=1",
        "--pool=prefork",
        "--without-gossip",
        "--without-mingle",
        "--loglevel=INFO",
        "-n",
        f"{queue}@%h",
    ]
    with log_path.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            deadline = time.monotonic() + 90
            while "ready." not in log_path.read_text(errors="replace"):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the Celery worker did not start:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.3)
            yield process
        finally:
            pool = children(process.pid)
            stop(process)
            for pid in pool:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


# --- The database -----------------------------------------------------------------------------------------------
def ensure_database(args, env: dict) -> dict | None:
    """Create, migrate and seed the database when needed; returns the seed summary (None when reused)."""
    import psycopg

    server = urlsplit(database_url("postgres"))
    admin = psycopg.connect(urlunsplit(server._replace(path="/postgres")), autocommit=True)
    with admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.database]).fetchone()
        if exists and (args.smoke or args.reseed):
            admin.execute(f'DROP DATABASE "{args.database}" WITH (FORCE)')
            exists = None
        if not exists:
            log(f"creating database {args.database}")
            admin.execute(f'CREATE DATABASE "{args.database}"')
    log("migrating")
    manage(env, "migrate", "--noinput", "-v0")
    summary_path = WORK / f"seed-{args.database}.json"
    with psycopg.connect(env["DATABASE_URL"]) as db:
        seeded = db.execute(
            "SELECT count(*) FROM members_user WHERE email LIKE %s", ["%@scale.example.org"]
        ).fetchone()[0]
    if seeded:
        log(f"reusing the scale data in {args.database} ({seeded:,} seeded members)")
        return json.loads(summary_path.read_text()) if summary_path.exists() else None
    options = ["--tiny"] if args.smoke else []
    options += args.seed_args.split()
    log(f"seeding: seed_scale {' '.join(options)} (full size takes a while; progress below)")
    WORK.mkdir(exist_ok=True)
    command = [sys.executable, str(ROOT / "manage.py"), "seed_scale", *options, "--json", str(summary_path)]
    if args.smoke:
        command.append("--no-progress")
    subprocess.run(command, cwd=ROOT, env=env, check=True)  # noqa: S603
    return json.loads(summary_path.read_text())


# --- Measuring ----------------------------------------------------------------------------------------------------
def measure(url: str, args, cookie: str, concurrency: int) -> dict:
    run = _load.drive(url, concurrency=concurrency, seconds=args.duration, cookie=cookie, use_wrk=args.use_wrk)
    drain(url)
    return run.as_dict()


def drain(url: str) -> None:
    """Wait until the server has worked off requests the load driver gave up on (slow pages at c=16 leave a
    queue behind): the next measurement starts on an idle server."""
    parts = urlsplit(url)
    _load.get(f"{parts.scheme}://{parts.netloc}/healthz", timeout=600)


def warm_up(base: str, paths: list[str], cookie: str) -> None:
    for path in paths:
        for _ in range(3):
            status, _seconds, body = _load.get(base + path, cookie=cookie)
            if status != 200:
                raise SystemExit(f"GET {path} answered {status}:\n{body[:2000].decode(errors='replace')}")


def searches(base: str, cookie: str, repeats: int) -> dict:
    from urllib.parse import urlencode

    import _django_side

    per_query = {}
    samples = []
    for query in _django_side.SEARCHES:
        path = "/search/?" + urlencode({"q": query})
        _load.get(base + path, cookie=cookie, timeout=120)  # warm-up
        times = []
        for _ in range(repeats):
            status, seconds, _body = _load.get(base + path, cookie=cookie, timeout=120)
            if status != 200:
                raise SystemExit(f"search {query!r} answered {status}")
            times.append(seconds * 1000)
        per_query[query] = round(sorted(times)[len(times) // 2], 1)
        samples += times
    ordered = sorted(samples)
    return {
        "queries": len(_django_side.SEARCHES),
        "repeats": repeats,
        "p50_ms": round(_load.percentile(ordered, 50), 1),
        "p95_ms": round(_load.percentile(ordered, 95), 1),
        "median_ms_by_query": per_query,
    }


def digest(args, env: dict, queue: str) -> dict:
    import _django_side

    now = _django_side.digest_moment()
    members = _django_side.digest_prepare(args.digest_members, now)
    log(f"digest job for {members:,} members with one Celery worker process")
    log_path = WORK / f"celery-{args.database}.log"
    timeout = 300 if args.smoke else 3600
    with celery_worker(env, queue, log_path):
        started = time.monotonic()
        _django_side.digest_send(now, queue)
        statuses: dict[str, int] = {}
        while time.monotonic() - started < timeout:
            statuses = _django_side.digest_statuses(now)
            done = "succeeded in" in log_path.read_text(errors="replace")
            if done and not statuses.keys() & {"pending", "sending"}:
                break
            if "raised unexpected" in log_path.read_text(errors="replace"):
                raise SystemExit(f"the digest task failed:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.5)
        seconds = time.monotonic() - started
    return {
        "members": members,
        "seconds": round(seconds, 1),
        "statuses": statuses,
        "finished": not statuses.keys() & {"pending", "sending"} and sum(statuses.values()) > 0,
    }


def memory(base: str, paths: list[str], cookie: str, workers: list[int], args) -> dict:
    """RSS of each gunicorn worker now and after ``--memory-requests`` more requests of the page mix (or after
    ``--memory-seconds``, whichever comes first: on a slow site the count would take hours)."""
    before = {pid: rss_kb(pid) for pid in workers}
    total = 0
    started = time.monotonic()
    while total < args.memory_requests:
        left = args.memory_seconds - (time.monotonic() - started)
        if left <= 1:
            break
        run = _load.drive_paths(base, paths, concurrency=4, seconds=min(60.0, left), cookie=cookie)
        drain(base)
        total += run.requests
    after = {pid: rss_kb(pid) for pid in workers}
    growth = max((after[pid] - before[pid]) / before[pid] for pid in workers if before[pid])
    return {
        "requests": total,
        "seconds": round(time.monotonic() - started, 1),
        "workers": [{"pid": pid, "rss_kb_before": before[pid], "rss_kb_after": after[pid]} for pid in workers],
        "max_growth": round(growth, 4),
    }


# --- Report ---------------------------------------------------------------------------------------------------------
def machine() -> dict:
    cpu = ""
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    memory_kb = 0
    try:
        memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)
    return {
        "hostname": platform.node(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in load],
    }


def check_targets(result: dict) -> dict:
    floor = result["floor"]["c16"]["rps"] or 1
    pages = {}
    for name, page in result["pages"].items():
        answered16, answered1 = page["c16"]["requests"] > 0, page["c1"]["requests"] > 0
        pages[name] = {
            "floor_share_c16": page["c16"]["rps"] / floor >= TARGETS["floor_share_c16"],
            "p99_c16": answered16 and page["c16"]["p99_ms"] < TARGETS["p99_c16_ms"],
            "p50_c1": answered1 and page["c1"]["p50_ms"] < TARGETS["p50_c1_ms"],
            "queries": page["queries"] <= TARGETS["queries"],
        }
    dashboard = result["dashboard"]["c1"]
    checks = {
        "pages": pages,
        "dashboard": dashboard["requests"] > 0 and dashboard["p50_ms"] < TARGETS["dashboard_ms"],
    }
    share = result["analytics"]["share_of_count_star"]
    checks["rollups"] = share is not None and share <= TARGETS["rollups_share_of_count_star"]
    checks["search"] = result["search"]["p95_ms"] < TARGETS["search_p95_ms"]
    checks["memory"] = (
        result["memory"]["max_growth"] <= TARGETS["memory_growth"]
        and result["memory"]["requests"] >= TARGETS["memory_requests"]
    )
    if result.get("digest"):
        checks["digest"] = result["digest"]["finished"] and result["digest"]["seconds"] < TARGETS["digest_seconds"]
    return checks


def print_table(result: dict) -> None:
    floor = result["floor"]
    print()
    print(f"floor /healthz: {floor['c16']['rps']:.0f} req/s at c=16, p50 {floor['c1']['p50_ms']:.1f} ms at c=1")
    header = f"{'page':<16} {'req/s c16':>10} {'% floor':>8} {'p50 c16':>8} {'p99 c16':>8} {'p50 c1':>7} {'queries':>8}"
    print(header)
    print("-" * len(header))
    rows = list(result["pages"].items()) + [("dashboard", result["dashboard"])]
    for name, page in rows:
        c16, c1 = page["c16"], page["c1"]
        share = 100 * c16["rps"] / (floor["c16"]["rps"] or 1)
        print(
            f"{name:<16} {c16['rps']:>10.1f} {share:>7.1f}% {c16['p50_ms']:>8.1f} {c16['p99_ms']:>8.1f} "
            f"{c1['p50_ms']:>7.1f} {page['queries']:>8}"
        )
    a = result["analytics"]
    print(
        f"\nretention {a['return_rate_ms']} ms + cohorts {a['cohort_retention_ms']} ms vs count(*) "
        f"{a['count_star_ms']} ms of {a['events']:,} events (share {a['share_of_count_star']})"
    )
    s = result["search"]
    print(f"search: p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms over {s['queries']} queries x {s['repeats']}")
    if result.get("digest"):
        d = result["digest"]
        print(f"digest: {d['members']:,} members in {d['seconds']} s ({d['statuses']})")
    m = result["memory"]
    print(f"memory: max worker growth {100 * m['max_growth']:.1f}% over {m['requests']:,} requests")


# --- Main -----------------------------------------------------------------------------------------------------------
def main(argv=None) -> dict:
    args = parse_args(argv)
    args.use_wrk = _load.wrk_path() is not None and not args.python_driver
    if not args.use_wrk:
        log(f"wrk not found: using the Python load driver ({_load.INSTALL_HINT})")
    WORK.mkdir(exist_ok=True)
    port = free_port()
    queue = f"bench-{os.getpid()}"
    static_root = WORK / "static"
    env = production_env(args, port=port, static_root=static_root, queue=queue, secret=secrets.token_urlsafe(40))
    seed = ensure_database(args, env)
    log("collectstatic")
    manage(env, "collectstatic", "--noinput", "-v0", quiet=True)

    os.environ.update(env)
    import django

    django.setup()
    import _django_side

    who = _django_side.personas()
    cookie = _django_side.session_cookie(who.member)
    admin_cookie = _django_side.session_cookie(who.admin)
    pages = _django_side.key_pages(who)
    dashboard_path = _django_side.dashboard_path(who)
    log(f"member {who.member.email} in space {who.space.slug} (community {who.space.community.slug})")
    log("counting queries per page (Django test client)")
    queries = {name: _django_side.count_queries(path, cookie) for name, path in pages.items()}
    queries["dashboard"] = _django_side.count_queries(dashboard_path, admin_cookie)
    for name, counted in queries.items():
        if counted["status"] != 200:
            raise SystemExit(f"{name} answered {counted['status']} in the query-count pass")
    sizes = _django_side.data_sizes()
    log("starting gunicorn")
    from django.db import connections

    connections.close_all()

    base = f"http://127.0.0.1:{port}"
    result: dict = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "smoke" if args.smoke else "full",
        "machine": machine(),
        "database": {"name": args.database, "sizes": sizes},
        "seed": None
        if seed is None
        else {k: seed.get(k) for k in ("sizes", "total seconds", "timings", "cpu seconds", "database")},
        "settings": {
            "gunicorn_workers": 2,
            "duration_s": args.duration,
            "driver": "wrk" if args.use_wrk else "python",
            "concurrency": [1, 16],
            "postgres_jit": bool(args.pg_jit),
        },
        "targets": TARGETS,
    }
    with gunicorn(env, port, WORK / f"gunicorn-{args.database}.log") as server:
        workers = children(server.pid)
        warm_up(base, ["/healthz", *pages.values()], cookie)
        warm_up(base, [dashboard_path], admin_cookie)
        log(f"floor: /healthz, {args.duration:.0f} s at c=1 and c=16")
        result["floor"] = {f"c{c}": measure(base + "/healthz", args, cookie, c) for c in (1, 16)}
        result["pages"] = {}
        for name, path in pages.items():
            log(f"{name}: {path}")
            runs = {f"c{c}": measure(base + path, args, cookie, c) for c in (1, 16)}
            result["pages"][name] = {"path": path, **queries[name], **runs}
        log(f"analytics dashboard: {dashboard_path}")
        runs = {f"c{c}": measure(base + dashboard_path, args, admin_cookie, c) for c in (1, 16)}
        result["dashboard"] = {"path": dashboard_path, **queries["dashboard"], **runs}
        log("search: 20 typical queries")
        result["search"] = searches(base, cookie, repeats=2 if args.smoke else 5)
        log(f"memory: {args.memory_requests:,} requests of the page mix")
        result["memory"] = memory(base, list(pages.values()), cookie, workers, args)
    log("analytics: retention and cohorts beside count(*)")
    result["analytics"] = _django_side.analytics_timings(repeats=1 if args.smoke else 3)
    result["digest"] = None if args.skip_digest else digest(args, env, queue)
    result["checks"] = check_targets(result)

    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M")
    name = f"{stamp}-{platform.node() or 'machine'}{'-smoke' if args.smoke else ''}.json"
    path = args.out / name
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print_table(result)
    log(f"results: {path}")
    if static_root.exists() and args.smoke:
        shutil.rmtree(static_root, ignore_errors=True)
    return result


if __name__ == "__main__":
    main()
