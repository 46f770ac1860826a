"""Calendars: iCalendar feeds of a space and of a member's own events, the member's feed links, and the upcoming
events across all the member's spaces.

An open space's feed is public and rendered as for an anonymous visitor, whoever asks, so its URL never
varies with a session. Every other feed is reached only through a secret token, and serves what the token's
owner may read at the time of the request: a member who leaves or is removed gets 404 at once.
"""

from __future__ import annotations

import html
from datetime import UTC

import icalendar
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from spaces import permissions, selectors_calendars, selectors_papers
from spaces.models import FeedToken, Space, Visibility
from spaces.services import feeds as feed_services
from spaces.views.feeds import atom_token_url

UPCOMING_PAGE_SIZE = 20


# --- The iCalendar document ---------------------------------------------------------------------------------
def _plain(event) -> str:
    """The description as plain text: the stored, sanitised HTML without its tags (or the Markdown source)."""
    if event.description_html:
        return html.unescape(strip_tags(event.description_html)).strip()
    return event.description.strip()


def build_calendar(request, events, *, name: str, viewer=None) -> bytes:
    """An iCalendar document of ``events``. ``viewer`` (the feed's owner) decides whether each event carries
    its online meeting link; the public feed (no viewer) never does."""
    registrations = selectors_calendars.registrations_by_event(viewer, events) if viewer is not None else {}
    calendar = icalendar.Calendar()
    calendar.add("prodid", f"-//{settings.SITE_NAME}//calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    stamp = timezone.now().astimezone(UTC)
    for event in events:
        url = request.build_absolute_uri(event.get_absolute_url())
        description = _plain(event)
        entry = icalendar.Event()
        entry.add("uid", f"event-{event.pk}@copapp")  # as in the event's own .ics, so calendars merge them
        entry.add("dtstamp", stamp)
        entry.add("dtstart", event.starts_at.astimezone(UTC))
        entry.add("dtend", event.ends_at.astimezone(UTC))
        entry.add("summary", event.title)
        entry.add("url", url)
        if event.venue:
            entry.add("location", event.venue)
        if event.online_url and viewer is not None:
            # Someone who has not answered is a stand-in "not going", so the rule needs no query per event.
            registration = registrations.get(event.pk) or selectors_papers.no_registration(event)
            if permissions.can_see_meeting_link(viewer, event, registration):
                description = f"{description}\n\n{_('Join online:')} {event.online_url}".strip()
                entry.add("conference", event.online_url, parameters={"value": "URI"})
        entry.add("description", f"{description}\n\n{url}".strip())
        calendar.add_component(entry)
    return calendar.to_ical()


def _ics_response(body: bytes, *, private: bool) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="calendar.ics"'
    response["X-Robots-Tag"] = "noindex"
    # A token URL is a secret: shared caches must not keep what it returns.
    response["Cache-Control"] = "private, no-cache" if private else "public, max-age=900"
    return response


# --- Feeds --------------------------------------------------------------------------------------------------
@require_safe
def space_calendar(request, community_slug, space_slug):
    """The public feed of an open space. Private and closed spaces have none: their members use a token."""
    space = get_object_or_404(
        Space.objects.select_related("community"), community__slug=community_slug, slug=space_slug
    )
    if space.visibility != Visibility.OPEN:
        raise Http404
    anonymous = AnonymousUser()
    events = selectors_calendars.space_feed_events(space, anonymous)
    return _ics_response(build_calendar(request, events, name=space.name), private=False)


@require_safe
def token_calendar(request, token):
    """A token's feed: its space's events, or its owner's own events, as the owner may see them now."""
    feed = FeedToken.objects.select_related("user", "space__community").filter(token=token).first()
    if feed is None or not feed.user.is_active:
        raise Http404
    owner = feed.user
    if feed.space is not None:
        if not permissions.can_use_space_feed(owner, feed.space):
            raise Http404
        events = selectors_calendars.space_feed_events(feed.space, owner)
        name = feed.space.name
    else:
        events = selectors_calendars.member_feed_events(owner)
        name = _("My events · %(site)s") % {"site": settings.SITE_NAME}
    feed_services.feed_token_touch(feed)
    return _ics_response(build_calendar(request, events, name=name, viewer=owner), private=True)


# --- The member's feed links --------------------------------------------------------------------------------
def _token_url(request, token: FeedToken | None) -> str:
    if token is None:
        return ""
    return request.build_absolute_uri(reverse("spaces:space-calendar-token", kwargs={"token": token.token}))


@login_required
@require_safe
def my_calendar_feeds(request):
    personal, rows, stale = selectors_calendars.member_feeds(request.user)
    for row in rows:
        kwargs = {"community_slug": row.space.community.slug, "space_slug": row.space.slug}
        row.url = (
            request.build_absolute_uri(reverse("spaces:space-calendar", kwargs=kwargs))
            if row.is_public
            else _token_url(request, row.token)
        )
    context = {
        "personal": personal,
        "personal_url": _token_url(request, personal),
        # The same secret also serves an Atom feed of what is new in all the member's spaces (spaces.views.feeds).
        "personal_atom_url": atom_token_url(request, personal),
        "rows": rows,
        "stale": stale,
    }
    return render(request, "spaces/calendar_feeds.html", context)


def _feed_space(request) -> Space | None:
    """The space named by the form (empty: the personal feed); 404 unless the member may follow it."""
    space_id = request.POST.get("space", "")
    if not space_id:
        return None
    space = Space.objects.filter(pk=space_id).first() if space_id.isdigit() else None
    if space is None or not permissions.can_use_space_feed(request.user, space):
        raise Http404
    return space


@login_required
@require_POST
def feed_token_regenerate(request):
    """Make the member's secret link (or a new one, which stops the old one at once)."""
    space = _feed_space(request)
    had = FeedToken.objects.filter(user=request.user, space=space).exists()
    feed_services.feed_token_regenerate(actor=request.user, space=space)
    if had:
        messages.success(request, _("A new link was made. The old one no longer works: update your calendar app."))
    else:
        messages.success(request, _("Your private link is ready. Copy it into your calendar app."))
    return redirect("spaces:my-calendar-feeds")


@login_required
@require_POST
def feed_token_revoke(request):
    """Stop a secret link. A member may revoke links of spaces they can no longer follow, so no space check."""
    space_id = request.POST.get("space", "")
    space = Space.objects.filter(pk=space_id).first() if space_id.isdigit() else None
    if space_id and space is None:
        raise Http404
    if feed_services.feed_token_revoke(actor=request.user, space=space):
        messages.success(request, _("The link was revoked: it no longer works."))
    return redirect("spaces:my-calendar-feeds")


# --- Upcoming events across the member's spaces ---------------------------------------------------------------
@login_required
@require_safe
def upcoming_events(request):
    page = Paginator(selectors_calendars.upcoming_events(request.user), UPCOMING_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {"page_obj": page, "events": page.object_list, "query": ""}
    return render(request, "spaces/upcoming_events.html", context)
