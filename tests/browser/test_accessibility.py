"""axe-core (vendored: vendor/README.md) on the main pages, at both sizes: no serious or critical violation.

axe is injected as a script tag, which the site's Content-Security-Policy (no inline script) rightly refuses:
these contexts alone bypass the policy. Each page is visited as someone who sees all of it (the space's admin
sees its moderation controls too; the analyst sees the dashboards); the sign-in page anonymously.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.browser.conftest import AXE, artifacts_dir

BLOCKING = {"serious", "critical"}

# name -> (who, path key or literal path)
PAGES = {
    "sign-in": (None, "/accounts/login/"),
    "home": ("space_admin", "/"),
    "space-home": ("space_admin", "open_space_path"),
    "page-view": ("space_admin", "page_path"),
    "question": ("space_admin", "question_path"),
    "event": ("space_admin", "event_path"),
    "search": ("space_admin", "/search/?q=linkage"),
    "member-directory": ("space_admin", "/members/"),
    "analytics-dashboard": ("analyst", "/analytics/c/browser-community/"),
}


def violations(page, report: Path | None = None) -> list[dict]:
    """axe's serious and critical violations on the page; every violation, minor ones included, goes to
    ``report`` (a CI artifact) when given."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        summary = [
            {"id": v["id"], "impact": v["impact"], "help": v["help"], "targets": [n["target"] for n in v["nodes"]]}
            for v in result["violations"]
        ]
        report.write_text(json.dumps({"url": page.url, "axe": result["testEngine"], "violations": summary}, indent=1))
    return [violation for violation in result["violations"] if violation["impact"] in BLOCKING]


def describe(found: list[dict]) -> str:
    lines = []
    for violation in found:
        lines.append(f"{violation['impact']}: {violation['id']} ({violation['help']})")
        for node in violation["nodes"][:5]:
            lines.append(f"    {' '.join(node['target'])}: {node['failureSummary'].splitlines()[-1].strip()}")
    return "\n".join(lines)


@pytest.mark.parametrize("name", list(PAGES))
def test_main_pages_have_no_serious_accessibility_violations(browsing, size, world, mine, name):
    who, where = PAGES[name]
    path = where if where.startswith("/") else (mine.get(where) or world[where])
    page = browsing.open(world[who] if who else None, bypass_csp=True)
    response = page.goto(path)
    assert response.status == 200, f"{path} answered {response.status}"
    found = violations(page, artifacts_dir() / "axe" / f"{name}-{size}.json")
    browsing.finish(page, name)
    assert not found, f"{name} ({path}) at {size}:\n{describe(found)}"


def test_the_check_finds_a_critical_violation(browsing, size):
    """The check above can fail: an image without a text alternative is a critical violation for axe."""
    page = browsing.open()
    page.set_content('<!DOCTYPE html><html lang="en"><title>t</title><main><img src="data:,"></main></html>')
    assert "image-alt" in {violation["id"] for violation in violations(page)}
