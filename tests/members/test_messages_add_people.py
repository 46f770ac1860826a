"""Adding people to an existing conversation (issue 9, direct messages): the rules, the page and the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from members import services_messages as services
from members.models import MAX_PARTICIPANTS, ConversationParticipant, Notification, NotificationKind
from members.notifications import notification_preferences_update
from members.services_tokens import token_create
from spaces.models import Visibility
from tests.api.support import ApiClient
from tests.factories import make_user
from tests.spaces.helpers import client_for

SECRET = "The linkage keys are in the blue folder"


@pytest.fixture
def world(world_factory):
    return world_factory(Visibility.OPEN)


@pytest.fixture
def chat(world):
    """A conversation between the world's viewer and editor."""
    return services.conversation_start(actor=world.viewer, recipients=[world.editor], subject="Linkage", body=SECRET)


def _add_url(conversation) -> str:
    return reverse("members:conversation-add", kwargs={"conversation_id": conversation.pk})


def _url(conversation) -> str:
    return reverse("members:conversation", kwargs={"conversation_id": conversation.pk})


def _people(conversation) -> set[int]:
    return set(conversation.participants.values_list("user_id", flat=True))


def test_a_participant_adds_a_member_who_then_reads_the_whole_conversation(world, chat):
    newcomer = make_user("ramon")
    browser = client_for(world.editor)
    response = browser.post(_add_url(chat), {"people": f"@{newcomer.username}"})
    assert response.status_code == 302
    assert response.url == _url(chat)
    assert _people(chat) == {world.viewer.pk, world.editor.pk, newcomer.pk}
    page = client_for(newcomer).get(_url(chat))
    assert page.status_code == 200
    assert SECRET in page.content.decode()  # added members see the conversation from its first message
    assert "Added to the conversation: Ramon." in [str(m) for m in browser.get(_url(chat)).context["messages"]]


def test_the_conversation_page_offers_the_add_people_form(world, chat):
    html = client_for(world.viewer).get(_url(chat)).content.decode()
    assert f'action="{_add_url(chat)}"' in html
    assert 'name="people"' in html
    assert "csrfmiddlewaretoken" in html
    assert "from its first message" in html


@pytest.mark.parametrize("persona", ["outsider", "moderator", "admin", "community_admin", "staff"])
def test_nobody_outside_the_conversation_can_add_people(world, chat, persona):
    newcomer = make_user("ramon")
    response = client_for(getattr(world, persona)).post(_add_url(chat), {"people": f"@{newcomer.username}"})
    assert response.status_code == 404
    assert _people(chat) == {world.viewer.pk, world.editor.pk}


def test_adding_people_needs_a_post_and_a_signed_in_member(world, chat):
    assert client_for(world.viewer).get(_add_url(chat)).status_code == 405
    response = Client().post(_add_url(chat), {"people": "@someone"})
    assert response.status_code == 302 and "login" in response.url
    assert _people(chat) == {world.viewer.pk, world.editor.pk}


def test_a_member_who_left_cannot_add_people_any_more(world, chat):
    services.conversation_leave(actor=world.editor, participation=chat.participants.get(user=world.editor))
    response = client_for(world.editor).post(_add_url(chat), {"people": f"@{make_user('ramon').username}"})
    assert response.status_code == 404
    assert _people(chat) == {world.viewer.pk}


def test_adding_beyond_the_limit_is_refused_and_nothing_changes(world, chat):
    crowd = [make_user() for _ in range(MAX_PARTICIPANTS - 2)]
    services.conversation_add_people(actor=world.viewer, conversation=chat, members=crowd)
    assert len(_people(chat)) == MAX_PARTICIPANTS
    Notification.objects.all().delete()
    one_more = make_user("ramon")
    response = client_for(world.viewer).post(_add_url(chat), {"people": f"@{one_more.username}"})
    assert response.status_code == 400
    assert "A conversation can have at most 20 people; this one already has 20." in response.content.decode()
    assert len(_people(chat)) == MAX_PARTICIPANTS
    assert not Notification.objects.exists()


