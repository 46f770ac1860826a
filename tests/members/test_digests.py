"""Digests (issue 5, items 7-10): composition, visibility at sending time, scheduling, the outbox, unsubscribe,
the preview page and the management command. The real-worker tests are in ``test_digests_worker.py``."""

from datetime import UTC, datetime, timedelta
from io import StringIO
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail, signing
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analytics.recording import record_activity
from members import digests
from members.models import DigestRecord, DigestStatus, EmailState, Notification, NotificationKind
from members.notifications import notification_preferences_update, notify, space_mute_set
from members.services import profile_update
from members.services_digests import DigestRunReport, digests_enqueue_due, digests_run, digests_send_batch
from spaces import services
from spaces.models import SpaceMembership, SpaceRole
from spaces.services.events import event_create
from spaces.services.moderation import item_hide
from spaces.services.posts import like_toggle, post_create
from tests.factories import add_member, make_community, make_space, make_user, onboard
from tests.spaces.helpers import client_for

pytestmark = pytest.mark.django_db
User = get_user_model()

T0 = datetime(2025, 3, 3, 7, 10, tzinfo=UTC)  # a Monday
SEND = datetime(2025, 3, 3, 8, 5, tzinfo=UTC)  # the 08:00 UTC run (period end 08:00)


def prefs(user, frequency: str = "daily", hour: int = 8, skip_seen: bool = True) -> None:
    notification_preferences_update(
        actor=user, user=user, email_off=[], digest_frequency=frequency, digest_hour=hour, skip_digest_if_seen=skip_seen
    )


@pytest.fixture
def scene(time_machine):
    """Two open spaces and a closed one; ``reader`` (viewer, daily digest at 08:00 UTC) reads what ``author``
    (editor) writes. Everyone else has digests off, so the outbox holds only what concerns the test."""
    time_machine.move_to(T0 - timedelta(days=10), tick=False)
    staff = make_user("staff", staff=True)
    community = make_community(staff, slug="stats")
    s = SimpleNamespace(staff=staff, community=community)
    s.space = make_space(staff, community, "open", slug="census")
    s.other = make_space(staff, community, "open", slug="labour")
    s.closed = make_space(staff, community, "closed", slug="board")
    s.author, s.reader = make_user("author"), make_user("reader")
    for space in (s.space, s.other, s.closed):
        add_member(space, s.author, SpaceRole.EDITOR, by=staff)
    add_member(s.space, s.reader, SpaceRole.VIEWER, by=staff)
    add_member(s.other, s.reader, SpaceRole.VIEWER, by=staff)
    for user in (staff, s.author):
        prefs(user, "off")
    prefs(s.reader)
    s.handbook = services.page_create(actor=s.author, space=s.space, title="Methods handbook", body="v1")
    time_machine.move_to(T0, tick=False)
    mail.outbox.clear()
    return s


def run(time_machine, at: datetime = SEND, **kwargs) -> DigestRunReport:
    time_machine.move_to(at, tick=False)
    return digests_run(**kwargs)


def mails_to(user) -> list:
    return [message for message in mail.outbox if message.to == [user.email]]


def the_digest_of(user):
    messages = mails_to(user)
    assert len(messages) == 1, [m.subject for m in messages]
    message = messages[0]
    html = next(content for content, mimetype in message.alternatives if mimetype == "text/html")
    return message, message.body, html


def record_of(user) -> DigestRecord:
    return DigestRecord.objects.get(user=user)


def page_in(space, author, title: str):
    return services.page_create(actor=author, space=space, title=title, body="Text")


