"""Bad input gets a clear message the person can act on, and changes nothing."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from communities import services as community_services
from communities.models import Community, CommunityMembership, CommunityRole
from members.models import Profile
from spaces import services
from spaces.models import (
    Invitation,
    InvitationStatus,
    JoinRequest,
    JoinRequestStatus,
    Space,
    SpaceBan,
    SpaceMembership,
    SpaceRole,
    Visibility,
)
from tests.factories import make_community, make_space, make_user, onboard
from tests.spaces.helpers import client_for, form_errors, messages_of, png_bytes, space_url

DUPLICATE_SPACE_SLUG = "This community already has a space with this short name."
LAST_ADMIN = "A space always keeps at least one admin: make someone else admin first."


def space_form_data(**overrides) -> dict:
    data = {
        "name": "Data Quality",
        "slug": "data-quality",
        "description": "",
        "visibility": "open",
        "default_role": "20",
    }
    return {**data, **overrides}


def membership_roles(space) -> dict[int, int]:
    return dict(SpaceMembership.objects.filter(space=space).values_list("user_id", "role"))


@pytest.fixture
def open_world(world_factory):
    return world_factory(Visibility.OPEN)


@pytest.fixture
def private_world(world_factory):
    return world_factory(Visibility.PRIVATE)


@pytest.fixture
def closed_world(world_factory):
    return world_factory(Visibility.CLOSED)


@pytest.fixture
def sole_admin_world(open_world):
    """The space's only admin membership belongs to ``admin`` (staff, its creator, has left)."""
    services.space_leave(actor=open_world.staff, space=open_world.space)
    assert SpaceMembership.objects.filter(space=open_world.space, role=SpaceRole.ADMIN).count() == 1
    return open_world


# --- Slugs --------------------------------------------------------------------------------------------------
def test_duplicate_space_slug_in_same_community_is_refused_on_the_form_whatever_the_case(open_world):
    w = open_world
    make_space(w.staff, w.community, slug="data-quality")
    browser = client_for(w.community_admin)

    response = browser.post(
        reverse("spaces:create", kwargs={"community_slug": w.community.slug}),
        space_form_data(slug="Data-Quality"),
    )

    assert response.status_code == 200
    assert form_errors(response)["slug"] == [DUPLICATE_SPACE_SLUG]
    assert DUPLICATE_SPACE_SLUG in response.content.decode()
    assert Space.objects.filter(community=w.community, slug__iexact="data-quality").count() == 1


def test_duplicate_space_slug_is_refused_by_the_service(open_world):
    w = open_world
    make_space(w.staff, w.community, slug="data-quality")

    with pytest.raises(ValidationError) as excinfo:
        services.space_create(actor=w.staff, community=w.community, name="Again", slug="DATA-QUALITY")

    assert excinfo.value.message_dict == {"slug": [DUPLICATE_SPACE_SLUG]}
    assert Space.objects.filter(community=w.community, slug__iexact="data-quality").count() == 1


def test_renaming_a_space_to_a_taken_slug_shows_the_error_and_keeps_the_old_slug(open_world):
    w = open_world
    other = make_space(w.staff, w.community, slug="data-quality")
    browser = client_for(w.admin)

    response = browser.post(
        space_url("settings", w.space),
        space_form_data(name=w.space.name, slug="Data-Quality", visibility=w.space.visibility),
    )

    assert response.status_code == 200
    assert form_errors(response)["slug"] == [DUPLICATE_SPACE_SLUG]
    w.space.refresh_from_db()
    assert w.space.slug == "space-open"
    assert other.slug == "data-quality"


def test_same_space_slug_in_another_community_is_fine(open_world):
    w = open_world
    make_space(w.staff, w.community, slug="data-quality")
    elsewhere = make_community(w.staff, slug="another-community")

    response = client_for(w.staff).post(
        reverse("spaces:create", kwargs={"community_slug": elsewhere.slug}), space_form_data()
    )

    created = Space.objects.get(community=elsewhere, slug="data-quality")
    assert response.status_code == 302
    assert response.url == created.get_absolute_url()
    assert Space.objects.filter(slug="data-quality").count() == 2


