"""The access matrix: every visibility x every persona x every action, each cell its own test.

The expected outcomes are written out by hand below, from the product rules (ARCHITECTURE.md "Roles, settled"
and docs/permissions.md). They are never computed by calling the code under test: if a rule in
``spaces/permissions.py`` changes, a cell here must fail (``scripts/mutate_permissions.py`` checks that).

Legend (one word per cell):
  see_in_list  yes      the space's name is on the community page and the space is in
                        Space.objects.visible_to(user)
               no       neither
  open_space   ok       GET the space's home page answers 200 and shows the space's name
               404      it answers 404, exactly like a space that does not exist
  read_content ok       GET the members page answers 200, and a page in the space shows on the space's home
               403      the members page answers 403; the home page opens but does not show the page
               404      both answer 404, exactly like a space that does not exist
  (POST actions and the join-request queue)
               ok       allowed: the database changed as asked, and the answer redirects to the expected page
               refused  allowed to try: back to the space's home with an error message, nothing changed
               403      forbidden, nothing changed
               404      as if the space did not exist (compared with a made-up slug), nothing changed
               login    redirected to the sign-in page, nothing changed

Actions and targets:
  join            POST spaces:join
  request         POST spaces:request with a message: a pending JoinRequest is created
  approve_decline GET spaces:requests; on the private space also POST spaces:request-approve for the requester
  invite          POST spaces:invite recipient=<new e-mail>, role=viewer: an Invitation is created
  change_role     POST spaces:member-role for the editor, role=viewer
  remove          POST spaces:member-remove for the viewer
  ban             POST spaces:member-ban for the viewer
  edit_settings   POST spaces:settings with the current values and a new description
  delete          POST spaces:delete with confirm_name=<the space's name>
A persona never acts on themselves: the targets are the editor (change_role) and the viewer (remove, ban),
and the editor/viewer personas are refused those actions (403) before any target is looked at.

Personas come from ``tests.conftest.build_world``: "requester" has a pending join request only on the private
space (elsewhere they are an onboarded outsider); "invited" holds a pending, unaccepted invitation; "banned"
was an editor, then was banned; community_moderator / community_admin hold that community role and no space
membership; staff created the space (and is site staff).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from spaces.models import (
    Invitation,
    Item,
    JoinRequest,
    JoinRequestStatus,
    Space,
    SpaceBan,
    SpaceMembership,
    SpaceRole,
)
from tests.access.support import GHOST_SLUG, error_messages, is_login_redirect, snapshot, space_url
from tests.conftest import PERSONAS

ACTIONS = [
    "see_in_list",
    "open_space",
    "read_content",
    "join",
    "request",
    "approve_decline",
    "invite",
    "change_role",
    "remove",
    "ban",
    "edit_settings",
    "delete",
]

# fmt: off
# Columns:           list open read    join    request approve invite  role    remove  ban     settings delete
EXPECTED_TABLES = {
    "open": """
        persona              see_in_list open_space read_content join    request approve_decline invite  change_role remove  ban     edit_settings delete
        anonymous            yes         ok         ok           login   login   login           login   login       login   login   login         login
        outsider             yes         ok         ok           ok      refused 403             403     403         403     403     403           403
        requester            yes         ok         ok           ok      refused 403             403     403         403     403     403           403
        invited              yes         ok         ok           ok      refused 403             403     403         403     403     403           403
        banned               yes         ok         ok           403     403     403             403     403         403     403     403           403
        viewer               yes         ok         ok           refused refused 403             403     403         403     403     403           403
        editor               yes         ok         ok           refused refused 403             403     403         403     403     403           403
        moderator            yes         ok         ok           refused refused ok              ok      ok          ok      ok      403           403
        admin                yes         ok         ok           refused refused ok              ok      ok          ok      ok      ok            ok
        community_moderator  yes         ok         ok           refused refused ok              ok      ok          ok      ok      403           403
        community_admin      yes         ok         ok           refused refused ok              ok      ok          ok      ok      ok            ok
        staff                yes         ok         ok           refused refused ok              ok      ok          ok      ok      ok            ok
    """,  # noqa: E501
    "private": """
        persona              see_in_list open_space read_content join    request approve_decline invite  change_role remove  ban     edit_settings delete
        anonymous            yes         ok         403          login   login   login           login   login       login   login   login         login
        outsider             yes         ok         403          refused ok      403             403     403         403     403     403           403
        requester            yes         ok         403          refused refused 403             403     403         403     403     403           403
        invited              yes         ok         403          refused ok      403             403     403         403     403     403           403
        banned               yes         ok         403          403     403     403             403     403         403     403     403           403
        viewer               yes         ok         ok           refused refused 403             403     403         403     403     403           403
        editor               yes         ok         ok           refused refused 403             403     403         403     403     403           403
        moderator            yes         ok         ok           refused refused ok              ok      ok          ok      ok      403           403
        admin                yes         ok         ok           refused refused ok              ok      ok          ok      ok      ok            ok
        community_moderator  yes         ok         ok           refused refused ok              ok      ok          ok      ok      403           403
        community_admin      yes         ok         ok           refused refused ok              ok      ok          ok      ok      ok            ok
        staff                yes         ok         ok           refused refused ok              ok      ok          ok      ok      ok            ok
    """,  # noqa: E501
    "closed": """
        persona              see_in_list open_space read_content join    request approve_decline invite  change_role remove  ban     edit_settings delete
        anonymous            no          404        404          login   login   login           login   login       login   login   login         login
        outsider             no          404        404          404     404     404             404     404         404     404     404           404
        requester            no          404        404          404     404     404             404     404         404     404     404           404
        invited              no          404        404          404     404     404             404     404         404     404     404           404
        banned               no          404        404          404     404     404             404     404         404     404     404           404
        viewer               yes         ok         ok           refused refused 403             403     403         403     403     403           403
        editor               yes         ok         ok           refused refused 403             403     403         403     403     403           403
        moderator            yes         ok         ok           refused refused ok              ok      ok          ok      ok      403           403
        admin                yes         ok         ok           refused refused ok              ok      ok          ok      ok      ok            ok
        community_moderator  yes         ok         ok           refused refused ok              ok      ok          ok      ok      403           403
        community_admin      yes         ok         ok           refused refused ok              ok      ok          ok      ok      ok            ok
        staff                yes         ok         ok           refused refused ok              ok      ok          ok      ok      ok            ok
    """,  # noqa: E501
}
# fmt: on

VOCABULARY = {
    "see_in_list": {"yes", "no"},
    "open_space": {"ok", "404"},
    "read_content": {"ok", "403", "404"},
}
POST_VOCABULARY = {"ok", "refused", "403", "404", "login"}


def _parse(text: str) -> dict[str, dict[str, str]]:
    """Turn one literal table into {persona: {action: outcome}}; a malformed table fails at import."""
    lines = [line.split() for line in text.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    assert header == ["persona", *ACTIONS], header
    table = {}
    for row in rows:
        assert len(row) == len(header), row
        persona, outcomes = row[0], dict(zip(ACTIONS, row[1:], strict=True))
        for action, outcome in outcomes.items():
            assert outcome in VOCABULARY.get(action, POST_VOCABULARY), (persona, action, outcome)
        table[persona] = outcomes
    assert sorted(table) == sorted(PERSONAS), sorted(table)
    return table


EXPECTED = {visibility: _parse(text) for visibility, text in EXPECTED_TABLES.items()}

CELLS = [
    pytest.param(visibility, persona, action, id=f"{visibility}-{persona}-{action}")
    for visibility in EXPECTED
    for persona in PERSONAS
    for action in ACTIONS
]

NEW_DESCRIPTION = "A description written by the access matrix."


# --- Observing one cell -------------------------------------------------------------------------------------
def assert_like_nonexistent(client, w, response, method: str, name: str, data=None, **kwargs) -> None:
    """404, the space's name nowhere, and the same request on a made-up slug answers the same."""
    assert response.status_code == 404
    assert w.space.name not in response.content.decode()
    ghost_url = space_url(w, name, slug=GHOST_SLUG, **kwargs)
    ghost = client.post(ghost_url, data or {}) if method == "post" else client.get(ghost_url)
    assert ghost.status_code == response.status_code


