"""Community settings (guidelines, introductory questions) and who may create spaces in a community."""

import pytest
from django.test import Client
from django.urls import reverse

from communities import services as community_services
from communities.models import Community, CommunityRole, IntroAnswer, IntroQuestion, Onboarding
from spaces import services as space_services
from spaces.models import Space, SpaceMembership, SpaceRole, Visibility
from tests.factories import make_community, make_space, make_user, onboard
from tests.spaces.helpers import client_for, form_errors, messages_of

KEPT = "Which census do you work on?"
REMOVED = "What would help you most?"
ADDED = "Which tools do you use for record linkage?"


@pytest.fixture
def setup(staff):
    community = make_community(staff, slug="census-methods", questions=[KEPT, REMOVED])
    admin, moderator, member = make_user("chair"), make_user("facilitator"), make_user("amina")
    community_services.community_role_set(actor=staff, community=community, user=admin, role=CommunityRole.ADMIN)
    community_services.community_role_set(
        actor=staff, community=community, user=moderator, role=CommunityRole.MODERATOR
    )
    onboard(member, community)
    community_services.community_membership_ensure(user=member, community=community)
    return community, admin, moderator, member


def settings_url(community) -> str:
    return reverse("communities:settings", kwargs={"community_slug": community.slug})


def settings_data(community, **overrides) -> dict:
    data = {
        "name": community.name,
        "slug": community.slug,
        "description": community.description,
        "guidelines": community.guidelines,
        "time_zone": community.time_zone,
        "intro_questions": "\n".join(q.text for q in community.intro_questions.all()),
    }
    return {**data, **overrides}


# --- Settings -----------------------------------------------------------------------------------------------
def test_settings_form_shows_the_current_guidelines_and_questions(setup):
    community, admin, _moderator, _member = setup

    response = client_for(admin).get(settings_url(community))

    assert response.status_code == 200
    assert response.context["form"]["intro_questions"].value() == f"{KEPT}\n{REMOVED}"
    assert "Be kind. Share what you can." in response.content.decode()


def test_community_admin_edits_guidelines_and_replaces_questions(setup):
    community, admin, _moderator, member = setup
    kept_answer = IntroAnswer.objects.get(user=member, question__text=KEPT)

    response = client_for(admin).post(
        settings_url(community),
        settings_data(
            community,
            description="Peers running the 2030 census round.",
            guidelines="Be kind. Cite your sources.",
            intro_questions=f"{ADDED}\n\n  {KEPT}  \n",
        ),
    )

    assert response.status_code == 302
    assert response.url == community.get_absolute_url()
    assert messages_of(response) == ["Community settings saved."]
    community.refresh_from_db()
    assert community.guidelines == "Be kind. Cite your sources."
    assert community.description == "Peers running the 2030 census round."
    assert [q.text for q in community.intro_questions.all()] == [ADDED, KEPT]
    assert not IntroQuestion.objects.filter(community=community, text=REMOVED).exists()
    assert not IntroAnswer.objects.filter(
        user=member, question__text=REMOVED
    ).exists()  # answers to removed questions go
    assert IntroAnswer.objects.get(pk=kept_answer.pk).text == kept_answer.text  # answers to kept ones stay
    # the member accepted the earlier text, and that is what their record keeps
    assert (
        Onboarding.objects.get(community=community, user=member).guidelines_accepted == "Be kind. Share what you can."
    )


def test_a_new_question_must_be_answered_before_the_next_join(setup):
    community, admin, _moderator, member = setup
    space = make_space(community.created_by, community, Visibility.OPEN, slug="census-2030")
    client_for(admin).post(settings_url(community), settings_data(community, intro_questions=f"{KEPT}\n{ADDED}"))

    response = client_for(member).post(
        reverse("spaces:join", kwargs={"community_slug": community.slug, "space_slug": space.slug})
    )

    assert response.status_code == 302
    assert response.url.startswith(reverse("communities:onboarding", kwargs={"community_slug": community.slug}))
    assert not SpaceMembership.objects.filter(space=space, user=member).exists()


