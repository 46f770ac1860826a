"""A closed space does not exist for anyone without a role there: no list, page or profile names it.

Each surface is checked for every non-role-holder (anonymous, outsider, requester, invited, banned) and, as a
control that the check can see the space at all, for people who do hold a role there.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from spaces.models import Space, Visibility
from tests.conftest import build_world
from tests.factories import make_space

# Written by hand from the rules: who holds a role in the closed space of build_world.
NON_ROLE_HOLDERS = ["anonymous", "outsider", "requester", "invited", "banned"]
ROLE_HOLDERS = ["viewer", "editor", "moderator", "admin", "community_moderator", "community_admin", "staff"]
SIGNED_IN_NON_ROLE_HOLDERS = [p for p in NON_ROLE_HOLDERS if p != "anonymous"]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The closed world plus an open space in the same community, built once and rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        w = build_world(Visibility.CLOSED)
        w.space.name = "Wombat hidden workroom"
        w.space.save(update_fields=["name"])
        w.open_space = make_space(w.staff, w.community, Visibility.OPEN, slug="listing-open-room")
        yield w
        transaction.set_rollback(True)


def _login(client, w, persona):
    if persona != "anonymous":
        client.force_login(getattr(w, persona))


def _mentions_closed_space(w, response) -> bool:
    html = response.content.decode()
    return w.space.name in html or w.space.get_absolute_url() in html


def _get(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response


@pytest.mark.django_db
@pytest.mark.parametrize("persona", NON_ROLE_HOLDERS + ROLE_HOLDERS)
def test_community_page_lists_closed_space_only_for_role_holders(world, client, persona):
    _login(client, world, persona)
    response = _get(client, reverse("communities:detail", kwargs={"community_slug": world.community.slug}))
    listed = [s.pk for s in response.context["spaces"]]
    assert world.open_space.pk in listed
    expected = persona in ROLE_HOLDERS
    assert (world.space.pk in listed) is expected
    assert _mentions_closed_space(world, response) is expected


@pytest.mark.django_db
@pytest.mark.parametrize("persona", NON_ROLE_HOLDERS + ROLE_HOLDERS)
def test_home_my_spaces_shows_closed_space_only_for_role_holders(world, client, persona):
    _login(client, world, persona)
    response = _get(client, reverse("home"))
    expected = persona in ROLE_HOLDERS
    my_spaces = [s.pk for s in response.context.get("my_spaces", [])]
    assert (world.space.pk in my_spaces) is expected
    assert _mentions_closed_space(world, response) is expected


@pytest.mark.django_db
@pytest.mark.parametrize("persona", NON_ROLE_HOLDERS + ROLE_HOLDERS)
def test_community_list_never_names_or_counts_the_closed_space(world, client, persona):
    _login(client, world, persona)
    response = _get(client, reverse("communities:list"))
    assert not _mentions_closed_space(world, response)
    counts = {c.pk: c.public_space_total for c in response.context["communities"]}
    assert counts[world.community.pk] == 1  # the open space only


@pytest.mark.django_db
@pytest.mark.parametrize("persona", SIGNED_IN_NON_ROLE_HOLDERS + ROLE_HOLDERS)
def test_member_profile_names_closed_space_only_for_role_holders(world, client, persona):
    """The viewer's profile lists their spaces; the closed one only for people who may see it."""
    _login(client, world, persona)
    response = _get(client, reverse("members:profile", kwargs={"username": world.viewer.username}))
    assert _mentions_closed_space(world, response) is (persona in ROLE_HOLDERS)


def test_member_profile_needs_sign_in(world, client, db):
    response = client.get(reverse("members:profile", kwargs={"username": world.viewer.username}))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.django_db
@pytest.mark.parametrize("persona", SIGNED_IN_NON_ROLE_HOLDERS)
@pytest.mark.parametrize("query", ["", "viewer", "Wombat"])
def test_member_directory_never_names_closed_space(world, client, persona, query):
    _login(client, world, persona)
    response = _get(client, reverse("members:directory") + (f"?q={query}" if query else ""))
    assert not _mentions_closed_space(world, response)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", NON_ROLE_HOLDERS)
def test_querysets_leave_closed_space_out(world, persona):
    user = getattr(world, persona)
    assert not Space.objects.visible_to(user).filter(pk=world.space.pk).exists()
    assert not Space.objects.readable_by(user).filter(pk=world.space.pk).exists()
    assert Space.objects.visible_to(user).filter(pk=world.open_space.pk).exists()
