"""Who is asking: personal access tokens (scopes, revocation, expiry, owners who left) and the browser session
(with CSRF). A token that cannot write never changes anything."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from members import services as member_services
from members.models import PersonalAccessToken
from members.services_tokens import token_create, token_hash, token_revoke
from spaces import services
from spaces.models import Page, SpaceRole, Visibility
from tests.api.support import ApiClient, new_token
from tests.factories import add_member, make_space, make_user


@pytest.fixture
def space(staff, community):
    return make_space(staff, community, Visibility.CLOSED, slug="working-group")


@pytest.fixture
def editor(space):
    user = make_user("editor")
    add_member(space, user, SpaceRole.EDITOR)
    return user


def pages_url(space) -> str:
    return f"/communities/{space.community.slug}/spaces/{space.slug}/pages"


def create_page(api: ApiClient, space, title: str = "Written with a token"):
    return api.post(pages_url(space), {"title": title, "body": "Body"})


def test_read_write_token_reads_and_writes_as_its_owner(space, editor):
    api = ApiClient(new_token(editor, "read_write"))
    assert api.get(pages_url(space)).status_code == 200
    response = create_page(api, space)
    assert response.status_code == 201, response.content
    page = Page.objects.get(space=space, title="Written with a token")
    assert page.item.author == editor
    assert api.get("/me").json()["username"] == editor.username


def test_read_only_token_reads_but_cannot_write(space, editor):
    api = ApiClient(new_token(editor, "read"))
    assert api.get(pages_url(space)).status_code == 200
    response = create_page(api, space)
    assert response.status_code == 403
    assert response.json()["code"] == "token_read_only"
    assert not Page.objects.filter(space=space).exists()
    assert api.post("/me/notifications/read-all").status_code == 403


def test_revoked_token_can_neither_write_nor_read(space, editor):
    created = token_create(actor=editor, name="laptop", scope="read_write")
    api = ApiClient(created.secret)
    assert api.get(pages_url(space)).status_code == 200
    token_revoke(actor=editor, token=created.token)
    response = create_page(api, space)
    assert response.status_code == 403
    assert response.json() == {"detail": "This token has been revoked.", "code": "token_revoked"}
    assert not Page.objects.filter(space=space).exists()
    assert api.get(pages_url(space)).status_code == 403


def test_expired_token_does_nothing(space, editor):
    created = token_create(
        actor=editor, name="short", scope="read_write", expires_at=timezone.now() + timedelta(days=1)
    )
    PersonalAccessToken.objects.filter(pk=created.token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    api = ApiClient(created.secret)
    response = create_page(api, space)
    assert (response.status_code, response.json()["code"]) == (403, "token_expired")
    assert api.get(pages_url(space)).status_code == 403
    assert not Page.objects.filter(space=space).exists()


def test_unknown_token_answers_401_and_never_falls_back_to_anonymous(space, staff, community):
    open_space = make_space(staff, community, Visibility.OPEN, slug="library")
    for header in ("Bearer cop_not-a-real-token", "Bearer nonsense", "Bearer ", "bearer cop_x"):
        response = ApiClient().get(pages_url(open_space), HTTP_AUTHORIZATION=header)
        assert response.status_code == 401, header
        assert response.json()["code"] == "invalid_token"
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_token_of_an_inactive_or_deleted_member_does_nothing(space, editor):
    secret = new_token(editor)
    editor.is_active = False
    editor.save(update_fields=["is_active"])
    api = ApiClient(secret)
    assert api.get("/me").status_code == 401
    assert create_page(api, space).status_code == 401
    editor.is_active = True
    editor.save(update_fields=["is_active"])
    assert api.get("/me").status_code == 200

    other = make_user("leaver")
    add_member(space, other, SpaceRole.EDITOR)
    leaver_secret = new_token(other)
    member_services.account_delete(actor=other, user=other)
    leaver = ApiClient(leaver_secret)
    assert leaver.get("/me").json()["code"] == "invalid_token"
    assert create_page(leaver, space).status_code == 401
    assert not Page.objects.filter(space=space).exists()


def test_only_a_hash_of_the_token_is_stored(editor):
    created = token_create(actor=editor, name="ci", scope="read")
    row = PersonalAccessToken.objects.get(pk=created.token.pk)
    assert created.secret.startswith("cop_") and len(created.secret) > 40
    assert row.token_hash == token_hash(created.secret) != created.secret
    assert created.secret.startswith(row.prefix) and len(row.prefix) == 12
    stored = [str(value) for value in PersonalAccessToken.objects.values_list(flat=False).get(pk=row.pk)]
    assert not any(created.secret in value for value in stored)


def test_last_used_is_recorded(space, editor):
    created = token_create(actor=editor, name="cron", scope="read")
    assert created.token.last_used_at is None
    ApiClient(created.secret).get(pages_url(space))
    created.token.refresh_from_db()
    assert created.token.last_used_at is not None


def test_anonymous_callers_read_open_spaces_but_cannot_write(staff, community):
    open_space = make_space(staff, community, Visibility.OPEN, slug="library")
    services.page_create(actor=staff, space=open_space, title="Public page")
    api = ApiClient()
    assert api.get(pages_url(open_space)).json()["count"] == 1
    response = create_page(api, open_space)
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")
    assert api.get("/me").status_code == 401
    assert api.get("/members").status_code == 401


def test_session_reads_and_writes_only_with_the_csrf_token(space, editor):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(editor)
    api = ApiClient(client=browser)
    assert api.get(pages_url(space)).status_code == 200
    refused = create_page(api, space)
    assert (refused.status_code, refused.json()["code"]) == (403, "csrf_failed")
    assert not Page.objects.filter(space=space).exists()
    browser.get("/api/v1/docs")  # any page sets the CSRF cookie
    csrf = browser.cookies["csrftoken"].value
    response = api.post(pages_url(space), {"title": "From the browser"}, HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 201, response.content
    assert Page.objects.filter(space=space, title="From the browser").exists()


def test_a_session_of_someone_without_a_role_sees_a_closed_space_as_missing(space):
    outsider = make_user("outsider")
    browser = Client()
    browser.force_login(outsider)
    response = ApiClient(client=browser).get(pages_url(space))
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_token_auth_does_not_bypass_a_ban(space, editor, staff):
    api = ApiClient(new_token(editor))
    services.member_ban(actor=staff, space=space, user=editor, reason="spam")
    assert api.get(pages_url(space)).status_code == 404
    assert create_page(api, space).status_code == 404
