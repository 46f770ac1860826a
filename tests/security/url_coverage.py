"""A pytest plugin (registered in tests/conftest.py): the run fails when a URL pattern exists that no test requested
with success (issue 10, item 4).

Every request made through ``django.test.Client`` (sync or async) is recorded as (method, route) when it
succeeded: a 2xx answer, or a 3xx answer to a write (a form's redirect after success) that is not a redirect to
the sign-in page (or, for the patterns whose job is to redirect, ``url_status.REDIRECTS``, a GET redirected
elsewhere than the sign-in page). At the end of the run the routes are compared with every pattern of the URL resolver
(``tests.security.url_patterns``); a pattern never requested with success, and not listed in
``url_status.NO_SUCCESS`` with its reason, is printed and the run's exit status set to 1.

Only enforced when ``CHECK_URL_COVERAGE=1`` is set (CI sets it for the whole suite): a single file run cannot
request every URL. Works with xdist: the controller creates a folder and passes it to the workers through the
environment; each worker writes what it saw there when it finishes, and the controller reads it all.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ENABLE_ENV = "CHECK_URL_COVERAGE"
DIR_ENV = "COPAPP_URL_COVERAGE_DIR"
SAFE = {"GET", "HEAD", "OPTIONS"}
REDIRECT = "GET-REDIRECT"

_seen: set[tuple[str, str]] = set()


def enabled() -> bool:
    return os.environ.get(ENABLE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def is_success(method: str, status: int, location: str = "") -> bool:
    if 200 <= status < 300:
        return True
    if method.upper() in SAFE or not 300 <= status < 400:
        return False
    from django.conf import settings
    from django.urls import reverse

    return not location.split("?", 1)[0].endswith(reverse(settings.LOGIN_URL))


def record(response) -> None:
    """Note the route of ``response`` if it was a success (see ``is_success``)."""
    try:
        request = response.wsgi_request if hasattr(response, "wsgi_request") else response.asgi_request
        match = request.resolver_match
    except Exception:  # noqa: BLE001 - a recorder must never break the test it watches
        return
    if match is None:
        return
    location = response.get("Location", "")
    if is_success(request.method, response.status_code, location):
        _seen.add((request.method.upper(), match.route))
    elif is_redirect_success(request.method, response.status_code, location):
        _seen.add((REDIRECT, match.route))


def is_redirect_success(method: str, status: int, location: str = "") -> bool:
    """A GET answered with a redirect elsewhere than the sign-in page: the success of the patterns whose job is to
    redirect (``url_status.REDIRECTS``: permalinks, "open this notification")."""
    if method.upper() not in SAFE or not 300 <= status < 400 or not location:
        return False
    from django.conf import settings
    from django.urls import reverse

    return not location.split("?", 1)[0].endswith(reverse(settings.LOGIN_URL))


def _install() -> None:
    from django.test import client

    original, original_async = client.Client.request, client.AsyncClient.request
    if getattr(original, "_url_coverage", False):
        return

    def request(self, **kwargs):
        response = original(self, **kwargs)
        record(response)
        return response

    async def async_request(self, **kwargs):
        response = await original_async(self, **kwargs)
        record(response)
        return response

    request._url_coverage = True  # type: ignore[attr-defined]
    client.Client.request = request  # type: ignore[method-assign]
    client.AsyncClient.request = async_request  # type: ignore[method-assign]


def _is_worker(config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config) -> None:
    if not enabled():
        return
    if not _is_worker(config) and not os.environ.get(DIR_ENV):
        # Workers are started after this and inherit the environment.
        os.environ[DIR_ENV] = tempfile.mkdtemp(prefix="copapp-url-coverage-")
    _install()


def _write_seen(config) -> None:
    folder = Path(os.environ[DIR_ENV])
    name = config.workerinput["workerid"] if _is_worker(config) else "controller"
    lines = sorted(f"{method} {route}" for method, route in _seen)
    (folder / f"{name}-{os.getpid()}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _read_seen() -> set[tuple[str, str]]:
    seen: set[tuple[str, str]] = set()
    for path in Path(os.environ[DIR_ENV]).glob("*.txt"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                method, _sep, route = line.partition(" ")
                seen.add((method, route))
    return seen


def uncovered(seen: set[tuple[str, str]]) -> list[str]:
    """The keys of the URL patterns that ``seen`` never requested with success, less those excused."""
    from tests.security.url_patterns import url_patterns
    from tests.security.url_status import NO_SUCCESS, REDIRECTS

    missing = []
    for pattern in url_patterns():
        if pattern.key in NO_SUCCESS:
            continue
        if pattern.key in REDIRECTS and (REDIRECT, pattern.route) in seen:
            continue
        if not any(route == pattern.route and pattern.accepts(method) for method, route in seen):
            missing.append(pattern.key)
    return sorted(missing)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus) -> None:
    if not enabled() or not os.environ.get(DIR_ENV):
        return
    config = session.config
    _write_seen(config)
    if _is_worker(config):
        return
    seen = _read_seen()
    shutil.rmtree(os.environ.pop(DIR_ENV), ignore_errors=True)
    if getattr(config.option, "collectonly", False):
        return
    missing = uncovered(seen)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if missing:
        if reporter is not None:
            reporter.write_sep("=", f"{len(missing)} URL patterns never requested with success", red=True)
            for key in missing:
                reporter.write_line(f"  {key}")
        session.exitstatus = 1
    elif reporter is not None:
        reporter.write_sep("=", "every URL pattern was requested with success", green=True)
