"""Atom feeds (issue 8, item 2): public feeds of open spaces and of communities, and secret-token feeds.

As for the calendars (``spaces/views/calendars.py``): an open space's feed and a community's feed are public and
rendered as for an anonymous visitor, whoever asks, so they never vary with a session and caches may keep them.
Private and closed spaces have no public feed; their members use a secret-token URL (``FeedToken``, the same
token as their calendar link), which serves what the token's owner may read at the moment of the request and
answers 404 as soon as they leave, are removed or banned, or revoke the token.

Conditional GET: every feed carries an ``ETag`` computed from its entries (any entry appearing, going, being
edited or hidden changes it), and a matching ``If-None-Match`` gets 304. ``Last-Modified`` is sent for feed
readers, but ``If-Modified-Since`` alone is not trusted: hiding or trashing an entry makes the feed shorter
without making it newer.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import get_conditional_response
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from communities.permissions import get_community_for_user
from spaces import permissions, syndication
from spaces.models import FeedToken, Space, Visibility
from spaces.services import feeds as feed_services

PUBLIC_MAX_AGE = 300


def _serve(request, source: syndication.FeedSource, *, private: bool) -> HttpResponse:
    etag = source.etag()
    response = get_conditional_response(request, etag=etag)
    if response is None:
        response = syndication.ItemsFeed(source)(request)
    response["ETag"] = etag
    if private:
        # A token URL is a secret: shared caches must not keep what it returns.
        response["Cache-Control"] = "private, no-cache"
        response["X-Robots-Tag"] = "noindex"
    else:
        response["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    return response


@require_safe
def space_feed(request, community_slug, space_slug):
    """The public feed of an open space. Private and closed spaces have none: their members use a token."""
    space = get_object_or_404(
        Space.objects.select_related("community"), community__slug=community_slug, slug=space_slug
    )
    if space.visibility != Visibility.OPEN:
        raise Http404
    return _serve(request, syndication.space_source(space), private=False)


@require_safe
def community_feed(request, community_slug):
    """The public content of the community's open spaces."""
    community = get_community_for_user(request.user, community_slug)
    return _serve(request, syndication.community_source(community), private=False)


@require_safe
def token_feed(request, token):
    """A token's feed: its space's content, or (the member's personal token) what is new in all their spaces."""
    feed = FeedToken.objects.select_related("user", "space__community").filter(token=token).first()
    if feed is None or not feed.user.is_active:
        raise Http404
    owner = feed.user
    if feed.space is not None:
        if not permissions.can_follow_space_feed(owner, feed.space):
            raise Http404
        source = syndication.space_source(feed.space, owner)
    else:
        source = syndication.member_source(owner, settings.SITE_NAME)
    feed_services.feed_token_touch(feed)
    return _serve(request, source, private=True)


# --- A member's feed links for one space -------------------------------------------------------------------------
def atom_token_url(request, token: FeedToken | None) -> str:
    """The absolute secret Atom address of ``token`` (a space's, or the member's personal one); empty without."""
    if token is None:
        return ""
    return request.build_absolute_uri(reverse("spaces:feed-token", kwargs={"token": token.token}))


@login_required
@require_safe
def space_feed_links(request, community_slug, space_slug):
    """The space's feed: its public address (open spaces) and the member's own secret address."""
    space = permissions.get_space_for_user(request.user, community_slug, space_slug)
    kwargs = {"community_slug": space.community.slug, "space_slug": space.slug}
    can_follow = permissions.can_follow_space_feed(request.user, space)
    token = FeedToken.objects.filter(user=request.user, space=space).first() if can_follow else None
    context = {
        "space": space,
        "community": space.community,
        "is_open": space.visibility == Visibility.OPEN,
        "public_url": request.build_absolute_uri(reverse("spaces:space-feed", kwargs=kwargs)),
        "can_follow": can_follow,
        "token": token,
        "token_url": atom_token_url(request, token),
        "calendar_url": request.build_absolute_uri(
            reverse("spaces:space-calendar-token", kwargs={"token": token.token})
        )
        if token
        else "",
    }
    return render(request, "spaces/feeds/space_feed_links.html", context)


def _followed_space(request, community_slug, space_slug) -> Space:
    space = permissions.get_space_for_user(request.user, community_slug, space_slug)
    if not permissions.can_follow_space_feed(request.user, space):
        raise PermissionDenied
    return space


@login_required
@require_POST
def space_feed_token_reset(request, community_slug, space_slug):
    """Make the member's secret link for the space, or a new one (the old one stops at once)."""
    space = _followed_space(request, community_slug, space_slug)
    had = FeedToken.objects.filter(user=request.user, space=space).exists()
    feed_services.feed_token_regenerate(actor=request.user, space=space)
    if had:
        messages.success(request, _("A new link was made. The old one no longer works: update your feed reader."))
    else:
        messages.success(request, _("Your private feed link is ready. Copy it into your feed reader."))
    return redirect("spaces:space-feed-links", community_slug=space.community.slug, space_slug=space.slug)


@login_required
@require_POST
def space_feed_token_revoke(request, community_slug, space_slug):
    """Stop the member's secret link for the space (feed and calendar: it is the same link)."""
    space = permissions.get_space_for_user(request.user, community_slug, space_slug)
    if feed_services.feed_token_revoke(actor=request.user, space=space):
        messages.success(request, _("The link was revoked: it no longer works."))
    return redirect("spaces:space-feed-links", community_slug=space.community.slug, space_slug=space.slug)
