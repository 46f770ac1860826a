#!/usr/bin/env python
"""PostgreSQL restarted under load (issue 10, item 6): errors only while it is down, none once it is back.

    .venv/bin/python tests/faults/pg_restart.py --out ci-artifacts/faults/pg-restart.json

Run it as root after the test suite, never beside it: it restarts the PostgreSQL cluster and so cuts every
connection to it, the suite's included. What it does:

1. creates a small database (``--database``, dropped first if it exists), migrates it and seeds a community, an
   open space and a page in it;
2. starts the app under gunicorn (2 workers) with production settings, as the benchmark does (``bench/run.py``):
   ``DEBUG=0``, persistent database connections (``DB_CONN_MAX_AGE=600``; the settings switch on Django's
   connection health checks), Redis as cache;
3. drives requests at four pages that read the database (home, community, space, page) from ``--threads``
   threads for ``--before`` seconds, then restarts PostgreSQL with
   ``pg_ctlcluster --skip-systemctl-redirect <version> <cluster> restart`` while the load goes on, waits until it
   answers again (``pg_isready``), and goes on for ``--after`` seconds;
4. sorts every request by when it started: *before* the restart, *during* the outage (from the restart command
   until PostgreSQL answers, plus ``--grace`` seconds), *after*; an error is a 5xx answer or a failed connection.

5. restarts PostgreSQL a second time with the load paused, so each gunicorn worker holds a persistent connection
   to the old server and no request is in flight, then sends the load again for ``--after`` seconds.

It passes (exit code 0) when requests were served in each phase, nothing failed before the restart and nothing
after it, nor after the quiet restart: every persistent connection left over from the old server must be noticed
by the health check at the start of its next request and replaced, not turned into an error page. It prints a
summary, writes it as JSON to ``--out``, and always leaves PostgreSQL running (it starts the cluster if the
restart left it down).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = Path(sys.executable)
sys.path.insert(0, str(ROOT / "bench"))

from _server import free_port, gunicorn  # noqa: E402  (bench/_server.py: gunicorn as the benchmark starts it)

SEED = """
import json
from django.contrib.auth import get_user_model
from django.urls import reverse
from spaces import services
from tests.factories import make_community, make_space, make_user

staff = make_user("staff", staff=True)
community = make_community(staff, slug="registers")
space = make_space(staff, community, "open", slug="population-register")
page = services.page_create(actor=staff, space=space, title="Linkage keys", body="Name, birth date and place.")
print(json.dumps(["/", reverse("communities:detail", args=[community.slug]), space.get_absolute_url(),
                  page.get_absolute_url()]))
