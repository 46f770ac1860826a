"""Direct messages between members (issue 9, item 1): privacy on every surface, the rules, and the pages."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from members import services_messages as services
from members.models import (
    Conversation,
    ConversationParticipant,
    EmailState,
    MemberBlock,
    Message,
    MessageAttachment,
    Notification,
    NotificationKind,
)
from members.notifications import notification_preferences_update
from spaces.models import Flag, Visibility
from spaces.selectors_moderation import open_flags, queue_size
from tests.factories import make_user
from tests.spaces.helpers import client_for

SECRET = "The linkage keys are in the blue folder"


@pytest.fixture
def world(world_factory):
    return world_factory(Visibility.OPEN)


@pytest.fixture
def chat(world):
    """A conversation between the world's viewer and editor, with an attachment."""
    upload = SimpleUploadedFile("keys.csv", b"id,key\n1,abc\n", content_type="text/csv")
    conversation = services.conversation_start(
        actor=world.viewer, recipients=[world.editor], subject="Linkage", body=SECRET, attachments=[upload]
    )
    return conversation


def _url(conversation) -> str:
    return reverse("members:conversation", kwargs={"conversation_id": conversation.pk})


def _attachment_url(conversation) -> str:
    return MessageAttachment.objects.get(message__conversation=conversation).get_absolute_url()


# --- Privacy: only participants, on every surface ------------------------------------------------------------------
OUTSIDERS = ["outsider", "moderator", "admin", "community_admin", "staff"]


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_nobody_outside_the_conversation_can_read_it_on_the_web(world, chat, persona):
    browser = client_for(getattr(world, persona))
    assert browser.get(_url(chat)).status_code == 404
    assert browser.get(_attachment_url(chat)).status_code == 404
    listing = browser.get(reverse("members:messages"))
    assert listing.status_code == 200
    assert b"Linkage" not in listing.content
    assert browser.get(reverse("members:message-report", args=[chat.pk, chat.messages.first().pk])).status_code == 404
    assert browser.post(reverse("members:message-reply", args=[chat.pk]), {"body": "let me in"}).status_code == 404
    assert browser.post(reverse("members:conversation-leave", args=[chat.pk])).status_code == 404
    assert Message.objects.filter(conversation=chat).count() == 1


def test_participants_read_the_conversation_and_download_the_attachment(world, chat):
    browser = client_for(world.editor)
    page = browser.get(_url(chat))
    assert page.status_code == 200
    assert SECRET.encode() in page.content
    download = browser.get(_attachment_url(chat))
    assert download.status_code == 200
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content) == b"id,key\n1,abc\n"


def test_anonymous_visitors_are_sent_to_sign_in(world, chat):
    from django.test import Client

    response = Client().get(_url(chat))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_superuser_finds_no_messages_in_the_admin(world, chat):
    from django.contrib import admin

    superuser = make_user("root", staff=True)
    superuser.is_superuser = True
    superuser.save()
    registered = {model._meta.model_name for model in admin.site._registry}
    assert not registered & {"conversation", "conversationparticipant", "message", "messageattachment", "memberblock"}
    browser = client_for(superuser)
    assert browser.get("/admin/members/message/").status_code == 404
    assert browser.get("/admin/members/conversation/").status_code == 404
    assert browser.get(f"/admin/members/message/{chat.messages.first().pk}/change/").status_code == 404
    index = browser.get("/admin/")
    assert index.status_code == 200
    assert SECRET.encode() not in index.content
    user_page = browser.get(f"/admin/members/user/{world.viewer.pk}/change/")
    assert SECRET.encode() not in user_page.content


def test_search_never_finds_a_message(world, chat):
    for persona in ("outsider", "staff", "editor"):
        response = client_for(getattr(world, persona)).get(reverse("search:results"), {"q": "folder"})
        assert response.status_code == 200
        assert b"linkage keys" not in response.content
        assert _url(chat).encode() not in response.content


def test_notifications_and_emails_name_the_sender_but_never_the_text(world, chat):
    notification = Notification.objects.get(recipient=world.editor, kind=NotificationKind.MESSAGE)
    assert "blue folder" not in notification.text
    assert world.viewer.public_name in notification.text
    assert not Notification.objects.filter(kind=NotificationKind.MESSAGE).exclude(recipient=world.editor).exists()
    assert all("blue folder" not in m.body for m in mail.outbox)


