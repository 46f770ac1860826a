"""Service requirements for tests: the ``postgres`` and ``redis`` markers, and ``REQUIRE_SERVICES``.

* ``@pytest.mark.postgres``: skipped unless Django's default database is PostgreSQL.
* ``@pytest.mark.redis``: skipped unless ``settings.REDIS_URL`` is set and Redis answers a PING.

With ``REQUIRE_SERVICES=1`` in the environment (CI's PostgreSQL + Redis stage) a missing service fails the
test instead, and every other skip - ``pytest.skip``, ``skipif``, ``importorskip``, a skipped module - is
reported as a failure too, so that stage can never pass by quietly not running something. xfail is unchanged.

* ``@pytest.mark.heavy``: the access matrix and the canary of issue 10 (thousands of renders, several minutes).
  They run everywhere by default (the README's test command runs them); CI runs them once, in its PostgreSQL
  stage, and its embedded stage sets ``COPAPP_DESELECT_HEAVY=1`` to leave them out (deselected, not skipped).
"""

from __future__ import annotations

import functools
import os

import pytest

REQUIRE_ENV = "REQUIRE_SERVICES"
DESELECT_HEAVY_ENV = "COPAPP_DESELECT_HEAVY"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get(DESELECT_HEAVY_ENV, "").strip().lower() not in {"1", "true", "yes", "on"}:
        return
    heavy = [item for item in items if item.get_closest_marker("heavy") is not None]
    if heavy:
        config.hook.pytest_deselected(items=heavy)
        items[:] = [item for item in items if item.get_closest_marker("heavy") is None]


def services_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def database_vendor() -> str:
    from django.db import connections

    return connections["default"].vendor


@functools.cache
def redis_problem() -> str | None:
    """None if Redis answers, otherwise why not. Checked once per test process."""
    from django.conf import settings

    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return "needs Redis: REDIS_URL is not set (embedded default uses the local-memory cache)"
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        try:
            if not client.ping():
                return f"needs Redis: no PONG from {url}"
        finally:
            client.close()
    except Exception as exc:  # any failure means "not available"
        return f"needs Redis: {url} does not answer ({type(exc).__name__}: {exc})"
    return None


def missing_services(item: pytest.Item) -> list[str]:
    reasons = []
    if item.get_closest_marker("postgres") is not None:
        vendor = database_vendor()
        if vendor != "postgresql":
            reasons.append(f"needs PostgreSQL: the default database is {vendor} (set DATABASE_URL)")
    if item.get_closest_marker("redis") is not None:
        problem = redis_problem()
        if problem:
            reasons.append(problem)
    return reasons


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    reasons = missing_services(item)
    if not reasons:
        return
    reason = "; ".join(reasons)
    if services_required():
        pytest.fail(f"{REQUIRE_ENV}=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _skip_reason(longrepr: object) -> str:
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        path, lineno, message = longrepr
        return f"{message} ({path}:{lineno})"
    return str(longrepr)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if services_required() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"{REQUIRE_ENV}=1 forbids skipped tests: {_skip_reason(report.longrepr)}"
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    report = yield
    if services_required() and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"{REQUIRE_ENV}=1 forbids skipped modules: {_skip_reason(report.longrepr)}"
    return report


def pytest_report_header(config: pytest.Config) -> str:
    try:
        from django.conf import settings

        vendor = database_vendor()
        redis = settings.REDIS_URL or "not set"
        eager = settings.CELERY_TASK_ALWAYS_EAGER
    except Exception as exc:  # a header must never break the run
        return f"services: unknown ({type(exc).__name__})"
    required = services_required()
    return f"services: database={vendor}, REDIS_URL={redis}, celery eager={eager}, {REQUIRE_ENV}={required}"