def test_renaming_the_community_slug_to_a_taken_one_shows_a_form_error(setup):
    community, admin, _moderator, _member = setup
    make_community(community.created_by, slug="price-statistics")

    response = client_for(admin).post(settings_url(community), settings_data(community, slug="Price-Statistics"))

    assert response.status_code == 200
    assert form_errors(response)["slug"] == ["A community with this short name already exists."]
    community.refresh_from_db()
    assert community.slug == "census-methods"
    assert [q.text for q in community.intro_questions.all()] == [KEPT, REMOVED]


def test_community_admin_renames_the_slug(setup):
    community, admin, _moderator, _member = setup

    response = client_for(admin).post(settings_url(community), settings_data(community, slug="census-round"))

    assert response.url == reverse("communities:detail", kwargs={"community_slug": "census-round"})
    assert Community.objects.get(pk=community.pk).slug == "census-round"


@pytest.mark.parametrize("who", ["moderator", "member"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_only_community_admins_open_the_settings(setup, who, method):
    community, _admin, moderator, member = setup
    actor = {"moderator": moderator, "member": member}[who]

    response = getattr(client_for(actor), method)(settings_url(community), settings_data(community, guidelines="x"))

    assert response.status_code == 403
    community.refresh_from_db()
    assert community.guidelines == "Be kind. Share what you can."


def test_anonymous_visitor_is_asked_to_sign_in_for_settings(setup):
    community, *_ = setup

    response = Client().get(settings_url(community))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_settings_of_an_unknown_community_are_not_found(setup):
    _community, admin, *_ = setup

    response = client_for(admin).get(reverse("communities:settings", kwargs={"community_slug": "no-such-community"}))

    assert response.status_code == 404


# --- Creating spaces ----------------------------------------------------------------------------------------
def create_url(community) -> str:
    return reverse("spaces:create", kwargs={"community_slug": community.slug})


SPACE = {
    "name": "Census 2030",
    "slug": "census-2030",
    "description": "Preparing the round.",
    "visibility": Visibility.PRIVATE,
    "default_role": SpaceRole.VIEWER,
}


def test_community_admin_creates_a_space_and_becomes_its_admin(setup):
    community, admin, _moderator, _member = setup

    response = client_for(admin).post(create_url(community), SPACE)

    space = Space.objects.get(community=community, slug="census-2030")
    assert response.url == space.get_absolute_url()
    assert messages_of(response) == ["Space created. You are its admin."]
    assert (space.name, space.visibility, space.default_role, space.created_by) == (
        "Census 2030",
        Visibility.PRIVATE,
        SpaceRole.VIEWER,
        admin,
    )
    assert SpaceMembership.objects.get(space=space, user=admin).role == SpaceRole.ADMIN
    assert space.member_count == 1
    assert "Census 2030" in client_for(admin).get(community.get_absolute_url()).content.decode()


def test_new_space_form_is_offered_to_community_admins(setup):
    community, admin, moderator, _member = setup

    assert client_for(admin).get(create_url(community)).status_code == 200
    assert "New space" in client_for(admin).get(community.get_absolute_url()).content.decode()
    assert "New space" not in client_for(moderator).get(community.get_absolute_url()).content.decode()


@pytest.mark.parametrize("who", ["moderator", "member"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_community_moderators_and_members_cannot_create_spaces(setup, who, method):
    community, _admin, moderator, member = setup
    actor = {"moderator": moderator, "member": member}[who]

    response = getattr(client_for(actor), method)(create_url(community), SPACE)

    assert response.status_code == 403
    assert not Space.objects.filter(community=community).exists()


def test_admin_of_one_community_cannot_create_spaces_in_another(setup):
    _community, admin, _moderator, _member = setup
    other = make_community(_community.created_by, slug="price-statistics")

    response = client_for(admin).post(create_url(other), SPACE)

    assert response.status_code == 403
    assert not Space.objects.filter(community=other).exists()


def test_space_admin_who_is_not_a_community_admin_cannot_create_spaces(setup):
    community, _admin, _moderator, member = setup
    space = make_space(community.created_by, community, Visibility.OPEN, slug="census-2030")
    invitation = space_services.invitation_create(
        actor=community.created_by, space=space, recipient=member.email, role=SpaceRole.ADMIN
    )
    space_services.invitation_accept(actor=member, token=invitation.token)

    response = client_for(member).post(create_url(community), {**SPACE, "slug": "another"})

    assert response.status_code == 403
    assert not Space.objects.filter(community=community, slug="another").exists()
