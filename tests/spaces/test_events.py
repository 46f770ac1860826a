"""Events: who may see, create, organise and register; the meeting link; time zones and daylight saving; the
iCalendar file; bad input; trash, comments, XSS and query counts (issue 4, item 2).

Registration itself (capacity, waiting list, deadline, answers, CSV, attendance, the PostgreSQL race) is in
``test_events_registration.py``.
"""

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from analytics.models import ActivityEvent
from spaces import selectors_events, services
from spaces.models import Event, Item, Registration, SpaceRole, Visibility
from spaces.services import events as event_services
from tests.factories import add_member, make_user
from tests.spaces.helpers import client_for, form_errors, messages_of, space_url
from tests.spaces.test_pages import count_queries

LOGIN_URL = reverse("account_login")
READERS = ["viewer", "editor", "moderator", "admin", "community_moderator", "community_admin", "staff"]
WRITERS = ["editor", "moderator", "admin", "community_moderator", "community_admin", "staff"]
NON_MEMBERS = ["outsider", "requester", "invited", "banned"]
SECRET_LINK = "https://meet.example.org/linkage-secret-room"
# Geneva keeps Europe/Zurich time: the IANA database has no "Europe/Geneva" (the time zone list refuses it).
GENEVA = "Europe/Zurich"
# A winter's day, years ahead: no test depends on today's date unless it moves the clock itself.
WINTER_START = datetime(2030, 1, 15, 9, 0)
WINTER_END = datetime(2030, 1, 15, 11, 0)


# --- Helpers ------------------------------------------------------------------------------------------------
@pytest.fixture
def open_world(world_factory):
    return world_factory(Visibility.OPEN)


@pytest.fixture
def private_world(world_factory):
    return world_factory(Visibility.PRIVATE)


@pytest.fixture
def closed_world(world_factory):
    return world_factory(Visibility.CLOSED)


def make_event(w, *, by=None, title="Record linkage workshop", **kw) -> Event:
    values = {
        "description": "We compare **linkage** methods.",
        "starts_at": WINTER_START,
        "ends_at": WINTER_END,
        "time_zone": "Asia/Bangkok",
        "venue": "UN Conference Centre, Bangkok",
        "online_url": SECRET_LINK,
        **kw,
    }
    return event_services.event_create(actor=by or w.editor, space=w.space, title=title, **values)


def e_url(name: str, event: Event, **kwargs) -> str:
    space = event.space
    return reverse(
        f"spaces:{name}",
        kwargs={"community_slug": space.community.slug, "space_slug": space.slug, "event_slug": event.slug, **kwargs},
    )


def browser_for(user) -> Client:
    return client_for(user) if user.is_authenticated else Client()


def event_urls(event: Event) -> dict[str, str]:
    return {
        "list": space_url("events", event.space),
        "create": space_url("event-create", event.space),
        "detail": e_url("event-detail", event),
        "edit": e_url("event-edit", event),
        "questions": e_url("event-questions", event),
        "registrants": e_url("event-registrants", event),
        "csv": e_url("event-registrants-csv", event),
        "ics": e_url("event-ics", event),
    }


def form_data(**overrides) -> dict:
    data = {
        "title": "Seasonal adjustment clinic",
        "description": "Bring your *series*.",
        "starts_at": "2030-01-15T09:00",
        "ends_at": "2030-01-15T11:00",
        "time_zone": "Asia/Bangkok",
        "venue": "Room 4",
        "online_url": "",
        "capacity": "",
        "registration_deadline": "",
    }
    data.update(overrides)
    return data


def parse_ics(content: bytes) -> icalendar.Event:
    calendar = icalendar.Calendar.from_ical(content)
    (vevent,) = [c for c in calendar.walk() if c.name == "VEVENT"]
    return vevent


def unfolded(content: bytes) -> str:
    """The text of an .ics file with its long lines unfolded (RFC 5545 folds them at 75 octets)."""
    return content.decode().replace("\r\n ", "")