def test_duplicate_community_slug_is_refused_with_a_clear_form_error(staff):
    make_community(staff, slug="data-integration")
    data = {
        "name": "Other",
        "slug": "Data-Integration",
        "description": "",
        "guidelines": "",
        "time_zone": "UTC",
    }

    response = client_for(staff).post(reverse("communities:create"), data)

    assert response.status_code == 200
    assert form_errors(response)["slug"] == ["A community with this short name already exists."]
    assert "A community with this short name already exists." in response.content.decode()
    assert Community.objects.count() == 1


def test_duplicate_community_slug_is_refused_by_the_service(staff):
    make_community(staff, slug="data-integration")

    with pytest.raises(ValidationError) as excinfo:
        community_services.community_create(actor=staff, name="Other", slug="DATA-INTEGRATION")

    assert excinfo.value.message_dict == {"slug": ["A community with this short name already exists."]}
    assert Community.objects.count() == 1


# --- Invitations --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("recipient", "message"),
    [
        ("someone@@example", "Enter a valid e-mail address or username."),
        ("nobody-here", "No member has the username “nobody-here”."),
        ("@nobody-here", "No member has the username “nobody-here”."),
    ],
)
def test_invitation_to_invalid_address_or_unknown_username_shows_form_error(open_world, recipient, message):
    w = open_world
    before = Invitation.objects.count()

    response = client_for(w.moderator).post(
        space_url("invite", w.space), {"recipient": recipient, "role": SpaceRole.VIEWER, "message": ""}
    )

    assert response.status_code == 200
    assert form_errors(response)["recipient"] == [message]
    assert message in response.content.decode()
    assert Invitation.objects.count() == before


def test_inviting_a_banned_person_is_refused_until_the_ban_is_lifted(open_world):
    w = open_world

    response = client_for(w.moderator).post(
        space_url("invite", w.space), {"recipient": w.banned.username, "role": SpaceRole.VIEWER}
    )

    assert form_errors(response)["recipient"] == ["This person is banned from the space; lift the ban first."]
    assert not Invitation.objects.filter(space=w.space, invitee=w.banned, status=InvitationStatus.PENDING).exists()


def test_moderator_cannot_invite_with_the_moderator_role(open_world):
    w = open_world
    before = Invitation.objects.count()

    response = client_for(w.moderator).post(
        space_url("invite", w.space), {"recipient": w.outsider.email, "role": SpaceRole.MODERATOR}
    )

    assert response.status_code == 200
    assert "role" in form_errors(response)
    assert Invitation.objects.count() == before
    with pytest.raises(ValidationError) as excinfo:
        services.invitation_create(
            actor=w.moderator, space=w.space, recipient=w.outsider.email, role=SpaceRole.MODERATOR
        )
    assert excinfo.value.message_dict == {"role": ["You cannot give that role."]}


def test_expired_invitation_shows_message_and_gives_no_membership(open_world, time_machine):
    w = open_world
    time_machine.move_to(timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS, minutes=1))
    browser = client_for(w.invited)  # signed in after the jump, so the session is fresh

    page = browser.get(reverse("spaces:invitation", kwargs={"token": w.invitation.token}))
    response = browser.post(reverse("spaces:invitation", kwargs={"token": w.invitation.token}))

    expired = "This invitation has expired. Ask the person who invited you for a new one."
    assert expired in page.content.decode()
    assert "Accept and join" not in page.content.decode()
    assert messages_of(response) == [expired]
    assert not SpaceMembership.objects.filter(space=w.space, user=w.invited).exists()
    w.invitation.refresh_from_db()
    assert w.invitation.status == InvitationStatus.PENDING
    assert w.invitation.accepted_by is None


