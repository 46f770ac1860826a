"""Community-level rules: who creates communities and spaces, who runs a community, and onboarding first.

Personas (from the open world of ``build_world``): "member" is the space's viewer, who became a member of the
community by joining a space; "outsider" has accepted the guidelines but belongs to no space.
Expected outcomes are written by hand from the rules (docs/permissions.md).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from communities.models import Community, CommunityMembership, CommunityRole
from spaces.models import JoinRequest, Space, SpaceMembership
from tests.access.support import error_messages, is_login_redirect, space_url
from tests.factories import make_space, make_user

COMMUNITY_PERSONAS = ["anonymous", "outsider", "member", "community_moderator", "community_admin", "staff"]
COMMUNITY_ACTIONS = [
    "see_community",
    "create_community",
    "create_space",
    "settings",
    "member_list",
    "set_role",
    "focal_point",
]

# fmt: off
COMMUNITY_TABLE = """
    persona              see_community create_community create_space settings member_list set_role focal_point
    anonymous            ok            login            login        login    login       login    login
    outsider             ok            403              403          403      403         403      403
    member               ok            403              403          403      403         403      403
    community_moderator  ok            403              403          403      ok          403      403
    community_admin      ok            403              ok           ok       ok          ok       ok
    staff                ok            ok               ok           ok       ok          ok       ok