def refreshed(obj):
    obj.refresh_from_db()
    return obj


# --- Who may see ----------------------------------------------------------------------------------------------
def test_outsiders_and_anonymous_get_404_on_every_event_url_of_a_closed_space(closed_world):
    w = closed_world
    event = make_event(w)
    urls = event_urls(event)

    for name in ["anonymous", *NON_MEMBERS]:
        browser = browser_for(getattr(w, name))
        got = {key: browser.get(url).status_code for key, url in urls.items()}
        expected = dict.fromkeys(urls, 404)
        if name == "anonymous":  # login_required answers first, before anything about the space is revealed
            expected.update({"create": 302, "edit": 302, "questions": 302, "registrants": 302, "csv": 302})
        assert got == expected, name
    outsider = client_for(w.outsider)
    assert outsider.post(e_url("event-register", event), {"status": "going"}).status_code == 404
    assert outsider.post(e_url("event-attendance", event), {"shown": "1"}).status_code == 404
    assert b"linkage" not in outsider.get(urls["ics"]).content
    assert Registration.objects.count() == 0


def test_non_members_of_a_private_space_get_403_on_its_events(private_world):
    w = private_world
    event = make_event(w)
    urls = {k: v for k, v in event_urls(event).items() if k in {"list", "detail", "ics"}}

    for name in ["anonymous", *NON_MEMBERS]:
        browser = browser_for(getattr(w, name))
        got = {key: browser.get(url).status_code for key, url in urls.items()}
        assert got == dict.fromkeys(urls, 403), name
    assert b"Record linkage" not in client_for(w.outsider).get(urls["detail"]).content


@pytest.mark.parametrize("visibility", [Visibility.PRIVATE, Visibility.CLOSED])
def test_members_read_the_events_of_their_space(world_factory, visibility):
    w = world_factory(visibility)
    event = make_event(w)
    urls = {k: v for k, v in event_urls(event).items() if k in {"list", "detail", "ics"}}

    for name in READERS:
        browser = client_for(getattr(w, name))
        got = {key: browser.get(url).status_code for key, url in urls.items()}
        assert got == dict.fromkeys(urls, 200), name
    assert b"Record linkage workshop" in client_for(w.viewer).get(urls["list"]).content


def test_anonymous_visitors_read_an_open_space_event_but_must_sign_in_to_register(open_world):
    w = open_world
    event = make_event(w)
    browser = Client()

    listing = browser.get(space_url("events", w.space))
    detail = browser.get(e_url("event-detail", event))
    register = browser.post(e_url("event-register", event), {"status": "going"})

    assert listing.status_code == detail.status_code == 200
    assert b"Record linkage workshop" in listing.content
    assert b"<strong>linkage</strong>" in detail.content and b"Sign in to register." in detail.content
    assert register.status_code == 302 and register.url.startswith(LOGIN_URL)
    assert Registration.objects.count() == 0


def test_every_event_view_refuses_the_wrong_method(open_world):
    w = open_world
    event = make_event(w)
    browser = client_for(w.editor)

    assert browser.get(e_url("event-register", event)).status_code == 405
    assert browser.get(e_url("event-attendance", event)).status_code == 405
    assert browser.post(e_url("event-detail", event)).status_code == 405
    assert browser.post(e_url("event-ics", event)).status_code == 405
    assert browser.post(e_url("event-registrants", event)).status_code == 405
    assert browser.post(e_url("event-registrants-csv", event)).status_code == 405
    assert browser.post(space_url("events", w.space)).status_code == 405