"""


def log(message: str) -> None:
    print(f"[pg-restart {datetime.now():%H:%M:%S}] {message}", flush=True)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="Write the result as JSON to this file.")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL.")
    parser.add_argument("--database", default="copapp_faults_pg", help="Database to create (dropped first).")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/14")
    parser.add_argument("--cluster", default="main", help="pg_ctlcluster cluster name (default main).")
    parser.add_argument("--pg-version", help="pg_ctlcluster version (default: the one under /etc/postgresql).")
    parser.add_argument("--threads", type=int, default=4, help="Concurrent clients (default 4).")
    parser.add_argument("--before", type=float, default=5.0, help="Seconds of load before the restart.")
    parser.add_argument("--after", type=float, default=10.0, help="Seconds of load after PostgreSQL is back.")
    parser.add_argument(
        "--grace",
        type=float,
        default=1.0,
        help="Seconds after PostgreSQL answers still counted as the outage (default 1).",
    )
    return parser.parse_args(argv)


# --- PostgreSQL ---------------------------------------------------------------------------------------------
def pg_version(args) -> str:
    if args.pg_version:
        return args.pg_version
    versions = sorted(os.listdir("/etc/postgresql"))
    if not versions:
        raise SystemExit("no PostgreSQL cluster under /etc/postgresql")
    return versions[-1]


def pg_port(args) -> str:
    return args.server.rsplit(":", 1)[-1].split("/")[0]


def pg_answers(args) -> bool:
    result = subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", pg_port(args)], check=False)  # noqa: S603 S607
    return result.returncode == 0


def pg_ctl(args, action: str) -> subprocess.CompletedProcess:
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", pg_version(args), args.cluster, action]
    return subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603


def ensure_pg_running(args) -> None:
    """Whatever happened, leave PostgreSQL running."""
    for _ in range(30):
        if pg_answers(args):
            return
        log("PostgreSQL does not answer: starting it")
        pg_ctl(args, "start")
        time.sleep(1)
    log("PostgreSQL still does not answer after 30 attempts")


# --- The app ------------------------------------------------------------------------------------------------
def app_env(args, port: int, static_root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "EMAIL_", "DATABASE_", "CELERY_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="copapp.settings",
        COPAPP_TESTING="0",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(40),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SITE_URL=f"http://127.0.0.1:{port}",
        DATABASE_URL=f"{args.server.rstrip('/')}/{args.database}",
        DB_CONN_MAX_AGE="600",  # persistent connections; the settings add CONN_HEALTH_CHECKS
        REDIS_URL=args.redis_url,
        CELERY_QUEUE=f"pg-restart-{os.getpid()}",  # nothing consumes it: the pages read, they enqueue nothing
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="0",
        BEHIND_TLS_PROXY="0",
        RATE_LIMIT_ANONYMOUS="off",  # every request comes from 127.0.0.1
        STATIC_ROOT=str(static_root),
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(env: dict, *arguments: str) -> str:
    command = [str(PYTHON), str(ROOT / "manage.py"), *arguments]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise SystemExit(f"manage.py {arguments[0]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def create_database(args) -> None:
    import psycopg

    with psycopg.connect(f"{args.server.rstrip('/')}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{args.database}"')


def drop_database(args) -> None:
    import psycopg

    try:
        with psycopg.connect(f"{args.server.rstrip('/')}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    except psycopg.Error as exc:
        log(f"could not drop {args.database}: {exc}")


# --- The load -----------------------------------------------------------------------------------------------
class Load:
    """``threads`` clients requesting the pages in turn until stopped; each request is (start, end, path,
    status or None, error text). Start and end are seconds on the monotonic clock."""

    def __init__(self, base: str, paths: list[str], threads: int):
        self.base, self.paths = base, paths
        self.records: list[tuple[float, float, str, int | None, str]] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.client, args=(n,), daemon=True) for n in range(threads)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def client(self, n: int) -> None:
        turn = n
        while not self.stopping.is_set():
            path = self.paths[turn % len(self.paths)]
            turn += 1
            started = time.monotonic()
            status, error = None, ""
            try:
                with urllib.request.urlopen(self.base + path, timeout=15) as answer:  # noqa: S310
                    answer.read()
                    status = answer.status
            except urllib.error.HTTPError as exc:
                status, error = exc.code, f"HTTP {exc.code}"
            except OSError as exc:
                error = f"{type(exc).__name__}: {exc}"
            with self.lock:
                self.records.append((started, time.monotonic(), path, status, error))


def failed(record) -> bool:
    _start, _end, _path, status, _error = record
    return status is None or status >= 500


def summarise(records, t_restart: float, t_back: float, grace: float) -> dict:
    """Phases by when a request started; a request that started before the restart but was still running when
    it began belongs to the outage too (its connection was cut under it)."""
    outage_end = t_back + grace
    phases: dict[str, list] = {"before": [], "during": [], "after": []}
    for record in records:
        start, end = record[0], record[1]
        if start >= outage_end:
            phases["after"].append(record)
        elif start >= t_restart or end >= t_restart:
            phases["during"].append(record)
        else:
            phases["before"].append(record)
    summary: dict = {"outage_seconds": round(t_back - t_restart, 2), "grace_seconds": grace}
    for name, group in phases.items():
        errors = [r for r in group if failed(r)]
        statuses: dict[str, int] = {}
        for record in group:
            key = str(record[3]) if record[3] is not None else "connection failed"
            statuses[key] = statuses.get(key, 0) + 1
        summary[name] = {
            "requests": len(group),
            "errors": len(errors),
            "statuses": statuses,
            "first_errors": sorted({f"{r[2]}: {r[4]}" for r in errors})[:5],
        }
    return summary


# --- Main ---------------------------------------------------------------------------------------------------
def main(argv=None) -> int:
    args = parse_args(argv)
    if shutil.which("pg_ctlcluster") is None:
        raise SystemExit("pg_ctlcluster not found: this script restarts a Debian PostgreSQL cluster")
    if not pg_answers(args):
        raise SystemExit(f"PostgreSQL does not answer on port {pg_port(args)}")
    work = Path(args.out).resolve().parent
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = app_env(args, port, work / "pg-restart-static")
    result: dict = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cluster": f"{pg_version(args)}/{args.cluster}",
        "threads": args.threads,
        "settings": {"DB_CONN_MAX_AGE": env["DB_CONN_MAX_AGE"], "CONN_HEALTH_CHECKS": True, "gunicorn_workers": 2},
    }
    try:
        with ExitStack() as running:
            log(f"creating, migrating and seeding {args.database}")
            create_database(args)
            manage(env, "migrate", "--noinput", "-v0")
            manage(env, "collectstatic", "--noinput", "-v0")
            paths = json.loads(manage(env, "shell", "-c", SEED).strip().splitlines()[-1])
            result["paths"] = paths
            log(f"gunicorn on 127.0.0.1:{port}; pages: {', '.join(paths)}")
            running.enter_context(gunicorn(env, port, work / "pg-restart-gunicorn.log", timeout=60))
            load = Load(f"http://127.0.0.1:{port}", paths, args.threads)
            load.start()
            time.sleep(args.before)
            log(f"restarting PostgreSQL {result['cluster']}")
            t_restart = time.monotonic()
            restarted = pg_ctl(args, "restart")
            while not pg_answers(args):
                if time.monotonic() - t_restart > 60:
                    raise SystemExit("PostgreSQL did not answer within 60 s of the restart")
                time.sleep(0.05)
            t_back = time.monotonic()
            took = t_back - t_restart
            log(f"PostgreSQL answers again after {took:.2f} s (pg_ctlcluster exit {restarted.returncode})")
            time.sleep(args.grace + args.after)
            load.stop()
            result.update(summarise(load.records, t_restart, t_back, args.grace))
            # Again with no request in flight: every gunicorn worker keeps its connection to the old server, and the
            # first request on each must be served through the health check's fresh connection.
            log("restarting PostgreSQL again, with the load paused (stale persistent connections)")
            t_quiet = time.monotonic()
            pg_ctl(args, "restart")
            while not pg_answers(args):
                if time.monotonic() - t_quiet > 60:
                    raise SystemExit("PostgreSQL did not answer within 60 s of the second restart")
                time.sleep(0.05)
            quiet = Load(f"http://127.0.0.1:{port}", paths, args.threads)
            quiet.start()
            time.sleep(args.after)
            quiet.stop()
            result["after_quiet_restart"] = summarise(quiet.records, 0.0, 0.0, 0.0)["after"]
    finally:
        ensure_pg_running(args)
        drop_database(args)

    problems = []
    for phase in ("before", "during", "after"):
        if result[phase]["requests"] == 0:
            problems.append(f"no request started {phase} the outage")
    if result["before"]["errors"]:
        problems.append(f"{result['before']['errors']} errors before the restart")
    if result["after"]["errors"]:
        problems.append(f"{result['after']['errors']} errors after PostgreSQL was back")
    quiet = result["after_quiet_restart"]
    if quiet["requests"] == 0 or quiet["errors"]:
        problems.append(f"{quiet['errors']} errors of {quiet['requests']} requests after the quiet restart")
    result["passed"] = not problems
    result["problems"] = problems
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")

    print(
        f"PostgreSQL {result['cluster']} restarted under load: outage {result['outage_seconds']} s "
        f"(+{args.grace} s grace), {args.threads} clients"
    )
    print(f"{'phase':<8} {'requests':>9} {'errors':>7}  statuses")
    for phase in ("before", "during", "after"):
        data = result[phase]
        print(f"{phase:<8} {data['requests']:>9} {data['errors']:>7}  {data['statuses']}")
        for line in data["first_errors"]:
            print(f"         {line}")
    quiet = result["after_quiet_restart"]
    print(
        f"{'after a quiet restart (no request in flight)':<8}: {quiet['requests']} requests, {quiet['errors']} errors"
    )
    for line in quiet["first_errors"]:
        print(f"         {line}")
    print("PASSED" if result["passed"] else "FAILED: " + "; ".join(problems))
    print(f"result: {args.out}")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
