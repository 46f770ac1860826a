"""Direct messages in digests, in the REST API and in the demo content (issue 9, item 1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from members import digests
from members import services_messages as services
from members.demo_messages import seed_demo_messages
from members.models import Conversation, Message
from members.notifications import notification_preferences_update
from members.services_tokens import token_create
from tests.api.support import ApiClient
from tests.factories import make_user

pytestmark = pytest.mark.django_db
T0 = datetime(2025, 3, 3, 7, 10, tzinfo=UTC)
SEND = datetime(2025, 3, 3, 8, 5, tzinfo=UTC)
SECRET = "Our draft release figures are 4.2 percent"


def _daily(user) -> None:
    notification_preferences_update(
        actor=user, user=user, email_off=[], digest_frequency="daily", digest_hour=8, skip_digest_if_seen=True
    )


def _compose(members) -> dict[int, digests.Digest]:
    jobs = [digests.preview_job(member, SEND) for member in members]
    return {d.member.pk: d for d in digests.compose_digests(jobs, now=SEND)}


def _batch_queries(members) -> int:
    jobs = [digests.preview_job(member, SEND) for member in members]
    with CaptureQueriesContext(connection) as ctx:
        digests.compose_digests(jobs, now=SEND)
    return len(ctx.captured_queries)


def test_unread_messages_appear_in_the_recipients_digest_only_and_without_their_text(time_machine):
    time_machine.move_to(T0 - timedelta(days=3), tick=False)
    alice, bob, carol, dave = (make_user(n) for n in ("alice", "bob", "carol", "dave"))
    for user in (alice, bob, carol, dave):
        _daily(user)
    time_machine.move_to(T0, tick=False)
    conversation = services.conversation_start(actor=alice, recipients=[bob], subject="Release", body=SECRET)
    services.message_send(actor=alice, conversation=conversation, body="And one more")
    services.conversation_start(actor=carol, recipients=[alice], subject="Muted one", body="psst")
    time_machine.move_to(SEND, tick=False)
    composed = _compose([alice, bob, carol, dave])

    assert [(m.title, m.unread) for m in composed[bob.pk].messages] == [("Release", 2)]
    assert [m.title for m in composed[alice.pk].messages] == ["Muted one"]  # her own messages are not unread
    assert composed[carol.pk].messages == [] and composed[dave.pk].messages == []
    subject, text, html = digests.render_digest(composed[bob.pk], unsubscribe="")
    assert "Release" in text and "2 unread messages" in text
    assert SECRET not in text and SECRET not in html
    _s, dave_text, dave_html = digests.render_digest(composed[dave.pk], unsubscribe="")
    assert "Release" not in dave_text + dave_html


def test_muted_and_read_conversations_stay_out_of_the_digest(time_machine):
    time_machine.move_to(T0 - timedelta(days=3), tick=False)
    alice, bob = make_user("alice"), make_user("bob")
    _daily(bob)
    time_machine.move_to(T0, tick=False)
    conversation = services.conversation_start(actor=alice, recipients=[bob], subject="Release", body=SECRET)
    participation = conversation.participants.get(user=bob)
    services.conversation_mute_set(actor=bob, participation=participation, muted=True)
    time_machine.move_to(SEND, tick=False)
    assert _compose([bob])[bob.pk].messages == []


def test_digest_batch_queries_do_not_grow_with_conversations(time_machine):
    time_machine.move_to(T0 - timedelta(days=3), tick=False)
    members = [make_user() for _ in range(6)]
    for member in members:
        _daily(member)
    time_machine.move_to(T0, tick=False)
    services.conversation_start(actor=members[0], recipients=members[1:3], body="Hello")
    time_machine.move_to(SEND, tick=False)
    few = _batch_queries(members[:3])
    time_machine.move_to(T0, tick=False)
    for sender in members:
        for _ in range(5):
            services.conversation_start(actor=sender, recipients=[m for m in members if m != sender], body="Hi")
    time_machine.move_to(SEND, tick=False)
    many = _batch_queries(members)
    assert few == many


# --- REST API ---------------------------------------------------------------------------------------------------
@pytest.fixture
def api_chat():
    alice, bob, mallory = make_user("alice"), make_user("bob"), make_user("mallory")
    staff = make_user("root", staff=True)
    conversation = services.conversation_start(actor=alice, recipients=[bob], subject="Release", body=SECRET)
    tokens = {
        user.username: token_create(actor=user, name="t", scope="read_write").secret
        for user in (alice, bob, mallory, staff)
    }
    return conversation, alice, bob, mallory, staff, tokens


def test_api_lists_and_reads_ones_own_conversations(api_chat):
    conversation, alice, bob, _mallory, _staff, tokens = api_chat
    client = ApiClient(tokens[bob.username])
    listing = client.get("/me/conversations")
    assert listing.status_code == 200
    assert [c["subject"] for c in listing.json()["results"]] == ["Release"]
    messages = client.get(f"/me/conversations/{conversation.pk}/messages")
    assert messages.status_code == 200
    assert messages.json()["results"][0]["body"] == SECRET


def test_api_another_members_token_gets_404_and_sees_nothing(api_chat):
    conversation, _alice, _bob, mallory, staff, tokens = api_chat
    for name in (mallory.username, staff.username):
        client = ApiClient(tokens[name])
        assert client.get("/me/conversations").json()["count"] == 0
        assert client.get(f"/me/conversations/{conversation.pk}/messages").status_code == 404
        assert client.post(f"/me/conversations/{conversation.pk}/messages", {"body": "hi"}).status_code == 404
    assert Message.objects.count() == 1
    assert ApiClient().get(f"/me/conversations/{conversation.pk}/messages").status_code == 401


def test_api_sends_a_message_and_respects_blocks(api_chat):
    conversation, alice, bob, _mallory, _staff, tokens = api_chat
    client = ApiClient(tokens[bob.username])
    sent = client.post(f"/me/conversations/{conversation.pk}/messages", {"body": "Thanks, **noted**"})
    assert sent.status_code == 201
    assert "<strong>noted</strong>" in sent.json()["body_html"]
    assert client.post(f"/me/conversations/{conversation.pk}/messages", {"body": ""}).status_code == 422
    services.member_block(actor=alice, member=bob)
    refused = client.post(f"/me/conversations/{conversation.pk}/messages", {"body": "Hello?"})
    assert refused.status_code == 403
    assert refused.json()["detail"] == "You cannot message this member."
    assert conversation.messages.count() == 2


# --- Demo content -----------------------------------------------------------------------------------------------
def test_seed_demo_messages_is_idempotent():
    users = [make_user(n) for n in ("amina", "bruno", "chen", "dolores")]
    seed_demo_messages(users)
    conversations, messages = Conversation.objects.count(), Message.objects.count()
    assert conversations == 3 and messages == 10
    seed_demo_messages(users)
    assert (Conversation.objects.count(), Message.objects.count()) == (conversations, messages)