# --- Creating and organising ------------------------------------------------------------------------------------
@pytest.mark.parametrize("persona", WRITERS)
def test_contributors_create_an_event_from_local_times_stored_in_utc(open_world, persona):
    w = open_world
    browser = client_for(getattr(w, persona))

    response = browser.post(space_url("event-create", w.space), form_data(capacity="25"))

    event = Event.objects.get()
    assert response.status_code == 302 and response.url == event.get_absolute_url()
    assert (event.starts_at, event.ends_at) == (
        datetime(2030, 1, 15, 2, 0, tzinfo=UTC),
        datetime(2030, 1, 15, 4, 0, tzinfo=UTC),
    )
    assert (event.timezone, event.capacity, event.venue) == ("Asia/Bangkok", 25, "Room 4")
    assert event.item.kind == "event" and event.item.title == event.title and event.item.author == getattr(w, persona)
    assert "<em>series</em>" in event.description_html
    assert ActivityEvent.objects.filter(kind="event_create", member=getattr(w, persona), target_id=event.pk).exists()


@pytest.mark.parametrize("visibility", [Visibility.OPEN, Visibility.PRIVATE, Visibility.CLOSED])
def test_viewers_register_but_cannot_create_or_organise_events(world_factory, visibility):
    w = world_factory(visibility)
    event = make_event(w)
    browser = client_for(w.viewer)

    got = {
        "create-form": browser.get(space_url("event-create", w.space)).status_code,
        "create": browser.post(space_url("event-create", w.space), form_data()).status_code,
        "edit": browser.post(e_url("event-edit", event), form_data(title="Viewer's event")).status_code,
        "questions": browser.get(e_url("event-questions", event)).status_code,
        "registrants": browser.get(e_url("event-registrants", event)).status_code,
        "csv": browser.get(e_url("event-registrants-csv", event)).status_code,
        "attendance": browser.post(e_url("event-attendance", event), {"shown": "1"}).status_code,
    }
    registered = browser.post(e_url("event-register", event), {"status": "going"})

    assert got == dict.fromkeys(got, 403)
    assert Event.objects.count() == 1 and refreshed(event).title == "Record linkage workshop"
    assert registered.status_code == 302 and messages_of(registered) == ["You are registered as going."]
    assert Registration.objects.get().user == w.viewer
    assert b"New event" not in browser.get(space_url("events", w.space)).content


def test_non_members_of_an_open_space_cannot_register_and_are_told_to_join(open_world):
    w = open_world
    event = make_event(w)
    for name in NON_MEMBERS:
        browser = client_for(getattr(w, name))
        assert browser.post(e_url("event-register", event), {"status": "going"}).status_code == 403, name
    assert b"Join this space to register." in client_for(w.outsider).get(e_url("event-detail", event)).content
    assert Registration.objects.count() == 0


def test_organisers_are_the_creator_and_the_space_moderators(open_world):
    w = open_world
    event = make_event(w, by=w.editor)
    other = make_user("other-editor")
    add_member(w.space, other, SpaceRole.EDITOR, by=w.staff)

    assert client_for(other).get(e_url("event-edit", event)).status_code == 403
    assert client_for(other).get(e_url("event-registrants", event)).status_code == 403
    for persona in ["editor", "moderator", "admin", "community_moderator", "staff"]:
        assert client_for(getattr(w, persona)).get(e_url("event-edit", event)).status_code == 200, persona
    with pytest.raises(PermissionDenied):
        event_services.event_edit(actor=other, event=event, title="Mine now")
    assert refreshed(event).title == "Record linkage workshop"


def test_editing_an_event_keeps_its_address_and_mirrors_the_title_on_the_registry(open_world):
    w = open_world
    event = make_event(w)
    url = event.get_absolute_url()

    response = client_for(w.moderator).post(
        e_url("event-edit", event),
        form_data(title="Linkage workshop, day two", starts_at="2030-01-16T09:00", ends_at="2030-01-16T12:30"),
    )

    event = refreshed(event)
    assert response.status_code == 302 and event.get_absolute_url() == url
    assert event.title == event.item.title == "Linkage workshop, day two"
    assert event.starts_at == datetime(2030, 1, 16, 2, 0, tzinfo=UTC) and event.last_edited_by == w.moderator


