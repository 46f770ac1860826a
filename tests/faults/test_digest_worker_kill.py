"""A Celery worker killed again and again during a digest run of 1,000 members: in the end every member has
received exactly one digest, and none two (issue 10, item 6).

A real worker (prefork pool of two, Redis as broker, PostgreSQL) works on the test database, on a queue of its own,
and writes each message it sends to a folder (the file e-mail backend), so the test counts what really left it.
While the outbox is being worked the test kills the pool processes by PID four times, then the whole worker
(its main process first) once, and starts a new worker on the same queue. Celery's late acknowledgement and
reject-on-worker-lost hand a killed run's task straight back to the queue; the digests a dead run had claimed but
not sent go out with a later run once their claim is stale (``DIGEST_SENDING_STALE_SECONDS``), and the test plays
the hourly beat: when nothing moves for a while it starts another run, as the next hour's would.

Each kill lands *between* two hand-overs to the mail server: the pool is frozen (SIGSTOP), and killed only if no
digest stands between its ``sending`` and ``sent`` marks, otherwise let go for a moment and frozen again. A kill
inside that window is the one case with no certain answer (was the message accepted?); it is marked
``uncertain`` and never resent, which ``tests/members/test_digests_worker.py`` and ``test_digest_batches.py``
prove. Everywhere else the outbox promises exactly one digest, and this test holds it to that.

Needs PostgreSQL and Redis (``DATABASE_URL``, ``REDIS_URL``); skipped on the embedded default.
"""

from __future__ import annotations

import signal
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from members.models import DigestRecord, DigestStatus
from members.notifications import notification_preferences_update
from members.tasks import digests_send_due_task
from spaces import services
from tests.celery_worker import Worker, mails_per_address, send_to_queue, signal_each
from tests.factories import make_community, make_space, make_user, onboard

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

MEMBERS = 1000
POOL_KILLS = 4  # then one kill of the whole worker
BATCH_SIZE = 25
STALE_SECONDS = 5  # a dead run's claim is taken over after this long
STILL_SECONDS = STALE_SECONDS + 3  # nothing sent for this long: start another run (the next hour's beat)
FINISH_SECONDS = 240


class DigestRun:
    """The run under test: members, the worker of the moment, the kills, and the e-mails that left."""

    def __init__(self, tmp_path: Path, members: list, now: datetime):
        self.tmp_path, self.members, self.now = tmp_path, members, now
        self.queue = f"digest-faults-{uuid.uuid4().hex[:10]}"
        self.mail_dir = tmp_path / "mail"
        self.mail_dir.mkdir()
        self.workers: list[Worker] = []
        self.kills: list[dict] = []
        self.start_worker()

    @property
    def worker(self) -> Worker:
        return self.workers[-1]

    def start_worker(self) -> None:
        log_path = self.tmp_path / f"worker{len(self.workers)}.log"
        self.workers.append(
            Worker(
                self.queue,
                self.mail_dir,
                log_path,
                CELERY_VISIBILITY_TIMEOUT=20,  # a task of a worker killed outright comes back after 20 s
                DIGEST_BATCH_SIZE=BATCH_SIZE,
                DIGEST_SENDING_STALE_SECONDS=STALE_SECONDS,
            )
        )

    def logs(self) -> str:
        return "\n".join(worker.log_text()[-3000:] for worker in self.workers)

    def run_digests(self) -> None:
        send_to_queue(digests_send_due_task, self.queue, now=self.now.isoformat())

    def statuses(self) -> Counter:
        return Counter(DigestRecord.objects.filter(user__in=self.members).values_list("status", flat=True))

    def wait_for_sent(self, at_least: int) -> None:
        """Until ``at_least`` digests are sent, starting another run whenever nothing moves (the hourly beat)."""
        deadline = time.monotonic() + FINISH_SECONDS
        last, moved = -1, time.monotonic()
        while (sent := self.statuses()[DigestStatus.SENT]) < at_least:
            if time.monotonic() > deadline:
                pytest.fail(f"{sent} of {at_least} digests sent in {FINISH_SECONDS}s: {self.statuses()}\n{self.logs()}")
            if sent != last:
                last, moved = sent, time.monotonic()
            elif time.monotonic() - moved > STILL_SECONDS:
                self.run_digests()
                moved = time.monotonic()
            time.sleep(0.05)

    def kill_between_hand_overs(self, *, whole_worker: bool) -> None:
        """Freeze the pool; kill it (and the main process first if ``whole_worker``) if no digest is between its
        ``sending`` and ``sent`` marks, otherwise let it go on for a moment and try again."""
        for _attempt in range(200):
            pool = self.worker.pool_pids()
            signal_each(pool, signal.SIGSTOP)
            time.sleep(0.2)  # a mark already on its way to the server lands meanwhile
            in_flight = DigestRecord.objects.filter(user__in=self.members, status=DigestStatus.SENDING).exists()
            if not in_flight:
                before = self.statuses()
                if whole_worker:
                    self.worker.process.kill()
                    self.worker.process.wait(timeout=10)
                signal_each(pool, signal.SIGKILL)
                self.kills.append({"pids": pool, "whole_worker": whole_worker, "statuses": before})
                return
            signal_each(pool, signal.SIGCONT)
            time.sleep(0.01 * (1 + _attempt % 7))
        pytest.fail("never found the pool between two hand-overs")

    def mails_per_address(self) -> Counter:
        return mails_per_address(self.mail_dir)


