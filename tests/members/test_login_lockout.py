"""Brute-force protection: allauth's "login_failed" rate limit locks sign-in out with a clear message."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tests.factories import make_user

PASSWORD = "test-pass-123"  # tests.factories.make_user
LOCKED = "Too many failed sign-in attempts"


@pytest.fixture(autouse=True)
def rate_limits_on(settings):
    """Rate limits are off in tests; switch on the production rule for sign-in failures."""
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
    cache.clear()
    yield
    cache.clear()


def sign_in(browser: Client, email: str, password: str):
    return browser.post(reverse("account_login"), {"login": email, "password": password})


def signed_in(browser: Client) -> bool:
    return "_auth_user_id" in browser.session


@pytest.mark.django_db
def test_five_failed_attempts_lock_the_account_out_even_with_the_right_password():
    member = make_user("member")
    browser = Client()

    for _attempt in range(5):
        response = sign_in(browser, member.email, "wrong-password")
        assert LOCKED not in response.content.decode()
    locked = sign_in(browser, member.email, PASSWORD)

    assert locked.status_code == 200
    assert LOCKED in locked.content.decode()
    assert "reset your password" in locked.content.decode()
    assert not signed_in(browser)


@pytest.mark.django_db
def test_a_few_failures_do_not_lock_anyone_out():
    member = make_user("member")
    browser = Client()

    for _attempt in range(3):
        sign_in(browser, member.email, "wrong-password")
    response = sign_in(browser, member.email, PASSWORD)

    assert response.status_code == 302 and signed_in(browser)


@pytest.mark.django_db
def test_the_lockout_is_per_account():
    member, other = make_user("member"), make_user("other")
    for _attempt in range(5):
        sign_in(Client(), member.email, "wrong-password")

    browser = Client()
    response = sign_in(browser, other.email, PASSWORD)

    assert response.status_code == 302 and signed_in(browser)
