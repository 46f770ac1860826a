"""Browser tests (issue 10, item 7): Playwright driving Debian's Chromium against a live copapp.

They are not part of the normal suite: the README's ``pytest tests`` and CI's two suite stages leave them out
(the test modules are not even collected unless ``BROWSER_TESTS=1``, so nothing shows as skipped there).
``scripts/browser_tests.sh`` runs them; CI calls it in a stage of its own.

Every journey runs at two sizes, desktop (1280 x 800) and a phone (375 x 812); at the phone size no page of
a journey may scroll sideways. Each journey saves a screenshot of its final screen under ``BROWSER_ARTIFACTS``
(default ``ci-artifacts/browser``). A console error on any page (a Content-Security-Policy violation shows as
one) and a 5xx answer or traceback in the server's log fail the test that caused them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.browser.server import ROOT, LiveSite

if os.environ.get("BROWSER_TESTS") != "1":
    collect_ignore_glob = ["test_*.py"]

SIZES = {"desktop": {"width": 1280, "height": 800}, "mobile": {"width": 375, "height": 812}}
CHROMIUM = os.environ.get("BROWSER_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking switches Chromium keeps calling Google's services, and a closed network
# refuses those connections.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(__file__).parent / "vendor" / "axe.min.js"


def artifacts_dir() -> Path:
    path = Path(os.environ.get("BROWSER_ARTIFACTS", "ci-artifacts/browser"))
    if not path.is_absolute():
        path = ROOT / path
    path.mkdir(parents=True, exist_ok=True)
    return path


def pytest_generate_tests(metafunc):
    if "size" in metafunc.fixturenames:
        metafunc.parametrize("size", list(SIZES), ids=list(SIZES))


@pytest.fixture(scope="session")
def live_site(tmp_path_factory):
    from playwright.sync_api import expect  # imported here: the normal suite may run without Playwright

    # A shared CI machine can be slow to answer: wait up to 10 s for what a member would see, not the default 5 s.
    expect.set_options(timeout=10_000)
    logs = artifacts_dir() / "logs"
    logs.mkdir(exist_ok=True)
    site = LiveSite(tmp_path_factory.mktemp("browser-site"), list(SIZES), logs)
    site.prepare()
    site.start()
    yield site
    site.stop()


@pytest.fixture(scope="session")
def base_url(live_site) -> str:
    return live_site.url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture
def world(live_site) -> dict:
    return live_site.world


@pytest.fixture
def mine(world, size) -> dict:
    """The people and content of this size (see world.py)."""
    return world["sizes"][size]


class Browsing:
    """Opens signed-in (or anonymous) pages at one size, and watches every page for console errors."""

    def __init__(self, new_context, live_site: LiveSite, size: str, name: str, sessions: dict) -> None:
        self.new_context = new_context
        self.sessions = sessions
        self.site = live_site
        self.size = size
        self.viewport = SIZES[size]
        self.name = name
        self.console_errors: list[str] = []
        self.expected_statuses: set[int] = set()

    def expect_status(self, status: int) -> None:
        """A response with this error status is part of the journey (Chromium logs each one as a console error)."""
        self.expected_statuses.add(status)

    def open(self, email: str | None = None, **context_args):
        """A new browser context (its own cookies) at this size; signed in as ``email`` if given. The first
        sign-in of each person goes through the sign-in form; later contexts reuse that session."""
        if email in self.sessions:
            context_args["storage_state"] = self.sessions[email]
        context = self.new_context(viewport=self.viewport, **context_args)
        page = context.new_page()
        page.on("console", lambda message: self._console(page, message))
        page.on("pageerror", lambda error: self.console_errors.append(f"{page.url}: uncaught {error}"))
        if email and email not in self.sessions:
            self.sign_in(page, email)
            self.sessions[email] = context.storage_state()
        return page

    def _console(self, page, message) -> None:
        if message.type != "error":
            return
        status = re.search(r"the server responded with a status of (\d+)", message.text)
        if status and int(status.group(1)) in self.expected_statuses:
            return
        self.console_errors.append(f"{page.url}: {message.text}")

    def sign_in(self, page, email: str) -> None:
        page.goto("/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(self.site.world["password"])
        page.locator("main").get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)

    def fits(self, page) -> None:
        """At the phone size the page must not scroll sideways."""
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= self.viewport["width"], f"{page.url} is {width}px wide at {self.viewport['width']}px"

    def finish(self, page, label: str = "") -> Path:
        """The final screen: it fits, and its screenshot is kept."""
        self.fits(page)
        path = artifacts_dir() / f"{self.name}{'-' + label if label else ''}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture(scope="session")
def _sessions() -> dict:
    """Signed-in browser state (the session cookie) of each person, by e-mail address."""
    return {}


@pytest.fixture
def browsing(new_context, live_site, size, request, _sessions):
    name = f"{request.node.originalname.removeprefix('test_')}-{size}"
    log_offset = live_site.log_size()
    browsing = Browsing(new_context, live_site, size, name, _sessions)
    yield browsing
    problems = [f"console: {error}" for error in browsing.console_errors]
    problems += [f"server: {line}" for line in live_site.server_errors(since=log_offset)]
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)