# --- Composition --------------------------------------------------------------------------------------------
def test_digest_lists_what_happened_grouped_by_space_with_links(scene, time_machine):
    s = scene
    services.page_update(actor=s.author, page=s.handbook, title="Methods handbook", body="v2", base_version=1)
    page = page_in(s.space, s.author, "Response rates 2024")
    page_in(s.other, s.author, "Labour force survey notes")
    answered = services.question_ask(actor=s.author, space=s.space, title="Which weights for the panel?")
    answer = services.answer_post(actor=s.staff, question=answered, body="Calibrated ones.")
    services.answer_accept(actor=s.author, question=answered, answer=answer)
    services.question_ask(actor=s.author, space=s.space, title="How to impute missing income?")
    start = T0 + timedelta(days=5)
    event_create(
        actor=s.author,
        space=s.space,
        title="Census workshop",
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        time_zone="UTC",
    )
    quiet = post_create(actor=s.author, space=s.space, body="A quiet post")
    popular = post_create(actor=s.author, space=s.space, body="A popular post")
    like_toggle(actor=s.staff, item=popular.item)

    run(time_machine)

    message, text, html = the_digest_of(s.reader)
    assert "daily" in message.subject
    for title in (
        "Methods handbook",
        "Response rates 2024",
        "Labour force survey notes",
        "Which weights for the panel?",
        "How to impute missing income?",
        "Census workshop",
        "A quiet post",
        "A popular post",
    ):
        assert title in text and title in html, title
    assert "Changed" in text and "New page" in text and "Unanswered" in text
    assert f"{settings.SITE_URL}{page.get_absolute_url()}" in text
    assert f'href="{settings.SITE_URL}{page.get_absolute_url()}"' in html
    assert f"{answer.get_absolute_url()}" in text  # the accepted answer, linked at its anchor
    # grouped by space (community, then space name): Census before Labour; unanswered questions first
    assert text.index("Census") < text.index("Response rates") < text.index("Labour") < text.index("Labour force")
    assert text.index("How to impute missing income?") < text.index("Which weights for the panel?")
    assert text.index("A popular post") < text.index("A quiet post")
    assert "Accepted answers" in text
    record = record_of(s.reader)
    assert record.status == DigestStatus.SENT and record.sent_at == SEND and record.item_count >= 8
    assert quiet.get_absolute_url() in text


def test_a_french_reader_s_digest_speaks_french_in_a_batch_shared_with_an_english_one(scene, time_machine):
    s = scene
    english = make_user("english")
    add_member(s.space, english, SpaceRole.VIEWER, by=s.staff)
    prefs(english)
    s.reader.profile.preferred_language = "fr"
    s.reader.profile.save(update_fields=["preferred_language"])
    services.page_update(actor=s.author, page=s.handbook, title="Methods handbook", body="v2", base_version=1)
    page_in(s.space, s.author, "Response rates 2024")
    question = services.question_ask(actor=s.author, space=s.space, title="How to impute missing income?")
    services.answer_post(actor=s.staff, question=question, body="Hot deck.")
    post_create(actor=s.author, space=s.space, body="A post")

    run(time_machine)

    _message, french, french_html = the_digest_of(s.reader)
    _message, in_english, _html = the_digest_of(english)
    assert (
        "Modifiée" in french and "Nouvelle page" in french and "1 réponse" in french and "Nouvelle page" in french_html
    )
    assert "Changed" not in french and "New page" not in french and "1 answer" not in french
    assert "Changed" in in_english and "New page" in in_english and "1 answer" in in_english


def test_each_member_is_told_how_many_more_a_shared_space_block_leaves_out(scene, time_machine):
    s = scene
    writer = make_user("writer")
    add_member(s.space, writer, SpaceRole.EDITOR, by=s.staff)
    prefs(writer)
    for n in range(2):  # the oldest news: the writer's own, which their digest leaves out
        page_in(s.space, writer, f"Writer's page {n}")
    time_machine.move_to(T0 + timedelta(minutes=5), tick=False)
    for n in range(digests.MAX_PER_SECTION + 1):
        page_in(s.space, s.author, f"Author's page {n}")

    run(time_machine)

    _message, reader_text, reader_html = the_digest_of(s.reader)
    _message, writer_text, writer_html = the_digest_of(writer)
    # the same ten pages are listed to both; the reader has 3 more, the writer 1 (their own two are not news)
    assert "And 3 more in this space:" in reader_text and "And 3 more in this space</a>" in reader_html
    assert "And 1 more in this space:" in writer_text and "And 1 more in this space</a>" in writer_html
    assert reader_text.count("more in this space") == writer_text.count("more in this space") == 1


def test_links_are_made_as_the_items_make_them_whatever_the_space_is_called(scene):
    space = make_space(scene.staff, scene.community, "open", slug="space-9081726354")  # holds the stand-in
    add_member(space, scene.author, SpaceRole.EDITOR, by=scene.staff)
    post = post_create(actor=scene.author, space=space, body="A post")
    page = page_in(space, scene.author, "Page 9081726354")

    assert digests._link("spaces:post-detail", "stats", space.slug, post_id=post.pk) == (
        f"{settings.SITE_URL}{post.get_absolute_url()}"
    )
    assert digests._link("spaces:page-detail", "stats", space.slug, page_slug=page.slug) == (
        f"{settings.SITE_URL}{page.get_absolute_url()}"
    )
    assert digests._link("spaces:home", "stats", space.slug) == f"{settings.SITE_URL}{space.get_absolute_url()}"