def test_the_edit_form_shows_the_times_in_the_events_own_zone(open_world):
    w = open_world
    event = make_event(w, registration_deadline=datetime(2030, 1, 10, 18, 0))
    w.editor.profile.time_zone = GENEVA
    w.editor.profile.save()

    html = client_for(w.editor).get(e_url("event-edit", event)).content.decode()

    assert 'value="2030-01-15T09:00"' in html and 'value="2030-01-15T11:00"' in html
    assert 'value="2030-01-10T18:00"' in html
    assert '<option value="Asia/Bangkok" selected>' in html


# --- The meeting link -------------------------------------------------------------------------------------------
def test_the_meeting_link_is_shown_only_to_people_going_or_maybe_and_to_organisers(open_world):
    w = open_world
    event = make_event(w, by=w.editor, capacity=1)
    going, maybe, declined, waiting = (make_user(n) for n in ("going", "maybe", "declined", "waiting"))
    for user in (going, maybe, declined, waiting):
        add_member(w.space, user, SpaceRole.VIEWER, by=w.staff)
    event_services.event_registration_set(actor=going, event=event, status="going")
    event_services.event_registration_set(actor=maybe, event=event, status="maybe")
    event_services.event_registration_set(actor=declined, event=event, status="not_going")
    event_services.event_registration_set(actor=waiting, event=event, status="going")  # full: waiting list

    sees = {"going": going, "maybe": maybe, "editor": w.editor, "moderator": w.moderator, "staff": w.staff}
    blind = {
        "anonymous": w.anonymous,
        "outsider": w.outsider,
        "viewer": w.viewer,
        "declined": declined,
        "waiting": waiting,
    }
    for name, user in {**sees, **blind}.items():
        browser = browser_for(user)
        html = browser.get(e_url("event-detail", event)).content.decode()
        ics = unfolded(browser.get(e_url("event-ics", event)).content)
        expected = name in sees
        assert (SECRET_LINK in html, SECRET_LINK in ics) == (expected, expected), name
        if not expected:
            assert "The meeting link is shown to people registered as going or maybe." in html, name


# --- Time zones -------------------------------------------------------------------------------------------------
def test_a_bangkok_morning_shows_as_early_morning_for_a_viewer_in_geneva_in_winter(open_world):
    w = open_world
    event = make_event(w, starts_at=datetime(2030, 1, 15, 9, 0), ends_at=datetime(2030, 1, 15, 10, 30))
    w.viewer.profile.time_zone = GENEVA
    w.viewer.profile.save()
    browser = client_for(w.viewer)

    detail = browser.get(e_url("event-detail", event)).content.decode()
    listing = browser.get(space_url("events", w.space)).content.decode()
    ics = parse_ics(browser.get(e_url("event-ics", event)).content)

    for html in (detail, listing):
        assert (
            "Tue 15 Jan 2030, 03:00</time>–<time" in html and '04:30</time> <span class="muted">Europe/Zurich' in html
        )
        assert "Tue 15 Jan, 09:00–10:30 Asia/Bangkok" in html
    assert ics.decoded("dtstart") == datetime(2030, 1, 15, 2, 0, tzinfo=UTC)
    assert "DTSTART:20300115T020000Z" in ics.to_ical().decode()
    assert "DTEND:20300115T033000Z" in ics.to_ical().decode()


def test_a_viewer_in_the_events_own_zone_sees_it_once(open_world):
    w = open_world
    event = make_event(w)
    w.viewer.profile.time_zone = "Asia/Bangkok"
    w.viewer.profile.save()

    html = client_for(w.viewer).get(e_url("event-detail", event)).content.decode()

    assert "Tue 15 Jan 2030, 09:00" in html and 'class="event-zone' not in html


