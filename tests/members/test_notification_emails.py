"""E-mail of notifications (issue 5, item 6): direct kinds at once, at most one an hour per member (the rest
are left for the digest, or stay in-app when the digest is off); a kind switched off is never e-mailed; the
e-mail never carries what the member cannot see at the moment it is sent; account and invitation e-mails are
never capped."""

import logging
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.utils import timezone

from members import notifications as notification_services
from members.models import EmailState, Notification, NotificationKind, NotificationPreferences
from members.tasks import notification_email_task
from spaces import services
from spaces.models import SpaceRole, Visibility
from tests.factories import make_space

Kind = NotificationKind
SECRET = "the unpublished figure is 42"


@pytest.fixture(autouse=True)
def _quiet_limits(settings):
    settings.NEW_ACCOUNT_HOURS = 0


@pytest.fixture(autouse=True)
def _no_swallowed_errors(caplog):
    yield
    errors = [r for r in caplog.records if r.name.startswith("members.receivers") and r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


@pytest.fixture
def w(world_factory):
    world = world_factory(Visibility.OPEN)
    Notification.objects.all().delete()
    mail.outbox.clear()
    world.page = services.page_create(actor=world.editor, space=world.space, title="Linkage notes", body="Notes.")
    return world


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the block's after-commit callbacks (the e-mail tasks), as a real request would."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


def mention(w, committed, n: int = 0, *, who=None):
    who = who or w.viewer
    with committed():
        return services.comment_create(actor=w.editor, target=w.page.item, body=f"@{who.username} look ({n}): {SECRET}")


def states(user, kind=Kind.MENTION) -> list[str]:
    return list(
        Notification.objects.filter(recipient=user, kind=kind)
        .order_by("created_at", "pk")
        .values_list("email_state", flat=True)
    )


def set_prefs(user, **changes):
    prefs = {"email_off": [], "digest_frequency": "weekly", "digest_hour": 8, "skip_digest_if_seen": True, **changes}
    return notification_services.notification_preferences_update(actor=user, user=user, **prefs)


def test_a_mention_is_emailed_at_once_without_the_content(w, committed):
    mention(w, committed)

    assert [m.to for m in mail.outbox] == [[w.viewer.email]]
    message = mail.outbox[0]
    assert "mentioned you" in message.subject
    assert SECRET not in message.body and SECRET not in message.alternatives[0][0]
    note = Notification.objects.get(recipient=w.viewer, kind=Kind.MENTION)
    assert f"/me/notifications/{note.pk}/" in message.body
    assert "/me/notifications/settings/" in message.body
    assert note.email_state == EmailState.SENT and note.emailed_at is not None
    assert NotificationPreferences.objects.get(user=w.viewer).last_immediate_email_at == note.emailed_at


def test_ten_mentions_in_an_hour_give_one_email_and_nine_wait_for_the_digest(w, committed):
    start = timezone.now()
    for n in range(10):
        with time_machine.travel(start + timedelta(minutes=5 * n), tick=False):
            mention(w, committed, n)

    assert [m.to for m in mail.outbox] == [[w.viewer.email]]
    assert states(w.viewer) == [EmailState.SENT] + [EmailState.DIGEST] * 9


def test_with_the_digest_off_capped_notifications_stay_in_app(w, committed):
    set_prefs(w.viewer, digest_frequency="off")
    for n in range(3):
        mention(w, committed, n)
    assert len(mail.outbox) == 1
    assert states(w.viewer) == [EmailState.SENT, EmailState.NONE, EmailState.NONE]


def test_the_cap_is_per_member_and_frees_after_the_window(w, committed):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        mention(w, committed, 1)
        mention(w, committed, 2, who=w.moderator)  # another member has their own allowance
    with time_machine.travel(start + timedelta(minutes=59), tick=False):
        mention(w, committed, 3)
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        mention(w, committed, 4)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([w.viewer.email, w.moderator.email, w.viewer.email])
    assert states(w.viewer) == [EmailState.SENT, EmailState.DIGEST, EmailState.SENT]


def test_the_cap_follows_the_setting(w, committed, settings):
    settings.IMMEDIATE_EMAIL_CAP_PER_HOUR = 3
    for n in range(5):
        mention(w, committed, n)
    assert len(mail.outbox) == 3
    assert states(w.viewer) == [EmailState.SENT] * 3 + [EmailState.DIGEST] * 2


def test_a_kind_switched_off_is_not_emailed_nor_put_in_the_digest(w, committed):
    set_prefs(w.moderator, email_off=["mention"])
    mention(w, committed, who=w.moderator)
    assert mail.outbox == []
    assert states(w.moderator) == [EmailState.NONE]

    with committed():  # replies are still e-mailed
        parent = services.comment_create(actor=w.moderator, target=w.page.item, body="My question")
        services.comment_create(actor=w.editor, target=w.page.item, body="An answer", parent=parent)
    # the page's author hears of the moderator's comment; the moderator of the reply to theirs
    assert sorted(m.to[0] for m in mail.outbox) == sorted([w.editor.email, w.moderator.email])
    assert states(w.moderator, Kind.REPLY) == [EmailState.SENT]


def test_switching_a_kind_off_after_it_was_queued_still_stops_the_email(w, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.comment_create(actor=w.editor, target=w.page.item, body=f"@{w.viewer.username} hi")
    set_prefs(w.viewer, email_off=["mention"])
    for callback in callbacks:
        callback()
    assert mail.outbox == []
    assert states(w.viewer) == [EmailState.NONE]


def test_other_kinds_wait_for_the_digest_or_stay_in_app(w, committed):
    services.watch_toggle(actor=w.viewer, space=w.space)
    services.watch_toggle(actor=w.moderator, space=w.space)
    set_prefs(w.moderator, digest_frequency="off")
    with committed():
        services.page_create(actor=w.editor, space=w.space, title="Another page", body="")
    assert mail.outbox == []
    assert states(w.viewer, Kind.NEW_ITEM) == [EmailState.DIGEST]
    assert states(w.moderator, Kind.NEW_ITEM) == [EmailState.NONE]


def test_nothing_is_emailed_that_became_invisible_before_sending(w, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.comment_create(actor=w.editor, target=w.page.item, body=f"@{w.viewer.username} {SECRET}")
    assert callbacks  # the e-mail is queued for after the commit
    services.page_set_restrictions(
        actor=w.editor, page=w.page, viewers=[w.moderator], restrict_view=True, restrict_edit=False
    )
    for callback in callbacks:
        callback()
    assert mail.outbox == []
    assert states(w.viewer) == [EmailState.NONE]


def test_the_email_task_is_safe_to_run_twice(w, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        services.comment_create(actor=w.editor, target=w.page.item, body=f"@{w.viewer.username} hi")
    note = Notification.objects.get(recipient=w.viewer, kind=Kind.MENTION)
    assert notification_email_task.delay(note.pk).get() == EmailState.SENT
    assert notification_email_task.delay(note.pk).get() == EmailState.SENT
    assert len(mail.outbox) == 1


def test_a_failed_send_is_left_for_the_digest_and_does_not_spend_the_cap(w, committed, monkeypatch):
    import copapp.emails

    def broken(*args, **kwargs):
        raise OSError("SMTP server went away")

    monkeypatch.setattr(copapp.emails, "send_templated_email", broken)
    mention(w, committed, 1)
    assert states(w.viewer) == [EmailState.DIGEST]
    assert Notification.objects.get(recipient=w.viewer).emailed_at is None

    monkeypatch.undo()
    mention(w, committed, 2)
    assert [m.to for m in mail.outbox] == [[w.viewer.email]]


def test_invitation_and_join_request_emails_are_never_capped(w, committed):
    mention(w, committed)  # the viewer's hourly allowance is spent
    private = make_space(w.staff, w.community, Visibility.PRIVATE, slug="private-room")
    outsider = w.outsider
    with committed():
        services.invitation_create(actor=w.staff, space=private, recipient=w.viewer.email, role=SpaceRole.VIEWER)
        request = services.join_request_create(actor=outsider, space=private, message="Please")
        services.join_request_decline(actor=w.staff, join_request=request)
    recipients = [m.to[0] for m in mail.outbox]
    assert recipients.count(w.viewer.email) == 2  # the mention, and the invitation despite the cap
    assert outsider.email in recipients  # the decision on the request
    assert states(w.viewer, Kind.INVITATION) == [EmailState.NONE]  # e-mailed by the space, not again here
    assert states(outsider, Kind.REQUEST_DECIDED) == [EmailState.NONE]


def test_an_event_reminder_is_emailed(w, committed):
    from spaces.services import events as event_services

    now = timezone.now()
    event = event_services.event_create(
        actor=w.editor,
        space=w.space,
        title="Linkage workshop",
        starts_at=now + timedelta(hours=24),
        ends_at=now + timedelta(hours=26),
        time_zone="UTC",
    )
    event_services.event_registration_set(actor=w.viewer, event=event, status="going")
    with committed(), time_machine.travel(now + timedelta(minutes=1), tick=False):
        notification_services.event_reminders_send()
    assert [m.to for m in mail.outbox] == [[w.viewer.email]]
    assert "Linkage workshop" in mail.outbox[0].subject


# --- Race safety: two workers e-mailing the same member at once (needs PostgreSQL's row locks) ---------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_one_email(world_factory):
    w = world_factory(Visibility.OPEN)
    page = services.page_create(actor=w.editor, space=w.space, title="Race", body="")
    for n in range(2):
        services.comment_create(actor=w.editor, target=page.item, body=f"@{w.viewer.username} {n}")
    Notification.objects.filter(recipient=w.viewer, kind=Kind.MENTION).update(
        email_state=EmailState.PENDING, emailed_at=None
    )
    mail.outbox.clear()
    set_prefs(w.viewer)  # the row exists: only its lock, not the insert of a new one, keeps the workers in turn
    ids = list(Notification.objects.filter(recipient=w.viewer, kind=Kind.MENTION).values_list("pk", flat=True))
    barrier = threading.Barrier(len(ids))
    results = []

    def worker(notification_id):
        try:
            barrier.wait()
            results.append(notification_services.notification_email_send(notification_id=notification_id))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(pk,)) for pk in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [EmailState.DIGEST, EmailState.SENT]
    assert len(mail.outbox) == 1
