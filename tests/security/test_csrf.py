"""CSRF everywhere (issue 10, item 5): the middleware is on, and forms refuse a POST that carries no token.

The few views marked ``@csrf_exempt`` are either uploads that check the size before anything reads the body and
then run the same CSRF check themselves (``csrf_protect``, tested below), or the digest's one-click unsubscribe
(RFC 8058: mail clients post without cookies; the signed token in the address is the proof).
"""

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from spaces.models import Page, Visibility
from tests.spaces.helpers import space_url


@pytest.fixture
def open_world(world_factory):
    return world_factory(Visibility.OPEN)


def strict_browser_for(user) -> Client:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    return browser


def test_csrf_middleware_is_installed_after_sessions():
    middleware = settings.MIDDLEWARE
    assert "django.middleware.csrf.CsrfViewMiddleware" in middleware
    assert middleware.index("django.middleware.csrf.CsrfViewMiddleware") > middleware.index(
        "django.contrib.sessions.middleware.SessionMiddleware"
    )


def test_a_post_without_a_token_is_refused_by_the_main_forms(open_world):
    w = open_world
    browser = strict_browser_for(w.editor)
    forms = {
        "new page": (space_url("page-create", w.space), {"title": "Forged", "body": "x"}),
        "profile": (reverse("members:profile-edit"), {"display_name": "Forged"}),
        "sign out": (reverse("account_logout"), {}),
    }
    for name, (url, data) in forms.items():
        assert browser.post(url, data).status_code == 403, name
    assert not Page.objects.filter(title="Forged").exists()
    assert browser.get(reverse("members:profile-edit")).status_code == 200  # still signed in


def test_the_sign_in_form_refuses_a_post_without_a_token(open_world):
    response = Client(enforce_csrf_checks=True).post(
        reverse("account_login"), {"login": open_world.editor.email, "password": "test-pass-123"}
    )
    assert response.status_code == 403


def test_the_same_form_with_its_token_goes_through(open_world):
    browser = strict_browser_for(open_world.editor)
    url = space_url("page-create", open_world.space)
    browser.get(url)  # sets the CSRF cookie
    token = browser.cookies[settings.CSRF_COOKIE_NAME].value
    response = browser.post(url, {"title": "Real", "body": "x", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Page.objects.filter(title="Real").exists()


def test_uploads_exempt_from_the_middleware_still_check_the_token(open_world):
    browser = strict_browser_for(open_world.editor)
    upload = SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain")
    response = browser.post(space_url("file-upload", open_world.space), {"file": upload})
    assert response.status_code == 403


def test_the_api_refuses_a_session_write_without_the_csrf_header(open_world):
    browser = strict_browser_for(open_world.editor)
    url = f"/api/v1/communities/{open_world.community.slug}/spaces/{open_world.space.slug}/pages"
    response = browser.post(url, {"title": "Forged", "body": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert not Page.objects.filter(title="Forged").exists()