def test_a_time_skipped_when_geneva_moves_its_clocks_forward_is_refused(open_world):
    w = open_world
    # Last Sunday of March 2030: in Geneva the clocks jump from 02:00 to 03:00.
    response = client_for(w.editor).post(
        space_url("event-create", w.space),
        form_data(starts_at="2030-03-31T02:30", ends_at="2030-03-31T04:00", time_zone=GENEVA),
    )

    assert response.status_code == 200
    assert form_errors(response)["starts_at"] == [
        "02:30 on 31 March 2030 does not exist in Europe/Zurich: the clocks go forward that night. "
        "Choose a time outside the change."
    ]
    assert Event.objects.count() == 0 and Item.objects.filter(kind="event").count() == 0


def test_a_time_repeated_when_geneva_moves_its_clocks_back_is_refused(open_world):
    w = open_world
    # Last Sunday of October 2030: in Geneva 02:00-03:00 happens twice.
    with pytest.raises(ValidationError) as caught:
        make_event(w, starts_at=datetime(2030, 10, 27, 1, 0), ends_at=datetime(2030, 10, 27, 2, 30), time_zone=GENEVA)

    assert caught.value.message_dict == {
        "ends_at": [
            "02:30 on 27 October 2030 happens twice in Europe/Zurich: the clocks go back that night. "
            "Choose a time outside the change."
        ]
    }
    assert Event.objects.count() == 0


def test_times_either_side_of_the_geneva_clock_changes_convert_exactly(open_world):
    w = open_world
    spring = make_event(
        w,
        title="Spring",
        starts_at=datetime(2030, 3, 31, 1, 30),
        ends_at=datetime(2030, 3, 31, 3, 30),
        time_zone=GENEVA,
    )
    autumn = make_event(
        w,
        title="Autumn",
        starts_at=datetime(2030, 10, 27, 1, 30),
        ends_at=datetime(2030, 10, 27, 3, 30),
        time_zone=GENEVA,
    )

    # 01:30 is still winter time (UTC+1), 03:30 already summer time (UTC+2): one hour apart, not two.
    assert (spring.starts_at, spring.ends_at) == (
        datetime(2030, 3, 31, 0, 30, tzinfo=UTC),
        datetime(2030, 3, 31, 1, 30, tzinfo=UTC),
    )
    # 01:30 is still summer time (UTC+2), 03:30 back on winter time (UTC+1): three hours apart.
    assert (autumn.starts_at, autumn.ends_at) == (
        datetime(2030, 10, 26, 23, 30, tzinfo=UTC),
        datetime(2030, 10, 27, 2, 30, tzinfo=UTC),
    )
    ics = parse_ics(Client().get(e_url("event-ics", spring)).content)
    assert (ics.decoded("dtstart"), ics.decoded("dtend")) == (spring.starts_at, spring.ends_at)


def test_an_event_in_new_york_shows_its_own_zone_beside_the_viewers(open_world):
    w = open_world
    event = make_event(
        w, starts_at=datetime(2030, 7, 1, 18, 0), ends_at=datetime(2030, 7, 1, 19, 0), time_zone="America/New_York"
    )
    w.viewer.profile.time_zone = GENEVA
    w.viewer.profile.save()

    html = client_for(w.viewer).get(e_url("event-detail", event)).content.decode()

    assert "Tue 2 Jul 2030, 00:00" in html and "Mon 1 Jul, 18:00–19:00 America/New_York" in html


# --- The iCalendar file -------------------------------------------------------------------------------------------
def test_the_ics_file_names_the_event_its_instant_address_and_venue(open_world):
    w = open_world
    event = make_event(w)

    response = Client().get(e_url("event-ics", event))

    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="record-linkage-workshop.ics"'
    vevent = parse_ics(response.content)
    assert str(vevent["summary"]) == "Record linkage workshop"
    assert str(vevent["location"]) == "UN Conference Centre, Bangkok"
    assert str(vevent["url"]) == "http://testserver" + event.get_absolute_url()
    assert str(vevent["uid"]) == f"event-{event.pk}@copapp"
    assert (vevent.decoded("dtstart"), vevent.decoded("dtend")) == (event.starts_at, event.ends_at)
    assert SECRET_LINK not in unfolded(response.content)


