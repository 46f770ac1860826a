"""A real Celery worker for tests that need one: ``celery -A copapp worker --pool=prefork`` in a subprocess, on the
*test* database (not CI's own worker, which works on copapp_ci), on a queue of the test's own, with the file e-mail
backend so that the test can count what really left it.

Used by the digest tests (``tests/members/test_digests_worker.py``) and the kill test
(``tests/faults/test_digest_worker_kill.py``). Needs PostgreSQL and Redis.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

from copapp.celery import app

ROOT = Path(__file__).resolve().parents[1]
START_SECONDS = 90
sys.path.insert(0, str(ROOT / "bench"))

from _server import children  # noqa: E402  (bench/_server.py: the processes a process started)


def database_url() -> str:
    """The database this test runs on (pytest-django's test database), as a URL for the worker's settings."""
    db = settings.DATABASES["default"]
    credentials = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"])
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{credentials}@{host}:{port}/{db['NAME']}"


def signal_each(pids, signum) -> None:
    """Send ``signum`` to each process still alive."""
    for pid in pids:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


def send_to_queue(task, queue: str, **kwargs) -> None:
    """Queue ``task`` for a real worker even where the test settings run tasks eagerly."""
    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        task.apply_async(kwargs=kwargs, queue=queue)
    finally:
        app.conf.task_always_eager = was_eager


def mails_per_address(mail_dir: Path) -> Counter:
    """How many messages the file e-mail backend wrote to ``mail_dir`` for each recipient."""
    found: Counter = Counter()
    for path in mail_dir.glob("*"):
        found.update(re.findall(r"^To: (\S+)\s*$", path.read_text(errors="replace"), flags=re.MULTILINE))
    return found


class Worker:
    """``celery -A copapp worker -Q <queue> --concurrency=2 --pool=prefork``, mail written to ``mail_dir``, its
    output to ``log_path``; ``env`` adds settings. Several workers may share a queue (each has its own name)."""

    def __init__(self, queue: str, mail_dir: Path, log_path: Path, **env):
        self.queue, self.mail_dir, self.log_path = queue, mail_dir, log_path
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "EMAIL_"))}
        environment.update(
            DJANGO_SETTINGS_MODULE="copapp.settings",
            COPAPP_TESTING="0",
            DATABASE_URL=database_url(),
            DB_CONN_MAX_AGE="0",
            REDIS_URL=settings.REDIS_URL,
            CELERY_QUEUE=queue,
            CELERY_TASK_ALWAYS_EAGER="0",
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=str(mail_dir),
            **{key: str(value) for key, value in env.items()},
        )
        celery = Path(sys.executable).parent / "celery"
        command = [str(celery), "-A", "copapp", "worker", "-Q", queue, "--concurrency=2", "--pool=prefork"]
        name = f"{queue}-{uuid.uuid4().hex[:6]}@%h"
        command += ["--without-gossip", "--without-mingle", "--loglevel=INFO", "-n", name]
        self.log = log_path.open("wb")
        self.process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=self.log, stderr=subprocess.STDOUT)
        self.wait_for("ready.", START_SECONDS)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, text: str, seconds: float, count: int = 1) -> None:
        """Until ``text`` shows ``count`` times in the log; fails the test if the worker exits or time runs out."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.log_text().count(text) >= count:
                return
            if self.process.poll() is not None:
                pytest.fail(f"the Celery worker exited ({self.process.returncode}):\n{self.log_text()[-5000:]}")
            time.sleep(0.2)
        pytest.fail(f"no {text!r} x{count} in the worker log within {seconds}s:\n{self.log_text()[-5000:]}")

    def pool_pids(self) -> list[int]:
        """The prefork pool's processes: the worker's children."""
        return children(self.process.pid)

    def stop(self) -> None:
        """Stop the worker and whatever is left of its pool."""
        children = self.pool_pids()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        signal_each(children, signal.SIGKILL)
        self.log.close()