def test_digest_headers_offer_one_click_unsubscribe(scene, time_machine):
    page_in(scene.space, scene.author, "Response rates 2024")
    run(time_machine)
    message, _text, _html = the_digest_of(scene.reader)
    link = message.extra_headers["List-Unsubscribe"]
    assert link.startswith(f"<{settings.SITE_URL}/unsubscribe/") and link.endswith("/>")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link.strip("<>") in message.body


def test_members_do_not_get_their_own_doing(scene, time_machine):
    prefs(scene.author)
    page_in(scene.space, scene.author, "Response rates 2024")
    run(time_machine)
    assert mails_to(scene.author) == []
    assert record_of(scene.author).status == DigestStatus.SKIPPED_EMPTY


# --- Visibility at the moment of sending -------------------------------------------------------------------
def test_content_the_member_may_not_see_never_appears(scene, time_machine):
    s = scene
    # A closed space the reader used to belong to and still watches.
    membership = add_member(s.closed, s.reader, SpaceRole.VIEWER, by=s.staff)
    services.watch_toggle(actor=s.reader, space=s.closed)
    services.membership_remove(actor=s.staff, membership=SpaceMembership.objects.get(pk=membership.pk))
    page_in(s.closed, s.author, "Board minutes")
    # A page restricted to its author and the admins, and one restricted after the reader was notified of it.
    secret = page_in(s.space, s.author, "Salary table")
    services.page_set_restrictions(actor=s.author, page=secret, viewers=[], restrict_view=True, restrict_edit=False)
    later = page_in(s.space, s.author, "Later restricted")
    notify(kind=NotificationKind.NEW_ITEM, recipients=User.objects.filter(pk=s.reader.pk), item=later.item)
    services.page_set_restrictions(actor=s.author, page=later, viewers=[], restrict_view=True, restrict_edit=False)
    # Hidden content.
    hidden = services.question_ask(actor=s.author, space=s.space, title="Buy cheap watches")
    item_hide(actor=s.staff, item=hidden.item, reason="Spam")
    # And something the reader may see, so a digest goes out.
    page_in(s.space, s.author, "Response rates 2024")

    run(time_machine)

    _message, text, html = the_digest_of(s.reader)
    assert "Response rates 2024" in text
    for title in ("Board minutes", "Salary table", "Later restricted", "Buy cheap watches"):
        assert title not in text and title not in html, title
    hidden_notification = Notification.objects.get(recipient=s.reader, item=later.item)
    assert hidden_notification.email_state == EmailState.DIGEST  # not sent, not lost
    # the same job shows them to the space's admin (staff)
    staff_digest = digests.compose_digests([digests.preview_job(digests.load_members([s.staff.pk])[s.staff.pk])])[0]
    titles = {e.title for section in staff_digest.spaces for e in section.entries()}
    assert {"Board minutes", "Salary table", "Later restricted"} <= titles
    assert "Buy cheap watches" not in titles  # hidden content is not news, not even for moderators


def test_muted_space_is_left_out(scene, time_machine):
    space_mute_set(actor=scene.reader, space=scene.other, muted=True)
    page_in(scene.other, scene.author, "Labour force survey notes")
    page_in(scene.space, scene.author, "Response rates 2024")
    run(time_machine)
    _message, text, _html = the_digest_of(scene.reader)
    assert "Response rates 2024" in text
    assert "Labour" not in text


def test_watched_space_and_watched_item_outside_the_members_spaces_come_in(scene, time_machine):
    s = scene
    outside = make_space(s.staff, s.community, "open", slug="prices")
    add_member(outside, s.author, SpaceRole.EDITOR, by=s.staff)
    onboard(s.reader, s.community)
    services.watch_toggle(actor=s.reader, space=outside)
    page_in(outside, s.author, "CPI basket review")
    run(time_machine)
    assert "CPI basket review" in the_digest_of(s.reader)[1]


# --- Skipping, always with a record --------------------------------------------------------------------------
def test_empty_period_sends_nothing_but_records_skipped_empty(scene, time_machine):
    report = run(time_machine)
    assert mails_to(scene.reader) == []
    record = record_of(scene.reader)
    assert (record.status, record.item_count) == (DigestStatus.SKIPPED_EMPTY, 0)
    assert record.period_end == datetime(2025, 3, 3, 8, tzinfo=UTC)
    assert record.period_start == record.period_end - timedelta(days=1)
    assert report.counts == {DigestStatus.SKIPPED_EMPTY: 1}
    scene.reader.notification_prefs.refresh_from_db()
    assert scene.reader.notification_prefs.last_digest_at == record.period_end


