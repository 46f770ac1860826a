"""Digests with a real Celery worker (prefork pool) on PostgreSQL and Redis: two runs at once, and a worker
whose pool processes are killed in the middle of a batch. Never two copies, never a member silently missed.

Each test starts its own worker on a queue of its own, pointed at the *test* database (not CI's worker, which
works on copapp_ci), with the file e-mail backend so the test can count what left the worker. Skipped on the
embedded default (SQLite, no Redis); CI's PostgreSQL + Redis stage runs them (``REQUIRE_SERVICES=1``).
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
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.utils import timezone

from copapp.celery import app
from members.models import DigestRecord, DigestStatus
from members.notifications import notification_preferences_update
from members.tasks import digests_send_due_task
from spaces import services
from spaces.models import SpaceRole
from tests.factories import add_member, make_community, make_space, make_user

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]
MEMBERS = 12
START_SECONDS = 90
FINISH_SECONDS = 120


def database_url() -> str:
    """The database this test runs on (pytest-django's test database), as a URL for the worker's settings."""
    db = settings.DATABASES["default"]
    credentials = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"])
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{credentials}@{host}:{port}/{db['NAME']}"


class Worker:
    """``celery -A copapp worker -Q <own queue> --concurrency=2 --pool=prefork`` in a subprocess."""

    def __init__(self, tmp_path: Path, **env):
        self.queue = f"digests-test-{uuid.uuid4().hex[:10]}"
        self.mail_dir = tmp_path / "mail"
        self.mail_dir.mkdir(parents=True)
        self.log_path = tmp_path / "worker.log"
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "EMAIL_"))}
        environment.update(
            DJANGO_SETTINGS_MODULE="copapp.settings",
            COPAPP_TESTING="0",
            DATABASE_URL=database_url(),
            DB_CONN_MAX_AGE="0",
            REDIS_URL=settings.REDIS_URL,
            CELERY_QUEUE=self.queue,
            CELERY_TASK_ALWAYS_EAGER="0",
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=str(self.mail_dir),
            **{key: str(value) for key, value in env.items()},
        )
        celery = Path(sys.executable).parent / "celery"
        command = [str(celery), "-A", "copapp", "worker", "-Q", self.queue, "--concurrency=2", "--pool=prefork"]
        command += ["--without-gossip", "--without-mingle", "--loglevel=INFO", "-n", f"{self.queue}@%h"]
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_for("ready.", START_SECONDS)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _wait_for(self, text: str, seconds: float, count: int = 1) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.log_text().count(text) >= count:
                return
            if self.process.poll() is not None:
                pytest.fail(f"the Celery worker exited ({self.process.returncode}):\n{self.log_text()[-5000:]}")
            time.sleep(0.2)
        pytest.fail(f"no {text!r} x{count} in the worker log within {seconds}s:\n{self.log_text()[-5000:]}")

    def run_digests(self, now) -> None:
        was_eager = app.conf.task_always_eager
        app.conf.task_always_eager = False
        try:
            digests_send_due_task.apply_async(kwargs={"now": now.isoformat()}, queue=self.queue)
        finally:
            app.conf.task_always_eager = was_eager

    def wait_for_successes(self, count: int) -> None:
        self._wait_for("succeeded in", FINISH_SECONDS, count)

    def pool_pids(self) -> list[int]:
        """The prefork pool's processes: the worker's children, read from /proc."""
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    pids.append(int(entry.name))
        return pids

    def stop(self) -> None:
        children = self.pool_pids()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()

    def mails_per_address(self) -> Counter:
        found: Counter = Counter()
        for path in self.mail_dir.glob("*"):
            found.update(re.findall(r"^To: (\S+)\s*$", path.read_text(errors="replace"), flags=re.MULTILINE))
        return found


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    """Start a worker with extra environment (settings); it is stopped whatever happens in the test."""
    workers: list[Worker] = []

    def start(**env) -> Worker:
        workers.append(Worker(tmp_path / f"w{len(workers)}", **env))
        return workers[-1]

    try:
        yield start
    finally:
        for worker in workers:
            worker.stop()


def members_due_at(now, n: int = MEMBERS) -> list:
    """``n`` members of an open space with a daily digest due at ``now`` (UTC), and something new for them.
    The space's creator and the author have digests off."""
    staff = make_user("staff", staff=True)
    space = make_space(staff, make_community(staff, slug="workers"), "open", slug="queue")
    author = make_user("author")
    add_member(space, author, SpaceRole.EDITOR, by=staff)
    members = []
    for user in [staff, author]:
        notification_preferences_update(
            actor=user, user=user, email_off=[], digest_frequency="off", digest_hour=0, skip_digest_if_seen=True
        )
    for _ in range(n):
        member = make_user()
        add_member(space, member, SpaceRole.VIEWER, by=staff)
        notification_preferences_update(
            actor=member,
            user=member,
            email_off=[],
            digest_frequency="daily",
            digest_hour=now.hour,
            skip_digest_if_seen=True,
        )
        members.append(member)
    services.page_create(actor=author, space=space, title="Quarterly release calendar", body="Dates.")
    return members


def next_hour():
    """A run time whose period (ending at the top of the hour) includes everything created now."""
    return timezone.now().replace(minute=5, second=0, microsecond=0) + timedelta(hours=1)


def statuses(members) -> Counter:
    return Counter(DigestRecord.objects.filter(user__in=members).values_list("status", flat=True))


def wait_until_settled(members, seconds: float = FINISH_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        current = statuses(members)
        if sum(current.values()) == len(members) and not current.keys() & {"pending", "sending"}:
            return
        time.sleep(0.3)
    pytest.fail(f"digests did not settle within {seconds}s: {statuses(members)}")


def test_two_runs_at_once_send_each_member_exactly_one_digest(start_worker):
    now = next_hour()
    members = members_due_at(now)
    worker = start_worker(DIGEST_BATCH_SIZE=3, DIGEST_SEND_DELAY_MS=50)

    worker.run_digests(now)
    worker.run_digests(now)  # two tasks at once, on two pool processes
    worker.wait_for_successes(2)

    assert statuses(members) == Counter({DigestStatus.SENT: MEMBERS}), worker.log_text()[-3000:]
    assert worker.mails_per_address() == Counter({member.email: 1 for member in members})
    assert DigestRecord.objects.filter(user__in=members).values("user").distinct().count() == MEMBERS


def test_killing_the_pool_mid_batch_then_rerunning_sends_no_copy_and_loses_no_one(start_worker):
    now = next_hour()
    members = members_due_at(now)
    stale_seconds = 3
    worker = start_worker(DIGEST_BATCH_SIZE=4, DIGEST_SEND_DELAY_MS=400, DIGEST_SENDING_STALE_SECONDS=stale_seconds)

    worker.run_digests(now)
    deadline = time.monotonic() + FINISH_SECONDS
    while not DigestRecord.objects.filter(user__in=members, status=DigestStatus.SENDING).exists():
        assert time.monotonic() < deadline, f"no digest reached 'sending': {worker.log_text()[-3000:]}"
        time.sleep(0.05)
    killed = worker.pool_pids()
    assert killed, "the worker has no pool processes to kill"
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    in_flight = set(
        DigestRecord.objects.filter(user__in=members, status=DigestStatus.SENDING).values_list("pk", flat=True)
    )
    assert statuses(members)[DigestStatus.PENDING] > 0, "killed too late to be mid-batch"

    time.sleep(stale_seconds + 1)
    worker.run_digests(now)  # the rerun (Celery may also redeliver the killed task: acks_late)
    wait_until_settled(members)
    time.sleep(1)  # let a redelivered copy of the task finish too

    final = statuses(members)
    assert set(final) <= {DigestStatus.SENT, DigestStatus.UNCERTAIN}, final
    assert final[DigestStatus.UNCERTAIN] >= 1 and final[DigestStatus.SENT] >= 1, final
    assert (
        set(DigestRecord.objects.filter(user__in=members, status=DigestStatus.UNCERTAIN).values_list("pk", flat=True))
        <= in_flight
    )
    mails = worker.mails_per_address()
    assert max(mails.values()) == 1, mails
    sent = DigestRecord.objects.filter(user__in=members, status=DigestStatus.SENT).values_list("user__email", flat=True)
    assert all(mails[email] == 1 for email in sent)
    assert DigestRecord.objects.filter(user__in=members).count() == MEMBERS  # one record each, none missing
    assert set(pid for pid in worker.pool_pids()).isdisjoint(killed)  # the pool was really replaced
