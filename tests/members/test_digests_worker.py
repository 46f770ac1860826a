"""Digests with a real Celery worker (prefork pool) on PostgreSQL and Redis: two runs at once, and a worker
whose pool processes are killed in the middle of a batch. Never two copies, never a member silently missed.

Each test starts its own worker on a queue of its own, pointed at the *test* database (not CI's worker, which
works on copapp_ci), with the file e-mail backend so the test can count what left the worker. Skipped on the
embedded default (SQLite, no Redis); CI's PostgreSQL + Redis stage runs them (``REQUIRE_SERVICES=1``).
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from members.models import DigestRecord, DigestStatus
from members.notifications import notification_preferences_update
from members.tasks import digests_send_due_task
from spaces import services
from spaces.models import SpaceRole
from tests import celery_worker
from tests.factories import add_member, make_community, make_space, make_user

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

MEMBERS = 12
FINISH_SECONDS = 120


class DigestWorker(celery_worker.Worker):
    """A worker on a queue of its own, its mail and log under ``tmp_path``."""

    def __init__(self, tmp_path: Path, **env):
        mail_dir = tmp_path / "mail"
        mail_dir.mkdir(parents=True)
        super().__init__(f"digests-test-{uuid.uuid4().hex[:10]}", mail_dir, tmp_path / "worker.log", **env)

    def run_digests(self, now) -> None:
        celery_worker.send_to_queue(digests_send_due_task, self.queue, now=now.isoformat())

    def wait_for_successes(self, count: int) -> None:
        self.wait_for("succeeded in", FINISH_SECONDS, count)

    def mails_per_address(self) -> Counter:
        return celery_worker.mails_per_address(self.mail_dir)


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    """Start a worker with extra environment (settings); it is stopped whatever happens in the test."""
    workers: list[DigestWorker] = []

    def start(**env) -> DigestWorker:
        workers.append(DigestWorker(tmp_path / f"w{len(workers)}", **env))
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
