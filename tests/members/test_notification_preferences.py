"""Notification preferences (issue 5, item 6): e-mail per kind, digest frequency and hour, skip-if-seen, and the
list of muted spaces."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from members import notifications as notification_services
from members.forms_notifications import EMAIL_KINDS
from members.models import NotificationKind, NotificationPreferences, SpaceMute
from spaces import services
from spaces.models import Visibility
from tests.factories import make_user
from tests.spaces.helpers import client_for, form_errors

URL = "/me/notifications/settings/"


@pytest.fixture
def member(db):
    return make_user("amina")


def test_the_address_is_the_named_one():
    assert reverse("members:notification-preferences") == URL


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_defaults_are_shown_without_writing_anything(member):
    response = client_for(member).get(URL)
    assert response.status_code == 200
    form = response.context["form"]
    assert form["digest_frequency"].value() == "weekly"
    assert form["digest_hour"].value() == 8
    assert form["skip_digest_if_seen"].value() is True
    assert NotificationKind.MENTION in form["email_on"].value()
    # invitations and join-request answers are always e-mailed by the space: no switch for them
    offered = [value for value, _label in form.fields["email_on"].choices]
    assert NotificationKind.INVITATION not in offered and NotificationKind.REQUEST_DECIDED not in offered
    assert not NotificationPreferences.objects.exists()


def test_saving_preferences(member):
    on = [k for k, _label in EMAIL_KINDS if k not in ("mention", "new_item")]
    response = client_for(member).post(
        URL, {"email_on": on, "digest_frequency": "daily", "digest_hour": "18", "skip_digest_if_seen": ""}
    )
    assert response.status_code == 302 and response["Location"] == URL
    prefs = NotificationPreferences.objects.get(user=member)
    assert prefs.email_off == ["mention", "new_item"]
    assert (prefs.digest_frequency, prefs.digest_hour, prefs.skip_digest_if_seen) == ("daily", 18, False)

    form = client_for(member).get(URL).context["form"]
    assert "mention" not in form["email_on"].value() and form["digest_frequency"].value() == "daily"


@pytest.mark.parametrize("field, value", [("digest_hour", "24"), ("digest_hour", "-1"), ("digest_frequency", "hourly")])
def test_out_of_range_values_are_refused(member, field, value):
    data = {"email_on": ["mention"], "digest_frequency": "weekly", "digest_hour": "8", field: value}
    response = client_for(member).post(URL, data)
    assert response.status_code == 200
    assert field in form_errors(response)
    assert not NotificationPreferences.objects.exists()


def test_only_the_member_or_staff_change_their_preferences(member):
    other = make_user("other")
    staff = make_user("root", staff=True)
    values = {"email_off": [], "digest_frequency": "off", "digest_hour": 7, "skip_digest_if_seen": True}
    with pytest.raises(PermissionDenied):
        notification_services.notification_preferences_update(actor=other, user=member, **values)
    notification_services.notification_preferences_update(actor=staff, user=member, **values)
    assert NotificationPreferences.objects.get(user=member).digest_frequency == "off"
    with pytest.raises(ValidationError):
        notification_services.notification_preferences_update(
            actor=member, user=member, **{**values, "email_off": ["everything"]}
        )


def test_wrong_method_is_refused(member):
    assert client_for(member).put(URL).status_code == 405


# --- Muted spaces ---------------------------------------------------------------------------------------------------
def test_muted_spaces_are_listed_and_can_be_unmuted_even_when_no_longer_visible(world_factory):
    w = world_factory(Visibility.CLOSED)
    notification_services.space_mute_set(actor=w.viewer, space=w.space, muted=True)
    browser = client_for(w.viewer)
    response = browser.get(URL)
    assert [mute.space for mute in response.context["mutes"]] == [w.space]
    assert w.space.name in response.content.decode()

    services.membership_remove(actor=w.admin, membership=w.space.memberships.get(user=w.viewer))
    unmute = reverse("members:space-mute", kwargs={"community_slug": w.community.slug, "space_slug": w.space.slug})
    response = browser.post(unmute, {"next": URL})
    assert response.status_code == 302 and response["Location"] == URL
    assert not SpaceMute.objects.exists()
    assert browser.post(unmute).status_code == 404  # muting it again needs to see it


def test_no_muted_spaces_says_how_to_mute(member):
    assert "Mute this space" in client_for(member).get(URL).content.decode()


def test_deleting_an_account_removes_its_notifications_and_settings(world_factory):
    from members.models import Notification
    from members.services import account_delete

    w = world_factory(Visibility.OPEN)
    notification_services.space_mute_set(actor=w.viewer, space=w.space, muted=True)
    notification_services.notification_preferences_update(
        actor=w.viewer, user=w.viewer, email_off=[], digest_frequency="daily", digest_hour=9, skip_digest_if_seen=True
    )
    assert Notification.objects.filter(recipient=w.viewer).exists()  # the world's invitation
    account_delete(actor=w.viewer, user=w.viewer)
    assert not Notification.objects.filter(recipient=w.viewer).exists()
    assert not SpaceMute.objects.filter(user=w.viewer).exists()
    assert not NotificationPreferences.objects.filter(user=w.viewer).exists()