def offered_on_home(client, w, url: str) -> bool:
    """Whether the space's home page offers this action (a link or form pointing at exactly ``url``)."""
    home = client.get(space_url(w, "home"))
    return home.status_code == 200 and f'"{url}"' in home.content.decode()


def check_post(
    client, w, expected: str, name: str, data: dict, *, ok_target: str, done, offered: bool = False, **kwargs
) -> None:
    """POST one action and check the answer and the database against the expected outcome.

    ``done()`` says whether the action's effect is in the database. With ``offered``, the space's home page
    must show the action's button exactly when the action is allowed (checked before acting).
    """
    if offered:
        assert offered_on_home(client, w, space_url(w, name, **kwargs)) == (expected == "ok"), "button shown wrongly"
    before = snapshot(w)
    assert not done(), "the effect must not be there before the action"
    response = client.post(space_url(w, name, **kwargs), data)
    if expected == "ok":
        assert response.status_code == 302, response.status_code
        assert response["Location"] == ok_target
        assert done(), "allowed, but the database did not change"
        return
    after = snapshot(w)
    assert after == before, "refused, but the database changed"
    assert not done()
    if expected == "refused":
        assert response.status_code == 302, response.status_code
        assert response["Location"] == w.space.get_absolute_url()
        assert error_messages(response), "refused without telling why"
    elif expected == "403":
        assert response.status_code == 403
    elif expected == "404":
        assert_like_nonexistent(client, w, response, "post", name, data, **kwargs)
    elif expected == "login":
        assert is_login_redirect(response), response
    else:  # pragma: no cover - the table parser only lets known words through
        raise AssertionError(expected)


