"""Calendar feeds (public for open spaces, secret tokens otherwise), the member's feed links page, and the
upcoming events across the member's spaces."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from spaces.models import Event, FeedToken, SpaceMembership, Visibility
from spaces.services import events as event_services
from spaces.services import feeds as feed_services
from spaces.services import membership_remove, space_join
from tests.factories import make_space
from tests.spaces.helpers import client_for, space_url

MEETING = "https://meet.example.org/secret-room"


@pytest.fixture
def open_world(world_factory):
    return world_factory(Visibility.OPEN)


@pytest.fixture
def private_world(world_factory):
    return world_factory(Visibility.PRIVATE)


@pytest.fixture
def closed_world(world_factory):
    return world_factory(Visibility.CLOSED)


def make_event(w, title: str = "Linkage workshop", *, space=None, starts_at=None, hours: int = 2, **kw) -> Event:
    starts_at = starts_at or timezone.now() + timedelta(days=7)
    return event_services.event_create(
        actor=kw.pop("author", w.editor),
        space=space or w.space,
        title=title,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        time_zone=kw.pop("time_zone", "Europe/Paris"),
        venue=kw.pop("venue", "Room 1"),
        online_url=kw.pop("online_url", MEETING),
        description=kw.pop("description", "Bring **data**."),
    )


def register(user, event: Event, status: str = "going") -> None:
    event_services.event_registration_set(actor=user, event=event, status=status)


def token_url(token: FeedToken) -> str:
    return reverse("spaces:space-calendar-token", kwargs={"token": token.token})


def vevents(response) -> list:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content).walk("VEVENT")


def summaries(response) -> list[str]:
    return [str(e["SUMMARY"]) for e in vevents(response)]


# --- The public feed of an open space ---------------------------------------------------------------------------
def test_open_space_feed_is_public_and_never_carries_the_meeting_link(open_world):
    w = open_world
    event = make_event(w, venue="Room 7")
    register(w.viewer, event)

    for browser in (Client(), client_for(w.viewer)):  # the same document whoever asks
        response = browser.get(space_url("space-calendar", w.space))
        (entry,) = vevents(response)
        assert str(entry["SUMMARY"]) == "Linkage workshop"
        assert str(entry["LOCATION"]) == "Room 7"
        assert str(entry["URL"]) == "http://testserver" + event.get_absolute_url()
        assert str(entry["UID"]) == f"event-{event.pk}@copapp"
        assert "Bring data." in str(entry["DESCRIPTION"])  # plain text, no Markdown or HTML
        assert MEETING not in response.content.decode()


@pytest.mark.parametrize("visibility", [Visibility.PRIVATE, Visibility.CLOSED])
def test_private_and_closed_space_feeds_without_a_token_are_not_found(world_factory, visibility):
    w = world_factory(visibility)
    make_event(w)

    for browser in (Client(), client_for(w.outsider), client_for(w.viewer)):
        assert browser.get(space_url("space-calendar", w.space)).status_code == 404


def test_the_ics_carries_utc_instants(open_world):
    w = open_world
    # 10:00 in Paris in winter (wall-clock time, as typed by the organiser) is 09:00 UTC; it lasts 90 minutes.
    start = datetime(2031, 1, 15, 10, 0)
    event_services.event_create(
        actor=w.editor,
        space=w.space,
        title="Winter meeting",
        starts_at=start,
        ends_at=start + timedelta(minutes=90),
        time_zone="Europe/Paris",
    )

    response = Client().get(space_url("space-calendar", w.space))

    body = response.content.decode()
    assert "DTSTART:20310115T090000Z" in body and "DTEND:20310115T103000Z" in body
    (entry,) = vevents(response)
    assert entry["DTSTART"].dt == datetime(2031, 1, 15, 9, 0, tzinfo=UTC)


def test_only_visible_events_are_in_the_feed(open_world):
    w = open_world
    make_event(w, "Kept")
    trashed = make_event(w, "Trashed")
    event_services.event_trash(actor=w.moderator, event=trashed)
    make_event(w, "Long ago", starts_at=timezone.now() - timedelta(days=400))

    assert summaries(Client().get(space_url("space-calendar", w.space))) == ["Kept"]


# --- Token feeds of a space ----------------------------------------------------------------------------------------
def test_member_token_opens_a_private_space_feed_and_records_its_use(private_world):
    w = private_world
    make_event(w)
    token = feed_services.feed_token_get_or_create(actor=w.viewer, space=w.space)
    assert token.last_used_at is None

    response = Client().get(token_url(token))

    assert summaries(response) == ["Linkage workshop"]
    assert response["Cache-Control"] == "private, no-cache"
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert feed_services.feed_token_get_or_create(actor=w.viewer, space=w.space) == token  # one per space


def test_a_removed_members_token_stops_working_at_once(closed_world):
    w = closed_world
    make_event(w)
    token = feed_services.feed_token_get_or_create(actor=w.viewer, space=w.space)
    assert Client().get(token_url(token)).status_code == 200

    membership = SpaceMembership.objects.get(space=w.space, user=w.viewer)
    membership_remove(actor=w.admin, membership=membership)

    assert Client().get(token_url(token)).status_code == 404
    assert FeedToken.objects.filter(pk=token.pk).exists()  # not deleted: it simply opens nothing


def test_a_revoked_token_stops_working(private_world):
    w = private_world
    make_event(w)
    token = feed_services.feed_token_get_or_create(actor=w.viewer, space=w.space)

    response = client_for(w.viewer).post(reverse("spaces:feed-token-revoke"), {"space": w.space.pk})

    assert response.status_code == 302
    assert Client().get(token_url(token)).status_code == 404
    assert not FeedToken.objects.exists()


def test_a_regenerated_token_replaces_the_old_one(private_world):
    w = private_world
    make_event(w)
    old = feed_services.feed_token_get_or_create(actor=w.viewer, space=w.space)

    response = client_for(w.viewer).post(reverse("spaces:feed-token-regenerate"), {"space": w.space.pk})

    assert response.status_code == 302 and response["Location"] == reverse("spaces:my-calendar-feeds")
    new = FeedToken.objects.get()
    assert new.token != old.token
    assert Client().get(token_url(old)).status_code == 404
    assert Client().get(token_url(new)).status_code == 200


def test_an_unknown_token_and_a_deactivated_owner_get_404(private_world):
    w = private_world
    token = feed_services.feed_token_get_or_create(actor=w.viewer, space=w.space)
    assert Client().get(reverse("spaces:space-calendar-token", kwargs={"token": "nope"})).status_code == 404

    type(w.viewer).objects.filter(pk=w.viewer.pk).update(is_active=False)

    assert Client().get(token_url(token)).status_code == 404


def test_nobody_gets_a_token_for_a_space_they_cannot_read(private_world):
    w = private_world
    for user in (w.outsider, w.banned):
        assert client_for(user).post(reverse("spaces:feed-token-regenerate"), {"space": w.space.pk}).status_code == 404
    assert Client().post(reverse("spaces:feed-token-regenerate"), {"space": w.space.pk}).status_code == 302  # sign in
    assert client_for(w.viewer).get(reverse("spaces:feed-token-regenerate")).status_code == 405
    assert not FeedToken.objects.exists()


# --- The meeting link ------------------------------------------------------------------------------------------------
def test_meeting_link_is_in_the_feed_only_for_registered_owners_and_organisers(private_world):
    w = private_world
    make_event(w)  # the editor organises it
    event = Event.objects.get()
    register(w.viewer, event)
    register(w.moderator, event, "not_going")
    feeds = {
        user: feed_services.feed_token_get_or_create(actor=user, space=w.space)
        for user in (w.viewer, w.moderator, w.editor, w.admin)
    }

    def has_link(user) -> bool:
        return MEETING in Client().get(token_url(feeds[user])).content.decode()

    assert has_link(w.viewer)  # registered as going
    assert has_link(w.editor) and has_link(w.moderator) and has_link(w.admin)  # organisers
    register(w.viewer, event, "not_going")
    assert not has_link(w.viewer)


def test_meeting_link_stays_out_for_a_member_who_has_not_registered(private_world):
    w = private_world
    make_event(w)
    token = feed_services.feed_token_get_or_create(actor=w.viewer, space=w.space)

    (entry,) = vevents(Client().get(token_url(token)))

    assert MEETING not in entry.to_ical().decode()


# --- The member's own feed -----------------------------------------------------------------------------------------
def test_my_events_feed_holds_what_i_registered_for_and_may_still_see(private_world, staff):
    w = private_world
    going, maybe, declined = make_event(w, "Going"), make_event(w, "Maybe"), make_event(w, "Declined")
    other_space = make_space(w.staff, w.community, Visibility.OPEN, slug="other-open")
    space_join(actor=w.viewer, space=other_space)
    elsewhere = make_event(w, "Elsewhere", space=other_space, author=w.staff)
    make_event(w, "Not registered")
    register(w.viewer, going)
    register(w.viewer, maybe, "maybe")
    register(w.viewer, declined, "not_going")
    register(w.viewer, elsewhere)
    token = feed_services.feed_token_get_or_create(actor=w.viewer)

    response = Client().get(token_url(token))

    assert sorted(summaries(response)) == ["Elsewhere", "Going", "Maybe"]
    assert response.content.decode().count(MEETING) == 3  # going or maybe everywhere
    membership_remove(actor=w.admin, membership=SpaceMembership.objects.get(space=w.space, user=w.viewer))
    assert summaries(Client().get(token_url(token))) == ["Elsewhere"]


def test_waitlisted_events_are_in_my_feed_without_the_meeting_link(open_world):
    w = open_world
    full = make_event(w, "Full")
    event_services.event_edit(actor=w.editor, event=full, capacity=1)
    register(w.editor, full)
    register(w.viewer, full)  # the waiting list
    token = feed_services.feed_token_get_or_create(actor=w.viewer)

    response = Client().get(token_url(token))

    assert summaries(response) == ["Full"]
    assert MEETING not in response.content.decode()


def _queries(run) -> int:
    with CaptureQueriesContext(connection) as captured:
        run()
    return len(captured.captured_queries)


def test_feed_query_count_does_not_grow_with_events(private_world):
    w = private_world
    for n in range(3):
        register(w.viewer, make_event(w, f"Event {n}"))
    space_token = feed_services.feed_token_get_or_create(actor=w.viewer, space=w.space)
    my_token = feed_services.feed_token_get_or_create(actor=w.viewer)
    urls = [token_url(space_token), token_url(my_token)]
    for feed in urls:
        Client().get(feed)  # the first use of a token is noted (one UPDATE), later ones within minutes are not
    counts = {}
    for label in ("three", "thirty"):
        for feed in urls:
            counts[(label, feed)] = _queries(lambda: Client().get(feed))  # noqa: B023
        if label == "three":
            for n in range(3, 30):
                register(w.viewer, make_event(w, f"Event {n}"))

    for feed in urls:
        assert counts[("three", feed)] == counts[("thirty", feed)]
        assert len(summaries(Client().get(feed))) == 30


# --- The feed links page ----------------------------------------------------------------------------------------------
def test_feed_links_page_shows_public_and_private_links(private_world):
    w = private_world
    open_space = make_space(w.staff, w.community, Visibility.OPEN, slug="library")
    space_join(actor=w.viewer, space=open_space)
    browser = client_for(w.viewer)
    page = reverse("spaces:my-calendar-feeds")
    assert Client().get(page).status_code == 302

    html = browser.get(page).content.decode()
    assert "http://testserver" + space_url("space-calendar", open_space) in html
    assert "Make my private link" in html and "Make a private link" in html

    browser.post(reverse("spaces:feed-token-regenerate"), {"space": ""})
    browser.post(reverse("spaces:feed-token-regenerate"), {"space": w.space.pk})
    html = browser.get(page).content.decode()
    for token in FeedToken.objects.filter(user=w.viewer):
        assert "http://testserver" + token_url(token) in html
    assert FeedToken.objects.filter(user=w.viewer).count() == 2
    assert "Make my private link" not in html
    personal = FeedToken.objects.get(user=w.viewer, space=None)
    atom = reverse("spaces:feed-token", kwargs={"token": personal.token})
    assert f'value="http://testserver{atom}"' in html
    assert Client().get(atom)["Content-Type"].startswith("application/atom+xml")


def test_feed_links_page_offers_to_revoke_links_of_spaces_left(private_world):
    w = private_world
    token = feed_services.feed_token_get_or_create(actor=w.viewer, space=w.space)
    membership_remove(actor=w.admin, membership=SpaceMembership.objects.get(space=w.space, user=w.viewer))
    browser = client_for(w.viewer)

    html = browser.get(reverse("spaces:my-calendar-feeds")).content.decode()
    assert "Links of spaces you have left" in html and token.token not in html

    browser.post(reverse("spaces:feed-token-revoke"), {"space": w.space.pk})
    assert not FeedToken.objects.exists()


# --- Upcoming events across the member's spaces -----------------------------------------------------------------------
def test_upcoming_events_lists_only_events_of_my_spaces_that_i_can_see(private_world):
    w = private_world
    mine = make_event(w, "Mine", starts_at=timezone.now() + timedelta(days=2))
    make_event(w, "Sooner", starts_at=timezone.now() + timedelta(days=1))
    make_event(w, "Over", starts_at=timezone.now() - timedelta(days=2))
    trashed = make_event(w, "Trashed")
    event_services.event_trash(actor=w.moderator, event=trashed)
    elsewhere = make_space(w.staff, w.community, Visibility.OPEN, slug="not-mine")
    make_event(w, "Open but not my space", space=elsewhere, author=w.staff)
    register(w.viewer, mine, "maybe")
    page = reverse("spaces:upcoming-events")

    html = client_for(w.viewer).get(page).content.decode()

    assert html.index("Sooner") < html.index("Mine")
    assert "Maybe" in html
    for absent in ("Over", "Trashed", "Open but not my space"):
        assert absent not in html
    assert "Mine" not in client_for(w.outsider).get(page).content.decode()
    assert Client().get(page).status_code == 302


def test_upcoming_events_query_count_does_not_grow_with_events(open_world):
    w = open_world
    for n in range(3):
        event = make_event(w, f"Event {n}", starts_at=timezone.now() + timedelta(days=n + 1))
        if n % 2:
            register(w.viewer, event)
    browser = client_for(w.viewer)
    page = reverse("spaces:upcoming-events")

    def load():
        assert browser.get(page).status_code == 200

    load()
    with_three = _queries(load)
    for n in range(3, 30):
        event = make_event(w, f"Event {n}", starts_at=timezone.now() + timedelta(days=n + 1))
        if n % 2:
            register(w.viewer, event)
    with_thirty = _queries(load)

    assert with_three == with_thirty
    html = browser.get(page).content.decode()
    assert html.count("Event ") == 20 and "Page 1 of 2" in html


def test_deleting_the_account_deletes_its_feed_tokens(private_world):
    from members.services import account_delete

    w = private_world
    token = feed_services.feed_token_get_or_create(actor=w.viewer, space=w.space)
    feed_services.feed_token_get_or_create(actor=w.viewer)

    account_delete(actor=w.viewer, user=w.viewer)

    assert not FeedToken.objects.filter(user=w.viewer).exists()
    assert Client().get(token_url(token)).status_code == 404