def test_a_full_conversation_says_so_instead_of_offering_the_form(world, chat):
    services.conversation_add_people(
        actor=world.viewer, conversation=chat, members=[make_user() for _ in range(MAX_PARTICIPANTS - 2)]
    )
    html = client_for(world.viewer).get(_url(chat)).content.decode()
    assert "This conversation is full" in html
    assert _add_url(chat) not in html


def test_adding_several_people_over_the_limit_adds_none_of_them(world, chat):
    services.conversation_add_people(
        actor=world.viewer, conversation=chat, members=[make_user() for _ in range(MAX_PARTICIPANTS - 3)]
    )
    with pytest.raises(Exception, match="at most 20 people"):
        services.conversation_add_people(actor=world.viewer, conversation=chat, members=[make_user(), make_user()])
    assert len(_people(chat)) == MAX_PARTICIPANTS - 1


def test_someone_who_blocked_the_adder_cannot_be_added(world, chat):
    newcomer = make_user("ramon")
    services.member_block(actor=newcomer, member=world.editor)
    Notification.objects.all().delete()
    response = client_for(world.editor).post(_add_url(chat), {"people": f"@{newcomer.username}"})
    assert response.status_code == 400
    assert "You cannot message this member." in response.content.decode()
    assert newcomer.pk not in _people(chat)
    assert not Notification.objects.exists()


def test_someone_the_adder_blocked_cannot_be_added(world, chat):
    newcomer = make_user("ramon")
    services.member_block(actor=world.editor, member=newcomer)
    response = client_for(world.editor).post(_add_url(chat), {"people": f"@{newcomer.username}"})
    assert response.status_code == 400
    assert "You blocked Ramon: unblock them before adding them." in response.content.decode()
    assert newcomer.pk not in _people(chat)


def test_adding_someone_already_in_the_conversation_says_so(world, chat):
    newcomer = make_user("ramon")
    response = client_for(world.editor).post(
        _add_url(chat), {"people": f"@{world.viewer.username}, @{newcomer.username}"}
    )
    assert response.status_code == 400
    assert f"Already in this conversation: {world.viewer.public_name}." in response.content.decode()
    assert _people(chat) == {world.viewer.pk, world.editor.pk}