def test_member_who_already_saw_everything_is_skipped_and_recorded(scene, time_machine):
    page = page_in(scene.space, scene.author, "Response rates 2024")
    time_machine.move_to(T0 + timedelta(minutes=20), tick=False)
    record_activity(actor=scene.reader, kind="page_view", space_id=scene.space.pk, target=page)
    run(time_machine)
    assert mails_to(scene.reader) == []
    assert record_of(scene.reader).status == DigestStatus.SKIPPED_SEEN


def test_a_change_after_the_view_is_news_again(scene, time_machine):
    page = page_in(scene.space, scene.author, "Response rates 2024")
    record_activity(actor=scene.reader, kind="page_view", space_id=scene.space.pk, target=page)
    time_machine.move_to(T0 + timedelta(minutes=20), tick=False)
    services.page_update(actor=scene.author, page=page, title=page.title, body="Revised", base_version=1)
    run(time_machine)
    assert "Response rates 2024" in the_digest_of(scene.reader)[1]


def test_skip_if_seen_can_be_turned_off(scene, time_machine):
    prefs(scene.reader, skip_seen=False)
    page = page_in(scene.space, scene.author, "Response rates 2024")
    record_activity(actor=scene.reader, kind="page_view", space_id=scene.space.pk, target=page)
    run(time_machine)
    assert "Response rates 2024" in the_digest_of(scene.reader)[1]


# --- When -------------------------------------------------------------------------------------------------------
def test_weekly_digest_comes_only_on_mondays_at_the_local_hour(scene, time_machine):
    s = scene
    prefs(s.reader, "weekly", hour=8)
    profile_update(actor=s.reader, user=s.reader, time_zone="Asia/Tokyo")  # UTC+9: Monday 08:00 is Sunday 23:00 UTC
    time_machine.move_to(datetime(2025, 3, 2, 20, 0, tzinfo=UTC), tick=False)
    page_in(s.space, s.author, "Response rates 2024")

    run(time_machine, datetime(2025, 3, 2, 22, 5, tzinfo=UTC))  # Monday 07:05 in Tokyo
    assert not DigestRecord.objects.exists()
    run(time_machine, datetime(2025, 3, 2, 23, 5, tzinfo=UTC))  # Monday 08:05 in Tokyo
    assert len(mails_to(s.reader)) == 1
    record = record_of(s.reader)
    assert (record.frequency, record.period_end) == ("weekly", datetime(2025, 3, 2, 23, tzinfo=UTC))
    assert record.period_start == record.period_end - timedelta(days=7)
    run(time_machine, datetime(2025, 3, 3, 8, 5, tzinfo=UTC))  # Monday 17:05 in Tokyo; 08:00 UTC is no matter
    run(time_machine, datetime(2025, 3, 9, 23, 5, tzinfo=UTC) - timedelta(days=6))  # Tuesday 08:05 in Tokyo
    assert DigestRecord.objects.count() == 1 and len(mails_to(s.reader)) == 1
    run(time_machine, datetime(2025, 3, 9, 23, 5, tzinfo=UTC))  # the next Monday 08:05 in Tokyo
    assert DigestRecord.objects.count() == 2


def test_daily_digest_comes_at_the_local_hour_of_the_members_time_zone(scene, time_machine):
    s = scene
    profile_update(actor=s.reader, user=s.reader, time_zone="Asia/Kathmandu")  # UTC+5:45
    time_machine.move_to(datetime(2025, 3, 3, 1, 0, tzinfo=UTC), tick=False)
    page_in(s.space, s.author, "Response rates 2024")
    run(time_machine, datetime(2025, 3, 3, 2, 5, tzinfo=UTC))  # 07:50 in Kathmandu
    assert not DigestRecord.objects.exists()
    run(time_machine, datetime(2025, 3, 3, 3, 5, tzinfo=UTC))  # 08:50 in Kathmandu
    assert len(mails_to(s.reader)) == 1
    run(time_machine, datetime(2025, 3, 3, 8, 5, tzinfo=UTC))  # 08:00 UTC is not the reader's hour
    assert DigestRecord.objects.count() == 1


