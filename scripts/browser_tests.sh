#!/usr/bin/env bash
# Browser tests (issue 10, item 7): Playwright drives Debian's Chromium through the main journeys at desktop size
# and at 375 x 812, and axe-core checks the main pages. See tests/browser/conftest.py.
#
#   scripts/browser_tests.sh                         # every browser test
#   scripts/browser_tests.sh -k conflict             # extra arguments go to pytest
#   BROWSER_TEMPLATE_DB=/tmp/copapp-migrated.sqlite3 scripts/browser_tests.sh   # reuse a migrated database (local)
#
# Needs /usr/bin/chromium (apt-get install chromium; never a downloaded browser) and pytest-playwright in .venv
# (never `playwright install`). The tests start their own server (gunicorn on a fresh SQLite database on a free
# loopback port), so PostgreSQL and Redis settings of the surrounding shell are left out.
# Screenshots of each journey's final screen, axe reports and the server's log go to $BROWSER_ARTIFACTS
# (default ci-artifacts/browser); a failed test's screenshot and trace go to $BROWSER_ARTIFACTS/failures.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export BROWSER_ARTIFACTS="${BROWSER_ARTIFACTS:-ci-artifacts/browser}"
export BROWSER_CHROMIUM="${BROWSER_CHROMIUM:-/usr/bin/chromium}"
mkdir -p "$BROWSER_ARTIFACTS"

if [[ ! -x "$BROWSER_CHROMIUM" ]]; then
    echo "no Chromium at $BROWSER_CHROMIUM: install Debian's (apt-get install chromium)" >&2
    exit 2
fi
if ! .venv/bin/python -c "import pytest_playwright" 2>/dev/null; then
    echo "pytest-playwright is not installed in .venv: .venv/bin/pip install pytest-playwright" >&2
    exit 2
fi

echo "browser tests with $("$BROWSER_CHROMIUM" --version 2>/dev/null || echo "$BROWSER_CHROMIUM")"
env -u DATABASE_URL -u DATABASE_TEST_NAME -u REDIS_URL -u REQUIRE_SERVICES -u CELERY_TASK_ALWAYS_EAGER \
    BROWSER_TESTS=1 \
    .venv/bin/python -m pytest -p no:cacheprovider tests/browser \
    --output "$BROWSER_ARTIFACTS/failures" --screenshot only-on-failure --tracing retain-on-failure \
    --durations 10 "$@"
