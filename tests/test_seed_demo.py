"""The demo seed: realistic, covers every visibility and role, and is idempotent."""

from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management import call_command

from analytics.models import ActivityEvent
from communities.models import Community, CommunityMembership, CommunityRole, IntroAnswer, Onboarding
from spaces.management.commands.seed_demo import DEMO_PASSWORD, PEOPLE
from spaces.models import (
    Invitation,
    InvitationStatus,
    JoinRequest,
    JoinRequestStatus,
    Space,
    SpaceBan,
    SpaceMembership,
    SpaceRole,
    SpaceUserObjectPermission,
    Visibility,
)

User = get_user_model()

COUNTED = [
    User,
    Community,
    CommunityMembership,
    Onboarding,
    IntroAnswer,
    Space,
    SpaceMembership,
    JoinRequest,
    Invitation,
    SpaceBan,
    SpaceUserObjectPermission,
    ActivityEvent,
]


def _counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in COUNTED}


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_seed_demo_twice_creates_nothing_new():
    first_output = _seed()
    after_first = _counts()
    second_output = _seed()

    assert _counts() == after_first
    assert "Demo data: created" in first_output
    assert "nothing changed" in second_output
    assert after_first["members.User"] >= 18
    assert after_first["communities.Community"] == 3


@pytest.mark.django_db
def test_seed_demo_content_covers_every_case():
    _seed()

    assert set(Community.objects.values_list("slug", flat=True)) == {
        "data-integration",
        "census-innovation",
        "disaster-statistics",
    }
    for community in Community.objects.all():
        roles = set(community.memberships.values_list("role", flat=True))
        assert {CommunityRole.ADMIN, CommunityRole.MODERATOR, CommunityRole.MEMBER} <= roles, community.slug
        assert community.memberships.filter(is_focal_point=True).exists(), community.slug
        assert community.guidelines.strip().startswith("- ")
        assert community.intro_questions.exists()
        visibilities = set(community.spaces.values_list("visibility", flat=True))
        assert visibilities == set(Visibility.values), community.slug

    assert set(Space.objects.values_list("default_role", flat=True)) == {SpaceRole.VIEWER, SpaceRole.EDITOR}
    assert Space.objects.filter(is_archived=True).exists()
    assert set(SpaceMembership.objects.values_list("role", flat=True)) == set(SpaceRole.values)
    for space in Space.objects.all():
        assert space.member_count == space.memberships.count() > 0

    pending = JoinRequest.objects.filter(status=JoinRequestStatus.PENDING)
    assert pending.count() >= 3
    assert all(request.message for request in pending)
    assert set(pending.values_list("space__visibility", flat=True)) == {Visibility.PRIVATE}
    # An outsider: only a pending request, in no space of the community.
    outsider = User.objects.get(email="nuwan.perera@example.org")
    assert pending.filter(user=outsider).exists()
    assert not SpaceMembership.objects.filter(user=outsider).exists()

    invitations = Invitation.objects.filter(status=InvitationStatus.PENDING)
    assert invitations.count() >= 2
    assert invitations.filter(invitee__isnull=True).exists()  # to an e-mail with no account
    assert invitations.filter(invitee__isnull=False).exists()  # to an existing member

    ban = SpaceBan.objects.get()
    assert not SpaceMembership.objects.filter(space=ban.space, user=ban.user).exists()

    grant = SpaceUserObjectPermission.objects.select_related("content_object", "user").get()
    assert grant.content_object.visibility == Visibility.CLOSED
    assert grant.permission.codename == "hold_viewer_role"
    assert not CommunityMembership.objects.filter(user=grant.user).exists()

    assert Onboarding.objects.count() >= 20
    assert IntroAnswer.objects.exclude(text="").count() == IntroAnswer.objects.count() > 0
    # Everyone holding a space membership onboarded in that community first.
    for membership in SpaceMembership.objects.select_related("space").exclude(user__is_staff=True):
        assert Onboarding.objects.filter(
            community_id=membership.space.community_id, user=membership.user_id
        ).exists()


@pytest.mark.django_db
def test_seed_demo_people_can_log_in():
    _seed()

    staff = User.objects.get(email="admin@example.org")
    assert staff.is_staff and staff.is_superuser
    analyst = User.objects.get(email="analyst@example.org")
    assert not analyst.is_staff
    assert analyst.has_perm("members.view_analytics")

    for person in PEOPLE:
        user = User.objects.get(email=person.email)
        assert user.check_password(DEMO_PASSWORD), person.email
        assert user.display_name == person.name
        assert (
            user.profile.organisation and user.profile.country and user.profile.job_title and user.profile.bio
        )
        assert user.profile.time_zone == person.time_zone
        assert user.profile.expertise.exists()
        assert EmailAddress.objects.filter(user=user, email=user.email, verified=True, primary=True).exists()


@pytest.mark.django_db
def test_seed_demo_prints_the_demo_logins(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    output = _seed()

    assert DEMO_PASSWORD in output
    for person in PEOPLE:
        assert person.email in output
    assert "site staff" in output
    assert "community admin of Data Integration" in output
    assert "outsider with a pending join request" in output
    assert "kenji.tanaka@example.org" in output
    # The e-mail backend swapped in while seeding is put back.
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend"