def test_a_late_run_still_counts_for_the_hour_it_belongs_to(scene, time_machine):
    profile_update(actor=scene.reader, user=scene.reader, time_zone="Asia/Kolkata")  # UTC+5:30
    time_machine.move_to(datetime(2025, 3, 3, 1, 0, tzinfo=UTC), tick=False)
    page_in(scene.space, scene.author, "Response rates 2024")
    run(time_machine, datetime(2025, 3, 3, 3, 50, tzinfo=UTC))  # 09:20 in Kolkata, but the 03:00 UTC run: 08:30
    assert len(mails_to(scene.reader)) == 1
    run(time_machine, datetime(2025, 3, 3, 2, 55, tzinfo=UTC))  # an earlier period (07:30 there): not due
    assert DigestRecord.objects.count() == 1


def test_frequency_off_never_gets_a_digest(scene, time_machine):
    prefs(scene.reader, "off")
    page_in(scene.space, scene.author, "Response rates 2024")
    run(time_machine)
    assert not DigestRecord.objects.exists() and mail.outbox == []


def test_members_who_never_set_preferences_get_the_weekly_default_on_monday_at_8(scene, time_machine):
    newcomer = make_user("newcomer")
    add_member(scene.space, newcomer, SpaceRole.VIEWER, by=scene.staff)
    page_in(scene.space, scene.author, "Response rates 2024")
    run(time_machine)
    message, _text, _html = the_digest_of(newcomer)
    assert "weekly" in message.subject
    assert newcomer.notification_prefs.digest_frequency == "weekly"  # the row was written with the defaults


def test_the_digest_task_is_on_the_beat_schedule_every_hour():
    entry = settings.CELERY_BEAT_SCHEDULE["send-digests"]
    assert entry["task"] == "members.tasks.digests_send_due_task"
    assert entry["schedule"].minute == {0} and len(entry["schedule"].hour) == 24


# --- Never twice, never silently lost -------------------------------------------------------------------------
def test_running_twice_sends_one_email_per_member(scene, time_machine):
    prefs(scene.author, "daily")
    page_in(scene.space, scene.staff, "Response rates 2024")
    run(time_machine)
    run(time_machine, SEND + timedelta(minutes=30))
    run(time_machine, SEND + timedelta(hours=1))
    assert len(mails_to(scene.reader)) == 1 and len(mails_to(scene.author)) == 1
    assert DigestRecord.objects.filter(status=DigestStatus.SENT).count() == 2


class WorkerDied(BaseException):
    """Stands in for SIGKILL: not an Exception, so nothing on the way catches it."""


def test_a_digest_left_sending_becomes_uncertain_and_is_never_resent(scene, time_machine, monkeypatch, caplog):
    page_in(scene.space, scene.author, "Response rates 2024")

    def die(self, messages):  # the worker dies while the message is being handed to the mail server
        raise WorkerDied

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", die)
    with pytest.raises(WorkerDied):
        run(time_machine)
    record = record_of(scene.reader)
    assert record.status == DigestStatus.SENDING and record.sending_at == SEND
    monkeypatch.undo()

    report = run(time_machine, SEND + timedelta(minutes=5))  # too early to call it dead: another worker's?
    assert record_of(scene.reader).status == DigestStatus.SENDING and report.uncertain == []
    later = SEND + timedelta(seconds=settings.DIGEST_SENDING_STALE_SECONDS + 60)
    report = run(time_machine, later)
    record.refresh_from_db()
    assert record.status == DigestStatus.UNCERTAIN and report.uncertain == [record.pk]
    assert "uncertain" in caplog.text
    run(time_machine, later + timedelta(hours=1))
    run(time_machine, SEND + timedelta(days=1))  # the next day's digest starts where the uncertain one ended
    assert mails_to(scene.reader) == []
    assert DigestRecord.objects.get(pk=record.pk).status == DigestStatus.UNCERTAIN
    next_day = DigestRecord.objects.exclude(pk=record.pk).get()
    assert (next_day.period_start, next_day.status) == (record.period_end, DigestStatus.SKIPPED_EMPTY)
    # the staff preview reports it
    response = client_for(scene.staff).get(reverse("members:digest-preview"), {"member": scene.reader.pk})
    assert "Outcome unknown" in response.content.decode()


def test_a_pending_digest_left_by_a_crash_before_sending_is_sent_next_run(scene, time_machine, monkeypatch):
    page_in(scene.space, scene.author, "Response rates 2024")

    def die(jobs, **kwargs):
        raise WorkerDied

    monkeypatch.setattr("members.digests.compose_digests", die)
    with pytest.raises(WorkerDied):
        run(time_machine)
    assert record_of(scene.reader).status == DigestStatus.PENDING and mail.outbox == []
    monkeypatch.undo()
    run(time_machine, SEND + timedelta(minutes=10))
    run(time_machine, SEND + timedelta(minutes=20))
    assert len(mails_to(scene.reader)) == 1
    assert record_of(scene.reader).status == DigestStatus.SENT