def test_the_members_own_export_holds_their_conversations_and_nobody_elses(world, chat):
    from copapp.exports import ZipReport, write_zip
    from members.exports import export_parts

    def archive(user) -> dict[str, bytes]:
        buffer = io.BytesIO()
        write_zip(buffer, export_parts(user, ZipReport()))
        with zipfile.ZipFile(buffer) as z:
            return {name: z.read(name) for name in z.namelist()}

    mine = archive(world.editor)
    conversations = [json.loads(line) for line in mine["members/conversations.json"].decode().splitlines()[1:-1]]
    assert [c["subject"] for c in conversations] == ["Linkage"]
    assert conversations[0]["messages"][0]["body"] == SECRET
    assert any(name.startswith("members/messages/") for name in mine)
    theirs = archive(world.outsider)
    assert all(SECRET.encode() not in content for content in theirs.values())
    assert not any(name.startswith("members/messages/") for name in theirs)


# --- Rules -------------------------------------------------------------------------------------------------------
def test_a_conversation_holds_at_most_twenty_people(world):
    people = [make_user() for _ in range(20)]
    with pytest.raises(Exception) as exc:
        services.conversation_start(actor=world.viewer, recipients=people, body="Hello all")
    assert "at most 20 people" in str(exc.value)
    assert not Conversation.objects.exists()
    conversation = services.conversation_start(actor=world.viewer, recipients=people[:19], body="Hello all")
    assert conversation.participants.count() == 20


def test_a_blocked_member_cannot_start_a_conversation_and_nothing_is_delivered(world):
    services.member_block(actor=world.editor, member=world.viewer)
    browser = client_for(world.viewer)
    response = browser.post(
        reverse("members:conversation-new"), {"recipients": f"@{world.editor.username}", "body": "Hello"}
    )
    assert response.status_code == 400
    assert "You cannot message this member." in response.content.decode()
    assert not Conversation.objects.exists()
    assert not Notification.objects.filter(kind=NotificationKind.MESSAGE).exists()


def test_a_blocked_member_cannot_post_into_a_conversation_with_the_blocker(world):
    conversation = services.conversation_start(actor=world.viewer, recipients=[world.editor, world.admin], body="Hello")
    Notification.objects.all().delete()
    services.member_block(actor=world.editor, member=world.viewer)
    browser = client_for(world.viewer)
    response = browser.post(reverse("members:message-reply", args=[conversation.pk]), {"body": "Still there?"})
    assert response.status_code == 302
    assert "You cannot message this member." in [str(m) for m in browser.get(_url(conversation)).context["messages"]]
    assert conversation.messages.count() == 1
    assert not Notification.objects.exists()
    # The blocker unblocks from the settings page; then messages go through again.
    blocked_page = client_for(world.editor).get(reverse("members:blocked"))
    assert world.viewer.public_name in blocked_page.content.decode()
    client_for(world.editor).post(reverse("members:member-unblock", args=[world.viewer.username]))
    assert not MemberBlock.objects.exists()
    services.message_send(actor=world.viewer, conversation=conversation, body="Still there?")
    assert conversation.messages.count() == 2


def test_muting_stops_notifications_but_the_conversation_stays_readable(world, chat):
    Notification.objects.all().delete()
    browser = client_for(world.editor)
    browser.post(reverse("members:conversation-mute", args=[chat.pk]))
    services.message_send(actor=world.viewer, conversation=chat, body="Are you there?")
    assert not Notification.objects.filter(recipient=world.editor).exists()
    assert b"Are you there?" in browser.get(_url(chat)).content


def test_leaving_removes_the_member_and_the_others_go_on(world):
    conversation = services.conversation_start(actor=world.viewer, recipients=[world.editor, world.admin], body="Hello")
    browser = client_for(world.editor)
    assert browser.post(reverse("members:conversation-leave", args=[conversation.pk])).status_code == 302
    assert browser.get(_url(conversation)).status_code == 404
    Notification.objects.all().delete()
    services.message_send(actor=world.admin, conversation=conversation, body="Bye then")
    assert not Notification.objects.filter(recipient=world.editor).exists()
    assert Notification.objects.filter(recipient=world.viewer).exists()
    assert set(conversation.participants.values_list("user_id", flat=True)) == {world.viewer.pk, world.admin.pk}


def test_message_notifications_obey_preferences_and_the_immediate_cap(world, chat, django_capture_on_commit_callbacks):
    Notification.objects.all().delete()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.message_send(actor=world.viewer, conversation=chat, body="One")
    assert len(mail.outbox) == 1
    client_for(world.editor).get(_url(chat))  # read: the next message notifies again
    with django_capture_on_commit_callbacks(execute=True):
        services.message_send(actor=world.viewer, conversation=chat, body="Two")
    assert len(mail.outbox) == 1  # the hourly cap: left for the digest
    assert Notification.objects.filter(recipient=world.editor, email_state=EmailState.DIGEST).count() == 1
    notification_preferences_update(
        actor=world.editor,
        user=world.editor,
        email_off=[NotificationKind.MESSAGE],
        digest_frequency="weekly",
        digest_hour=8,
        skip_digest_if_seen=True,
    )
    client_for(world.editor).get(_url(chat))
    services.message_send(actor=world.viewer, conversation=chat, body="Three")
    assert Notification.objects.filter(recipient=world.editor).latest("pk").email_state == EmailState.NONE


