"""Digest "skip if already seen" end to end (issue 5 item 7 with issue 6 item 1): the member opens items through
the real detail pages, whose recorded views the digest job reads."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.core import mail

from members.models import DigestRecord, DigestStatus
from members.notifications import notification_preferences_update
from members.services_digests import digests_run
from spaces import services
from spaces.models import SpaceRole
from spaces.services.events import event_create
from spaces.services.posts import post_create
from tests.factories import add_member, make_community, make_space, make_user
from tests.spaces.helpers import client_for, htmx, space_url

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 3, 3, 7, 10, tzinfo=UTC)  # a Monday; what changed happened at 07:10
READ = T0 + timedelta(minutes=20)  # when the reader opens things
SEND = datetime(2025, 3, 3, 8, 5, tzinfo=UTC)  # the 08:00 UTC run


def prefs(user, frequency: str, skip_seen: bool = True) -> None:
    notification_preferences_update(
        actor=user, user=user, email_off=[], digest_frequency=frequency, digest_hour=8, skip_digest_if_seen=skip_seen
    )


@pytest.fixture
def scene(time_machine):
    """An open space where ``author`` changes a page and adds a page, a question, an event and a post at T0;
    ``reader`` (viewer) gets a daily digest at 08:00 UTC."""
    time_machine.move_to(T0 - timedelta(days=10), tick=False)
    staff = make_user("staff", staff=True)
    community = make_community(staff, slug="stats")
    space = make_space(staff, community, "open", slug="census")
    author, reader = make_user("author"), make_user("reader")
    add_member(space, author, SpaceRole.EDITOR, by=staff)
    add_member(space, reader, SpaceRole.VIEWER, by=staff)
    prefs(staff, "off")
    prefs(author, "off")
    prefs(reader, "daily")
    handbook = services.page_create(actor=author, space=space, title="Methods handbook", body="v1")

    time_machine.move_to(T0, tick=False)
    services.page_update(actor=author, page=handbook, title=handbook.title, body="v2", base_version=1)
    starts = T0 + timedelta(days=5)
    items = {
        "Methods handbook": handbook,
        "Response rates 2024": services.page_create(actor=author, space=space, title="Response rates 2024", body="x"),
        "How to impute missing income?": services.question_ask(
            actor=author, space=space, title="How to impute missing income?"
        ),
        "Census workshop": event_create(
            actor=author,
            space=space,
            title="Census workshop",
            starts_at=starts,
            ends_at=starts + timedelta(hours=3),
            time_zone="UTC",
        ),
        "Panel wave 3 is out": post_create(actor=author, space=space, body="Panel wave 3 is out"),
    }
    mail.outbox.clear()
    return SimpleNamespace(space=space, author=author, reader=reader, items=items)


def open_pages(time_machine, reader, items) -> None:
    time_machine.move_to(READ, tick=False)
    browser = client_for(reader)
    for item in items:
        assert browser.get(item.get_absolute_url()).status_code == 200


def digest_text(reader) -> str:
    messages = [message for message in mail.outbox if message.to == [reader.email]]
    assert len(messages) == 1, [m.subject for m in messages]
    return messages[0].body


def run(time_machine) -> None:
    time_machine.move_to(SEND, tick=False)
    digests_run()


def test_member_who_opened_everything_that_changed_gets_no_digest(scene, time_machine):
    open_pages(time_machine, scene.reader, scene.items.values())
    run(time_machine)

    assert [m for m in mail.outbox if m.to == [scene.reader.email]] == []
    assert DigestRecord.objects.get(user=scene.reader).status == DigestStatus.SKIPPED_SEEN


def test_member_who_did_not_open_one_item_gets_a_digest_with_it(scene, time_machine):
    unopened = scene.items.pop("How to impute missing income?")
    open_pages(time_machine, scene.reader, scene.items.values())
    run(time_machine)

    assert unopened.title in digest_text(scene.reader)
    assert DigestRecord.objects.get(user=scene.reader).status == DigestStatus.SENT


def test_history_and_htmx_requests_are_not_opening_the_page(scene, time_machine):
    handbook = scene.items.pop("Methods handbook")
    open_pages(time_machine, scene.reader, scene.items.values())
    browser = client_for(scene.reader)
    assert browser.get(space_url("page-history", scene.space, page_slug=handbook.slug)).status_code == 200
    assert htmx(browser, "get", handbook.get_absolute_url()).status_code == 200
    run(time_machine)

    assert "Methods handbook" in digest_text(scene.reader)


def test_a_page_changed_after_the_member_opened_it_is_news_again(scene, time_machine):
    open_pages(time_machine, scene.reader, scene.items.values())
    handbook = scene.items["Methods handbook"]
    time_machine.move_to(READ + timedelta(minutes=5), tick=False)
    services.page_update(actor=scene.author, page=handbook, title=handbook.title, body="v3", base_version=2)
    run(time_machine)

    assert "Methods handbook" in digest_text(scene.reader)