def test_a_broken_mail_connection_keeps_untried_digests_pending(scene, time_machine, monkeypatch):
    page_in(scene.space, scene.author, "Response rates 2024")
    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.open", lambda self: 1 / 0)
    report = run(time_machine)
    assert report.stopped and record_of(scene.reader).status == DigestStatus.PENDING
    monkeypatch.undo()
    run(time_machine, SEND + timedelta(minutes=10))
    assert len(mails_to(scene.reader)) == 1


def test_the_digests_notifications_are_marked_sent(scene, time_machine):
    page = page_in(scene.space, scene.author, "Response rates 2024")
    notify(kind=NotificationKind.NEW_ITEM, recipients=User.objects.filter(pk=scene.reader.pk), item=page.item)
    notification = Notification.objects.get(recipient=scene.reader, item=page.item)
    assert notification.email_state == EmailState.DIGEST
    run(time_machine)
    _message, text, _html = the_digest_of(scene.reader)
    assert "For you" in text
    notification.refresh_from_db()
    assert notification.email_state == EmailState.SENT and notification.emailed_at == SEND


def test_a_digest_that_cannot_be_rendered_fails_alone_and_the_batch_goes_on(scene, time_machine, monkeypatch):
    s = scene
    other = make_user("other")
    add_member(s.space, other, SpaceRole.VIEWER, by=s.staff)
    prefs(other)
    page_in(s.space, s.author, "Response rates 2024")
    render = digests.render_digest

    def broken_for_the_reader(digest, **kwargs):
        if digest.member.pk == s.reader.pk:
            raise ValueError("a broken template")
        return render(digest, **kwargs)

    monkeypatch.setattr("members.digests.render_digest", broken_for_the_reader)
    report = run(time_machine)

    assert report.counts == {DigestStatus.FAILED: 1, DigestStatus.SENT: 1}
    assert record_of(s.reader).status == DigestStatus.FAILED and "rendered" in record_of(s.reader).detail
    assert mails_to(s.reader) == [] and len(mails_to(other)) == 1
    monkeypatch.undo()
    run(time_machine, SEND + timedelta(hours=1))
    assert mails_to(s.reader) == []  # failed is final: never retried


def test_blocks_shared_by_many_digests_are_rendered_once_and_never_go_stale(scene, time_machine):
    s = scene
    other = make_user("other")
    add_member(s.space, other, SpaceRole.VIEWER, by=s.staff)
    page = page_in(s.space, s.author, "Response rates 2024")
    members = digests.load_members([s.reader.pk, other.pk])
    start = digests.period_end_for(SEND) - timedelta(days=1)

    def texts(renderer) -> list[str]:
        jobs = [digests.DigestJob(member, "daily", start, SEND) for member in members.values()]
        return [digests.render_digest(d, unsubscribe="", renderer=renderer)[1] for d in digests.compose_digests(jobs)]

    renderer = digests.DigestRenderer()
    rendered = []
    render_space = renderer._render_space
    renderer._render_space = lambda *args: rendered.append(args[0].space.pk) or render_space(*args)
    first = texts(renderer)
    # the census block is the same in both digests: rendered once, pasted twice
    assert rendered.count(s.space.pk) == 1 and all("Response rates 2024" in text for text in first)
    services.page_update(actor=s.author, page=page, title="Response rates 2025", body="New", base_version=1)
    again = texts(renderer)
    assert all("Response rates 2025" in text and "Response rates 2024" not in text for text in again)


def test_a_page_copied_while_the_job_runs_is_not_missed_by_later_batches(scene, time_machine):
    s = scene
    services.page_update(actor=s.author, page=s.handbook, title="Methods handbook", body="v2", base_version=1)
    time_machine.move_to(SEND, tick=False)
    pages = digests.PageChanges()
    start = digests.period_end_for(SEND) - timedelta(days=1)

    def titles_in_labour() -> list[str]:
        job = digests.DigestJob(digests.load_members([s.reader.pk])[s.reader.pk], "daily", start, SEND)
        digest = digests.compose_digests([job], pages=pages)[0]
        return [e.title for section in digest.spaces if section.space == s.other for e in section.pages]

    assert titles_in_labour() == []  # the run looked for changed pages with this batch
    # a copy keeps the page's own edit time (in the period) but is created after that look-up
    services.page_copy(actor=s.staff, page=s.handbook, target=s.other)
    assert titles_in_labour() == ["Methods handbook"]