def test_the_ics_file_of_a_registered_member_carries_the_meeting_link(open_world):
    w = open_world
    event = make_event(w, venue="")
    event_services.event_registration_set(actor=w.viewer, event=event, status="maybe")

    vevent = parse_ics(client_for(w.viewer).get(e_url("event-ics", event)).content)

    assert str(vevent["location"]) == SECRET_LINK and SECRET_LINK in str(vevent["description"])


# --- Bad input --------------------------------------------------------------------------------------------------
def test_an_event_that_ends_before_it_starts_is_refused_and_nothing_is_created(open_world):
    w = open_world
    response = client_for(w.editor).post(
        space_url("event-create", w.space), form_data(starts_at="2030-01-15T11:00", ends_at="2030-01-15T09:00")
    )

    assert response.status_code == 200
    assert form_errors(response)["ends_at"] == ["The event must end after it starts."]
    assert b"The event must end after it starts." in response.content
    assert Event.objects.count() == 0 and Item.objects.filter(kind="event").count() == 0
    assert not ActivityEvent.objects.filter(kind="event_create").exists()


def test_editing_to_end_before_the_start_changes_nothing(open_world):
    w = open_world
    event = make_event(w)
    with pytest.raises(ValidationError, match="The event must end after it starts."):
        event_services.event_edit(actor=w.editor, event=event, ends_at=datetime(2030, 1, 15, 8, 0), title="Changed")
    event = refreshed(event)
    assert (event.title, event.ends_at) == ("Record linkage workshop", datetime(2030, 1, 15, 4, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": "   "}, "title", "Give the event a title."),
        ({"starts_at": ""}, "starts_at", "Give the date and time the event starts."),
        ({"starts_at": "next tuesday"}, "starts_at", "Enter a valid date/time."),
        (
            {"time_zone": "Mars/Olympus"},
            "time_zone",
            "Select a valid choice. Mars/Olympus is not one of the available choices.",
        ),
        ({"capacity": "0"}, "capacity", "Ensure this value is greater than or equal to 1."),
        (
            {"online_url": "javascript:alert(1)"},
            "online_url",
            "Enter the full meeting address, starting with https://.",
        ),
        (
            {"registration_deadline": "2030-01-16T09:00"},
            "registration_deadline",
            "The registration deadline must be before the event ends.",
        ),
    ],
)
def test_bad_event_input_is_refused_with_a_message(open_world, overrides, field, message):
    w = open_world
    response = client_for(w.editor).post(space_url("event-create", w.space), form_data(**overrides))
    assert response.status_code == 200
    assert message in form_errors(response)[field]
    assert Event.objects.count() == 0


def test_the_service_refuses_an_unknown_time_zone_and_a_zero_capacity(open_world):
    w = open_world
    with pytest.raises(ValidationError) as caught:
        make_event(w, time_zone="../../etc/passwd", capacity=0)
    assert set(caught.value.message_dict) == {"time_zone", "capacity"}
    assert Event.objects.count() == 0


