"""A worker that dies in the middle of a digest batch leaves only the digest it was handing to the mail server
"uncertain": those handed over before are sent, those not yet started stay pending and go out with the next run,
exactly once (issue 5, item 8). The real-worker version of this is in ``test_digests_worker.py``."""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from members.models import DigestRecord, DigestStatus, NotificationPreferences
from members.notifications import notification_preferences_update
from members.services_digests import digests_run
from spaces import services
from spaces.models import SpaceRole
from tests.factories import add_member, make_community, make_space, make_user

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 3, 3, 7, 10, tzinfo=UTC)  # a Monday
SEND = datetime(2025, 3, 3, 8, 5, tzinfo=UTC)  # the 08:00 UTC run
STALE = timedelta(seconds=settings.DIGEST_SENDING_STALE_SECONDS + 60)
MEMBERS = 5


class WorkerDied(BaseException):
    """Stands in for SIGKILL: not an Exception, so nothing on the way catches it."""


def _prefs(user, frequency: str) -> None:
    notification_preferences_update(
        actor=user, user=user, email_off=[], digest_frequency=frequency, digest_hour=8, skip_digest_if_seen=True
    )


@pytest.fixture
def readers(time_machine):
    """Five members with a daily digest due at 08:00 UTC and news for them; everyone else has digests off."""
    time_machine.move_to(T0 - timedelta(days=2), tick=False)
    staff = make_user("staff", staff=True)
    space = make_space(staff, make_community(staff, slug="stats"), "open", slug="census")
    author = make_user("author")
    add_member(space, author, SpaceRole.EDITOR, by=staff)
    _prefs(staff, "off")
    _prefs(author, "off")
    members = []
    for n in range(MEMBERS):
        member = make_user(f"reader{n}")
        add_member(space, member, SpaceRole.VIEWER, by=staff)
        _prefs(member, "daily")
        members.append(member)
    time_machine.move_to(T0, tick=False)
    services.page_create(actor=author, space=space, title="Response rates 2024", body="Up 3%.")
    mail.outbox.clear()
    return members


def run(time_machine, at: datetime, **kwargs):
    time_machine.move_to(at, tick=False)
    return digests_run(**kwargs)


def status_of(member) -> str:
    return DigestRecord.objects.get(user=member).status


def mails_per_member(members) -> list[int]:
    return [sum(1 for message in mail.outbox if message.to == [member.email]) for member in members]


def die_on_message(monkeypatch, number: int) -> None:
    """The worker dies while handing over its ``number``-th message (1-based); the ones before go out."""
    original = EmailBackend.send_messages
    calls = {"n": 0}

    def send_messages(self, messages):
        calls["n"] += 1
        if calls["n"] == number:
            raise WorkerDied
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", send_messages)


def test_a_crash_mid_batch_leaves_only_the_digest_in_flight_uncertain(readers, time_machine, monkeypatch):
    die_on_message(monkeypatch, 3)

    with pytest.raises(WorkerDied):
        run(time_machine, SEND, batch_size=50)  # one batch for everyone

    monkeypatch.undo()
    assert [status_of(m) for m in readers] == ["sent", "sent", "sending", "pending", "pending"]
    assert mails_per_member(readers) == [1, 1, 0, 0, 0]

    report = run(time_machine, SEND + timedelta(minutes=5))  # too early to call the run dead: it may be alive
    assert report.uncertain == [] and mails_per_member(readers) == [1, 1, 0, 0, 0]
    assert [status_of(m) for m in readers] == ["sent", "sent", "sending", "pending", "pending"]

    later = SEND + STALE
    report = run(time_machine, later)
    assert report.uncertain == [DigestRecord.objects.get(user=readers[2]).pk]
    assert [status_of(m) for m in readers] == ["sent", "sent", "uncertain", "sent", "sent"]
    assert mails_per_member(readers) == [1, 1, 0, 1, 1]

    run(time_machine, later + timedelta(minutes=30))
    run(time_machine, later + timedelta(hours=1))
    assert mails_per_member(readers) == [1, 1, 0, 1, 1]  # nobody twice, the uncertain one never resent
    period_end = DigestRecord.objects.get(user=readers[0]).period_end
    assert set(NotificationPreferences.objects.filter(user__in=readers).values_list("last_digest_at", flat=True)) == {
        period_end
    }  # also for the two sent just before the crash


def test_a_crash_before_the_first_hand_over_leaves_every_digest_pending_and_none_uncertain(
    readers, time_machine, monkeypatch
):
    def die(self):
        raise WorkerDied

    monkeypatch.setattr(EmailBackend, "open", die, raising=False)
    with pytest.raises(WorkerDied):
        run(time_machine, SEND, batch_size=50)
    monkeypatch.undo()
    assert {status_of(m) for m in readers} == {DigestStatus.PENDING} and mail.outbox == []

    report = run(time_machine, SEND + STALE)

    assert report.uncertain == []
    assert {status_of(m) for m in readers} == {DigestStatus.SENT}
    assert mails_per_member(readers) == [1] * MEMBERS


def test_a_run_that_takes_over_an_expired_claim_sends_it_and_the_slow_run_skips_it(readers, time_machine, monkeypatch):
    """The first run stalls on its first message for longer than the stale delay; a second run takes over the
    rest of its batch. When the first run wakes up it sends nothing the second one claimed."""
    original = EmailBackend.send_messages
    calls = {"n": 0}

    def stall_then_let_another_run_in(self, messages):
        calls["n"] += 1
        if calls["n"] == 1:
            run(time_machine, SEND + STALE)  # the second run, while the first is stuck in its hand-over
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", stall_then_let_another_run_in)

    run(time_machine, SEND, batch_size=50)

    assert mails_per_member(readers) == [1] * MEMBERS
    # The stuck hand-over was called uncertain by the second run, then completed: the sender knows best.
    assert {status_of(m) for m in readers} == {DigestStatus.SENT}
