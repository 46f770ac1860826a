"""The limits inside the matrix's "ok" cells: which roles each person may give, whom they may manage or ban,
archiving, individual grants (django-guardian) and bans that outlast a later community role.

Expected outcomes are written by hand from the rules (docs/permissions.md), never computed by the code under
test.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from communities import services as community_services
from communities.models import CommunityMembership
from spaces import services as space_services
from spaces.models import Invitation, Space, SpaceBan, SpaceMembership, SpaceRole, SpaceUserObjectPermission
from tests.access.support import VISIBILITIES, error_messages, is_login_redirect, login, snapshot, space_url
from tests.conftest import PERSONAS

V, E, M, A = SpaceRole.VIEWER, SpaceRole.EDITOR, SpaceRole.MODERATOR, SpaceRole.ADMIN
MANAGERS = ["moderator", "community_moderator", "admin", "community_admin", "staff"]

# --- Roles each manager may give (inviting) -----------------------------------------------------------------
GIVES = {
    "moderator": {V, E},
    "community_moderator": {V, E},
    "admin": {V, E, M, A},
    "community_admin": {V, E, M, A},
    "staff": {V, E, M, A},
}


@pytest.mark.django_db
@pytest.mark.parametrize("visibility", VISIBILITIES)
@pytest.mark.parametrize("persona", MANAGERS)
@pytest.mark.parametrize("role", [V, E, M, A], ids=["viewer", "editor", "moderator", "admin"])
def test_invite_with_role(worlds, client, visibility, persona, role):
    w = worlds[visibility]
    login(client, w, persona)
    email = f"role-{role}-{persona}@example.org"
    response = client.post(space_url(w, "invite"), {"recipient": email, "role": role})
    created = Invitation.objects.filter(space=w.space, email=email, role=role).exists()
    if role in GIVES[persona]:
        assert response.status_code == 302 and created
    else:
        # The form does not offer the role: it comes back with an error and nothing is sent.
        assert response.status_code == 200 and not created
        assert response.context["form"].errors


# --- Changing roles, removing and banning, by target --------------------------------------------------------
# (actor, target, new role, expected). "refused": a role the actor may not give (error message, back to the
# members page). "403": the target's current role is above what the actor may manage.
CHANGE_ROLE = [
    ("moderator", "viewer", E, "ok"),
    ("moderator", "editor", M, "refused"),
    ("moderator", "viewer", A, "refused"),
    ("moderator", "admin", V, "403"),
    ("community_moderator", "viewer", E, "ok"),
    ("community_moderator", "editor", M, "refused"),
    ("community_moderator", "moderator", E, "403"),
    ("community_moderator", "admin", E, "403"),
    ("admin", "moderator", E, "ok"),
    ("admin", "editor", M, "ok"),
    ("admin", "viewer", A, "ok"),
    ("community_admin", "admin", M, "ok"),
    ("staff", "moderator", V, "ok"),
    ("editor", "viewer", E, "403"),
    ("viewer", "editor", V, "403"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("visibility", VISIBILITIES)
@pytest.mark.parametrize(
    "actor,target,role,expected",
    CHANGE_ROLE,
    ids=[f"{a}-sets-{t}-to-{SpaceRole(r).label.lower()}" for a, t, r, _ in CHANGE_ROLE],
)
def test_change_role(worlds, client, visibility, actor, target, role, expected):
    w = worlds[visibility]
    login(client, w, actor)
    target_user = getattr(w, target)
    before = snapshot(w)
    response = client.post(space_url(w, "member-role", user_id=target_user.pk), {"role": role})
    now = SpaceMembership.objects.get(space=w.space, user=target_user).role
    if expected == "ok":
        assert response.status_code == 302 and response["Location"] == space_url(w, "members")
        assert now == role
        return
    assert snapshot(w) == before
    if expected == "refused":
        assert response.status_code == 302 and response["Location"] == space_url(w, "members")
        assert error_messages(response)
    else:
        assert response.status_code == 403


REMOVE = [
    ("moderator", "viewer", "ok"),
    ("moderator", "editor", "ok"),
    ("moderator", "admin", "403"),
    ("community_moderator", "editor", "ok"),
    ("community_moderator", "moderator", "403"),
    ("community_moderator", "admin", "403"),
    ("admin", "moderator", "ok"),
    ("community_admin", "admin", "ok"),
    ("staff", "moderator", "ok"),
    ("editor", "viewer", "403"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("visibility", VISIBILITIES)
@pytest.mark.parametrize("actor,target,expected", REMOVE, ids=[f"{a}-removes-{t}" for a, t, _ in REMOVE])
def test_remove(worlds, client, visibility, actor, target, expected):
    w = worlds[visibility]
    login(client, w, actor)
    target_user = getattr(w, target)
    before = snapshot(w)
    response = client.post(space_url(w, "member-remove", user_id=target_user.pk))
    still_member = SpaceMembership.objects.filter(space=w.space, user=target_user).exists()
    if expected == "ok":
        assert response.status_code == 302 and not still_member
    else:
        assert response.status_code == 403 and still_member and snapshot(w) == before


# Site staff and the community's moderators/admins cannot be banned from a space of that community (their role
# comes from above the space); everyone else can be banned by someone allowed to manage their role.
BAN = [
    ("moderator", "viewer", "ok"),
    ("moderator", "editor", "ok"),
    ("moderator", "admin", "403"),
    ("community_moderator", "editor", "ok"),
    ("community_moderator", "moderator", "403"),
    ("admin", "moderator", "ok"),
    ("admin", "community_moderator", "403"),
    ("admin", "community_admin", "403"),
    ("admin", "staff", "403"),
    ("community_admin", "admin", "ok"),
    ("community_admin", "community_moderator", "403"),
    ("staff", "community_admin", "403"),
    ("staff", "moderator", "ok"),
    ("editor", "viewer", "403"),
    ("admin", "admin", "403"),  # nobody bans themselves
    ("moderator", "moderator", "403"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("visibility", VISIBILITIES)
@pytest.mark.parametrize("actor,target,expected", BAN, ids=[f"{a}-bans-{t}" for a, t, _ in BAN])
def test_ban(worlds, client, visibility, actor, target, expected):
    w = worlds[visibility]
    login(client, w, actor)
    target_user = getattr(w, target)
    before = snapshot(w)
    response = client.post(space_url(w, "member-ban", user_id=target_user.pk), {"reason": "limits"})
    banned = SpaceBan.objects.filter(space=w.space, user=target_user).exists()
    if expected == "ok":
        assert response.status_code == 302 and banned
        assert not SpaceMembership.objects.filter(space=w.space, user=target_user).exists()
    else:
        assert response.status_code == 403 and not banned and snapshot(w) == before


# --- Archiving: admins only ---------------------------------------------------------------------------------
# fmt: off
#                      open     private  closed
ARCHIVE = {
    "anonymous":           ("login", "login", "login"),
    "outsider":            ("403", "403", "404"),
    "requester":           ("403", "403", "404"),
    "invited":             ("403", "403", "404"),
    "banned":              ("403", "403", "404"),
    "viewer":              ("403", "403", "403"),
    "editor":              ("403", "403", "403"),
    "moderator":           ("403", "403", "403"),
    "admin":               ("ok", "ok", "ok"),
    "community_moderator": ("403", "403", "403"),
    "community_admin":     ("ok", "ok", "ok"),
    "staff":               ("ok", "ok", "ok"),
}
# fmt: on


def test_archive_table_has_every_persona():
    assert sorted(ARCHIVE) == sorted(PERSONAS)


@pytest.mark.django_db
@pytest.mark.parametrize("visibility", VISIBILITIES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_archive(worlds, client, visibility, persona):
    w = worlds[visibility]
    expected = ARCHIVE[persona][VISIBILITIES.index(visibility)]
    login(client, w, persona)
    response = client.post(space_url(w, "archive"))
    archived = Space.objects.get(pk=w.space.pk).is_archived
    if expected == "ok":
        assert response.status_code == 302 and archived
        return
    assert not archived
    if expected == "login":
        assert is_login_redirect(response)
    else:
        assert response.status_code == int(expected)


# --- Individual grants (django-guardian): a role on one space, without community membership -----------------
# What each granted role opens on the closed space: (home, members page, join requests, settings page).
GRANTS = {
    V: (200, 200, 403, 403),
    E: (200, 200, 403, 403),
    M: (200, 200, 200, 403),
    A: (200, 200, 200, 200),
}


@pytest.mark.django_db
@pytest.mark.parametrize("visibility", VISIBILITIES)
@pytest.mark.parametrize("role", [V, E, M, A], ids=["viewer", "editor", "moderator", "admin"])
def test_grant_gives_role_on_one_space(worlds, client, visibility, role):
    w = worlds[visibility]
    assert not CommunityMembership.objects.filter(community=w.community, user=w.outsider).exists()
    space_services.space_grant_role(actor=w.staff, space=w.space, user=w.outsider, role=role)
    client.force_login(w.outsider)
    answers = tuple(client.get(space_url(w, name)).status_code for name in ("home", "members", "requests", "settings"))
    assert answers == GRANTS[role]
    assert Space.objects.visible_to(w.outsider).filter(pk=w.space.pk).exists()
    assert Space.objects.readable_by(w.outsider).filter(pk=w.space.pk).exists()
    # The home page's "my spaces" lists it.
    assert w.space in client.get(reverse("home")).context["my_spaces"]


@pytest.mark.django_db
def test_ban_removes_grant(worlds, client):
    w = worlds["closed"]
    space_services.space_grant_role(actor=w.staff, space=w.space, user=w.outsider, role=M)
    space_services.member_ban(actor=w.staff, space=w.space, user=w.outsider, reason="grant")
    assert not SpaceUserObjectPermission.objects.filter(content_object=w.space, user=w.outsider).exists()
    client.force_login(w.outsider)
    assert client.get(space_url(w, "home")).status_code == 404
    assert not Space.objects.visible_to(w.outsider).filter(pk=w.space.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("visibility", VISIBILITIES)
def test_ban_outlasts_a_later_community_role(worlds, client, visibility):
    """A ban takes away every role in the space, also one that arrives later through the community.

    One-object checks and list queries must agree: the space behaves for this person exactly as for any
    banned outsider (on a closed space: not there at all).
    """
    w = worlds[visibility]
    space_services.member_ban(actor=w.staff, space=w.space, user=w.outsider, reason="before promotion")
    community_services.community_role_set(actor=w.staff, community=w.community, user=w.outsider, role="moderator")
    client.force_login(w.outsider)
    listed = Space.objects.visible_to(w.outsider).filter(pk=w.space.pk).exists()
    readable = Space.objects.readable_by(w.outsider).filter(pk=w.space.pk).exists()
    home = client.get(space_url(w, "home")).status_code
    members = client.get(space_url(w, "members")).status_code
    requests = client.get(space_url(w, "requests")).status_code
    in_my_spaces = w.space in client.get(reverse("home")).context["my_spaces"]
    expected = {
        "open": (True, True, 200, 200, 403, False),
        "private": (True, False, 200, 403, 403, False),
        "closed": (False, False, 404, 404, 404, False),
    }[visibility]
    assert (listed, readable, home, members, requests, in_my_spaces) == expected


# --- Invitations and bans -----------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("visibility", VISIBILITIES)
def test_banned_person_cannot_be_invited(worlds, client, visibility):
    w = worlds[visibility]
    client.force_login(w.admin)
    response = client.post(space_url(w, "invite"), {"recipient": w.banned.email, "role": V})
    assert response.status_code == 200 and response.context["form"].errors
    assert not Invitation.objects.filter(space=w.space, email__iexact=w.banned.email, status="pending").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("visibility", VISIBILITIES)
def test_banned_person_cannot_accept_an_earlier_invitation(worlds, client, visibility):
    w = worlds[visibility]
    space_services.member_ban(actor=w.staff, space=w.space, user=w.invited, reason="after invitation")
    client.force_login(w.invited)
    response = client.post(reverse("spaces:invitation", kwargs={"token": w.invitation.token}))
    assert response.status_code in (200, 302)
    assert error_messages(response)
    assert not SpaceMembership.objects.filter(space=w.space, user=w.invited).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("visibility", VISIBILITIES)
def test_invited_person_becomes_member_with_invited_role_on_accepting(worlds, client, visibility):
    w = worlds[visibility]
    client.force_login(w.invited)
    response = client.post(reverse("spaces:invitation", kwargs={"token": w.invitation.token}))
    assert response.status_code == 302 and response["Location"] == w.space.get_absolute_url()
    assert SpaceMembership.objects.get(space=w.space, user=w.invited).role == w.invitation.role
    assert client.get(space_url(w, "members")).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("visibility", VISIBILITIES)
def test_space_keeps_one_admin(worlds, client, visibility):
    """The last admin membership cannot be demoted or removed: the change is refused with a message."""
    w = worlds[visibility]
    client.force_login(w.staff)
    assert client.post(space_url(w, "member-remove", user_id=w.admin.pk)).status_code == 302
    before = snapshot(w)
    response = client.post(space_url(w, "member-role", user_id=w.staff.pk), {"role": E})
    assert response.status_code == 302 and error_messages(response)
    assert snapshot(w) == before