def next_monday_morning() -> datetime:
    """A Monday 08:05 UTC more than an hour ahead: every member (default preferences: weekly, Mondays at 8) is due
    then, and the week before it includes everything created now."""
    moment = (timezone.now() + timedelta(hours=1)).astimezone(UTC).replace(hour=8, minute=5, second=0, microsecond=0)
    while moment.weekday() != 0 or moment < timezone.now() + timedelta(hours=1):
        moment += timedelta(days=1)
    return moment


def thousand_members_with_news() -> list:
    """1,000 members of an open space with the default digest (weekly, Mondays at 8 UTC) and a new page there;
    the space's creator (who wrote the page) has the digest off."""
    staff = make_user("staff", staff=True)
    community = make_community(staff, slug="registers", questions=[])
    space = make_space(staff, community, "open", slug="population-register")
    members = []
    with transaction.atomic():  # one commit for the lot: the services' own transactions become savepoints
        for n in range(MEMBERS):
            member = make_user(f"reader{n}")
            onboard(member, community)
            services.space_join(actor=member, space=space)
            members.append(member)
    notification_preferences_update(
        actor=staff, user=staff, email_off=[], digest_frequency="off", digest_hour=8, skip_digest_if_seen=True
    )
    services.page_create(actor=staff, space=space, title="Register linkage: the new keys", body="Changes.")
    return members


@pytest.fixture
def digest_run(transactional_db, tmp_path):
    runs: list[DigestRun] = []

    def start(members, now) -> DigestRun:
        runs.append(DigestRun(tmp_path, members, now))
        return runs[-1]

    try:
        yield start
    finally:
        for run in runs:
            for worker in run.workers:
                worker.stop()


def test_worker_killed_five_times_during_a_digest_run_of_1000_members_sends_each_exactly_one(digest_run):
    members = thousand_members_with_news()
    run = digest_run(members, next_monday_morning())

    run.run_digests()
    for kill in range(POOL_KILLS + 1):
        run.wait_for_sent(MEMBERS * (kill + 1) // (POOL_KILLS + 3))
        whole_worker = kill == POOL_KILLS
        run.kill_between_hand_overs(whole_worker=whole_worker)
        if whole_worker:
            run.start_worker()
    run.wait_for_sent(MEMBERS)
    time.sleep(2)  # a task handed back by a killed worker may still be running: it must find nothing to send

    assert len(run.kills) == POOL_KILLS + 1
    for kill in run.kills:  # each kill landed mid-run: some digests sent, others still waiting
        assert kill["statuses"][DigestStatus.SENT] > 0 and kill["statuses"][DigestStatus.PENDING] > 0, kill
    lost = sum(worker.log_text().count("Task handler raised error: WorkerLostError") for worker in run.workers)
    assert lost >= POOL_KILLS, f"each pool kill cut a running digest task short:\n{run.logs()}"
    assert run.statuses() == Counter({DigestStatus.SENT: MEMBERS})
    assert DigestRecord.objects.filter(user__in=members).count() == MEMBERS  # one outbox row each
    assert run.mails_per_address() == Counter({member.email: 1 for member in members})
