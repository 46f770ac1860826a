"""Rate limits (issue 10, item 5): per address for anonymous traffic, per member for writes, per account and
address for sign-in, each answering 429 with the site's page and ``Retry-After`` (copapp.limits).

The limits are off in the test settings (the suite makes thousands of requests from 127.0.0.1); each test here
switches on small ones and freezes the clock, so the fixed windows cannot roll over in the middle of a test."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from copapp.limits import parse_rate
from tests.factories import make_user

PASSWORD = "test-pass-123"  # tests.factories.make_user
# Ten seconds into a minute: a one-minute window has 50 seconds left.
START = dt.datetime(2030, 5, 6, 9, 0, 10, tzinfo=dt.UTC)
TOO_MANY = "You have sent too many requests in a short time"


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def limits(settings):
    settings.RATE_LIMIT_ANONYMOUS = "3/minute"
    settings.RATE_LIMIT_MEMBER_WRITES = "2/minute"
    settings.RATE_LIMIT_LOGIN = "3/minute"
    return settings


def browser_for(user=None, address: str = "203.0.113.7") -> Client:
    browser = Client(REMOTE_ADDR=address)
    if user is not None:
        browser.force_login(user)
    return browser


def assert_rate_limited(response, seconds: int) -> None:
    assert response.status_code == 429
    assert response["Retry-After"] == str(seconds)
    page = response.content.decode()
    assert TOO_MANY in page
    assert f"You can try again in {seconds} seconds." in page
    assert '<html lang="en"' in page  # the site's own page (base template), not a bare error


@pytest.mark.django_db
def test_the_request_over_the_anonymous_limit_gets_the_429_page(limits, clock):
    visitor = browser_for()
    home = reverse("communities:list")

    answers = [visitor.get(home).status_code for _ in range(3)]
    over = visitor.get(home)

    assert answers == [200, 200, 200]
    assert_rate_limited(over, 50)


@pytest.mark.django_db
def test_the_anonymous_limit_is_per_address(limits, clock):
    for _ in range(4):
        browser_for(address="203.0.113.7").get(reverse("home"))

    assert browser_for(address="203.0.113.7").get(reverse("home")).status_code == 429
    assert browser_for(address="198.51.100.2").get(reverse("home")).status_code == 200


@pytest.mark.django_db
def test_the_window_passes_and_requests_are_served_again(limits, clock):
    visitor = browser_for()
    for _ in range(3):
        visitor.get(reverse("home"))
    assert visitor.get(reverse("home")).status_code == 429

    clock.shift(dt.timedelta(seconds=50))

    assert visitor.get(reverse("home")).status_code == 200


@pytest.mark.django_db
def test_static_files_and_the_health_check_are_never_limited(limits, clock):
    visitor = browser_for()
    for _ in range(4):
        visitor.get(reverse("home"))
    assert visitor.get(reverse("home")).status_code == 429

    assert visitor.get(reverse("healthz")).status_code == 200
    assert visitor.get("/static/css/app.css").status_code != 429


@pytest.mark.django_db
def test_a_members_writes_are_limited_separately_from_another_members(limits, clock):
    busy, other = make_user("busy"), make_user("other")
    busy_browser, other_browser = browser_for(busy), browser_for(other)
    read_all = reverse("members:notifications-read-all")

    writes = [busy_browser.post(read_all).status_code for _ in range(2)]
    over = busy_browser.post(read_all)

    assert writes == [302, 302]
    assert_rate_limited(over, 50)
    assert "If you were sending a form, go back" in over.content.decode()
    # Reading goes on, and the other member's writes are counted on their own.
    assert busy_browser.get(reverse("members:notifications")).status_code == 200
    assert other_browser.post(read_all).status_code == 302


@pytest.mark.django_db
def test_a_member_is_not_limited_by_the_anonymous_limit_on_reads(limits, clock):
    member = make_user("reader")
    browser = browser_for(member)

    answers = {browser.get(reverse("communities:list")).status_code for _ in range(6)}

    assert answers == {200}


def sign_in(browser: Client, email: str, password: str = PASSWORD):
    return browser.post(reverse("account_login"), {"login": email, "password": password})


@pytest.mark.django_db
def test_sign_in_attempts_for_one_account_from_one_address_are_limited(limits, clock, settings):
    settings.RATE_LIMIT_ANONYMOUS = "100/minute"
    target, other = make_user("target"), make_user("other")
    attacker = browser_for(address="203.0.113.7")

    failures = [sign_in(attacker, target.email, "wrong-password").status_code for _ in range(3)]
    over = sign_in(attacker, target.email)

    assert failures == [200, 200, 200]  # the form again, with its error
    assert_rate_limited(over, 50)
    assert "_auth_user_id" not in attacker.session
    # The same address may still sign in to another account, and the member from their own address.
    assert sign_in(browser_for(address="203.0.113.7"), other.email).status_code == 302
    assert sign_in(browser_for(address="198.51.100.2"), target.email).status_code == 302


@pytest.mark.django_db
def test_sign_in_works_again_after_the_window(limits, clock, settings):
    settings.RATE_LIMIT_ANONYMOUS = "100/minute"
    member = make_user("member")
    browser = browser_for()
    for _ in range(3):
        sign_in(browser, member.email, "wrong-password")
    assert sign_in(browser, member.email).status_code == 429

    clock.shift(dt.timedelta(minutes=1))

    assert sign_in(browser, member.email).status_code == 302


@pytest.mark.django_db
def test_allauths_own_limits_answer_with_the_same_page(settings, clock):
    settings.ACCOUNT_RATE_LIMITS = {"login": "1/m/ip"}
    member = make_user("member")
    browser = browser_for()
    sign_in(browser, member.email, "wrong-password")

    response = sign_in(browser, member.email)

    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert TOO_MANY in response.content.decode()


@pytest.mark.django_db
def test_limits_switched_off_let_everything_through(settings, clock):
    settings.RATE_LIMIT_ANONYMOUS = "off"
    visitor = browser_for()

    assert {visitor.get(reverse("home")).status_code for _ in range(20)} == {200}


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [("300/minute", (300, 60)), ("60/m", (60, 60)), ("600/hour", (600, 3600)), ("off", None), ("", None)],
)
def test_rates_are_read_from_the_settings_text(rate, parsed):
    assert parse_rate(rate) == parsed


def test_a_mistyped_rate_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="must look like 600/hour"):
        parse_rate("300 per minute")