@pytest.mark.postgres
def test_on_postgresql_the_marks_around_each_hand_over_do_not_wait_for_the_disk(scene, time_machine, monkeypatch):
    page_in(scene.space, scene.author, "Response rates 2024")
    during = []
    send = EmailBackend.send_messages

    def spy(self, messages):
        during.append(synchronous_commit())
        return send(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", spy)
    run(time_machine)

    assert during == ["off"] and synchronous_commit() == "on"
    assert record_of(scene.reader).status == DigestStatus.SENT


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def _batch_queries(time_machine, space, n: int) -> int:
    """Queries of one batch (claim, compose, render, send, record) for ``n`` members joining ``space``."""
    time_machine.move_to(T0, tick=False)
    for _ in range(n):
        member = make_user()
        onboard(member, space.community)
        services.space_join(actor=member, space=space)
    time_machine.move_to(SEND, tick=False)
    digests_enqueue_due(now=SEND)
    report = DigestRunReport(period_end=digests.period_end_for(SEND))
    with CaptureQueriesContext(connection) as queries:
        claimed = digests_send_batch(period_end=report.period_end, batch_size=500, report=report)
    assert claimed == n + 2  # the members, the space's creator and the author
    assert report.counts == {DigestStatus.SENT: n + 1, DigestStatus.SKIPPED_EMPTY: 1}
    return len(queries)


def _busy_space(time_machine, slug: str):
    time_machine.move_to(T0 - timedelta(days=1), tick=False)
    staff = make_user("creator", staff=True)
    space = make_space(staff, make_community(staff, slug=slug), "open", slug=slug)
    author = make_user("writer")
    add_member(space, author, SpaceRole.EDITOR, by=staff)
    time_machine.move_to(T0, tick=False)
    page_in(space, author, f"Page in {slug}")
    services.question_ask(actor=author, space=space, title=f"Question in {slug}")
    post_create(actor=author, space=space, body=f"Post in {slug}")
    start = T0 + timedelta(days=2)
    event_create(
        actor=author, space=space, title="Meeting", starts_at=start, ends_at=start + timedelta(hours=1), time_zone="UTC"
    )
    return space


def test_a_batch_costs_the_same_queries_for_10_and_100_members(time_machine):
    few = _batch_queries(time_machine, _busy_space(time_machine, "small"), 10)
    # The first group has its records for this period: the second run takes only the new members.
    many = _batch_queries(time_machine, _busy_space(time_machine, "large"), 100)
    assert len(mail.outbox) == 11 + 101
    # Per batch the same, but for the two single-row UPDATEs around each message's own hand-over ("sending"
    # before, "sent" after), which tell after a crash which one digest was in flight.
    # 27 statements (one of them the batch's unread direct messages), their 4 savepoints and (PostgreSQL) the 2
    # setting the sending loop's commit mode, when written.
    assert few - 2 * 11 == many - 2 * 101 <= 33


# --- Unsubscribe ------------------------------------------------------------------------------------------------
def _unsubscribe_path(scene, time_machine) -> str:
    page_in(scene.space, scene.author, "Response rates 2024")
    run(time_machine)
    message = the_digest_of(scene.reader)[0]
    return urlsplit(message.extra_headers["List-Unsubscribe"].strip("<>")).path


def test_unsubscribe_link_asks_then_works_once_without_signing_in(scene, time_machine):
    path = _unsubscribe_path(scene, time_machine)
    browser = Client()
    page = browser.get(path)
    assert page.status_code == 200 and "Unsubscribe from digests" in page.content.decode()
    scene.reader.notification_prefs.refresh_from_db()
    assert scene.reader.notification_prefs.digest_frequency == "daily"  # a GET (a link scanner) changes nothing

    done = browser.post(path)
    assert done.status_code == 200 and "You are unsubscribed" in done.content.decode()
    scene.reader.notification_prefs.refresh_from_db()
    assert scene.reader.notification_prefs.digest_frequency == "off"

    again = browser.post(path)
    assert again.status_code == 200 and "already unsubscribed" in again.content.decode()
    prefs(scene.reader, "daily")  # subscribing again needs a new link: this one stays used
    assert "already unsubscribed" in browser.get(path).content.decode()
    browser.post(path)
    scene.reader.notification_prefs.refresh_from_db()
    assert scene.reader.notification_prefs.digest_frequency == "daily"


def test_one_click_post_from_a_mail_client_works_without_login_or_csrf(scene, time_machine):
    path = _unsubscribe_path(scene, time_machine)
    mail_client = Client(enforce_csrf_checks=True)
    response = mail_client.post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    scene.reader.notification_prefs.refresh_from_db()
    assert scene.reader.notification_prefs.digest_frequency == "off"


@pytest.mark.parametrize(
    "forge",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # tampered signature
        lambda token: signing.dumps({"u": 1, "d": 1}, salt="another-salt"),  # signed for something else
        lambda token: signing.dumps({"u": 999999, "d": 999999}, salt=digests.UNSUBSCRIBE_SALT),  # nobody
        lambda token: "not-a-token",
    ],
)
def test_forged_or_tampered_unsubscribe_token_gets_a_400_page(scene, time_machine, forge):
    token = _unsubscribe_path(scene, time_machine).rstrip("/").rsplit("/", 1)[-1]
    path = reverse("members:digest-unsubscribe", kwargs={"token": forge(token)})
    for response in (Client().get(path), Client().post(path)):
        assert response.status_code == 400
        assert "not valid" in response.content.decode()
    scene.reader.notification_prefs.refresh_from_db()
    assert scene.reader.notification_prefs.digest_frequency == "daily"


