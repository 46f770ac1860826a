"""The benchmark end to end at a tiny size (``bench/run.py --smoke``): it works, and reports every page.

Needs PostgreSQL (the benchmark builds a database of its own on the same server as the tests) and Redis (the
digest job runs on a real Celery worker); skipped with the reason on a machine without them. The numbers are not
checked: a smoke run on a CI machine says nothing about speed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
PAGES = [
    "space home",
    "page view",
    "page history",
    "question page",
    "question list",
    "event page",
    "search results",
    "notifications",
]
RUN_FIELDS = ["rps", "p50_ms", "p99_ms", "requests"]

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def server_url() -> str:
    db = settings.DATABASES["default"]
    credentials = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"])
    return f"postgres://{credentials}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{server_url()}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _numbers(run: dict, *, answered: bool = False) -> None:
    """Every figure is there. Whether a 2-second run saw an answer depends on the machine (a page slower than
    the run reports no request), so only the floor is required to have answered."""
    for name in RUN_FIELDS:
        assert isinstance(run[name], int | float), name
        assert run[name] >= 0, name
    if answered:
        assert run["requests"] > 0 and run["rps"] > 0 and run["p50_ms"] > 0


def test_smoke_run_reports_every_page_with_numbers(tmp_path):
    database = f"bench_smoke_{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DATABASE_"))}
    env.update(BENCH_DATABASE_URL=server_url(), BENCH_REDIS_URL=settings.REDIS_URL)
    command = [
        sys.executable,
        str(ROOT / "bench" / "run.py"),
        "--smoke",
        "--database",
        database,
        "--out",
        str(tmp_path),
    ]
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500)
    finally:
        drop_database(database)
    assert done.returncode == 0, f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    [path] = list(tmp_path.glob("*-smoke.json"))
    result = json.loads(path.read_text())

    assert result["mode"] == "smoke"
    assert set(result["pages"]) == set(PAGES)
    for name, page in result["pages"].items():
        assert page["status"] == 200, name
        assert isinstance(page["queries"], int) and page["queries"] > 0, name
        _numbers(page["c1"])
        _numbers(page["c16"])
        assert page["c1"]["concurrency"] == 1 and page["c16"]["concurrency"] == 16
    _numbers(result["floor"]["c1"], answered=True)
    _numbers(result["floor"]["c16"])
    _numbers(result["dashboard"]["c1"])
    assert result["dashboard"]["queries"] > 0

    analytics = result["analytics"]
    assert analytics["events"] > 0
    assert analytics["count_star_ms"] > 0 and analytics["retention_and_cohort_ms"] > 0
    assert result["search"]["queries"] == 20 and result["search"]["p95_ms"] >= result["search"]["p50_ms"] > 0
    assert result["memory"]["requests"] > 0 and len(result["memory"]["workers"]) == 2
    assert result["digest"]["finished"], result["digest"]
    assert result["digest"]["members"] > 0 and sum(result["digest"]["statuses"].values()) == result["digest"]["members"]
    assert "checks" in result and set(result["checks"]["pages"]) == set(PAGES)

    # The README table renders from such a file (as a full run).
    from bench import render_readme

    result["mode"] = "full"
    (tmp_path / "full.json").write_text(json.dumps(result))
    readme = tmp_path / "README.md"
    readme.write_text("# x\n<!-- perf:start -->\nold\n<!-- perf:end -->\nrest\n")
    render_readme.main(["--results", str(tmp_path), "--readme", str(readme)])
    text = readme.read_text()
    assert "old" not in text and "| space home |" in text and text.endswith("<!-- perf:end -->\nrest\n")