# --- Lists --------------------------------------------------------------------------------------------------------
def test_upcoming_events_come_soonest_first_and_past_ones_most_recent_first(open_world, time_machine):
    time_machine.move_to(datetime(2030, 1, 1, 12, 0, tzinfo=UTC))
    w = open_world
    later = make_event(w, title="Later", starts_at=datetime(2030, 3, 1, 9), ends_at=datetime(2030, 3, 1, 10))
    sooner = make_event(w, title="Sooner", starts_at=datetime(2030, 2, 1, 9), ends_at=datetime(2030, 2, 1, 10))
    older = make_event(w, title="Older", starts_at=datetime(2030, 1, 2, 9), ends_at=datetime(2030, 1, 2, 10))
    newer = make_event(w, title="Newer", starts_at=datetime(2030, 1, 3, 9), ends_at=datetime(2030, 1, 3, 10))
    time_machine.move_to(datetime(2030, 1, 20, 12, 0, tzinfo=UTC))
    browser = Client()

    def titles(query: str) -> list[str]:
        return [e.title for e in browser.get(space_url("events", w.space) + query).context["events"]]

    assert titles("") == [sooner.title, later.title]
    assert titles("?when=past") == [newer.title, older.title]
    assert titles("?when=nonsense") == [sooner.title, later.title]


def test_the_event_list_marks_the_members_own_answer(open_world):
    w = open_world
    event = make_event(w)
    event_services.event_registration_set(actor=w.viewer, event=event, status="maybe")

    response = client_for(w.viewer).get(space_url("events", w.space))

    assert [e.my_status for e in response.context["events"]] == ["maybe"]
    assert b'<span class="badge badge-open">Maybe</span>' in response.content


def test_the_event_list_pages_by_twenty(open_world):
    w = open_world
    for n in range(22):
        make_event(
            w,
            title=f"Event {n:02d}",
            starts_at=WINTER_START + timedelta(days=n),
            ends_at=WINTER_END + timedelta(days=n),
        )
    browser = Client()
    first = browser.get(space_url("events", w.space))
    second = browser.get(space_url("events", w.space) + "?page=2")
    assert len(first.context["events"]) == 20 and [e.title for e in second.context["events"]] == [
        "Event 20",
        "Event 21",
    ]


# --- Trash, comments, watch ----------------------------------------------------------------------------------------
def test_an_organiser_deletes_an_event_and_it_disappears_until_restored(open_world):
    w = open_world
    event = make_event(w)

    response = client_for(w.editor).post(space_url("item-trash", w.space, item_id=event.item_id))

    assert response.status_code == 302
    assert client_for(w.viewer).get(e_url("event-detail", event)).status_code == 404
    assert client_for(w.viewer).get(e_url("event-ics", event)).status_code == 404
    assert list(client_for(w.viewer).get(space_url("events", w.space)).context["events"]) == []
    services.item_restore(actor=w.admin, item=refreshed(event.item))
    assert client_for(w.viewer).get(e_url("event-detail", event)).status_code == 200


def test_event_trash_service_is_for_organisers(open_world):
    w = open_world
    event = make_event(w)
    with pytest.raises(PermissionDenied):
        event_services.event_trash(actor=w.viewer, event=event)
    assert event_services.event_trash(actor=w.moderator, event=event) == 1
    assert refreshed(event.item).deleted_at is not None


def test_members_comment_on_an_event_and_watch_it(open_world):
    w = open_world
    event = make_event(w)
    browser = client_for(w.moderator)

    browser.post(space_url("comment-create", w.space, item_id=event.item_id), {"body": "Is there a remote option?"})
    watch = browser.post(space_url("watch-item", w.space, item_id=event.item_id))
    page = client_for(w.viewer).get(e_url("event-detail", event)).content.decode()

    assert "Is there a remote option?" in page
    assert watch.status_code == 302 and w.moderator.watches.filter(item=event.item).exists()


# --- XSS -----------------------------------------------------------------------------------------------------------
def test_script_in_event_fields_is_inert(open_world):
    w = open_world
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    event = make_event(w, title=f"Title {payload}", description=f"Body {payload}", venue=f"Venue {payload}")
    event_services.event_questions_set(
        actor=w.editor, event=event, questions=[{"label": f"Q {payload}", "kind": "text"}]
    )
    question = event.registration_questions.get()
    event_services.event_registration_set(
        actor=w.viewer, event=event, status="going", answers={question.pk: f"A {payload}"}
    )
    organiser = client_for(w.editor)

    pages = [
        organiser.get(e_url("event-detail", event)),
        organiser.get(space_url("events", w.space)),
        organiser.get(e_url("event-registrants", event)),
        organiser.get(e_url("event-questions", event)),
    ]

    for response in pages:
        content = response.content.decode()
        assert response.status_code == 200
        assert "<script>alert" not in content and "<img src=x" not in content


