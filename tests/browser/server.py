"""The live site the browser tests drive: a fresh SQLite database served by gunicorn on a free loopback port.

A separate process rather than pytest-django's ``live_server``: the browser then meets the site as deployed
(gunicorn, whitenoise, the Content-Security-Policy, real sessions), Playwright's event loop never meets the ORM
(no ``DJANGO_ALLOW_ASYNC_UNSAFE``), and the data is made once for the whole run instead of per test. One worker
process with threads, so its local-memory cache (sessions, memberships) is one cache. E-mail goes to files
(``EMAIL_FILE_PATH``): the sign-up journey reads its confirmation link there. E-mail verification is mandatory,
as in production.

``BROWSER_TEMPLATE_DB``: a migrated SQLite file to copy instead of migrating (migrating takes a minute or more;
made on first use when the file does not exist yet). For local runs only: CI always migrates afresh.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable

# Variables of the surrounding run that must not reach the server (CI's heavy stages export PostgreSQL and Redis).
_DROPPED = {
    "DATABASE_URL",
    "DATABASE_TEST_NAME",
    "REDIS_URL",
    "REQUIRE_SERVICES",
    "CELERY_TASK_ALWAYS_EAGER",
    "PYTEST_ADDOPTS",
    "PYTEST_XDIST_WORKER",
    "EMAIL_HOST",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _copy_sqlite(source: Path, target: Path) -> None:
    """Copy a SQLite database consistently (its WAL included) through the backup API."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


class LiveSite:
    def __init__(self, workdir: Path, sizes: list[str], log_dir: Path) -> None:
        self.workdir = workdir
        self.sizes = sizes
        self.log_dir = log_dir
        self.db = workdir / "db.sqlite3"
        self.mail_dir = workdir / "mail"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: subprocess.Popen | None = None
        self.server_log = log_dir / "server.log"
        self.world: dict = {}

    def env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if key not in _DROPPED}
        env.update(
            DJANGO_SETTINGS_MODULE="copapp.settings",
            COPAPP_TESTING="0",
            DEBUG="1",
            SQLITE_PATH=str(self.db),
            MEDIA_ROOT=str(self.workdir / "media"),
            PRIVATE_MEDIA_ROOT=str(self.workdir / "private-media"),
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=str(self.mail_dir),
            ACCOUNT_EMAIL_VERIFICATION="mandatory",
            STAFF_MFA_REQUIRED="0",
            SITE_URL=self.url,
            API_RATE_LIMIT="off",
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
            BROWSER_SIZES=",".join(self.sizes),
        )
        return env

    def _run(self, args: list[str], what: str) -> str:
        log = self.log_dir / f"{what}.log"
        result = subprocess.run(  # noqa: S603 - fixed command
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.env(), capture_output=True, text=True, check=False
        )
        log.write_text(result.stdout + result.stderr)
        if result.returncode != 0:
            raise RuntimeError(f"{what} failed (exit code {result.returncode}); see {log}:\n{result.stderr[-3000:]}")
        return result.stdout

    def prepare(self) -> None:
        template = os.environ.get("BROWSER_TEMPLATE_DB")
        if template and Path(template).exists():
            _copy_sqlite(Path(template), self.db)
        else:
            self._run(["migrate", "--noinput"], "migrate")
            if template:
                _copy_sqlite(self.db, Path(template))
        output = self._run(["shell", "-c", "from tests.browser.world import build; build()"], "world")
        line = next(line for line in output.splitlines() if line.startswith("BROWSER-WORLD "))
        self.world = json.loads(line.removeprefix("BROWSER-WORLD "))

    def start(self) -> None:
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        with self.server_log.open("w") as log:
            self.server = subprocess.Popen(  # noqa: S603 - fixed command
                [
                    str(Path(PYTHON).parent / "gunicorn"),
                    "copapp.wsgi",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    "1",
                    "--worker-class",
                    "gthread",
                    "--threads",
                    "8",
                    "--timeout",
                    "60",
                    "--access-logfile",
                    "-",
                ],
                cwd=ROOT,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(f"the server exited with code {self.server.returncode}; see {self.server_log}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:  # noqa: S310 - loopback
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"the server did not answer within 60s; see {self.server_log}")

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
            try:
                self.server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.server.kill()

    def log_size(self) -> int:
        return self.server_log.stat().st_size if self.server_log.exists() else 0

    def server_errors(self, since: int = 0) -> list[str]:
        """The 5xx responses and tracebacks the server logged after byte ``since`` of its log."""
        with self.server_log.open(errors="replace") as log:
            log.seek(since)
            logged = log.read()
        errors = [line for line in logged.splitlines() if '" 5' in line and "HTTP/1.1" in line]
        if "Traceback (most recent call last)" in logged:
            errors.append(f"a traceback: see {self.server_log}")
        return errors

    def mail_for(self, address: str) -> list[str]:
        """The decoded text of every e-mail sent so far to ``address`` (the file backend writes each connection's
        messages to a file of their own, separated by a line of dashes)."""
        found = []
        for path in sorted(self.mail_dir.glob("*.log")):
            for raw in path.read_text(errors="replace").split("\n" + "-" * 79 + "\n"):
                message = email.message_from_string(raw.strip("\n"), policy=email.policy.default)
                if address not in str(message.get("To", "")):
                    continue
                parts = message.walk() if message.is_multipart() else [message]
                found.append("\n".join(part.get_content() for part in parts if part.get_content_maintype() == "text"))
        return found

    def cleanup(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)