@pytest.mark.parametrize(
    "people, expected",
    [
        ("", "Choose at least one member to add."),
        ("nobody-by-that-name", "No single member matches: nobody-by-that-name"),
        ("@{me}", "Choose at least one member other than yourself."),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(world, chat, people, expected):
    response = client_for(world.editor).post(_add_url(chat), {"people": people.format(me=world.editor.username)})
    assert response.status_code == 400
    assert expected in response.content.decode()
    assert _people(chat) == {world.viewer.pk, world.editor.pk}


def test_inactive_or_deleted_accounts_cannot_be_added(world, chat):
    inactive, deleted = make_user("sleeper"), make_user("gone")
    inactive.is_active = False
    inactive.save()
    deleted.deleted_at = timezone.now()
    deleted.save()
    response = client_for(world.editor).post(_add_url(chat), {"people": f"@{inactive.username}, @{deleted.username}"})
    assert response.status_code == 400
    assert "No single member matches" in response.content.decode()
    with pytest.raises(Exception, match="cannot receive messages"):
        services.conversation_add_people(actor=world.editor, conversation=chat, members=[inactive])
    assert _people(chat) == {world.viewer.pk, world.editor.pk}


def test_a_member_who_left_can_be_added_again_and_reads_everything(world, chat):
    services.conversation_leave(actor=world.editor, participation=chat.participants.get(user=world.editor))
    services.message_send(actor=world.viewer, conversation=chat, body="Said while you were away")
    assert client_for(world.editor).get(_url(chat)).status_code == 404
    response = client_for(world.viewer).post(_add_url(chat), {"people": f"@{world.editor.username}"})
    assert response.status_code == 302
    page = client_for(world.editor).get(_url(chat)).content.decode()
    assert SECRET in page and "Said while you were away" in page


def test_added_members_are_notified_and_their_preferences_apply(world, chat, django_capture_on_commit_callbacks):
    ramon, quiet = make_user("ramon"), make_user("quiet")
    notification_preferences_update(
        actor=quiet,
        user=quiet,
        email_off=[NotificationKind.MESSAGE],
        digest_frequency="off",
        digest_hour=8,
        skip_digest_if_seen=True,
    )
    Notification.objects.all().delete()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.conversation_add_people(actor=world.editor, conversation=chat, members=[ramon, quiet])
    notes = Notification.objects.filter(kind=NotificationKind.MESSAGE)
    assert sorted(n.recipient_id for n in notes) == sorted([ramon.pk, quiet.pk])  # not the adder nor the others
    note = notes.get(recipient=ramon)
    assert note.text == f"{world.editor.public_name} added you to a conversation"
    assert note.url == _url(chat)
    assert [m.to for m in mail.outbox] == [[ramon.email]]  # quiet turned message e-mails off
    assert all(SECRET not in m.body for m in mail.outbox)


def test_new_accounts_over_the_spam_limits_cannot_add_people(world, settings):
    settings.NEW_ACCOUNT_HOURS = 24
    settings.NEW_ACCOUNT_MAX_POSTS_PER_HOUR = 2
    newcomer = make_user("newcomer")
    conversation = services.conversation_start(actor=newcomer, recipients=[world.editor], body="Hi")
    services.message_send(actor=newcomer, conversation=conversation, body="Hi again")
    response = client_for(newcomer).post(_add_url(conversation), {"people": f"@{world.admin.username}"})
    assert response.status_code == 400
    assert "New accounts can post 2 times an hour" in response.content.decode()
    assert world.admin.pk not in _people(conversation)
    newcomer.date_joined = timezone.now() - timedelta(days=2)
    newcomer.save()
    services.conversation_add_people(actor=newcomer, conversation=conversation, members=[world.admin])
    assert world.admin.pk in _people(conversation)


# --- REST API ---------------------------------------------------------------------------------------------------
@pytest.fixture
def api_chat(db):
    alice, bob, carol, mallory = (make_user(n) for n in ("alice", "bob", "carol", "mallory"))
    conversation = services.conversation_start(actor=alice, recipients=[bob], subject="Release", body=SECRET)
    return conversation, alice, bob, carol, mallory


def _participants_url(conversation) -> str:
    return f"/me/conversations/{conversation.pk}/participants"


def test_api_adds_people_with_a_read_write_token(api_chat):
    conversation, alice, bob, carol, _mallory = api_chat
    client = ApiClient(token_create(actor=alice, name="t", scope="read_write").secret)
    response = client.post(_participants_url(conversation), {"usernames": [f"@{carol.username}"]})
    assert response.status_code == 201
    assert {p["username"] for p in response.json()["participants"]} == {alice.username, bob.username, carol.username}
    assert Notification.objects.filter(recipient=carol, kind=NotificationKind.MESSAGE).exists()
    again = client.post(_participants_url(conversation), {"usernames": [carol.username]})
    assert again.status_code == 422
    assert "Already in this conversation" in again.json()["detail"]


def test_api_read_only_token_cannot_add_people(api_chat):
    conversation, alice, _bob, carol, _mallory = api_chat
    client = ApiClient(token_create(actor=alice, name="t", scope="read").secret)
    response = client.post(_participants_url(conversation), {"usernames": [carol.username]})
    assert response.status_code in (401, 403)
    assert carol.pk not in _people(conversation)


def test_api_non_participant_gets_404_and_blocks_are_refused(api_chat):
    conversation, alice, _bob, carol, mallory = api_chat
    outsider = ApiClient(token_create(actor=mallory, name="t", scope="read_write").secret)
    assert outsider.post(_participants_url(conversation), {"usernames": [carol.username]}).status_code == 404
    services.member_block(actor=carol, member=alice)
    refused = ApiClient(token_create(actor=alice, name="t", scope="read_write").secret).post(
        _participants_url(conversation), {"usernames": [carol.username]}
    )
    assert refused.status_code == 403
    assert refused.json()["detail"] == "You cannot message this member."
    assert not ConversationParticipant.objects.filter(conversation=conversation, user__in=[carol, mallory]).exists()