def test_a_token_for_someone_elses_digest_is_rejected(scene, time_machine):
    _unsubscribe_path(scene, time_machine)
    record = record_of(scene.reader)
    token = signing.dumps({"u": scene.author.pk, "d": record.pk}, salt=digests.UNSUBSCRIBE_SALT, compress=True)
    assert Client().post(reverse("members:digest-unsubscribe", kwargs={"token": token})).status_code == 400


def test_unsubscribe_refuses_other_methods(scene, time_machine):
    path = _unsubscribe_path(scene, time_machine)
    assert Client().put(path).status_code == 405


# --- Preview -------------------------------------------------------------------------------------------------------
def test_member_previews_their_own_next_digest_without_sending_or_recording(scene, time_machine):
    page_in(scene.space, scene.author, "Response rates 2024")
    response = client_for(scene.reader).get(reverse("members:digest-preview"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Response rates 2024" in body and "Your next digest" in body
    assert "/unsubscribe/" not in body
    assert mail.outbox == [] and not DigestRecord.objects.exists()


def test_site_staff_preview_any_members_digest(scene, time_machine):
    page_in(scene.space, scene.author, "Response rates 2024")
    response = client_for(scene.staff).get(reverse("members:digest-preview"), {"member": scene.reader.pk})
    assert response.status_code == 200
    assert "Response rates 2024" in response.content.decode() and "Reader" in response.content.decode()
    assert client_for(scene.staff).get(reverse("members:digest-preview"), {"member": "nope"}).status_code == 404


def test_preview_of_another_member_is_for_site_staff_only(scene):
    url = reverse("members:digest-preview")
    assert client_for(scene.author).get(url, {"member": scene.reader.pk}).status_code == 403
    anonymous = Client().get(url, {"member": scene.reader.pk})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("account_login"))
    assert client_for(scene.reader).post(url).status_code == 405


def test_preview_hides_what_the_member_may_not_see(scene):
    secret = page_in(scene.space, scene.author, "Salary table")
    services.page_set_restrictions(actor=scene.author, page=secret, viewers=[], restrict_view=True, restrict_edit=False)
    body = client_for(scene.staff).get(reverse("members:digest-preview"), {"member": scene.reader.pk}).content
    assert b"Salary table" not in body


# --- The management command (embedded default: cron instead of beat) ------------------------------------------
def test_send_digests_command_dry_run_then_send(scene, time_machine):
    page_in(scene.space, scene.author, "Response rates 2024")
    out = StringIO()
    call_command("send_digests", "--dry-run", "--now", SEND.isoformat(), stdout=out)
    assert f"{scene.reader.email}: daily, would send" in out.getvalue()
    assert not DigestRecord.objects.exists() and mail.outbox == []

    out = StringIO()
    call_command("send_digests", "--now", "2025-03-03T08:05:00", stdout=out)
    assert "sent: 1" in out.getvalue()
    assert len(mails_to(scene.reader)) == 1
    call_command("send_digests", "--now", SEND.isoformat(), stdout=StringIO())
    assert len(mails_to(scene.reader)) == 1


def test_send_digests_command_rejects_a_bad_time():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("send_digests", "--now", "yesterday")
