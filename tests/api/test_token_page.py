"""The account page where members create, name, scope and revoke their API tokens."""

from __future__ import annotations

import pytest
from django.urls import reverse

from members.models import PersonalAccessToken
from members.services_tokens import token_create
from tests.api.support import ApiClient
from tests.factories import make_user
from tests.spaces.helpers import client_for, htmx

URL = "/me/api-tokens/"


@pytest.fixture
def member(db):
    return make_user("amina")


def test_page_needs_sign_in(db, client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    assert reverse("members:api-tokens") == URL


def test_create_shows_the_secret_once_and_stores_only_its_hash(member):
    browser = client_for(member)
    assert browser.get(URL).status_code == 200
    response = browser.post(URL, {"name": "Reporting script", "scope": "read_write", "expires": "30"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = response.context["new_token"].secret
    html = response.content.decode()
    assert secret in html and "will not be shown again" in html
    token = PersonalAccessToken.objects.get(user=member)
    assert (token.name, token.scope, token.expires_at is not None) == ("Reporting script", "read_write", True)
    assert secret not in browser.get(URL).content.decode()  # never again
    assert token.prefix in browser.get(URL).content.decode()
    assert ApiClient(secret).get("/me").json()["username"] == member.username


def test_invalid_form_creates_nothing(member):
    response = client_for(member).post(URL, {"name": "  ", "scope": "admin"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not PersonalAccessToken.objects.exists()


def test_revoke_stops_the_token_at_once(member):
    created = token_create(actor=member, name="old laptop", scope="read_write")
    browser = client_for(member)
    response = browser.post(reverse("members:api-token-revoke", kwargs={"token_id": created.token.pk}))
    assert response.status_code == 302
    created.token.refresh_from_db()
    assert created.token.revoked_at is not None
    assert ApiClient(created.secret).get("/me").status_code == 403
    assert "Revoked" in browser.get(URL).content.decode()


def test_nobody_revokes_someone_elses_token(member):
    created = token_create(actor=member, name="mine", scope="read")
    other = client_for(make_user("other"))
    response = other.post(reverse("members:api-token-revoke", kwargs={"token_id": created.token.pk}))
    assert response.status_code == 404
    created.token.refresh_from_db()
    assert created.token.revoked_at is None
    assert other.get(URL).context["tokens"] == []
    assert other.get(reverse("members:api-token-revoke", kwargs={"token_id": created.token.pk})).status_code == 405


def test_htmx_swaps_the_token_section(member):
    browser = client_for(member)
    response = htmx(browser, "post", URL, {"name": "htmx tool", "scope": "read"})
    assert [t.name for t in response.templates][0] == "members/partials/api_tokens.html"
    assert 'id="api-tokens"' in response.content.decode()
    token = PersonalAccessToken.objects.get(user=member)
    revoked = htmx(browser, "post", reverse("members:api-token-revoke", kwargs={"token_id": token.pk}))
    assert [t.name for t in revoked.templates][0] == "members/partials/api_tokens.html"
    assert "Revoked" in revoked.content.decode()


def test_form_is_labelled_for_keyboard_and_screen_reader_use(member):
    html = client_for(member).get(URL).content.decode()
    for control in ('for="id_name"', 'id="id_name"', "<legend>", 'for="id_expires"'):
        assert control in html
    assert 'name="viewport"' in html  # the base layout is mobile first (375 px)
    assert reverse("members:api-tokens") in client_for(member).get("/").content.decode()  # in the account menu