# --- One check per action -----------------------------------------------------------------------------------
def check_see_in_list(client, w, actor, expected):
    response = client.get(reverse("communities:detail", kwargs={"community_slug": w.community.slug}))
    assert response.status_code == 200
    on_page = w.space.name in response.content.decode()
    in_queryset = Space.objects.visible_to(actor).filter(pk=w.space.pk).exists()
    assert (on_page, in_queryset) == ((True, True) if expected == "yes" else (False, False))


def check_open_space(client, w, actor, expected):
    response = client.get(space_url(w, "home"))
    if expected == "ok":
        assert response.status_code == 200
        assert w.space.name in response.content.decode()
    else:
        assert_like_nonexistent(client, w, response, "get", "home")


def check_read_content(client, w, actor, expected):
    readable = Space.objects.readable_by(actor).filter(pk=w.space.pk).exists()
    assert readable == (expected == "ok")
    # The item registry answers on its own too (search, streams and digests start from it, not from the page).
    item_visible = Item.objects.visible_to(actor).filter(space=w.space, title=w.item_title).exists()
    assert item_visible == (expected == "ok")
    assert offered_on_home(client, w, space_url(w, "members")) == (expected == "ok"), "members tab shown wrongly"
    members = client.get(space_url(w, "members"))
    home = client.get(space_url(w, "home"))
    shows_item = home.status_code == 200 and w.item_title in home.content.decode()
    if expected == "ok":
        assert (members.status_code, home.status_code, shows_item) == (200, 200, True)
    elif expected == "403":
        assert (members.status_code, home.status_code, shows_item) == (403, 200, False)
    else:
        assert home.status_code == 404 and not shows_item
        assert_like_nonexistent(client, w, members, "get", "members")


def check_join(client, w, actor, expected):
    user_id = getattr(actor, "pk", None)
    was_member = SpaceMembership.objects.filter(space=w.space, user_id=user_id).exists()

    def done():
        return not was_member and SpaceMembership.objects.filter(space=w.space, user_id=user_id).exists()

    check_post(client, w, expected, "join", {}, ok_target=w.space.get_absolute_url(), done=done, offered=True)
    if expected == "ok":
        assert SpaceMembership.objects.get(space=w.space, user=actor).role == w.space.default_role


def check_request(client, w, actor, expected):
    pending_before = JoinRequest.objects.filter(space=w.space, status=JoinRequestStatus.PENDING).count()

    def done():
        return JoinRequest.objects.filter(space=w.space, status=JoinRequestStatus.PENDING).count() > pending_before

    data = {"message": "I work on this topic."}
    check_post(client, w, expected, "request", data, ok_target=w.space.get_absolute_url(), done=done, offered=True)
    if expected == "ok":
        assert JoinRequest.objects.filter(space=w.space, user=actor, status=JoinRequestStatus.PENDING).exists()


