"""Personas and spaces of each visibility, built through the services (STYLE.md, "Tests")."""

import uuid
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import DEFAULT_CACHE_ALIAS, cache
from django.core.cache.backends.locmem import LocMemCache

from spaces import services as space_services
from spaces.models import SpaceRole, Visibility
from tests.factories import add_member, make_community, make_space, make_user, onboard

pytest_plugins = ["tests.plugins.services", "tests.security.url_coverage"]

PERSONAS = [
    "anonymous",
    "outsider",
    "requester",
    "invited",
    "viewer",
    "editor",
    "moderator",
    "admin",
    "banned",
    "community_moderator",
    "community_admin",
    "staff",
]


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    """Uploaded files (avatars, logos, space files) go to a per-test folder, never into the working tree."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private-media"


@pytest.fixture(autouse=True)
def _empty_cache():
    """The cache outlives a test while database ids are reused: a visit or a count cached by one test must never
    answer for another. The local-memory cache is emptied; a Redis cache is shared by the xdist workers (and
    flushing it would pull keys from under the other worker's test), so each test gets a namespace of its own."""
    if isinstance(cache._connections[DEFAULT_CACHE_ALIAS], LocMemCache):
        cache.clear()
        yield
        cache.clear()
        return
    previous = cache.key_prefix
    cache.key_prefix = f"test-{uuid.uuid4().hex}"
    yield
    cache.key_prefix = previous


@pytest.fixture
def staff(db):
    return make_user("staff", staff=True)


@pytest.fixture
def community(staff):
    return make_community(staff, slug="data-integration")


def build_world(visibility: str) -> SimpleNamespace:
    """One space of ``visibility`` with a person in every relation to it."""
    from communities import services as community_services

    staff = make_user("staff", staff=True)
    community = make_community(staff, slug=f"community-{visibility}")
    space = make_space(staff, community, visibility, slug=f"space-{visibility}")
    w = SimpleNamespace(visibility=visibility, community=community, space=space, staff=staff, anonymous=AnonymousUser())
    for name in ["outsider", "requester", "invited", "viewer", "editor", "moderator", "admin", "banned"]:
        setattr(w, name, make_user(name))
    w.community_moderator = make_user("cmod")
    w.community_admin = make_user("cadmin")
    community_services.community_role_set(
        actor=staff, community=community, user=w.community_moderator, role="moderator"
    )
    community_services.community_role_set(actor=staff, community=community, user=w.community_admin, role="admin")
    add_member(space, w.viewer, SpaceRole.VIEWER, by=staff)
    add_member(space, w.editor, SpaceRole.EDITOR, by=staff)
    add_member(space, w.moderator, SpaceRole.MODERATOR, by=staff)
    add_member(space, w.admin, SpaceRole.ADMIN, by=staff)
    add_member(space, w.banned, SpaceRole.EDITOR, by=staff)
    space_services.member_ban(actor=staff, space=space, user=w.banned, reason="spam")
    for name in ["outsider", "requester", "invited", "community_moderator", "community_admin"]:
        onboard(getattr(w, name), community)
    if visibility == Visibility.PRIVATE:
        space_services.join_request_create(actor=w.requester, space=space, message="Please let me in")
    w.invitation = space_services.invitation_create(
        actor=staff, space=space, recipient=w.invited.email, role=SpaceRole.EDITOR
    )
    return w


@pytest.fixture
def world_factory(db):
    return build_world


@pytest.fixture(params=[Visibility.OPEN, Visibility.PRIVATE, Visibility.CLOSED])
def world(request, db):
    return build_world(request.param)