# --- Query counts --------------------------------------------------------------------------------------------------
FEW, MANY = 3, 30


def _fill_events(w, start: int, stop: int) -> None:
    for n in range(start, stop):
        event = make_event(
            w,
            title=f"Event number {n}",
            starts_at=WINTER_START + timedelta(days=n),
            ends_at=WINTER_END + timedelta(days=n),
            capacity=2 if n % 2 else None,
        )
        event_services.event_registration_set(actor=w.viewer, event=event, status=["going", "maybe"][n % 2])
        event_services.event_registration_set(actor=w.moderator, event=event, status="going")


def test_event_list_query_count_is_the_same_for_3_and_30_events(open_world):
    w = open_world
    browser = client_for(w.viewer)
    url = space_url("events", w.space)

    _fill_events(w, 0, FEW)
    few = count_queries(browser, url)
    _fill_events(w, FEW, MANY)
    many = count_queries(browser, url)

    assert len(browser.get(url).context["events"]) == 20
    assert (few, many) == (7, 7)  # the header's counts come from the cache


def _fill_registrations(w, event, start: int, stop: int) -> None:
    for n in range(start, stop):
        user = make_user(f"participant{n}")
        add_member(w.space, user, SpaceRole.VIEWER, by=w.staff)
        event_services.event_registration_set(
            actor=user, event=event, status=["going", "maybe", "not_going"][n % 3], answers={"0": "ignored"}
        )
        services.comment_create(actor=w.editor, target=event.item, body=f"Comment {n}")


def test_event_page_query_count_is_the_same_for_3_and_30_registrations(open_world):
    w = open_world
    event = make_event(w, capacity=10)
    event_services.event_questions_set(
        actor=w.editor, event=event, questions=[{"label": "Dietary needs", "kind": "text"}]
    )
    event_services.event_registration_set(actor=w.viewer, event=event, status="going")
    browser = client_for(w.viewer)
    url = e_url("event-detail", event)

    _fill_registrations(w, event, 0, FEW)
    few = count_queries(browser, url)
    _fill_registrations(w, event, FEW, MANY)
    many = count_queries(browser, url)

    assert refreshed(event).waitlist_count > 0
    assert (few, many) == (11, 11)  # 18 + the bookmark button (one query on a detail page) + the event_view INSERT


def test_registrants_page_query_count_is_the_same_for_3_and_30_registrations(open_world):
    w = open_world
    event = make_event(w, capacity=10)
    event_services.event_questions_set(
        actor=w.editor,
        event=event,
        questions=[{"label": "Dietary needs", "kind": "text"}, {"label": "Online?", "kind": "yes_no"}],
    )
    browser = client_for(w.editor)
    url = e_url("event-registrants", event)

    _fill_registrations(w, event, 0, FEW)
    few = count_queries(browser, url)
    _fill_registrations(w, event, FEW, MANY)
    many = count_queries(browser, url)

    assert len(browser.get(url).context["registrations"]) == MANY
    assert (few, many) == (6, 6)  # the header's counts come from the cache


def test_selectors_list_only_visible_events(open_world):
    w = open_world
    visible = make_event(w, title="Visible")
    hidden = make_event(w, title="Hidden")
    Item.objects.filter(pk=hidden.item_id).update(moderation_state="hidden")

    assert [e.title for e in selectors_events.event_list(w.viewer, w.space)] == [visible.title]
    assert {e.title for e in selectors_events.event_list(w.moderator, w.space)} == {"Visible", "Hidden"}
