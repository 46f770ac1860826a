"""Moderators' edits of other people's content are moderation actions: an EDIT entry in the audit log with
before/after excerpts and the editor's summary as the reason (issue 5, item 4); and a moderator's warning reaches
its author whole, in-app and by e-mail, however long it is (issue 5, items 2 and 5)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from members.models import Notification, NotificationKind
from spaces import services
from spaces.models import ModerationAction, ModerationLogEntry, SpaceRole, Visibility
from spaces.services import moderation
from spaces.services.events import event_create, event_edit
from spaces.services.posts import post_create, post_edit
from tests.factories import add_member, make_user
from tests.spaces.helpers import client_for, messages_of, space_url


@pytest.fixture
def w(world_factory):
    return world_factory(Visibility.OPEN)


def edits():
    return ModerationLogEntry.objects.filter(action=ModerationAction.EDIT)


def member_page(w, body: str = "Call me on 555-0101 for the raw files."):
    return services.page_create(actor=w.editor, space=w.space, title="Raw files", body=body)


# --- Moderators' edits are logged ---------------------------------------------------------------------------------
def test_a_moderators_edit_of_a_members_page_is_in_the_space_moderation_log(w):
    page = member_page(w)

    response = client_for(w.moderator).post(
        page.get_absolute_url() + "edit/",
        {
            "title": "Raw files (request)",
            "body": "Ask the data desk for the raw files.",
            "base_version": page.version,
            "summary": "Removed a private phone number",
        },
    )

    assert response.status_code == 302
    entry = edits().get()
    assert (entry.actor, entry.subject, entry.space, entry.reason) == (
        w.moderator,
        w.editor,
        w.space,
        "Removed a private phone number",
    )
    assert entry.before == {"title": "Raw files", "body": "Call me on 555-0101 for the raw files."}
    assert entry.after == {"title": "Raw files (request)", "body": "Ask the data desk for the raw files."}
    log = client_for(w.moderator).get(space_url("moderation-log", w.space)).content.decode()
    assert "Edited the content" in log and "Removed a private phone number" in log and "555-0101" in log
    told = Notification.objects.get(recipient=w.editor, kind=NotificationKind.MODERATION)
    assert "A moderator edited your content" in told.text


def test_an_authors_own_edit_and_an_editors_wiki_edit_write_no_log_entry(w):
    page = member_page(w)
    colleague = make_user("colleague")
    add_member(w.space, colleague, SpaceRole.EDITOR, by=w.staff)

    services.page_update(actor=w.editor, page=page, title="Raw files", body="Mine, changed.", base_version=1)
    services.page_update(actor=colleague, page=page, title="Raw files", body="Ours, changed.", base_version=2)

    assert page.version == 3
    assert not edits().exists()
    assert not Notification.objects.filter(recipient=w.editor, kind=NotificationKind.MODERATION).exists()


def test_an_unchanged_save_by_a_moderator_writes_nothing(w):
    page = member_page(w)

    services.page_update(actor=w.moderator, page=page, title=page.title, body=page.body, base_version=page.version)

    assert not edits().exists()


def test_moderator_edits_of_questions_answers_posts_and_events_are_logged_with_what_changed(w):
    question = services.question_ask(actor=w.editor, space=w.space, title="Which keys?", body="We have none.")
    answer = services.answer_post(actor=w.editor, question=question, body="Use names.")
    post = post_create(actor=w.editor, space=w.space, body="Buy cheap watches")
    start = timezone.now() + timedelta(days=3)
    event = event_create(
        actor=w.editor,
        space=w.space,
        title="Linkage clinic",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        time_zone="UTC",
        venue="Room 1",
    )

    services.question_edit(
        actor=w.moderator, question=question, title="Which linkage keys?", body="We have none.", summary="Clearer"
    )
    services.answer_edit(actor=w.moderator, answer=answer, body="Use names and dates of birth.")
    post_edit(actor=w.moderator, post=post, body="[removed: advertising]")
    event_edit(actor=w.moderator, event=event, venue="Room 2")

    entries = {entry.target_id: entry for entry in edits()}
    assert set(entries) == {question.item_id, answer.item_id, post.item_id, event.item_id}
    assert all(entry.subject == w.editor and entry.actor == w.moderator for entry in entries.values())
    assert entries[question.item_id].before == {"title": "Which keys?"}  # only what changed
    assert entries[question.item_id].reason == "Clearer"
    assert entries[answer.item_id].after == {"body": "Use names and dates of birth."}
    assert entries[post.item_id].before == {"body": "Buy cheap watches"}
    assert (entries[event.item_id].before, entries[event.item_id].after) == ({"venue": "Room 1"}, {"venue": "Room 2"})


def test_a_long_edit_is_logged_as_excerpts(w):
    page = member_page(w, body="old " * 2000)

    services.page_update(actor=w.admin, page=page, title=page.title, body="new " * 2000, base_version=page.version)

    entry = edits().get()
    assert entry.actor == w.admin
    assert entry.before["body"].startswith("old old") and len(entry.before["body"]) <= 200
    assert entry.after["body"].startswith("new new") and len(entry.after["body"]) <= 200


# --- Warnings reach the author whole -------------------------------------------------------------------------------
def test_a_long_warning_reaches_the_author_in_full_in_app_and_by_email(w, django_capture_on_commit_callbacks):
    page = member_page(w)
    moderation.flag_create(actor=w.viewer, target=page.item, reason="spam")
    message = ("Please do not post phone numbers in shared pages " * 30)[:1190] + " END-OF-WARNING"
    assert len(message) > 1200
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(w.moderator).post(
            reverse("spaces:moderation-act", kwargs={"target_kind": "item", "target_id": page.item_id}),
            {"action": "warn", "message": message},
        )

    assert messages_of(response) == ["Warning recorded; the author will be told."]
    told = Notification.objects.get(recipient=w.editor, kind=NotificationKind.MODERATION)
    assert told.text.endswith(message)
    listing = client_for(w.editor).get(reverse("members:notifications")).content.decode()
    assert message in listing
    emails = [m for m in mail.outbox if m.to == [w.editor.email]]
    assert len(emails) == 1 and message in emails[0].body
    html = next(content for content, mimetype in emails[0].alternatives if mimetype == "text/html")
    assert message in html