"""
# fmt: on


def _parse(text):
    rows = [line.split() for line in text.strip().splitlines()]
    assert rows[0] == ["persona", *COMMUNITY_ACTIONS]
    table = {row[0]: dict(zip(COMMUNITY_ACTIONS, row[1:], strict=True)) for row in rows[1:]}
    assert list(table) == COMMUNITY_PERSONAS
    return table


EXPECTED = _parse(COMMUNITY_TABLE)


def _actor(w, persona):
    return {"member": w.viewer}.get(persona) or getattr(w, persona)


def _assert(response, expected, changed: bool):
    if expected == "ok":
        assert response.status_code in (200, 302), response.status_code
        assert changed, "allowed, but nothing changed"
        return
    assert not changed, "forbidden, but something changed"
    if expected == "login":
        assert is_login_redirect(response)
    else:
        assert response.status_code == int(expected)


def _do(client, w, action):
    """Run one action; return (response, whether the database changed as the action asks)."""
    slug = w.community.slug
    if action == "see_community":
        response = client.get(reverse("communities:detail", kwargs={"community_slug": slug}))
        return response, response.status_code == 200
    if action == "create_community":
        data = {
            "name": "Brand new",
            "slug": "brand-new-community",
            "description": "",
            "guidelines": "Be kind.",
            "time_zone": "UTC",
            "intro_questions": "Why?",
        }
        response = client.post(reverse("communities:create"), data)
        return response, Community.objects.filter(slug="brand-new-community").exists()
    if action == "create_space":
        data = {
            "name": "Brand new space",
            "slug": "brand-new-space",
            "description": "",
            "visibility": "closed",
            "default_role": 20,
        }
        response = client.post(reverse("spaces:create", kwargs={"community_slug": slug}), data)
        return response, Space.objects.filter(community=w.community, slug="brand-new-space").exists()
    if action == "settings":
        response = client.get(reverse("communities:settings", kwargs={"community_slug": slug}))
        return response, response.status_code == 200
    if action == "member_list":
        response = client.get(reverse("communities:members", kwargs={"community_slug": slug}))
        return response, response.status_code == 200
    if action == "set_role":
        url = reverse("communities:member-role", kwargs={"community_slug": slug, "user_id": w.editor.pk})
        response = client.post(url, {"role": CommunityRole.MODERATOR})
        role = CommunityMembership.objects.get(community=w.community, user=w.editor).role
        return response, role == CommunityRole.MODERATOR
    if action == "focal_point":
        url = reverse("communities:focal-point", kwargs={"community_slug": slug, "user_id": w.editor.pk})
        response = client.post(url, {"is_focal_point": "1"})
        return response, CommunityMembership.objects.get(community=w.community, user=w.editor).is_focal_point
    raise AssertionError(action)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", COMMUNITY_PERSONAS)
@pytest.mark.parametrize("action", COMMUNITY_ACTIONS)
def test_community_cell(worlds, client, persona, action):
    w = worlds["open"]
    if persona != "anonymous":
        client.force_login(_actor(w, persona))
    response, changed = _do(client, w, action)
    _assert(response, EXPECTED[persona][action], changed)


@pytest.mark.django_db
def test_space_creator_becomes_its_admin(worlds, client):
    w = worlds["open"]
    client.force_login(w.community_admin)
    data = {
        "name": "Made by cadmin",
        "slug": "made-by-cadmin",
        "description": "",
        "visibility": "closed",
        "default_role": 10,
    }
    client.post(reverse("spaces:create", kwargs={"community_slug": w.community.slug}), data)
    space = Space.objects.get(community=w.community, slug="made-by-cadmin")
    assert SpaceMembership.objects.get(space=space, user=w.community_admin).role == 40


# --- Onboarding: the community's guidelines are accepted before the first join, request or accepted invitatio
@pytest.mark.django_db
def test_join_waits_for_onboarding(worlds, client):
    w = worlds["open"]
    newcomer = make_user("newcomer")
    client.force_login(newcomer)
    response = client.post(space_url(w, "join"))
    onboarding = reverse("communities:onboarding", kwargs={"community_slug": w.community.slug})
    assert response.status_code == 302 and response["Location"].startswith(onboarding + "?next=")
    assert not SpaceMembership.objects.filter(space=w.space, user=newcomer).exists()
    # Reading needs no onboarding.
    assert client.get(space_url(w, "members")).status_code == 200
    questions = {f"question_{q.pk}": "To learn." for q in w.community.intro_questions.all()}
    client.post(onboarding, {"accept_guidelines": "on", **questions})
    response = client.post(space_url(w, "join"))
    assert response.status_code == 302 and response["Location"] == w.space.get_absolute_url()
    assert SpaceMembership.objects.get(space=w.space, user=newcomer).role == w.space.default_role
    assert CommunityMembership.objects.filter(community=w.community, user=newcomer).exists()


@pytest.mark.django_db
def test_request_waits_for_onboarding(worlds, client):
    w = worlds["private"]
    newcomer = make_user("newcomer")
    client.force_login(newcomer)
    response = client.post(space_url(w, "request"), {"message": "Hello"})
    onboarding = reverse("communities:onboarding", kwargs={"community_slug": w.community.slug})
    assert response.status_code == 302 and response["Location"].startswith(onboarding + "?next=")
    assert not JoinRequest.objects.filter(space=w.space, user=newcomer).exists()


@pytest.mark.django_db
def test_onboarding_in_one_community_does_not_count_in_another(worlds, client):
    w, other = worlds["open"], worlds["private"]
    # The outsider accepted the guidelines of the open world's community, not of another one.
    second = make_space(other.staff, other.community, "open", slug="second-open")
    client.force_login(w.outsider)
    response = client.post(
        reverse("spaces:join", kwargs={"community_slug": other.community.slug, "space_slug": second.slug})
    )
    assert response.status_code == 302 and "/welcome/" in response["Location"]
    assert not SpaceMembership.objects.filter(space=second, user=w.outsider).exists()


@pytest.mark.django_db
def test_accepting_an_invitation_waits_for_onboarding(worlds, client):
    from spaces import services as space_services

    w = worlds["closed"]
    newcomer = make_user("invitee")
    invitation = space_services.invitation_create(actor=w.admin, space=w.space, recipient=newcomer.email, role=10)
    client.force_login(newcomer)
    response = client.post(reverse("spaces:invitation", kwargs={"token": invitation.token}))
    onboarding = reverse("communities:onboarding", kwargs={"community_slug": w.community.slug})
    assert response.status_code == 302 and response["Location"].startswith(onboarding + "?next=")
    assert not SpaceMembership.objects.filter(space=w.space, user=newcomer).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["grant_holder", "other_staff"])
def test_people_who_already_take_part_are_refused_a_join(worlds, client, who):
    """Holding a role through a grant or as site staff counts as being in: a one-click join is refused."""
    from spaces import services as space_services

    w = worlds["open"]
    if who == "grant_holder":
        person = w.outsider
        space_services.space_grant_role(actor=w.staff, space=w.space, user=person, role=10)
    else:
        person = make_user("staff2", staff=True)
    client.force_login(person)
    response = client.post(space_url(w, "join"))
    assert response.status_code == 302 and response["Location"] == w.space.get_absolute_url()
    assert error_messages(response)
    assert not SpaceMembership.objects.filter(space=w.space, user=person).exists()