def test_invitation_with_expiry_in_the_past_cannot_be_accepted_through_the_service(open_world):
    w = open_world
    Invitation.objects.filter(pk=w.invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(ValidationError) as excinfo:
        services.invitation_accept(actor=w.invited, token=w.invitation.token)

    assert excinfo.value.messages == ["This invitation has expired. Ask the person who invited you for a new one."]
    assert not SpaceMembership.objects.filter(space=w.space, user=w.invited).exists()


def test_used_invitation_cannot_be_used_by_a_second_person(open_world):
    w = open_world
    url = reverse("spaces:invitation", kwargs={"token": w.invitation.token})
    first = client_for(w.invited).post(url)
    assert first.status_code == 302
    assert messages_of(first) == [f"Welcome to {w.space.name}!"]

    response = client_for(w.outsider).post(url)

    assert messages_of(response) == ["This invitation has already been used."]
    assert "This invitation has already been used." in response.content.decode()
    assert not SpaceMembership.objects.filter(space=w.space, user=w.outsider).exists()
    w.invitation.refresh_from_db()
    assert w.invitation.accepted_by == w.invited


def test_accepting_the_same_invitation_twice_says_it_was_used_and_changes_nothing(open_world):
    w = open_world
    url = reverse("spaces:invitation", kwargs={"token": w.invitation.token})
    browser = client_for(w.invited)
    browser.post(url, follow=True)  # the welcome message is shown on the space
    membership = SpaceMembership.objects.get(space=w.space, user=w.invited)

    response = browser.post(url)

    assert messages_of(response) == ["This invitation has already been used."]
    assert response.status_code == 302
    assert response.url == w.space.get_absolute_url()
    assert list(SpaceMembership.objects.filter(space=w.space, user=w.invited)) == [membership]


def test_invitation_opened_while_signed_in_with_another_address_names_the_invited_address(open_world):
    w = open_world
    invitation = services.invitation_create(
        actor=w.staff, space=w.space, recipient="new.person@example.org", role=SpaceRole.EDITOR
    )
    url = reverse("spaces:invitation", kwargs={"token": invitation.token})
    browser = client_for(w.outsider)

    page = browser.get(url)
    response = browser.post(url)

    expected = "This invitation was sent to new.person@example.org. Sign in with that address to accept it."
    assert expected in page.content.decode()
    assert messages_of(response) == [expected]
    assert not SpaceMembership.objects.filter(space=w.space, user=w.outsider).exists()
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING


def test_unknown_invitation_link_is_not_found(open_world):
    response = client_for(open_world.outsider).get(reverse("spaces:invitation", kwargs={"token": "no-such-token"}))

    assert response.status_code == 404


# --- The last admin -----------------------------------------------------------------------------------------
def test_last_admin_cannot_demote_themselves(sole_admin_world):
    w = sole_admin_world
    before = membership_roles(w.space)

    response = client_for(w.admin).post(
        space_url("member-role", w.space, user_id=w.admin.pk), {"role": SpaceRole.EDITOR}
    )

    assert response.status_code == 302
    assert messages_of(response) == [LAST_ADMIN]
    assert membership_roles(w.space) == before


def test_last_admin_cannot_be_demoted_by_a_community_admin(sole_admin_world):
    w = sole_admin_world
    before = membership_roles(w.space)

    response = client_for(w.community_admin).post(
        space_url("member-role", w.space, user_id=w.admin.pk), {"role": SpaceRole.VIEWER}
    )

    assert messages_of(response) == [LAST_ADMIN]
    assert membership_roles(w.space) == before


def test_last_admin_cannot_be_removed(sole_admin_world):
    w = sole_admin_world
    before = membership_roles(w.space)

    response = client_for(w.community_admin).post(space_url("member-remove", w.space, user_id=w.admin.pk))

    assert messages_of(response) == [LAST_ADMIN]
    assert membership_roles(w.space) == before


def test_last_admin_cannot_be_banned(sole_admin_world):
    w = sole_admin_world
    before = membership_roles(w.space)

    response = client_for(w.community_admin).post(space_url("member-ban", w.space, user_id=w.admin.pk), {"reason": "x"})

    assert messages_of(response) == [LAST_ADMIN]
    assert membership_roles(w.space) == before
    assert not SpaceBan.objects.filter(space=w.space, user=w.admin).exists()


def test_last_admin_cannot_leave(sole_admin_world):
    w = sole_admin_world
    count_before = Space.objects.get(pk=w.space.pk).member_count

    response = client_for(w.admin).post(space_url("leave", w.space))

    assert response.status_code == 302
    assert response.url == w.space.get_absolute_url()
    assert messages_of(response) == ["You are the only admin of this space: make someone else admin before leaving."]
    assert SpaceMembership.objects.filter(space=w.space, user=w.admin, role=SpaceRole.ADMIN).exists()
    assert Space.objects.get(pk=w.space.pk).member_count == count_before


def test_one_of_two_admins_can_leave(open_world):
    w = open_world

    response = client_for(w.admin).post(space_url("leave", w.space))

    assert messages_of(response) == [f"You left {w.space.name}."]
    assert not SpaceMembership.objects.filter(space=w.space, user=w.admin).exists()


def test_last_community_admin_cannot_step_down(community):
    admin = make_user("chair")
    community_services.community_role_set(actor=community.created_by, community=community, user=admin, role="admin")

    response = client_for(admin).post(
        reverse("communities:member-role", kwargs={"community_slug": community.slug, "user_id": admin.pk}),
        {"role": CommunityRole.MEMBER},
    )

    assert messages_of(response) == ["A community keeps at least one admin."]
    assert CommunityMembership.objects.get(community=community, user=admin).role == CommunityRole.ADMIN


# --- Join requests ------------------------------------------------------------------------------------------
def test_join_request_to_a_closed_space_is_refused_by_the_service(closed_world):
    w = closed_world

    with pytest.raises(ValidationError) as excinfo:
        services.join_request_create(actor=w.outsider, space=w.space, message="hello")

    assert excinfo.value.messages == ["Join requests are only for private spaces."]
    assert not JoinRequest.objects.filter(space=w.space, user=w.outsider).exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_join_request_page_of_a_closed_space_is_not_found_for_outsiders(closed_world, method):
    w = closed_world

    response = getattr(client_for(w.outsider), method)(space_url("request", w.space), {"message": "hello"})

    assert response.status_code == 404
    assert not JoinRequest.objects.filter(space=w.space, user=w.outsider).exists()


def test_join_request_to_an_open_space_says_to_join_directly_and_creates_nothing(open_world):
    w = open_world

    response = client_for(w.outsider).post(space_url("request", w.space), {"message": "hello"})

    assert response.status_code == 302
    assert messages_of(response) == ["Join requests are only for private spaces."]
    assert not JoinRequest.objects.filter(space=w.space, user=w.outsider).exists()


def test_second_pending_join_request_is_refused_with_a_message(private_world):
    w = private_world

    response = client_for(w.requester).post(space_url("request", w.space), {"message": "me again"})

    assert messages_of(response) == ["You have already asked to join; the moderators will answer soon."]
    requests = JoinRequest.objects.filter(space=w.space, user=w.requester)
    assert [(r.status, r.message) for r in requests] == [(JoinRequestStatus.PENDING, "Please let me in")]


def test_member_asking_to_join_is_told_they_are_already_a_member(private_world):
    w = private_world

    response = client_for(w.viewer).post(space_url("request", w.space), {"message": "hi"})

    assert messages_of(response) == ["You are already a member of this space."]
    assert not JoinRequest.objects.filter(space=w.space, user=w.viewer).exists()


def test_overlong_join_request_message_is_a_form_error(private_world):
    w = private_world

    response = client_for(w.outsider).post(space_url("request", w.space), {"message": "x" * 2001})

    assert response.status_code == 200
    assert form_errors(response)["message"] == ["Ensure this value has at most 2000 characters (it has 2001)."]
    assert not JoinRequest.objects.filter(space=w.space, user=w.outsider).exists()


# --- Banned people ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["get", "post"])
def test_banned_person_cannot_ask_to_join(private_world, method):
    w = private_world

    response = getattr(client_for(w.banned), method)(space_url("request", w.space), {"message": "sorry"})

    assert response.status_code == 403
    assert not JoinRequest.objects.filter(space=w.space, user=w.banned, status=JoinRequestStatus.PENDING).exists()


def test_banned_person_asking_to_join_through_the_service_is_told_they_are_banned(private_world):
    w = private_world

    with pytest.raises(PermissionDenied, match="You have been banned from this space."):
        services.join_request_create(actor=w.banned, space=w.space, message="sorry")


def test_banned_person_cannot_join_an_open_space(open_world):
    w = open_world
    browser = client_for(w.banned)
    count_before = Space.objects.get(pk=w.space.pk).member_count

    response = browser.post(space_url("join", w.space))
    home = browser.get(w.space.get_absolute_url())

    assert response.status_code == 403
    assert not SpaceMembership.objects.filter(space=w.space, user=w.banned).exists()
    assert Space.objects.get(pk=w.space.pk).member_count == count_before
    assert "Join this space" not in home.content.decode()
    with pytest.raises(PermissionDenied, match="You have been banned from this space."):
        services.space_join(actor=w.banned, space=w.space)


def test_private_space_tells_a_banned_person_they_are_banned(private_world):
    w = private_world

    home = client_for(w.banned).get(w.space.get_absolute_url())

    assert "You have been banned from this space." in home.content.decode()
    assert "Ask to join" not in home.content.decode()


def test_open_space_tells_a_banned_person_they_are_banned(open_world):
    w = open_world

    home = client_for(w.banned).get(w.space.get_absolute_url())

    assert "You have been banned from this space." in home.content.decode()


def test_banned_person_cannot_accept_an_invitation_sent_before_the_ban(open_world):
    w = open_world
    services.member_ban(actor=w.staff, space=w.space, user=w.invited, reason="spam")

    response = client_for(w.invited).post(reverse("spaces:invitation", kwargs={"token": w.invitation.token}))

    assert messages_of(response) == ["This invitation was withdrawn."]
    assert not SpaceMembership.objects.filter(space=w.space, user=w.invited).exists()


def test_banned_persons_old_join_request_cannot_be_approved(private_world):
    w = private_world
    join_request = JoinRequest.objects.get(space=w.space, user=w.requester)
    services.member_ban(actor=w.staff, space=w.space, user=w.requester)

    response = client_for(w.moderator).post(space_url("request-approve", w.space, request_id=join_request.pk))

    assert messages_of(response) == ["This request has already been answered."]
    assert not SpaceMembership.objects.filter(space=w.space, user=w.requester).exists()


# --- Moderators' limits -------------------------------------------------------------------------------------
def test_moderator_cannot_give_the_moderator_role(open_world):
    w = open_world
    before = membership_roles(w.space)

    response = client_for(w.moderator).post(
        space_url("member-role", w.space, user_id=w.viewer.pk), {"role": SpaceRole.MODERATOR}
    )

    assert messages_of(response) == ["Choose one of the roles you may give."]
    assert membership_roles(w.space) == before
    viewer_membership = SpaceMembership.objects.get(space=w.space, user=w.viewer)
    with pytest.raises(PermissionDenied):
        services.membership_change_role(actor=w.moderator, membership=viewer_membership, role=SpaceRole.MODERATOR)


@pytest.mark.parametrize("action", ["member-role", "member-remove", "member-ban"])
def test_moderator_cannot_change_remove_or_ban_an_admin(open_world, action):
    w = open_world
    before = membership_roles(w.space)

    response = client_for(w.moderator).post(space_url(action, w.space, user_id=w.admin.pk), {"role": SpaceRole.VIEWER})

    assert response.status_code == 403
    assert membership_roles(w.space) == before
    assert not SpaceBan.objects.filter(space=w.space, user=w.admin).exists()


def test_moderator_cannot_change_an_admins_role_through_the_service(open_world):
    w = open_world
    admin_membership = SpaceMembership.objects.get(space=w.space, user=w.admin)

    with pytest.raises(PermissionDenied, match="You cannot give that role."):
        services.membership_change_role(actor=w.moderator, membership=admin_membership, role=SpaceRole.VIEWER)

    admin_membership.refresh_from_db()
    assert admin_membership.role == SpaceRole.ADMIN


def test_editor_cannot_open_the_member_management_actions(open_world):
    w = open_world
    before = membership_roles(w.space)

    response = client_for(w.editor).post(
        space_url("member-role", w.space, user_id=w.viewer.pk), {"role": SpaceRole.EDITOR}
    )

    assert response.status_code == 403
    assert membership_roles(w.space) == before


# --- Avatars ------------------------------------------------------------------------------------------------
def profile_post(member, avatar) -> dict:
    return {
        "display_name": "Renamed Person",
        "organisation": "Statistics Office",
        "organisation_type": "nso",
        "country": "Kenya",
        "job_title": "",
        "bio": "",
        "time_zone": "UTC",
        "preferred_language": "en",
        "expertise_text": "census",
        "avatar": avatar,
    }


def assert_profile_untouched(member) -> None:
    member.refresh_from_db()
    profile = Profile.objects.get(user=member)
    assert member.display_name == "Outsider"
    assert profile.organisation == ""
    assert profile.country == ""
    assert not profile.avatar
    assert list(profile.expertise.all()) == []


def test_oversized_avatar_is_refused_and_profile_unchanged(open_world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    member = open_world.outsider
    image = png_bytes()
    oversized = image + b"\0" * (3 * 1024 * 1024 - len(image))
    assert len(oversized) > settings.AVATAR_MAX_BYTES

    response = client_for(member).post(
        reverse("members:profile-edit"),
        profile_post(member, SimpleUploadedFile("me.png", oversized, content_type="image/png")),
    )

    assert response.status_code == 200
    errors = [e.replace("\xa0", " ") for e in form_errors(response)["avatar"]]
    assert errors == ["This image is 3.0 MB; the limit is 2.0 MB."]
    assert_profile_untouched(member)
    assert list(tmp_path.rglob("*.png")) == []


def test_non_image_renamed_png_is_refused_and_profile_unchanged(open_world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    member = open_world.outsider
    fake = SimpleUploadedFile("me.png", b"#!/bin/sh\necho this is not a picture\n", content_type="image/png")

    response = client_for(member).post(reverse("members:profile-edit"), profile_post(member, fake))

    assert response.status_code == 200
    assert form_errors(response)["avatar"] == [
        "Upload a valid image. The file you uploaded was either not an image or a corrupted image."
    ]
    assert_profile_untouched(member)
    assert list(tmp_path.rglob("*")) == []


# --- Deleting a space ---------------------------------------------------------------------------------------
def test_space_delete_with_wrong_confirmation_name_keeps_the_space(open_world):
    w = open_world

    response = client_for(w.admin).post(space_url("delete", w.space), {"confirm_name": "space open"})

    assert response.status_code == 302
    assert response.url == space_url("settings", w.space)
    assert messages_of(response) == ["Type the space's name exactly to confirm deletion."]
    assert Space.objects.filter(pk=w.space.pk).exists()
    assert SpaceMembership.objects.filter(space=w.space).count() == 5


def test_space_delete_by_a_moderator_is_forbidden(open_world):
    w = open_world

    response = client_for(w.moderator).post(space_url("delete", w.space), {"confirm_name": w.space.name})

    assert response.status_code == 403
    assert Space.objects.filter(pk=w.space.pk).exists()


def test_onboarding_without_accepting_guidelines_explains_and_records_nothing(open_world):
    w = open_world
    newcomer = make_user("newcomer")

    response = client_for(newcomer).post(
        reverse("communities:onboarding", kwargs={"community_slug": w.community.slug}),
        {"accept_guidelines": ""},
    )

    errors = form_errors(response)
    assert errors["accept_guidelines"] == ["Please accept the community guidelines to continue."]
    question = w.community.intro_questions.get()
    assert errors[f"question_{question.pk}"] == ["Please answer this question."]
    assert not newcomer.onboardings.exists()
    assert not newcomer.intro_answers.exists()
    onboard(newcomer, w.community)  # and once accepted, it is recorded
    assert newcomer.onboardings.count() == 1
