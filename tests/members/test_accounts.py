"""Accounts: sign-up and login by e-mail, password reset, e-mail change, verification, 2FA, deletion."""

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse

from communities.models import CommunityMembership, IntroAnswer, Onboarding
from members import tasks as member_tasks
from members.models import Profile
from spaces import services as space_services
from spaces.models import (
    Invitation,
    Item,
    ItemKind,
    JoinRequest,
    Space,
    SpaceMembership,
    SpaceRole,
    Visibility,
)
from tests.factories import make_community, make_space, make_user, onboard
from tests.spaces.helpers import client_for, form_errors, messages_of, space_url

User = get_user_model()
PASSWORD = "test-pass-123"  # tests.factories.make_user
STRONG_PASSWORD = "census-Linkage-2031"


def signed_in_user_id(browser: Client) -> int | None:
    value = browser.session.get("_auth_user_id")
    return int(value) if value else None


def link_in(message, pattern: str) -> str:
    match = re.search(r"https?://[^/\s]+(" + pattern + r")", message.body)
    assert match, message.body
    return match.group(1)


@pytest.fixture
def account_task_calls(monkeypatch):
    """Records every account e-mail handed to the Celery task (and still lets the task send it)."""
    calls = []
    original = member_tasks.send_account_email_task.delay

    def spy(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(member_tasks.send_account_email_task, "delay", spy)
    return calls


# --- Sign-up and login --------------------------------------------------------------------------------------
def test_sign_up_asks_only_for_email_and_password(db):
    response = Client().get(reverse("account_signup"))

    assert response.status_code == 200
    assert set(response.context["form"].fields) == {"email", "password1", "password2"}
    assert 'name="username"' not in response.content.decode()


def test_sign_up_with_email_and_password_creates_a_member_with_a_handle_and_profile(
    db, django_capture_on_commit_callbacks
):
    browser = Client()

    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            reverse("account_signup"),
            {"email": "Amina.Diallo@Example.org", "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD},
        )

    member = User.objects.get(email__iexact="amina.diallo@example.org")
    assert response.status_code == 302
    assert signed_in_user_id(browser) == member.pk
    assert member.username and "@" not in member.username  # a public @handle, never the address
    assert Profile.objects.filter(user=member).exists()
    assert member.check_password(STRONG_PASSWORD)


def test_sign_up_with_a_taken_email_is_refused(db):
    existing = make_user("taken")
    browser = Client()

    response = browser.post(
        reverse("account_signup"),
        {"email": existing.email.upper(), "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD},
    )

    assert response.status_code == 200
    assert "email" in form_errors(response)
    assert User.objects.filter(email__iexact=existing.email).count() == 1
    assert signed_in_user_id(browser) is None


def test_member_logs_in_with_their_email(db):
    member = make_user("amina")
    browser = Client()

    response = browser.post(reverse("account_login"), {"login": member.email, "password": PASSWORD})

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert signed_in_user_id(browser) == member.pk


def test_login_with_the_username_instead_of_the_email_is_refused(db):
    member = make_user("amina")
    browser = Client()

    response = browser.post(reverse("account_login"), {"login": member.username, "password": PASSWORD})

    assert response.status_code == 200
    assert form_errors(response)
    assert signed_in_user_id(browser) is None


def test_login_with_a_wrong_password_is_refused(db):
    member = make_user("amina")
    browser = Client()

    response = browser.post(reverse("account_login"), {"login": member.email, "password": "wrong-password"})

    assert response.status_code == 200
    assert "__all__" in form_errors(response)
    assert signed_in_user_id(browser) is None


# --- Password reset -----------------------------------------------------------------------------------------
def test_password_reset_email_goes_through_the_celery_task_after_commit(
    db, django_capture_on_commit_callbacks, account_task_calls
):
    member = make_user("amina")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = Client().post(reverse("account_reset_password"), {"email": member.email})

    assert response.status_code == 302
    assert mail.outbox == []  # nothing is sent inside the request's transaction
    assert account_task_calls == []
    for callback in callbacks:
        callback()
    assert len(account_task_calls) == 1
    subject, _body, _html, to, _headers = account_task_calls[0]
    assert to == [member.email]
    assert [m.to for m in mail.outbox] == [[member.email]]
    assert mail.outbox[0].subject == subject


def test_password_reset_link_sets_a_new_password_without_anyone_s_help(db, django_capture_on_commit_callbacks):
    member = make_user("amina")
    browser = Client()

    with django_capture_on_commit_callbacks(execute=True):
        requested = browser.post(reverse("account_reset_password"), {"email": member.email})

    assert requested.url == reverse("account_reset_password_done")
    assert len(mail.outbox) == 1
    link = link_in(mail.outbox[0], r"/accounts/password/reset/key/\S+/")
    opened = browser.get(link, follow=True)
    assert opened.status_code == 200
    form_url = opened.redirect_chain[-1][0] if opened.redirect_chain else link
    reset = browser.post(form_url, {"password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD})
    assert reset.status_code == 302
    assert reset.url == reverse("account_reset_password_from_key_done")

    member.refresh_from_db()
    assert member.check_password(STRONG_PASSWORD)
    fresh = Client()
    fresh.post(reverse("account_login"), {"login": member.email, "password": STRONG_PASSWORD})
    assert signed_in_user_id(fresh) == member.pk
    assert browser.get(link, follow=True).context.get("token_fail") is True  # the link works once


def test_password_reset_for_an_unknown_address_sends_nothing_that_helps_an_attacker(
    db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(reverse("account_reset_password"), {"email": "nobody@example.org"})

    assert response.status_code == 302
    assert all("/accounts/password/reset/key/" not in m.body for m in mail.outbox)


# --- E-mail change ------------------------------------------------------------------------------------------
def test_member_adds_a_new_email_and_it_replaces_the_old_one_once_confirmed(db, django_capture_on_commit_callbacks):
    member = make_user("amina")
    old_email = member.email
    browser = client_for(member)

    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(reverse("account_email"), {"action_add": "", "email": "amina.new@example.org"})

    assert response.status_code == 302
    added = EmailAddress.objects.get(user=member, email="amina.new@example.org")
    assert not added.verified
    member.refresh_from_db()
    assert member.email == old_email  # not before it is confirmed
    assert [m.to for m in mail.outbox] == [["amina.new@example.org"]]

    link = link_in(mail.outbox[0], r"/accounts/confirm-email/[-:\w]+/")
    assert browser.get(link).status_code == 200
    confirmed = browser.post(link)

    assert confirmed.status_code == 302
    member.refresh_from_db()
    assert member.email == "amina.new@example.org"
    assert list(EmailAddress.objects.filter(user=member).values_list("email", "verified", "primary")) == [
        ("amina.new@example.org", True, True)
    ]
    fresh = Client()
    fresh.post(reverse("account_login"), {"login": "amina.new@example.org", "password": PASSWORD})
    assert signed_in_user_id(fresh) == member.pk


# --- Mandatory verification ---------------------------------------------------------------------------------
@override_settings(ACCOUNT_EMAIL_VERIFICATION="mandatory")
def test_with_mandatory_verification_a_new_account_cannot_log_in_before_verifying(
    db, django_capture_on_commit_callbacks
):
    from allauth.account import app_settings

    assert app_settings.EMAIL_VERIFICATION == app_settings.EmailVerificationMethod.MANDATORY  # read at runtime
    browser = Client()

    with django_capture_on_commit_callbacks(execute=True):
        signed_up = browser.post(
            reverse("account_signup"),
            {"email": "amina@example.org", "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD},
        )

    member = User.objects.get(email="amina@example.org")
    assert signed_up.url == reverse("account_email_verification_sent")
    assert signed_in_user_id(browser) is None
    assert [m.to for m in mail.outbox] == [["amina@example.org"]]

    with django_capture_on_commit_callbacks(execute=True):
        login = Client().post(reverse("account_login"), {"login": "amina@example.org", "password": STRONG_PASSWORD})
    assert login.url == reverse("account_email_verification_sent")
    assert signed_in_user_id(login.client) is None

    link = link_in(mail.outbox[0], r"/accounts/confirm-email/[-:\w]+/")
    browser.post(link)
    assert EmailAddress.objects.get(user=member).verified
    after = Client()
    after.post(reverse("account_login"), {"login": "amina@example.org", "password": STRONG_PASSWORD})
    assert signed_in_user_id(after) == member.pk


@override_settings(ACCOUNT_EMAIL_VERIFICATION="mandatory")
def test_with_mandatory_verification_signing_up_from_an_invitation_needs_no_second_email(
    world_factory, django_capture_on_commit_callbacks
):
    w = world_factory(Visibility.OPEN)
    invitation = space_services.invitation_create(
        actor=w.admin, space=w.space, recipient="amina@example.org", role=SpaceRole.EDITOR
    )
    path = reverse("spaces:invitation", kwargs={"token": invitation.token})
    browser = Client()
    browser.get(path)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            reverse("account_signup"),
            {"email": "amina@example.org", "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD},
        )

    member = User.objects.get(email="amina@example.org")
    assert response.url == path
    assert signed_in_user_id(browser) == member.pk
    assert mail.outbox == []


# --- Two-factor for staff -----------------------------------------------------------------------------------
@override_settings(STAFF_MFA_REQUIRED=True)
@pytest.mark.parametrize("url_name", ["home", "communities:list", "members:directory"])
def test_staff_without_an_authenticator_is_sent_to_set_one_up(db, url_name):
    staff = make_user("operator", staff=True)
    url = reverse(url_name)

    response = client_for(staff).get(url)

    assert response.status_code == 302
    assert response.url == f"{reverse('mfa_activate_totp')}?next={url}"


@override_settings(STAFF_MFA_REQUIRED=True)
def test_staff_can_still_reach_account_pages_to_set_up_two_factor(db):
    browser = client_for(make_user("operator", staff=True))

    assert browser.get(reverse("account_email")).status_code == 200
    assert browser.get(reverse("mfa_activate_totp")).status_code in (200, 302)
    assert not browser.get(reverse("mfa_activate_totp")).get("Location", "").startswith(reverse("mfa_activate_totp"))


@override_settings(STAFF_MFA_REQUIRED=True)
def test_ordinary_member_is_not_asked_for_two_factor(db):
    response = client_for(make_user("amina")).get(reverse("home"))

    assert response.status_code == 200


@override_settings(STAFF_MFA_REQUIRED=True)
def test_staff_with_an_authenticator_uses_the_site(db):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    staff = make_user("operator", staff=True)
    TOTP.activate(staff, generate_totp_secret())
    assert Authenticator.objects.filter(user=staff).exists()

    response = client_for(staff).get(reverse("home"))

    assert response.status_code == 200


def test_two_factor_is_not_required_when_the_setting_is_off(db, settings):
    settings.STAFF_MFA_REQUIRED = False

    response = client_for(make_user("operator", staff=True)).get(reverse("home"))

    assert response.status_code == 200


# --- Account deletion ---------------------------------------------------------------------------------------
@pytest.fixture
def leaving(world_factory):
    """A member with a profile, community answers, two spaces, a pending request and a page they wrote."""
    w = world_factory(Visibility.OPEN)
    member = w.editor
    member.profile.organisation = "Statistics Office"
    member.profile.save()
    private = make_space(w.staff, w.community, Visibility.PRIVATE, slug="private-group")
    space_services.join_request_create(actor=member, space=private, message="Please")
    item = Item.objects.create(kind=ItemKind.PAGE, space=w.space, author=member, title="Linkage handbook")
    return w, member, item


def test_account_deletion_needs_the_word_delete(leaving):
    w, member, _item = leaving
    browser = client_for(member)

    response = browser.post(reverse("members:account-delete"), {"confirm": "delete"})

    assert form_errors(response)["confirm"] == ["Type DELETE in capital letters to confirm."]
    member.refresh_from_db()
    assert member.deleted_at is None and member.is_active
    assert SpaceMembership.objects.filter(user=member).exists()


def test_deleting_my_account_removes_my_personal_data_and_signs_me_out(leaving):
    w, member, _item = leaving
    old_email, old_username = member.email, member.username
    browser = client_for(member)

    response = browser.post(reverse("members:account-delete"), {"confirm": "DELETE"})

    assert response.url == reverse("home")
    assert messages_of(response) == ["Your account was deleted. What you wrote stays, shown as by a former member."]
    assert signed_in_user_id(browser) is None
    member.refresh_from_db()
    assert member.email == f"deleted-{member.pk}@invalid.invalid"
    assert member.username == f"former-member-{member.pk}"
    assert (member.display_name, member.first_name, member.last_name) == ("", "", "")
    assert member.deleted_at is not None and not member.is_active
    assert not member.has_usable_password()
    assert not Profile.objects.filter(user=member).exists()
    assert not EmailAddress.objects.filter(user=member).exists()
    assert not SpaceMembership.objects.filter(user=member).exists()
    assert not CommunityMembership.objects.filter(user=member).exists()
    assert not JoinRequest.objects.filter(user=member).exists()
    assert not IntroAnswer.objects.filter(user=member).exists()
    assert not Onboarding.objects.filter(user=member).exists()
    assert not User.objects.filter(email__iexact=old_email).exists()
    assert client_for(w.viewer).get(reverse("members:profile", kwargs={"username": old_username})).status_code == 404


def test_deleted_member_cannot_log_in(leaving):
    _w, member, _item = leaving
    old_email = member.email
    client_for(member).post(reverse("members:account-delete"), {"confirm": "DELETE"})
    browser = Client()

    response = browser.post(reverse("account_login"), {"login": old_email, "password": PASSWORD})

    assert response.status_code == 200
    assert signed_in_user_id(browser) is None


def test_content_of_a_deleted_member_stays_and_shows_former_member(leaving):
    w, member, item = leaving

    client_for(member).post(reverse("members:account-delete"), {"confirm": "DELETE"})

    item.refresh_from_db()
    assert item.author_id == member.pk
    page = client_for(w.viewer).get(w.space.get_absolute_url()).content.decode()
    assert "Linkage handbook" in page
    # the stream entry names its author before or after the title
    assert re.search(r"Linkage handbook.{0,200}former member|former member.{0,400}Linkage handbook", page, re.S)
    assert member.public_name not in client_for(w.viewer).get(space_url("members", w.space)).content.decode()


def test_deleting_my_account_updates_the_member_count_of_my_spaces(leaving):
    w, member, _item = leaving
    before = Space.objects.get(pk=w.space.pk).member_count

    client_for(member).post(reverse("members:account-delete"), {"confirm": "DELETE"})

    assert Space.objects.get(pk=w.space.pk).member_count == before - 1


def test_the_only_admin_of_a_space_cannot_leave_it_without_admin_by_deleting_their_account(db):
    staff = make_user("staff", staff=True)
    community = make_community(staff, slug="census")
    owner = make_user("owner")
    onboard(owner, community)
    space = make_space(staff, community, Visibility.OPEN, slug="census-group")
    invitation = space_services.invitation_create(actor=staff, space=space, recipient=owner.email, role=SpaceRole.ADMIN)
    space_services.invitation_accept(actor=owner, token=invitation.token)
    space_services.space_leave(actor=staff, space=space)

    client_for(owner).post(reverse("members:account-delete"), {"confirm": "DELETE"})

    assert SpaceMembership.objects.filter(space=space, role=SpaceRole.ADMIN).exists()


def test_deleted_members_email_address_is_kept_nowhere(world_factory):
    w = world_factory(Visibility.OPEN)
    old_email = w.invited.email  # has a pending invitation
    space_services.invitation_accept(actor=w.invited, token=w.invitation.token)

    client_for(w.invited).post(reverse("members:account-delete"), {"confirm": "DELETE"})

    assert not Invitation.objects.filter(email__iexact=old_email).exists()
    assert not User.objects.filter(email__iexact=old_email).exists()