def check_approve_decline(client, w, actor, expected):
    assert offered_on_home(client, w, space_url(w, "requests")) == (expected == "ok"), "button shown wrongly"
    response = client.get(space_url(w, "requests"))
    if expected == "ok":
        assert response.status_code == 200
    elif expected == "403":
        assert response.status_code == 403
    elif expected == "404":
        assert_like_nonexistent(client, w, response, "get", "requests")
    elif expected == "login":
        assert is_login_redirect(response), response
    else:
        raise AssertionError(expected)
    if w.visibility != "private":
        return  # only the private space has a pending request to decide
    join_request = JoinRequest.objects.get(space=w.space, user=w.requester, status=JoinRequestStatus.PENDING)

    def done():
        return SpaceMembership.objects.filter(space=w.space, user=w.requester).exists()

    check_post(
        client,
        w,
        expected,
        "request-approve",
        {"message": "Welcome"},
        ok_target=space_url(w, "requests"),
        done=done,
        request_id=join_request.pk,
    )
    if expected == "ok":
        join_request.refresh_from_db()
        assert join_request.status == JoinRequestStatus.APPROVED


def check_invite(client, w, actor, expected):
    def done():
        return Invitation.objects.filter(space=w.space, email=w.new_invitee_email).exists()

    data = {"recipient": w.new_invitee_email, "role": SpaceRole.VIEWER}
    check_post(client, w, expected, "invite", data, ok_target=space_url(w, "members"), done=done, offered=True)


def check_change_role(client, w, actor, expected):
    def done():
        return SpaceMembership.objects.get(space=w.space, user=w.editor).role == SpaceRole.VIEWER

    check_post(
        client,
        w,
        expected,
        "member-role",
        {"role": SpaceRole.VIEWER},
        ok_target=space_url(w, "members"),
        done=done,
        user_id=w.editor.pk,
    )


def check_remove(client, w, actor, expected):
    def done():
        return not SpaceMembership.objects.filter(space=w.space, user=w.viewer).exists()

    check_post(
        client,
        w,
        expected,
        "member-remove",
        {},
        ok_target=space_url(w, "members"),
        done=done,
        user_id=w.viewer.pk,
    )


def check_ban(client, w, actor, expected):
    def done():
        return SpaceBan.objects.filter(space=w.space, user=w.viewer).exists()

    check_post(
        client,
        w,
        expected,
        "member-ban",
        {"reason": "matrix"},
        ok_target=space_url(w, "members"),
        done=done,
        user_id=w.viewer.pk,
    )
    if expected == "ok":
        assert not SpaceMembership.objects.filter(space=w.space, user=w.viewer).exists()


def check_edit_settings(client, w, actor, expected):
    data = {
        "name": w.space.name,
        "slug": w.space.slug,
        "description": NEW_DESCRIPTION,
        "visibility": w.space.visibility,
        "default_role": w.space.default_role,
    }

    def done():
        return Space.objects.filter(pk=w.space.pk, description=NEW_DESCRIPTION).exists()

    check_post(client, w, expected, "settings", data, ok_target=w.space.get_absolute_url(), done=done, offered=True)


def check_delete(client, w, actor, expected):
    def done():
        return not Space.objects.filter(pk=w.space.pk).exists()

    check_post(
        client,
        w,
        expected,
        "delete",
        {"confirm_name": w.space.name},
        ok_target=w.community.get_absolute_url(),
        done=done,
    )


CHECKS = {
    "see_in_list": check_see_in_list,
    "open_space": check_open_space,
    "read_content": check_read_content,
    "join": check_join,
    "request": check_request,
    "approve_decline": check_approve_decline,
    "invite": check_invite,
    "change_role": check_change_role,
    "remove": check_remove,
    "ban": check_ban,
    "edit_settings": check_edit_settings,
    "delete": check_delete,
}


def test_table_covers_every_cell():
    assert set(CHECKS) == set(ACTIONS)
    assert len(CELLS) == len(EXPECTED) * len(PERSONAS) * len(ACTIONS) == 432


@pytest.mark.django_db
@pytest.mark.parametrize("visibility,persona,action", CELLS)
def test_cell(worlds, client, visibility, persona, action):
    w = worlds[visibility]
    actor = getattr(w, persona)
    if persona != "anonymous":
        client.force_login(actor)
    CHECKS[action](client, w, actor, EXPECTED[visibility][persona][action])