def test_reporting_a_message_flags_it_for_site_staff_only(world, chat):
    message = chat.messages.first()
    browser = client_for(world.editor)
    url = reverse("members:message-report", args=[chat.pk, message.pk])
    response = browser.post(url, {"reason": "spam", "note": "Odd", "share_text": "on"})
    assert response.status_code == 302
    flag = Flag.objects.get()
    assert flag.target == message and flag.target_author == world.viewer
    assert SECRET in flag.note
    assert flag.space is None and flag.community is None
    assert flag in open_flags(world.staff) and queue_size(world.staff) == 1
    assert not open_flags(world.community_admin, community=world.community).exists()
    assert Notification.objects.filter(recipient=world.staff, kind=NotificationKind.FLAG).exists()
    # The sender cannot report their own message.
    own = reverse("members:message-report", args=[chat.pk, message.pk])
    assert client_for(world.viewer).get(own).status_code == 403


def test_a_report_without_sharing_keeps_the_text_from_staff(world, chat):
    services.message_report(actor=world.editor, message=chat.messages.first(), reason="abusive", note="Rude")
    assert "blue folder" not in Flag.objects.get().note


def test_staff_review_a_reported_message_in_the_site_queue_without_reading_the_conversation(world, chat):
    message = chat.messages.first()
    services.message_report(actor=world.editor, message=message, reason="abusive", note="Rude")
    staff = client_for(world.staff)

    queue = staff.get(reverse("spaces:site-review-queue")).content.decode()
    assert "Direct message" in queue and "Rude" in queue and world.viewer.public_name in queue
    assert SECRET not in queue  # the body is never shown: the reporter did not share it
    act = reverse("spaces:moderation-act", kwargs={"target_kind": "message", "target_id": message.pk})
    # Community admins and moderators do not handle reports of private messages; neither can they see them.
    assert client_for(world.community_admin).post(act, {"action": "dismiss"}).status_code == 404
    assert Flag.objects.get().status == "open"

    staff.post(act, {"action": "warn", "message": "Please keep it civil."})
    warned = Notification.objects.filter(recipient=world.viewer, kind=NotificationKind.MODERATION).get()
    assert "Please keep it civil." in warned.text and SECRET not in warned.text
    staff.post(act, {"action": "dismiss"})
    assert not Flag.objects.filter(status="open").exists()
    assert "Direct message" not in staff.get(reverse("spaces:site-review-queue")).content.decode()


def test_new_accounts_are_held_to_the_spam_limits(world, settings):
    settings.NEW_ACCOUNT_HOURS = 24
    settings.NEW_ACCOUNT_MAX_POSTS_PER_HOUR = 2
    newcomer = make_user("newcomer")
    conversation = services.conversation_start(actor=newcomer, recipients=[world.editor], body="Hi")
    services.message_send(actor=newcomer, conversation=conversation, body="Hi again")
    browser = client_for(newcomer)
    response = browser.post(reverse("members:message-reply", args=[conversation.pk]), {"body": "And again"})
    assert response.status_code == 400
    assert "New accounts can post 2 times an hour" in response.content.decode()
    links = " ".join(f"https://example.org/{n}" for n in range(5))
    with pytest.raises(Exception, match="links"):
        services.conversation_start(actor=make_user(), recipients=[world.editor], body=links)
    assert conversation.messages.count() == 2
    newcomer.date_joined = timezone.now() - timedelta(days=2)
    newcomer.save()
    services.message_send(actor=newcomer, conversation=conversation, body="Old enough now")


