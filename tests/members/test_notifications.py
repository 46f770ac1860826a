"""In-app notifications (issue 5, item 5): who is told of what, never the actor, never someone who cannot see
the item; the notifications page, marking read, the count in the header, muting, and "new since your last
visit" on space streams."""

import logging
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from members import notifications as notification_services
from members.models import Notification, NotificationKind, SpaceMute
from members.tasks import event_reminders_task
from spaces import permissions, services
from spaces.models import Item, ModerationState, SpaceRole, SpaceVisit, Visibility
from spaces.services import events as event_services
from spaces.services import moderation as moderation_services
from spaces.services import papers as paper_services
from spaces.services import posts as post_services
from tests.factories import add_member, make_user, onboard
from tests.spaces.helpers import client_for, htmx, png_bytes, space_url

User = get_user_model()
Kind = NotificationKind


@pytest.fixture(autouse=True)
def _quiet_limits(settings):
    """Test accounts are minutes old: lift the new-account posting limits (tested with moderation)."""
    settings.NEW_ACCOUNT_HOURS = 0


@pytest.fixture(autouse=True)
def _no_swallowed_errors(caplog):
    """The receiver logs and swallows errors so posting never fails because of notifications: fail here instead."""
    yield
    errors = [r for r in caplog.records if r.name.startswith("members") and r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


def _fresh(w):
    """The world's invitations and join request made notifications already; each test starts from none."""
    Notification.objects.all().delete()
    return w


@pytest.fixture
def open_world(world_factory):
    return _fresh(world_factory(Visibility.OPEN))


@pytest.fixture
def private_world(world_factory):
    return _fresh(world_factory(Visibility.PRIVATE))


@pytest.fixture
def closed_world(world_factory):
    return _fresh(world_factory(Visibility.CLOSED))


def notes(user, kind: str | None = None):
    qs = Notification.objects.filter(recipient=user)
    return qs.filter(kind=kind) if kind else qs


def recipients(kind: str, **filters) -> set:
    return set(Notification.objects.filter(kind=kind, **filters).values_list("recipient_id", flat=True))


def page(w, title="Linkage notes", by=None, body="Notes."):
    return services.page_create(actor=by or w.editor, space=w.space, title=title, body=body)


def question(w, by=None, title="Which linkage keys?"):
    return services.question_ask(actor=by or w.editor, space=w.space, title=title, body="We link census to tax.")


def ids(*users) -> set:
    return {u.pk for u in users}


# --- The set-based visibility form agrees with the one-object form ------------------------------------------------
def _situations(w):
    """Items in every situation the visibility rules know: plain, restricted, hidden, scheduled, trashed, and
    items that live on those (a comment, an answer, an attachment, a reply to a hidden comment)."""
    named = make_user("named")
    add_member(w.space, named, SpaceRole.VIEWER, by=w.staff)
    plain = page(w, "Plain")
    restricted = page(w, "Restricted")
    services.page_set_restrictions(
        actor=w.editor, page=restricted, viewers=[named], restrict_view=True, restrict_edit=False
    )
    hidden = page(w, "Hidden")
    Item.objects.filter(pk=hidden.item_id).update(moderation_state=ModerationState.HIDDEN)
    trashed = page(w, "Trashed")
    services.item_trash(actor=w.editor, item=trashed.item)
    scheduled = post_services.post_create(
        actor=w.editor, space=w.space, body="Later", publish_at=timezone.now() + timedelta(days=1)
    )
    on_restricted = services.comment_create(actor=w.editor, target=restricted.item, body="A comment")
    hidden_question = question(w, title="Hidden question")
    answer = services.answer_post(actor=w.moderator, question=hidden_question, body="An answer")
    Item.objects.filter(pk=hidden_question.item_id).update(moderation_state=ModerationState.HIDDEN)
    upload = SimpleUploadedFile("chart.png", png_bytes(), content_type="image/png")
    attachment = services.file_upload(actor=w.editor, space=w.space, upload=upload, page=restricted)
    parent = services.comment_create(actor=w.editor, target=plain.item, body="Parent")
    reply = services.comment_create(actor=w.moderator, target=plain.item, body="Re", parent=parent)
    Item.objects.filter(pk=parent.item_id).update(moderation_state=ModerationState.HIDDEN)
    items = [plain.item, restricted.item, hidden.item, trashed.item, scheduled.item, on_restricted.item]
    items += [answer.item, attachment.item, reply.item]
    return [Item.objects.select_related("space").get(pk=item.pk) for item in items]


@pytest.mark.parametrize("visibility", [Visibility.OPEN, Visibility.PRIVATE, Visibility.CLOSED])
def test_item_viewers_q_agrees_with_can_see_item_for_every_person(world_factory, visibility):
    w = world_factory(visibility)
    items = _situations(w)
    people = list(User.objects.filter(is_active=True))
    for item in items:
        permissions.forget_access_context(*people)
        expected = {person.pk for person in people if permissions.can_see_item(person, item)}
        found = set(User.objects.filter(permissions.item_viewers_q(item)).values_list("pk", flat=True))
        assert found == expected, (item.title or item.kind, visibility)


# --- Replies, answers, acceptance ------------------------------------------------------------------------------
def test_answer_notifies_the_asker_but_not_the_answerer(open_world):
    w = open_world
    q = question(w, by=w.editor)
    answer = services.answer_post(actor=w.moderator, question=q, body="Name and date of birth.")

    reply = notes(w.editor, Kind.REPLY).get()
    assert reply.item_id == answer.item_id and reply.actor == w.moderator and reply.space == w.space
    assert not notes(w.moderator, Kind.REPLY).exists()


def test_answering_your_own_question_notifies_nobody(open_world):
    w = open_world
    q = question(w, by=w.editor)
    services.answer_post(actor=w.editor, question=q, body="Found it myself.")
    assert not Notification.objects.filter(kind=Kind.REPLY).exists()


def test_comment_notifies_the_target_author_and_the_parent_comment_author(open_world):
    w = open_world
    p = page(w, by=w.editor)
    parent = services.comment_create(actor=w.moderator, target=p.item, body="A question about the method")
    services.comment_create(actor=w.admin, target=p.item, body="An answer", parent=parent)

    assert recipients(Kind.REPLY) == ids(w.editor, w.moderator)
    assert notes(w.editor, Kind.REPLY).count() == 2  # the first comment and the reply, both on their page
    assert not notes(w.admin).filter(kind=Kind.REPLY).exists()


def test_accepting_an_answer_tells_its_author(open_world):
    w = open_world
    q = question(w, by=w.editor)
    answer = services.answer_post(actor=w.moderator, question=q, body="Use the tax number.")
    services.answer_accept(actor=w.editor, question=q, answer=answer)
    assert notes(w.moderator, Kind.ACCEPTED).get().item_id == answer.item_id
    assert not notes(w.editor, Kind.ACCEPTED).exists()


# --- Mentions ----------------------------------------------------------------------------------------------
def test_mention_notifies_the_member_once_and_an_edit_only_the_newly_mentioned(open_world):
    w = open_world
    p = page(w)
    comment = services.comment_create(actor=w.editor, target=p.item, body=f"@{w.viewer.username} can you check?")
    assert recipients(Kind.MENTION) == ids(w.viewer)

    services.comment_edit(actor=w.editor, comment=comment, body=f"@{w.viewer.username} @{w.admin.username} check?")
    assert recipients(Kind.MENTION) == ids(w.viewer, w.admin)
    assert notes(w.viewer, Kind.MENTION).count() == 1


def test_a_mention_of_the_page_author_is_one_notification_not_two(open_world):
    w = open_world
    p = page(w, by=w.editor)
    services.comment_create(actor=w.moderator, target=p.item, body=f"@{w.editor.username} see this")
    assert [n.kind for n in notes(w.editor)] == [Kind.MENTION]


def test_mention_on_a_restricted_page_does_not_reach_people_who_cannot_see_it(open_world):
    w = open_world
    p = page(w, by=w.editor)
    services.page_set_restrictions(
        actor=w.editor, page=p, viewers=[w.moderator], restrict_view=True, restrict_edit=False
    )
    services.comment_create(
        actor=w.editor, target=p.item, body=f"@{w.viewer.username} @{w.moderator.username} @{w.outsider.username}"
    )
    assert recipients(Kind.MENTION) == ids(w.moderator)


def test_mention_in_a_closed_space_does_not_reach_outsiders(closed_world):
    w = closed_world
    q = question(w)
    services.answer_post(actor=w.moderator, question=q, body=f"Ask @{w.outsider.username} and @{w.viewer.username}")
    assert recipients(Kind.MENTION) == ids(w.viewer)


def test_mentions_in_a_scheduled_post_wait_for_it_to_go_out(open_world):
    w = open_world
    when = timezone.now() + timedelta(hours=2)
    post_services.post_create(actor=w.editor, space=w.space, body=f"Hello @{w.viewer.username}", publish_at=when)
    assert not Notification.objects.filter(kind=Kind.MENTION).exists()

    with time_machine.travel(when + timedelta(minutes=1), tick=False):
        post_services.posts_publish_due()
    assert recipients(Kind.MENTION) == ids(w.viewer)


# --- Watches -----------------------------------------------------------------------------------------------
def test_page_change_tells_its_watchers_once_until_they_read_it(open_world):
    w = open_world
    p = page(w, by=w.editor)
    services.watch_toggle(actor=w.viewer, item=p.item)
    services.watch_toggle(actor=w.editor, item=p.item)
    services.page_update(actor=w.editor, page=p, title=p.title, body="Version 2", base_version=p.version)
    services.page_update(actor=w.editor, page=p, title=p.title, body="Version 3", base_version=p.version)

    assert recipients(Kind.PAGE_CHANGED) == ids(w.viewer)  # not the editor who saved
    assert notes(w.viewer, Kind.PAGE_CHANGED).count() == 1
    notification_services.notifications_mark_all_read(actor=w.viewer)
    services.page_update(actor=w.editor, page=p, title=p.title, body="Version 4", base_version=p.version)
    assert notes(w.viewer, Kind.PAGE_CHANGED).count() == 2


def test_page_change_does_not_reach_a_watcher_the_page_was_restricted_away_from(open_world):
    w = open_world
    p = page(w, by=w.editor)
    services.watch_toggle(actor=w.viewer, item=p.item)
    services.watch_toggle(actor=w.moderator, item=p.item)
    services.page_set_restrictions(
        actor=w.editor, page=p, viewers=[w.moderator], restrict_view=True, restrict_edit=False
    )
    services.page_update(actor=w.editor, page=p, title=p.title, body="Secret figures", base_version=p.version)
    assert recipients(Kind.PAGE_CHANGED) == ids(w.moderator)


def test_page_change_does_not_reach_a_watcher_once_the_page_is_hidden(open_world):
    w = open_world
    p = page(w, by=w.editor)
    services.watch_toggle(actor=w.viewer, item=p.item)
    services.watch_toggle(actor=w.moderator, item=p.item)
    moderation_services.item_hide(actor=w.moderator, item=p.item, reason="Under review")
    p.refresh_from_db()
    services.page_update(actor=w.editor, page=p, title=p.title, body="Edited while hidden", base_version=p.version)
    assert recipients(Kind.PAGE_CHANGED) == ids(w.moderator)


def test_new_item_tells_watchers_of_the_space(open_world):
    w = open_world
    services.watch_toggle(actor=w.viewer, space=w.space)
    services.watch_toggle(actor=w.editor, space=w.space)
    p = page(w, by=w.editor)
    q = question(w, by=w.editor)
    assert {n.item_id for n in notes(w.viewer, Kind.NEW_ITEM)} == {p.item_id, q.item_id}
    assert not notes(w.editor, Kind.NEW_ITEM).exists()


def test_new_item_in_a_closed_space_skips_a_watcher_who_was_removed(closed_world):
    w = closed_world
    services.watch_toggle(actor=w.viewer, space=w.space)
    services.watch_toggle(actor=w.moderator, space=w.space)
    services.membership_remove(actor=w.admin, membership=w.space.memberships.get(user=w.viewer))
    page(w, by=w.editor)
    assert recipients(Kind.NEW_ITEM) == ids(w.moderator)


def test_an_attachment_is_not_news_of_its_own(open_world):
    w = open_world
    p = page(w)
    services.watch_toggle(actor=w.viewer, space=w.space)
    upload = SimpleUploadedFile("chart.png", png_bytes(), content_type="image/png")
    services.file_upload(actor=w.editor, space=w.space, upload=upload, page=p)
    assert not notes(w.viewer, Kind.NEW_ITEM).exists()


# --- Announcements and muting ---------------------------------------------------------------------------------
def test_announcement_reaches_every_member_but_the_author_and_those_who_muted(open_world):
    w = open_world
    notification_services.space_mute_set(actor=w.viewer, space=w.space, muted=True)
    post = post_services.post_create(actor=w.moderator, space=w.space, body="Meeting moved", is_announcement=True)

    members = set(w.space.memberships.values_list("user_id", flat=True))
    assert recipients(Kind.ANNOUNCEMENT) == members - ids(w.moderator, w.viewer)
    assert not notes(w.banned, Kind.ANNOUNCEMENT).exists()  # banned: no membership any more
    assert Notification.objects.filter(kind=Kind.ANNOUNCEMENT).first().item_id == post.item_id


def test_an_announcement_is_one_notification_each_mention_announcement_or_news(open_world):
    w = open_world
    services.watch_toggle(actor=w.outsider, space=w.space)  # watches the open space without joining
    services.watch_toggle(actor=w.viewer, space=w.space)
    post_services.post_create(
        actor=w.moderator, space=w.space, body=f"Meeting moved, @{w.editor.username}", is_announcement=True
    )
    assert [n.kind for n in notes(w.editor)] == [Kind.MENTION]
    assert [n.kind for n in notes(w.viewer)] == [Kind.ANNOUNCEMENT]
    assert [n.kind for n in notes(w.outsider)] == [Kind.NEW_ITEM]


def _announce_queries(w, members: int) -> int:
    for n in range(members):
        person = make_user(f"reader{n}")
        add_member(w.space, person, SpaceRole.VIEWER, by=w.staff)
    with CaptureQueriesContext(connection) as ctx:
        post_services.post_create(actor=w.moderator, space=w.space, body="Announcement", is_announcement=True)
    return len(ctx.captured_queries)


def test_announcement_fan_out_costs_the_same_queries_for_3_and_30_members(world_factory):
    few = _announce_queries(world_factory(Visibility.OPEN), 3)
    Notification.objects.all().delete()
    many = _announce_queries(world_factory(Visibility.CLOSED), 30)
    assert few == many
    assert Notification.objects.filter(kind=Kind.ANNOUNCEMENT).count() >= 30


def test_muting_a_space_stops_new_items_and_announcements_but_not_mentions_or_replies(open_world):
    w = open_world
    services.watch_toggle(actor=w.viewer, space=w.space)
    notification_services.space_mute_set(actor=w.viewer, space=w.space, muted=True)
    page(w, by=w.editor)
    post_services.post_create(actor=w.moderator, space=w.space, body="News", is_announcement=True)
    q = question(w, by=w.editor)
    services.comment_create(actor=w.editor, target=q.item, body=f"@{w.viewer.username} you know this")

    assert {n.kind for n in notes(w.viewer)} == {Kind.MENTION}

    notification_services.space_mute_set(actor=w.viewer, space=w.space, muted=False)
    page(w, title="After unmuting", by=w.editor)
    assert notes(w.viewer, Kind.NEW_ITEM).count() == 1


# --- Membership: requests and invitations ---------------------------------------------------------------------
def test_join_request_reaches_the_space_moderators_only(private_world):
    w = private_world
    asker = make_user("asker")
    onboard(asker, w.community)
    services.join_request_create(actor=asker, space=w.space, message="Please")
    # the staff member who created the space is its first admin
    moderators = ids(w.staff, w.moderator, w.admin, w.community_moderator, w.community_admin)
    assert recipients(Kind.JOIN_REQUEST) == moderators
    note = Notification.objects.filter(kind=Kind.JOIN_REQUEST, recipient=w.moderator).get()
    assert asker.public_name in note.text and note.url == space_url("requests", w.space)


def test_join_request_decisions_reach_the_requester(private_world):
    w = private_world
    request = w.space.join_requests.get(user=w.requester)
    services.join_request_approve(actor=w.moderator, join_request=request)
    note = notes(w.requester, Kind.REQUEST_DECIDED).get()
    assert "approved" in note.text and note.actor == w.moderator

    other = make_user("other")
    onboard(other, w.community)
    declined = services.join_request_create(actor=other, space=w.space)
    services.join_request_decline(actor=w.admin, join_request=declined, message="Staff only")
    assert "declined" in notes(other, Kind.REQUEST_DECIDED).get().text


def test_invitation_to_an_existing_member_is_a_notification_an_email_invitation_is_not(open_world):
    w = open_world
    newcomer = make_user("newcomer")
    invitation = services.invitation_create(actor=w.moderator, space=w.space, recipient=newcomer.email, role=10)
    note = notes(newcomer, Kind.INVITATION).get()
    assert note.url == reverse("spaces:invitation", kwargs={"token": invitation.token})
    services.invitation_create(actor=w.moderator, space=w.space, recipient="nobody@example.org", role=10)
    assert Notification.objects.filter(kind=Kind.INVITATION, recipient__email="nobody@example.org").count() == 0


# --- Moderation -------------------------------------------------------------------------------------------------
def test_flag_reaches_the_moderators_of_the_space(open_world):
    w = open_world
    p = page(w, by=w.editor)
    moderation_services.flag_create(actor=w.viewer, target=p.item, reason="spam")
    assert recipients(Kind.FLAG) == ids(w.staff, w.moderator, w.admin, w.community_moderator, w.community_admin)
    assert not notes(w.viewer, Kind.FLAG).exists()
    assert notes(w.moderator, Kind.FLAG).get().url == space_url("review-queue", w.space)


def test_flag_on_a_restricted_page_reaches_its_admins_not_moderators(open_world):
    w = open_world
    p = page(w, by=w.editor)
    services.page_set_restrictions(actor=w.editor, page=p, viewers=[w.viewer], restrict_view=True, restrict_edit=False)
    moderation_services.flag_create(actor=w.viewer, target=p.item, reason="misleading")
    assert recipients(Kind.FLAG) == ids(w.staff, w.admin, w.community_admin)


def test_warning_and_hiding_tell_the_author(open_world):
    w = open_world
    p = page(w, by=w.editor)
    moderation_services.author_warn(actor=w.moderator, target=p.item, message="Please cite your sources.")
    moderation_services.item_hide(actor=w.moderator, item=p.item, reason="Off-topic")
    told = list(notes(w.editor, Kind.MODERATION).order_by("created_at", "pk"))
    assert len(told) == 2
    assert "Please cite your sources." in told[0].text and "Off-topic" in told[1].text
    assert told[1].item_id == p.item_id  # the author still sees their hidden page


# --- Papers and events -------------------------------------------------------------------------------------------
def _event(w, *, starts_at, papers=False):
    event = event_services.event_create(
        actor=w.editor,
        space=w.space,
        title="Linkage workshop",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        time_zone="Europe/Paris",
    )
    if papers:
        paper_services.event_papers_configure(actor=w.editor, event=event, papers_open=True)
    return event


def test_paper_decision_tells_its_author(open_world):
    w = open_world
    event = _event(w, starts_at=timezone.now() + timedelta(days=7), papers=True)
    event_services.event_registration_set(actor=w.viewer, event=event, status="going")
    paper = paper_services.paper_submit(actor=w.viewer, event=event, title="Probabilistic linkage", abstract="Why.")
    paper_services.paper_decide(actor=w.moderator, paper=paper, accept=True, message="Welcome")

    note = notes(w.viewer, Kind.PAPER_DECIDED).get()
    assert "accepted" in note.text and str(paper.pk) in note.url and note.item_id == event.item_id


def test_event_reminder_goes_once_to_people_going_or_maybe(open_world):
    w = open_world
    now = timezone.now()
    event = _event(w, starts_at=now + timedelta(hours=24, minutes=5))
    later = _event(w, starts_at=now + timedelta(days=3))
    event_services.event_registration_set(actor=w.viewer, event=event, status="going")
    event_services.event_registration_set(actor=w.moderator, event=event, status="maybe")
    event_services.event_registration_set(actor=w.admin, event=event, status="not_going")
    event_services.event_registration_set(actor=w.viewer, event=later, status="going")

    with time_machine.travel(now + timedelta(minutes=1), tick=False):
        assert event_reminders_task.delay().get() == 2
        assert event_reminders_task.delay().get() == 0  # run twice: nothing new
    with time_machine.travel(now + timedelta(minutes=16), tick=False):
        assert notification_services.event_reminders_send() == 0  # the next run sees it again and skips it

    assert recipients(Kind.EVENT_REMINDER) == ids(w.viewer, w.moderator)
    assert {n.item_id for n in Notification.objects.filter(kind=Kind.EVENT_REMINDER)} == {event.item_id}


# --- The notifications page ----------------------------------------------------------------------------------------
def _replies(w, count: int, *, to=None, start: int = 0):
    """``count`` REPLY notifications for ``to`` (comments on their page by the moderator)."""
    to = to or w.editor
    p = page(w, title=f"Page {start}", by=to)
    for n in range(start, start + count):
        services.comment_create(actor=w.moderator, target=p.item, body=f"Comment {n}")
    return p


def test_notifications_page_lists_newest_first_with_unread_marked(open_world):
    w = open_world
    _replies(w, 3)
    browser = client_for(w.editor)
    response = browser.get(reverse("members:notifications"))
    assert response.status_code == 200
    rows = response.context["notifications"]
    assert [r.kind for r in rows][:3] == [Kind.REPLY] * 3
    assert rows[0].created_at >= rows[1].created_at >= rows[2].created_at
    html = response.content.decode()
    assert html.count("notification-unread") == notes(w.editor).count()
    assert "Moderator replied to you" in html


def test_notifications_page_needs_sign_in(client, db):
    response = client.get(reverse("members:notifications"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_notifications_page_drops_what_became_invisible_when_the_space_closed(private_world):
    w = private_world
    p = _replies(w, 1, to=w.editor)
    assert notes(w.editor, Kind.REPLY).count() == 1
    note = notes(w.editor, Kind.REPLY).get()
    browser = client_for(w.editor)
    assert note in browser.get(reverse("members:notifications")).context["notifications"]

    services.space_update_settings(actor=w.admin, space=w.space, visibility=Visibility.CLOSED)
    services.membership_remove(actor=w.admin, membership=w.space.memberships.get(user=w.editor))
    response = browser.get(reverse("members:notifications"))
    assert note not in response.context["notifications"]
    assert p.title not in response.content.decode()
    assert browser.get(reverse("members:notification-open", args=[note.pk])).status_code == 404


def test_notifications_page_drops_a_reply_that_was_hidden(open_world):
    w = open_world
    _replies(w, 1)
    note = notes(w.editor, Kind.REPLY).get()
    moderation_services.item_hide(actor=w.admin, item=note.item, reason="Spam")
    response = client_for(w.editor).get(reverse("members:notifications"))
    assert note not in response.context["notifications"]


def test_opening_a_notification_marks_it_read_and_goes_to_its_item(open_world):
    w = open_world
    _replies(w, 1)
    note = notes(w.editor, Kind.REPLY).get()
    response = client_for(w.editor).get(reverse("members:notification-open", args=[note.pk]))
    note.refresh_from_db()
    assert note.read_at is not None
    assert response.status_code == 302 and f"#comment-{note.item.comment.pk}" in response["Location"]


def test_someone_elses_notification_is_404(open_world):
    w = open_world
    _replies(w, 1)
    note = notes(w.editor, Kind.REPLY).get()
    browser = client_for(w.viewer)
    assert browser.get(reverse("members:notification-open", args=[note.pk])).status_code == 404
    assert browser.post(reverse("members:notification-read", args=[note.pk])).status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


def test_mark_one_read_plain_and_with_htmx(open_world):
    w = open_world
    _replies(w, 2)
    first, second = notes(w.editor, Kind.REPLY)
    browser = client_for(w.editor)
    assert browser.get(reverse("members:notification-read", args=[first.pk])).status_code == 405

    response = browser.post(reverse("members:notification-read", args=[first.pk]))
    assert response.status_code == 302
    response = htmx(browser, "post", reverse("members:notification-read", args=[second.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="notification-{second.pk}"' in html and "notification-unread" not in html
    assert 'id="notification-bell"' in html and 'hx-swap-oob="true"' in html
    assert not notes(w.editor, Kind.REPLY).filter(read_at__isnull=True).exists()


def test_mark_all_read(open_world):
    w = open_world
    _replies(w, 3)
    browser = client_for(w.editor)
    assert browser.get(reverse("members:notifications-read-all")).status_code == 405
    response = htmx(browser, "post", reverse("members:notifications-read-all"))
    assert response.status_code == 200 and "notification-unread" not in response.content.decode()
    assert not notes(w.editor).filter(read_at__isnull=True).exists()
    assert notes(w.moderator).filter(read_at__isnull=True).exists() is notes(w.moderator).exists()


def test_unread_count_shows_in_the_header_and_goes_when_read(open_world):
    w = open_world
    _replies(w, 3)
    unread = notes(w.editor).filter(read_at__isnull=True).count()
    browser = client_for(w.editor)
    html = browser.get(reverse("home")).content.decode()
    assert 'id="notification-bell"' in html
    assert f'<span class="badge site-bell-count">{unread}<span class="visually-hidden"> unread</span>' in html

    notification_services.notifications_mark_all_read(actor=w.editor)
    html = browser.get(reverse("home")).content.decode()
    assert 'id="notification-bell"' in html and "site-bell-count" not in html


def test_anonymous_visitors_get_no_bell(client, db):
    assert "notification-bell" not in client.get(reverse("home")).content.decode()


def test_header_count_does_not_count_what_the_member_can_no_longer_see(open_world):
    w = open_world
    _replies(w, 2)
    hidden = notes(w.editor, Kind.REPLY).first()
    moderation_services.item_hide(actor=w.admin, item=hidden.item, reason="Spam")
    from members.selectors_notifications import unread_notification_count

    assert unread_notification_count(w.editor) == notes(w.editor).filter(read_at__isnull=True).count() - 1


def _queries(browser, url: str) -> int:
    assert browser.get(url).status_code == 200  # the first request of a session also saves it
    with CaptureQueriesContext(connection) as ctx:
        assert browser.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_notifications_page_query_count_is_the_same_for_3_and_30(open_world):
    w = open_world
    Notification.objects.filter(recipient=w.editor).delete()
    browser = client_for(w.editor)
    url = reverse("members:notifications")
    _replies(w, 3)
    q = question(w, by=w.editor)
    services.answer_post(actor=w.moderator, question=q, body="An answer")
    few = _queries(browser, url)
    _replies(w, 27, start=100)
    services.watch_toggle(actor=w.editor, space=w.space)
    page(w, title="A new page", by=w.moderator)
    # a reply to the editor's answer is named after the answer's question, which the row reads with it
    asked = question(w, by=w.moderator, title="Which weights for the CPI basket")
    answer = services.answer_post(actor=w.editor, question=asked, body="Household budget survey weights")
    services.comment_create(actor=w.moderator, target=answer.item, body="Which survey year?")
    many = _queries(browser, url)
    html = browser.get(url).content.decode()

    assert notes(w.editor).count() >= 30
    assert "Comment on “Answer to “Which weights for the CPI basket”" in html
    assert few == many
    # session, user, the page's keys (no total: one row more tells of a next page), then those rows to show
    assert many == 4


def test_notifications_page_pages_without_a_total(open_world):
    """Past 25 notifications a Next link leads on; the last page has none, and no page claims a total."""
    w = open_world
    Notification.objects.filter(recipient=w.editor).delete()
    _replies(w, 30)
    shown = notes(w.editor).count()
    assert shown >= 30
    browser = client_for(w.editor)
    url = reverse("members:notifications")

    first = browser.get(url).content.decode()
    last = browser.get(url + f"?page={(shown - 1) // 25 + 1}").content.decode()

    assert 'rel="next"' in first and "Page 1" in first and " of " not in first.split("Page 1", 1)[1][:5]
    assert 'rel="next"' not in last and 'rel="prev"' in last
    assert first.count('class="notification') > last.count('class="notification') > 0


def _header_queries(browser, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert browser.get(url).status_code == 200
    return sum('"members_notification"' in q["sql"] for q in ctx.captured_queries)


def test_header_count_costs_one_query_however_many_notifications_then_none_while_cached(open_world):
    w = open_world
    browser = client_for(w.editor)
    url = reverse("home")
    Notification.objects.filter(recipient=w.editor).delete()
    none = _queries(browser, url)
    _replies(w, 30)
    many = _queries(browser, url)
    assert none == many

    _replies(w, 1, start=200)  # a new notification: counted again, in one query
    assert _header_queries(browser, url) == 1
    assert _header_queries(browser, url) == 0  # then kept


def _header(browser) -> tuple[int, int]:
    """What the header says: (unread notifications, conversations with unread messages)."""
    context = browser.get(reverse("home")).context
    return context["unread_notification_count"](), context["unread_message_count"]()


def test_header_counts_follow_every_change_of_the_members_own_notifications_and_messages(open_world):
    from members import services_messages
    from members.models import ConversationParticipant

    w = open_world
    Notification.objects.filter(recipient=w.editor).delete()
    browser = client_for(w.editor)
    assert _header(browser) == (0, 0)

    _replies(w, 2)
    assert _header(browser) == (2, 0)
    notification_services.notification_mark_read(actor=w.editor, notification=notes(w.editor).first())
    assert _header(browser) == (1, 0)
    notification_services.notifications_mark_all_read(actor=w.editor)
    assert _header(browser) == (0, 0)

    conversation = services_messages.conversation_start(
        actor=w.moderator, recipients=[w.editor], subject="Minutes", body="Could you check them?"
    )
    assert _header(browser) == (1, 1)  # the message, and its notification
    participation = ConversationParticipant.objects.get(conversation=conversation, user=w.editor)
    services_messages.conversation_mark_read(actor=w.editor, participation=participation)
    assert _header(browser) == (0, 0)
    services_messages.message_send(actor=w.moderator, conversation=conversation, body="Any news?")
    assert _header(browser) == (1, 1)


def test_a_count_kept_in_the_cache_follows_what_the_member_may_see_when_it_expires(open_world, monkeypatch):
    import time

    from members import selectors_messages

    # The cache (local memory or Redis) expires entries on the real clock: a one-second lifetime instead of a minute.
    monkeypatch.setattr(selectors_messages, "HEADER_COUNTS_SECONDS", 1)
    w = open_world
    Notification.objects.filter(recipient=w.editor).delete()
    _replies(w, 2)
    browser = client_for(w.editor)
    assert _header(browser) == (2, 0)

    moderation_services.item_hide(actor=w.admin, item=notes(w.editor).first().item, reason="Spam")
    # The list is exact at once; the number in the header once the kept count expires.
    assert len(browser.get(reverse("members:notifications")).context["notifications"]) == 1
    time.sleep(1.5)
    assert _header(browser) == (1, 0)


def test_header_shows_99_plus_beyond_99_unread(open_world):
    """The header counts at most 100 unread notifications: past 99 it says "99+" (and stops reading)."""
    w = open_world
    Notification.objects.filter(recipient=w.editor).delete()
    Notification.objects.bulk_create(
        [Notification(recipient=w.editor, kind=Kind.REPLY, text=f"Note {n}", url="/") for n in range(99)]
    )
    browser = client_for(w.editor)
    assert '<span class="badge site-bell-count">99<span' in browser.get(reverse("home")).content.decode()
    Notification.objects.create(recipient=w.editor, kind=Kind.REPLY, text="One more", url="/")
    assert '<span class="badge site-bell-count">99+<span' in browser.get(reverse("home")).content.decode()


# --- The space home: "new since your last visit" and the mute button --------------------------------------------
def test_space_home_marks_what_is_new_since_the_last_visit(open_world):
    w = open_world
    browser = client_for(w.viewer)
    url = w.space.get_absolute_url()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        page(w, title="Old page")
        response = browser.get(url)
        assert response.context["new_since"] is None  # a first visit marks nothing
        assert "since your last visit" not in response.content.decode()
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        page(w, title="Fresh page")
        page(w, title="My own page", by=w.moderator)
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        response = browser.get(url)
        assert response.context["new_since"] == start
        html = response.content.decode()
        assert html.count("since your last visit") == 2
    with time_machine.travel(start + timedelta(hours=2, minutes=10), tick=False):
        # coming back from reading an item is the same visit: the marks stay
        assert browser.get(url).content.decode().count("since your last visit") == 2
    with time_machine.travel(start + timedelta(hours=5), tick=False):
        assert "since your last visit" not in browser.get(url).content.decode()
    visit = SpaceVisit.objects.get(user=w.viewer, space=w.space)
    assert visit.last_visit_at == start + timedelta(hours=5)


def test_anonymous_space_visits_are_not_recorded(client, open_world):
    w = open_world
    assert client.get(w.space.get_absolute_url()).status_code == 200
    assert not SpaceVisit.objects.exists()


def test_mute_button_on_the_space_home_toggles_with_htmx(open_world):
    w = open_world
    browser = client_for(w.viewer)
    assert "Mute this space" in browser.get(w.space.get_absolute_url()).content.decode()
    url = reverse("members:space-mute", kwargs={"community_slug": w.community.slug, "space_slug": w.space.slug})
    assert browser.get(url).status_code == 405

    response = htmx(browser, "post", url)
    assert response.status_code == 200 and "Unmute this space" in response.content.decode()
    assert SpaceMute.objects.filter(user=w.viewer, space=w.space).exists()
    response = browser.post(url, {"next": w.space.get_absolute_url()})
    assert response.status_code == 302 and response["Location"] == w.space.get_absolute_url()
    assert not SpaceMute.objects.exists()


def test_outsiders_cannot_mute_a_closed_space_they_cannot_see(closed_world):
    w = closed_world
    url = reverse("members:space-mute", kwargs={"community_slug": w.community.slug, "space_slug": w.space.slug})
    assert client_for(w.outsider).post(url).status_code == 404
    assert not SpaceMute.objects.exists()


def test_anonymous_cannot_mute(client, open_world):
    w = open_world
    url = reverse("members:space-mute", kwargs={"community_slug": w.community.slug, "space_slug": w.space.slug})
    response = client.post(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert "Mute this space" not in client.get(w.space.get_absolute_url()).content.decode()


def test_event_reminders_run_from_cron_on_the_embedded_default(open_world):
    from io import StringIO

    from django.core.management import call_command

    w = open_world
    event = _event(w, starts_at=timezone.now() + timedelta(hours=24, minutes=5))
    event_services.event_registration_set(actor=w.viewer, event=event, status="going")
    out = StringIO()
    call_command("send_event_reminders", stdout=out)
    call_command("send_event_reminders", stdout=out)
    assert out.getvalue().splitlines() == ["Event reminders created: 1.", "Event reminders created: 0."]


def test_a_failure_in_notifications_never_stops_the_action(open_world, monkeypatch, caplog):
    from members import receivers

    def broken(event):
        raise RuntimeError("bug in a handler")

    monkeypatch.setitem(receivers.KIND_HANDLERS, "comment_create", broken)
    w = open_world
    p = page(w)
    comment = services.comment_create(actor=w.moderator, target=p.item, body="Still posted")
    assert comment.pk and not Notification.objects.filter(kind=Kind.REPLY).exists()
    assert any("bug in a handler" in (r.exc_text or "") or r.exc_info for r in caplog.records)
    caplog.clear()  # the error was expected here
