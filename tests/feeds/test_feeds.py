"""Atom feeds (issue 8, item 2): public feeds of open spaces and communities, secret-token feeds of private and
closed spaces that stop the moment their owner loses access, and never any hidden or restricted content."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from spaces.models import FeedToken, SpaceMembership, Visibility
from spaces.services import feeds as feed_services
from spaces.services import member_ban, membership_remove, space_leave
from spaces.services import moderation as moderation_services
from spaces.services import posts as post_services
from tests.factories import make_space
from tests.feeds.content import assert_no_secrets, entries, secret_content, shared_content, titles
from tests.spaces.helpers import client_for, space_url

SHARED_TITLES = {"Linkage guide", "Which keys?", "Linkage workshop", "Slides are online"}


@pytest.fixture
def open_world(world_factory):
    return world_factory(Visibility.OPEN)


@pytest.fixture
def private_world(world_factory):
    return world_factory(Visibility.PRIVATE)


@pytest.fixture
def closed_world(world_factory):
    return world_factory(Visibility.CLOSED)


def community_feed_url(community) -> str:
    return reverse("spaces:community-feed", kwargs={"community_slug": community.slug})


def token_url(token: FeedToken) -> str:
    return reverse("spaces:feed-token", kwargs={"token": token.token})


# --- Public feeds ---------------------------------------------------------------------------------------------------
def test_open_space_feed_lists_pages_questions_events_and_posts_with_their_details(open_world):
    w = open_world
    content = shared_content(w)

    response = Client().get(space_url("space-feed", w.space))

    rows = {row["title"]: row for row in entries(response)}
    assert set(rows) == SHARED_TITLES
    page = rows["Linkage guide"]
    assert page["link"] == "http://testserver" + content.page.get_absolute_url()
    assert page["author"] == w.editor.public_name
    assert page["updated"]
    assert page["summary_type"] == "html"
    assert "<strong>link</strong>" in page["summary"]  # the stored, sanitised HTML
    assert rows["Linkage workshop"]["link"] == "http://testserver" + content.event.get_absolute_url()
    assert rows["Slides are online"]["link"] == "http://testserver" + content.post.get_absolute_url()
    assert response["Cache-Control"] == "public, max-age=300"
    assert response["ETag"]


def test_open_space_feed_is_the_same_document_whoever_asks(open_world):
    w = open_world
    shared_content(w)
    secret_content(w)

    for browser in (Client(), client_for(w.viewer), client_for(w.moderator), client_for(w.admin)):
        response = browser.get(space_url("space-feed", w.space))
        assert titles(response) == SHARED_TITLES
        assert_no_secrets(response)


@pytest.mark.parametrize("visibility", [Visibility.PRIVATE, Visibility.CLOSED])
def test_private_and_closed_spaces_have_no_public_feed(world_factory, visibility):
    w = world_factory(visibility)
    shared_content(w)

    for browser in (Client(), client_for(w.outsider), client_for(w.viewer), client_for(w.admin)):
        assert browser.get(space_url("space-feed", w.space)).status_code == 404


def test_community_feed_carries_only_the_public_content_of_its_open_spaces(open_world):
    w = open_world
    shared_content(w)
    secret_content(w)
    private = make_space(w.staff, w.community, Visibility.PRIVATE, slug="private-room")
    closed = make_space(w.staff, w.community, Visibility.CLOSED, slug="closed-room")
    for space in (private, closed):
        shared_content(w.__class__(editor=w.staff, moderator=w.staff, viewer=w.staff), space=space, tag=" (members)")

    response = Client().get(community_feed_url(w.community))

    assert titles(response) == SHARED_TITLES
    assert "(members)" not in response.content.decode()
    assert_no_secrets(response)


def test_feeds_are_atom_with_a_self_link_and_the_space_as_alternate(open_world):
    w = open_world
    shared_content(w)
    body = Client().get(space_url("space-feed", w.space)).content.decode()
    assert 'xmlns="http://www.w3.org/2005/Atom"' in body
    assert f'href="http://testserver{space_url("space-feed", w.space)}" rel="self"' in body
    assert f'href="http://testserver{w.space.get_absolute_url()}" rel="alternate"' in body


def test_conditional_get_answers_304_until_an_entry_changes_or_goes(open_world):
    w = open_world
    content = shared_content(w)
    url = space_url("space-feed", w.space)
    first = Client().get(url)
    etag = first["ETag"]

    again = Client().get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again["ETag"] == etag

    moderation_services.item_hide(actor=w.moderator, item=content.post.item, reason="Spam")
    after_hiding = Client().get(url, headers={"If-None-Match": etag})
    assert after_hiding.status_code == 200  # the feed got shorter, not newer: If-Modified-Since alone is not trusted
    assert "Slides are online" not in titles(after_hiding)


# --- Hidden and restricted content is never in any feed ---------------------------------------------------------------
@pytest.mark.parametrize("visibility", [Visibility.OPEN, Visibility.PRIVATE, Visibility.CLOSED])
def test_no_feed_carries_hidden_restricted_scheduled_or_trashed_content(world_factory, visibility):
    w = world_factory(visibility)
    shared_content(w)
    secret_content(w)
    # The people who may see each secret item on the site still do not get it in their feeds.
    feeds = []
    for owner in (w.viewer, w.editor, w.moderator, w.admin, w.community_admin, w.staff):
        feeds.append(token_url(feed_services.feed_token_get_or_create(actor=owner, space=w.space)))
    feeds.append(token_url(feed_services.feed_token_get_or_create(actor=w.editor)))  # the personal feed
    if visibility == Visibility.OPEN:
        feeds += [space_url("space-feed", w.space), community_feed_url(w.community)]

    for url in feeds:
        response = Client().get(url)
        assert titles(response) >= SHARED_TITLES, url
        assert_no_secrets(response)


def test_content_hidden_later_leaves_the_feed(open_world):
    w = open_world
    content = shared_content(w)
    moderation_services.item_hide(actor=w.moderator, item=content.page.item, reason="Wrong space")
    assert "Linkage guide" not in titles(Client().get(space_url("space-feed", w.space)))


def test_a_scheduled_post_joins_the_feed_when_it_goes_out(open_world, time_machine):
    from datetime import timedelta

    from django.utils import timezone

    w = open_world
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    post_services.post_create(actor=w.editor, space=w.space, body="Coming soon", publish_at=start + timedelta(hours=1))
    assert "Coming soon" not in titles(Client().get(space_url("space-feed", w.space)))
    time_machine.move_to(start + timedelta(hours=2), tick=False)
    post_services.posts_publish_due()
    assert "Coming soon" in titles(Client().get(space_url("space-feed", w.space)))


# --- Secret-token feeds -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("visibility", [Visibility.PRIVATE, Visibility.CLOSED])
def test_a_members_token_feed_carries_the_space_content(world_factory, visibility):
    w = world_factory(visibility)
    shared_content(w)
    token = feed_services.feed_token_get_or_create(actor=w.viewer, space=w.space)

    response = Client().get(token_url(token))

    assert titles(response) == SHARED_TITLES
    assert response["Cache-Control"] == "private, no-cache"
    assert response["X-Robots-Tag"] == "noindex"


def test_a_personal_token_feed_carries_the_members_spaces_only(private_world):
    w = private_world
    shared_content(w)
    other = make_space(w.staff, w.community, Visibility.CLOSED, slug="elsewhere")
    from spaces.services import page_create

    page_create(actor=w.staff, space=other, title="Not my space", body="Elsewhere.")
    token = feed_services.feed_token_get_or_create(actor=w.viewer)

    got = titles(Client().get(token_url(token)))
    assert got == SHARED_TITLES


@pytest.mark.parametrize("visibility", [Visibility.PRIVATE, Visibility.CLOSED])
@pytest.mark.parametrize("how", ["removed", "left", "banned", "revoked", "regenerated", "deactivated"])
def test_a_token_stops_working_when_its_owner_loses_access(world_factory, visibility, how):
    w = world_factory(visibility)
    shared_content(w)
    token = feed_services.feed_token_get_or_create(actor=w.editor, space=w.space)
    url = token_url(token)
    assert Client().get(url).status_code == 200

    if how == "removed":
        membership_remove(actor=w.admin, membership=SpaceMembership.objects.get(space=w.space, user=w.editor))
    elif how == "left":
        space_leave(actor=w.editor, space=w.space)
    elif how == "banned":
        member_ban(actor=w.admin, space=w.space, user=w.editor, reason="Spam")
    elif how == "revoked":
        feed_services.feed_token_revoke(actor=w.editor, space=w.space)
    elif how == "regenerated":
        feed_services.feed_token_regenerate(actor=w.editor, space=w.space)
    else:
        w.editor.is_active = False
        w.editor.save(update_fields=["is_active"])

    assert Client().get(url).status_code == 404


def test_an_unknown_token_is_not_found(db):
    assert Client().get(reverse("spaces:feed-token", kwargs={"token": "nope"})).status_code == 404


def test_a_token_of_an_open_space_stops_when_the_member_leaves(open_world):
    w = open_world
    shared_content(w)
    token = feed_services.feed_token_get_or_create(actor=w.viewer, space=w.space)
    assert Client().get(token_url(token)).status_code == 200
    space_leave(actor=w.viewer, space=w.space)
    assert Client().get(token_url(token)).status_code == 404
    assert Client().get(space_url("space-feed", w.space)).status_code == 200  # the public feed stays


# --- Query counts ---------------------------------------------------------------------------------------------------
def _queries(url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert Client().get(url).status_code == 200
    return len(captured.captured_queries)


def _grow(w, start: int, stop: int) -> None:
    for n in range(start, stop):
        shared_content(w, tag=f" {n}")


def test_public_feed_query_counts_do_not_grow_with_entries(open_world):
    w = open_world
    _grow(w, 0, 1)  # 4 entries
    urls = [space_url("space-feed", w.space), community_feed_url(w.community)]
    for url in urls:
        Client().get(url)  # the sites framework caches the current site on the first feed of the process
    few = {url: _queries(url) for url in urls}
    _grow(w, 1, 8)  # 32 entries, more than a feed holds
    many = {url: _queries(url) for url in urls}

    assert few == many
    assert few[urls[0]] == 2  # the space, the entries
    assert few[urls[1]] == 2  # the community, the entries of its open spaces
    assert len(entries(Client().get(urls[0]))) == 30


def test_token_feed_query_counts_do_not_grow_with_entries(private_world):
    w = private_world
    _grow(w, 0, 1)
    urls = [
        token_url(feed_services.feed_token_get_or_create(actor=w.viewer, space=w.space)),
        token_url(feed_services.feed_token_get_or_create(actor=w.viewer)),
    ]
    for url in urls:
        Client().get(url)  # the first use of a token is noted (one UPDATE); later ones within minutes are not
    few = {url: _queries(url) for url in urls}
    _grow(w, 1, 8)
    many = {url: _queries(url) for url in urls}

    assert few == many
    assert len(entries(Client().get(urls[0]))) == 30


# --- Links to the feeds: page heads, a visible link, the member's private address -------------------------------------
def test_open_space_and_community_pages_link_their_feeds(open_world):
    w = open_world
    html = Client().get(w.space.get_absolute_url()).content.decode()
    feed = space_url("space-feed", w.space)
    assert f'<link rel="alternate" type="application/atom+xml" title="{w.space.name}" href="{feed}">' in html
    assert f'<a href="{feed}">Feed' in html

    html = Client().get(w.community.get_absolute_url()).content.decode()
    feed = community_feed_url(w.community)
    assert f'rel="alternate" type="application/atom+xml" title="{w.community.name}" href="{feed}"' in html
    assert f'<a href="{feed}">Feed' in html


@pytest.mark.parametrize("visibility", [Visibility.PRIVATE, Visibility.CLOSED])
def test_members_of_private_spaces_are_shown_how_to_get_their_feed(world_factory, visibility):
    w = world_factory(visibility)
    shared_content(w)
    browser = client_for(w.viewer)
    html = browser.get(w.space.get_absolute_url()).content.decode()
    assert "application/atom+xml" not in html  # no public feed to announce
    links_page = space_url("space-feed-links", w.space)
    assert links_page in html

    html = browser.get(links_page).content.decode()
    assert "Make my private feed address" in html
    assert not FeedToken.objects.filter(user=w.viewer, space=w.space).exists()

    response = browser.post(space_url("space-feed-reset", w.space))
    assert response.status_code == 302
    token = FeedToken.objects.get(user=w.viewer, space=w.space)
    html = browser.get(links_page).content.decode()
    assert "http://testserver" + token_url(token) in html
    assert titles(Client().get(token_url(token))) == SHARED_TITLES

    browser.post(space_url("space-feed-reset", w.space))  # a new address: the old one stops
    assert Client().get(token_url(token)).status_code == 404
    token = FeedToken.objects.get(user=w.viewer, space=w.space)
    browser.post(space_url("space-feed-revoke", w.space))
    assert Client().get(token_url(token)).status_code == 404


def test_feed_links_page_access(private_world, closed_world):
    for w, outsider_status in ((private_world, 200), (closed_world, 404)):
        url = space_url("space-feed-links", w.space)
        assert Client().get(url).status_code == 302  # sign in first
        assert client_for(w.outsider).get(url).status_code == outsider_status
        assert client_for(w.outsider).post(space_url("space-feed-reset", w.space)).status_code in (403, 404)
        assert client_for(w.banned).post(space_url("space-feed-reset", w.space)).status_code in (403, 404)
        assert client_for(w.viewer).get(space_url("space-feed-reset", w.space)).status_code == 405
        assert not FeedToken.objects.filter(space=w.space).exists()