# --- Bad input: a clear message, nothing changed ------------------------------------------------------------------
@pytest.mark.parametrize(
    "data, expected",
    [
        ({"recipients": "@{editor}", "body": ""}, "Write a message before sending."),
        ({"recipients": "nobody-by-that-name", "body": "Hello"}, "No single member matches: nobody-by-that-name"),
        ({"recipients": "", "body": "Hello"}, "Choose at least one member to write to."),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(world, data, expected):
    data = {key: value.format(editor=world.editor.username) for key, value in data.items()}
    response = client_for(world.viewer).post(reverse("members:conversation-new"), data)
    assert response.status_code == 400
    assert expected in response.content.decode()
    assert not Conversation.objects.exists()


def test_too_many_recipients_are_refused(world):
    people = [make_user() for _ in range(20)]
    data = {"recipients": ", ".join(f"@{p.username}" for p in people), "body": "Hello"}
    response = client_for(world.viewer).post(reverse("members:conversation-new"), data)
    assert response.status_code == 400
    assert "at most 20 people" in response.content.decode()
    assert not Conversation.objects.exists()


def test_an_oversized_or_unsafe_attachment_is_refused(world, settings):
    settings.FILE_MAX_BYTES = 10
    big = SimpleUploadedFile("data.csv", b"a,b\n" * 10, content_type="text/csv")
    data = {"recipients": f"@{world.editor.username}", "body": "See attached", "attachments": big}
    response = client_for(world.viewer).post(reverse("members:conversation-new"), data)
    assert response.status_code == 400
    assert "the limit is" in response.content.decode()
    settings.FILE_MAX_BYTES = 10_000
    page = SimpleUploadedFile("x.html", b"<html><script>alert(1)</script></html>", content_type="text/html")
    data["attachments"] = page
    response = client_for(world.viewer).post(reverse("members:conversation-new"), data)
    assert response.status_code == 400
    assert not Conversation.objects.exists()
    assert not MessageAttachment.objects.exists()


def test_the_profile_message_button_prefills_the_recipient(world):
    browser = client_for(world.viewer)
    profile = browser.get(world.editor.get_absolute_url()).content.decode()
    assert f"?to={world.editor.username}" in profile
    form = browser.get(reverse("members:conversation-new"), {"to": world.editor.username}).content.decode()
    assert f'value="@{world.editor.username}"' in form


def test_markdown_is_rendered_safely(world):
    conversation = services.conversation_start(
        actor=world.viewer, recipients=[world.editor], body="**bold** <script>alert(1)</script>"
    )
    html = client_for(world.editor).get(_url(conversation)).content.decode()
    assert "<strong>bold</strong>" in html
    assert "<script>alert(1)</script>" not in html


# --- The header count and query counts ----------------------------------------------------------------------------
def test_header_shows_conversations_with_unread_messages(world, chat):
    browser = client_for(world.editor)
    home = browser.get(reverse("home"))
    assert home.context["unread_message_count"]() == 1
    browser.get(_url(chat))
    assert browser.get(reverse("home")).context["unread_message_count"]() == 0


def _queries(browser, url: str) -> int:
    assert browser.get(url).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        assert browser.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_conversation_list_query_count_is_the_same_for_3_and_30(world):
    def start(n: int) -> None:
        for i in range(n):
            services.conversation_start(actor=make_user(), recipients=[world.editor, world.admin], body=f"Hi {i}")

    browser = client_for(world.editor)
    start(3)
    few = _queries(browser, reverse("members:messages"))
    start(27)
    many = _queries(browser, reverse("members:messages"))
    # session, user, count, page of participations, their participants, the header counts
    assert few == many == 4  # the header's counts (and the roles they need) come from the cache


def test_conversation_page_query_count_is_the_same_for_3_and_30(world, chat):
    browser = client_for(world.editor)
    for i in range(2):
        services.message_send(actor=world.viewer, conversation=chat, body=f"Message {i}")
    few = _queries(browser, _url(chat))
    for i in range(27):
        services.message_send(actor=world.viewer, conversation=chat, body=f"More {i}")
    many = _queries(browser, _url(chat))
    # session, user, participation, count, messages, attachments, participants, blocks, header counts
    assert few == many == 7  # the header's counts (and the roles they need) come from the cache


def test_unread_conversations_have_a_marker_in_the_list(world, chat):
    html = client_for(world.editor).get(reverse("members:messages")).content.decode()
    assert "Unread" in html
    assert ConversationParticipant.objects.get(user=world.viewer).last_read_at is not None


def test_staff_previewing_a_members_digest_see_none_of_their_messages(world, chat):
    notification_preferences_update(
        actor=world.editor,
        user=world.editor,
        email_off=[],
        digest_frequency="daily",
        digest_hour=8,
        skip_digest_if_seen=False,
    )
    Notification.objects.filter(recipient=world.editor).update(email_state=EmailState.DIGEST)
    own = client_for(world.editor).get(reverse("members:digest-preview")).content.decode()
    assert "Linkage" in own
    url = reverse("members:digest-preview") + f"?member={world.editor.pk}"
    staff_view = client_for(world.staff).get(url)
    assert staff_view.status_code == 200
    html = staff_view.content.decode()
    assert "Linkage" not in html
    assert "sent you a message" not in html


def test_the_list_shows_newest_activity_first(world):
    first = services.conversation_start(actor=world.viewer, recipients=[world.editor], subject="First", body="1")
    services.conversation_start(actor=world.admin, recipients=[world.editor], subject="Second", body="2")
    services.message_send(actor=world.viewer, conversation=first, body="bump")
    rows = client_for(world.editor).get(reverse("members:messages")).context["rows"]
    assert [row.conversation.subject for row in rows] == ["First", "Second"]
