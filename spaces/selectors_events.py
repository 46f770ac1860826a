"""Reads for events: lists (upcoming, past), the fetch helper, the member's registration, the registrant list
and its CSV rows, and the event's iCalendar file.

Every list starts from ``visible_events_q(user)`` (the registry's ``visible_items_q``) in the query and runs a
fixed number of queries whatever the number of rows.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from datetime import UTC, datetime

import icalendar
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from spaces import permissions, selectors_content
from spaces.models import Event, Registration, RegistrationQuestion, RegistrationStatus, Space

WHEN = ("upcoming", "past")
STATUS_ORDER = [
    RegistrationStatus.GOING,
    RegistrationStatus.MAYBE,
    RegistrationStatus.WAITLISTED,
    RegistrationStatus.NOT_GOING,
]


def visible_events(user, space: Space) -> QuerySet[Event]:
    return Event.objects.filter(permissions.visible_events_q(user), space=space)


def event_list(user, space: Space, *, when: str = "upcoming", now: datetime | None = None) -> QuerySet[Event]:
    """Upcoming events (not yet ended) soonest first, or past events most recent first. One query a page."""
    now = now or timezone.now()
    events = visible_events(user, space).select_related("item").defer(*selectors_content.JOINED_ITEM_TEXTS)
    if when == "past":
        return events.filter(ends_at__lt=now).order_by("-starts_at", "-pk")
    return events.filter(ends_at__gte=now).order_by("starts_at", "pk")


def attach_my_status(events: list[Event], user, space: Space) -> list[Event]:
    """Give each event ``my_status`` (the member's registration status, or ""), its label, and the space; one
    query."""
    statuses: dict[int, str] = {}
    if user.is_authenticated and events:
        statuses = dict(
            Registration.objects.filter(user=user, event__in=[e.pk for e in events]).values_list("event_id", "status")
        )
    for event in events:
        event.space = space
        event.my_status = statuses.get(event.pk, "")
        event.my_status_label = RegistrationStatus(event.my_status).label if event.my_status else ""
    return events


def get_event_for_user(user, community_slug: str, space_slug: str, event_slug: str, action: str = "view") -> Event:
    """404 when the user may not see the event (exactly as if it did not exist), 403 when they may not act.

    People who see a private space but may not read it get 403, as for its other content. Actions: "view",
    "register", "organise".
    """
    space = permissions.get_space_for_user(user, community_slug, space_slug, action="read")
    event = (
        visible_events(user, space)
        .select_related("item__author", "last_edited_by")
        .defer(*selectors_content.JOINED_ITEM_TEXTS)
        .annotate(**selectors_content.detail_annotations(user))
        .filter(slug=event_slug)
        .first()
    )
    if event is None:
        raise Http404
    event.space = event.item.space = space
    selectors_content.share_reactions(event)
    if action == "register" and not permissions.can_register(user, event):
        raise PermissionDenied
    if action == "organise" and not permissions.can_organise_event(user, event):
        raise PermissionDenied
    return event


def my_registration(event: Event, user) -> Registration | None:
    """The member's registration for ``event``, read once per event object (the page and its papers share it)."""
    if not user.is_authenticated:
        return None
    known = getattr(event, "_my_registration", None)
    if known is not None and known[0] == user.pk:
        return known[1]
    registration = Registration.objects.filter(event=event, user=user).first()
    if registration is not None:
        registration.event = event
    event._my_registration = (user.pk, registration)
    return registration


def waitlist_position(registration: Registration | None) -> int | None:
    """1 for the next person to move up; None when not on the waiting list."""
    if registration is None or registration.status != RegistrationStatus.WAITLISTED:
        return None
    ahead = Registration.objects.filter(
        event_id=registration.event_id,
        status=RegistrationStatus.WAITLISTED,
        status_changed_at__lt=registration.status_changed_at,
    ).count()
    return ahead + 1


def format_in_zone(value: datetime, zone_name: str) -> str:
    """ "3 February 2026, 09:00 (Asia/Bangkok)": a moment as the event's own zone shows it."""
    local = timezone.localtime(value, timezone=_zoneinfo(zone_name))
    return f"{formats.date_format(local, 'j F Y, H:i')} ({zone_name})"


def _zoneinfo(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def registration_closed_reason(event: Event, now: datetime | None = None) -> str:
    """Why registration is closed ("" while it is open): the event is over, or its deadline has passed."""
    now = now or timezone.now()
    if event.ends_at <= now:
        return _("This event is over: registration is closed.")
    if event.registration_deadline is not None and event.registration_deadline < now:
        return _("Registration closed on %(when)s.") % {
            "when": format_in_zone(event.registration_deadline, event.timezone)
        }
    return ""


def event_questions(event: Event) -> list[RegistrationQuestion]:
    return list(event.registration_questions.order_by("position", "pk"))


# --- Organisers: registrants, CSV -----------------------------------------------------------------------------
def event_registrants(event: Event, questions: list[RegistrationQuestion]) -> list[Registration]:
    """Everyone who answered, going first, then maybe, waiting list (in its order), not going; two queries.

    Each registration gets ``answer_list``: its answers in the order of ``questions`` ("" where none).
    """
    registrations = list(
        Registration.objects.filter(event=event).select_related("user__profile").order_by("status_changed_at", "pk")
    )
    rank = {status: n for n, status in enumerate(STATUS_ORDER)}
    registrations.sort(key=lambda r: rank.get(r.status, len(rank)))
    for registration in registrations:
        registration.event = event
        registration.answer_list = [answer_text(q, registration.answers.get(str(q.pk), "")) for q in questions]
    return registrations


def answer_text(question: RegistrationQuestion, value: str) -> str:
    if question.kind == "yes_no" and value in ("yes", "no"):
        return str(_("Yes")) if value == "yes" else str(_("No"))
    return value


def _cell(value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (answers are typed by members)."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def registrant_rows(event: Event) -> Iterator[list[str]]:
    """The registrant list as CSV rows: a header, then one row per registration with the answers."""
    questions = event_questions(event)
    yield [
        _("Name"),
        _("E-mail"),
        _("Organisation"),
        _("Country"),
        _("Status"),
        _("Registered (UTC)"),
        _("Status since (UTC)"),
        _("Attended"),
        *[_cell(q.label) for q in questions],
    ]
    attended = {True: _("yes"), False: _("no"), None: ""}
    for registration in event_registrants(event, questions):
        user = registration.user
        profile = getattr(user, "profile", None)
        yield [
            _cell(user.public_name),
            _cell(user.email),
            _cell(getattr(profile, "organisation", "")),
            _cell(getattr(profile, "country", "")),
            str(registration.get_status_display()),
            registration.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
            registration.status_changed_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
            str(attended[registration.attended]),
            *[_cell(answer) for answer in registration.answer_list],
        ]


# --- iCalendar ---------------------------------------------------------------------------------------------------
def event_ics(event: Event, *, url: str, include_meeting_link: bool, now: datetime | None = None) -> bytes:
    """The event as an iCalendar file. DTSTART and DTEND are UTC instants (written with a trailing Z).

    The online meeting link goes into LOCATION and DESCRIPTION only when ``include_meeting_link``: callers
    pass ``can_see_meeting_link`` for the requesting member, so a copy forwarded or fetched by anyone else
    never carries it.
    """
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//copapp//events//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    vevent = icalendar.Event()
    vevent.add("uid", f"event-{event.pk}@copapp")
    vevent.add("dtstamp", (now or timezone.now()).astimezone(UTC))
    vevent.add("dtstart", event.starts_at.astimezone(UTC))
    vevent.add("dtend", event.ends_at.astimezone(UTC))
    vevent.add("summary", event.title)
    vevent.add("url", url)
    places = [event.venue] if event.venue else []
    if include_meeting_link and event.online_url:
        places.append(event.online_url)
    if places:
        vevent.add("location", " · ".join(places))
    description = [event.description.strip()] if event.description.strip() else []
    if include_meeting_link and event.online_url:
        description.append(_("Online meeting: %s") % event.online_url)
    description.append(url)
    vevent.add("description", "\n\n".join(description))
    if event.last_edited_at:
        vevent.add("last-modified", event.last_edited_at.astimezone(UTC))
    calendar.add_component(vevent)
    return calendar.to_ical()
