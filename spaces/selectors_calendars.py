"""Reads for calendars: the events of a space's feed and of a member's own feed, the upcoming events across a
member's spaces, and the member's feed links. Each runs a fixed number of queries whatever the number of rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Lower
from django.utils import timezone

from spaces import permissions
from spaces.models import Event, FeedToken, Registration, RegistrationStatus, Space, Visibility

# A feed carries recent past events too (calendars keep what happened) but not the whole archive.
FEED_PAST = timedelta(days=180)
FEED_LIMIT = 500
# The statuses that put an event into the member's own feed.
MY_FEED_STATUSES = (RegistrationStatus.GOING, RegistrationStatus.MAYBE, RegistrationStatus.WAITLISTED)


def _feed_events(user) -> QuerySet[Event]:
    """Events for a calendar feed: what ``user`` may see, and never hidden or restricted ones, whoever the reader
    (a token URL travels to calendar servers, like an Atom feed's: ``syndication.py``; issue 10 found a hidden event
    in its author's and its moderators' calendars)."""
    return (
        Event.objects.filter(
            permissions.visible_events_q(user),
            item__moderation_state="visible",
            item__is_restricted=False,
            ends_at__gte=timezone.now() - FEED_PAST,
        )
        .select_related("item__space__community")
        .order_by("starts_at", "pk")
    )


def space_feed_events(space: Space, user) -> list[Event]:
    """The events of ``space`` that ``user`` may see (anonymous for the public feed of an open space)."""
    events = list(_feed_events(user).filter(space=space)[:FEED_LIMIT])
    for event in events:
        event.space = event.item.space = space
    return events


def member_feed_events(user) -> list[Event]:
    """The events ``user`` is registered for (going, maybe, waiting list) and may still see, in every space."""
    registered = Registration.objects.filter(user=user, status__in=MY_FEED_STATUSES).values("event_id")
    events = list(_feed_events(user).filter(pk__in=registered)[:FEED_LIMIT])
    for event in events:
        event.space = event.item.space
    return events


def registrations_by_event(user, events: list[Event]) -> dict[int, Registration]:
    """The user's registrations for these events, by event id. One query."""
    if not user.is_authenticated or not events:
        return {}
    rows = Registration.objects.filter(user=user, event__in=[e.pk for e in events])
    return {r.event_id: r for r in rows}


def upcoming_events(user) -> QuerySet[Event]:
    """Events not yet over in every space where the user holds a role and which they may see, soonest first,
    each with the user's registration status (``my_status``, None if they have not answered). One query."""
    member_spaces = Space.objects.filter(permissions.member_spaces_q(user)).values("pk")
    status = Registration.objects.filter(event=OuterRef("pk"), user=user).values("status")[:1]
    return (
        Event.objects.filter(space__in=member_spaces, ends_at__gte=timezone.now())
        .filter(permissions.visible_events_q(user))
        .select_related("space__community")
        .annotate(my_status=Subquery(status))
        .order_by("starts_at", "pk")
    )


@dataclass
class SpaceFeed:
    space: Space
    is_public: bool
    token: FeedToken | None


def member_feeds(user) -> tuple[FeedToken | None, list[SpaceFeed], list[FeedToken]]:
    """The member's personal token, a row per space where they hold a role (open spaces have a public feed;
    the others need a token), and tokens of spaces they can no longer follow (to revoke). Two queries."""
    tokens = list(FeedToken.objects.filter(user=user).select_related("space__community"))
    personal = next((t for t in tokens if t.space_id is None), None)
    by_space = {t.space_id: t for t in tokens if t.space_id is not None}
    spaces = list(
        Space.objects.filter(permissions.member_spaces_q(user))
        .select_related("community")
        .order_by(Lower("community__name"), Lower("name"), "pk")
    )
    rows = [
        SpaceFeed(space=s, is_public=s.visibility == Visibility.OPEN, token=by_space.pop(s.pk, None)) for s in spaces
    ]
    return personal, rows, list(by_space.values())
