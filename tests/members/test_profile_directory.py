"""Profiles, time zones, avatars, the member directory, focal points, community roles, new communities."""

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from communities import services as community_services
from communities.models import Community, CommunityMembership, CommunityRole
from members import services as member_services
from members.middleware import TZ_SESSION_KEY
from members.models import Profile
from spaces import services as space_services
from spaces.models import Item, ItemKind, Visibility
from tests.factories import make_space, make_user, onboard
from tests.spaces.helpers import client_for, form_errors, htmx, messages_of, png_bytes, template_names


def profile_data(**overrides) -> dict:
    data = {
        "display_name": "Amina Diallo",
        "organisation": "Agence Nationale de la Statistique",
        "organisation_type": "nso",
        "country": "Senegal",
        "job_title": "Head of methods",
        "bio": "I work on linking census and administrative records.",
        "time_zone": "Africa/Nairobi",
        "preferred_language": "en",
        "expertise_text": "record linkage, census",
    }
    return {**data, **overrides}


# --- Editing a profile --------------------------------------------------------------------------------------
def test_member_edits_every_profile_field(db):
    member = make_user("amina")
    browser = client_for(member)

    response = browser.post(reverse("members:profile-edit"), profile_data())

    assert response.status_code == 302
    member.refresh_from_db()
    assert response.url == reverse("members:profile", kwargs={"username": member.username})
    assert messages_of(response) == ["Profile saved."]
    profile = Profile.objects.get(user=member)
    assert member.display_name == "Amina Diallo"
    assert (profile.organisation, profile.organisation_type, profile.country, profile.job_title) == (
        "Agence Nationale de la Statistique",
        "nso",
        "Senegal",
        "Head of methods",
    )
    assert profile.bio == "I work on linking census and administrative records."
    assert (profile.time_zone, profile.preferred_language) == ("Africa/Nairobi", "en")
    assert sorted(e.name for e in profile.expertise.all()) == ["census", "record linkage"]
    page = browser.get(response.url).content.decode()
    for text in [
        "Amina Diallo",
        "Head of methods",
        "Agence Nationale de la Statistique",
        "record linkage",
        "census",
    ]:
        assert text in page
    form = browser.get(reverse("members:profile-edit")).context["form"]
    assert form["expertise_text"].value() == "census, record linkage"


def test_expertise_is_shared_between_members_whatever_the_case(db):
    first, second = make_user("first"), make_user("second")

    client_for(first).post(reverse("members:profile-edit"), profile_data(expertise_text="Record Linkage, census"))
    client_for(second).post(
        reverse("members:profile-edit"), profile_data(expertise_text="record linkage;  SDG indicators")
    )

    assert {e.name for e in first.profile.expertise.all()} & {e.name for e in second.profile.expertise.all()} == {
        "Record Linkage"
    }


def test_profile_edit_needs_a_display_name(db):
    member = make_user("amina")

    response = client_for(member).post(reverse("members:profile-edit"), profile_data(display_name=""))

    assert form_errors(response)["display_name"] == ["This field is required."]
    member.refresh_from_db()
    assert member.display_name == "Amina"
    assert Profile.objects.get(user=member).organisation == ""


def test_profile_edit_requires_login(db):
    response = Client().get(reverse("members:profile-edit"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


# --- Time zone ----------------------------------------------------------------------------------------------
def test_chosen_time_zone_is_stored_and_used_for_times_on_pages(staff, community):
    member = make_user("amina")
    onboard(member, community)
    space = make_space(staff, community, Visibility.OPEN, slug="census")
    space_services.space_join(actor=member, space=space)
    Item.objects.create(kind=ItemKind.PAGE, space=space, author=member, title="Linkage handbook")
    browser = client_for(member)

    browser.post(reverse("members:profile-edit"), profile_data(time_zone="Africa/Nairobi"))
    page = browser.get(space.get_absolute_url())

    assert browser.session[TZ_SESSION_KEY] == "Africa/Nairobi"
    assert page.context["TIME_ZONE"] == "Africa/Nairobi"
    assert "+03:00" in page.content.decode()  # the page's times are in East Africa Time


def test_time_zone_is_activated_in_a_new_session_from_the_profile(db):
    member = make_user("amina")
    member_services.profile_update(actor=member, user=member, time_zone="America/Lima")
    browser = Client()
    browser.post(reverse("account_login"), {"login": member.email, "password": "test-pass-123"})

    page = browser.get(reverse("home"))

    assert browser.session[TZ_SESSION_KEY] == "America/Lima"
    assert page.context["TIME_ZONE"] == "America/Lima"


def test_unknown_time_zone_is_refused(db):
    member = make_user("amina")

    response = client_for(member).post(reverse("members:profile-edit"), profile_data(time_zone="Mars/Olympus"))

    assert "time_zone" in form_errors(response)
    assert Profile.objects.get(user=member).time_zone == "UTC"


# --- Avatar -------------------------------------------------------------------------------------------------
def test_member_uploads_a_small_png_avatar(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    member = make_user("amina")
    browser = client_for(member)
    upload = SimpleUploadedFile("me.png", png_bytes((32, 32)), content_type="image/png")

    response = browser.post(reverse("members:profile-edit"), profile_data(avatar=upload))

    assert response.status_code == 302
    profile = Profile.objects.get(user=member)
    assert profile.avatar.name.startswith(f"avatars/{member.pk}/")
    assert (tmp_path / profile.avatar.name).read_bytes() == png_bytes((32, 32))
    assert profile.avatar.url in browser.get(response.url).content.decode()


def test_saving_the_profile_again_keeps_the_avatar(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    member = make_user("amina")
    browser = client_for(member)
    browser.post(
        reverse("members:profile-edit"),
        profile_data(avatar=SimpleUploadedFile("me.png", png_bytes(), content_type="image/png")),
    )
    name = Profile.objects.get(user=member).avatar.name

    browser.post(reverse("members:profile-edit"), profile_data(job_title="Director"))

    profile = Profile.objects.get(user=member)
    assert profile.avatar.name == name
    assert profile.job_title == "Director"


# --- Directory ----------------------------------------------------------------------------------------------
@pytest.fixture
def directory(db):
    people = {
        "amina": make_user("amina", country="Senegal", organisation="ANSD"),
        "juan": make_user("juan", country="Peru", organisation="INEI"),
        "mei": make_user("mei", country="Viet Nam", organisation="General Statistics Office"),
    }
    member_services.profile_update(actor=people["amina"], user=people["amina"], expertise=["record linkage", "census"])
    member_services.profile_update(actor=people["juan"], user=people["juan"], expertise=["price statistics"])
    member_services.profile_update(actor=people["mei"], user=people["mei"], expertise=["census cartography"])
    return people


def listed(response) -> set[str]:
    return {member.username for member in response.context["page"].object_list}


def test_directory_requires_login(directory):
    url = reverse("members:directory")

    response = Client().get(url)

    assert response.status_code == 302
    assert response.url == f"{reverse('account_login')}?next={url}"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "juan"}, {"juan"}),  # name
        ({"q": "General Statistics"}, {"mei"}),  # organisation
        ({"q": "senegal"}, {"amina"}),  # country, in the search box
        ({"country": "Peru"}, {"juan"}),  # country filter
        ({"q": "census"}, {"amina", "mei"}),  # expertise
        ({"q": "record linkage"}, {"amina"}),  # several words, all must match
        ({"q": "nobody-matches-this"}, set()),
    ],
)
def test_directory_searches_by_name_organisation_country_and_expertise(directory, params, expected):
    browser = client_for(directory["amina"])

    response = browser.get(reverse("members:directory"), params)

    assert response.status_code == 200
    assert listed(response) == {directory[name].username for name in expected}
    for name in expected:
        assert directory[name].public_name in response.content.decode()


def test_directory_lists_everyone_without_a_query(directory):
    response = client_for(directory["amina"]).get(reverse("members:directory"))

    assert listed(response) == {m.username for m in directory.values()}


def test_directory_htmx_search_returns_only_the_results_partial(directory):
    response = htmx(client_for(directory["amina"]), "get", reverse("members:directory"), {"q": "census"})

    assert response.status_code == 200
    assert template_names(response)[0] == "members/partials/directory_results.html"
    assert "members/directory.html" not in template_names(response)
    assert "<html" not in response.content.decode()
    assert 'id="directory-results"' in response.content.decode()
    assert listed(response) == {directory["amina"].username, directory["mei"].username}


def test_deleted_members_never_appear_in_the_directory(directory):
    gone = directory["juan"]
    member_services.account_delete(actor=gone, user=gone)
    browser = client_for(directory["amina"])

    for params in [{}, {"q": "former"}, {"q": gone.username}, {"q": "price"}, {"country": "Peru"}]:
        response = browser.get(reverse("members:directory"), params)
        assert gone.username not in listed(response), params
        assert "former member" not in response.content.decode()


def test_inactive_accounts_do_not_appear_in_the_directory(directory):
    directory["mei"].is_active = False
    directory["mei"].save(update_fields=["is_active"])

    response = client_for(directory["amina"]).get(reverse("members:directory"))

    assert directory["mei"].username not in listed(response)


# --- Focal points and community roles -----------------------------------------------------------------------
@pytest.fixture
def community_people(staff, community):
    admin, moderator, member = (
        make_user("chair"),
        make_user("facilitator"),
        make_user("amina", country="Senegal"),
    )
    community_services.community_role_set(actor=staff, community=community, user=admin, role=CommunityRole.ADMIN)
    community_services.community_role_set(
        actor=staff, community=community, user=moderator, role=CommunityRole.MODERATOR
    )
    community_services.community_membership_ensure(user=member, community=community)
    return admin, moderator, member


def focal_point_url(community, user) -> str:
    return reverse("communities:focal-point", kwargs={"community_slug": community.slug, "user_id": user.pk})


def test_community_admin_marks_a_country_focal_point(community, community_people):
    admin, _moderator, member = community_people
    browser = client_for(admin)

    response = browser.post(focal_point_url(community, member), {"is_focal_point": "1"})

    assert response.url == reverse("communities:members", kwargs={"community_slug": community.slug})
    assert messages_of(response) == ["Focal point updated."]
    assert CommunityMembership.objects.get(community=community, user=member).is_focal_point
    assert "Focal point" in browser.get(member.get_absolute_url()).content.decode()

    browser.post(focal_point_url(community, member), {"is_focal_point": "0"})
    assert not CommunityMembership.objects.get(community=community, user=member).is_focal_point


@pytest.mark.parametrize("who", ["moderator", "member"])
def test_only_community_admins_mark_focal_points(community, community_people, who):
    admin, moderator, member = community_people
    actor = {"moderator": moderator, "member": member}[who]

    response = client_for(actor).post(focal_point_url(community, member), {"is_focal_point": "1"})

    assert response.status_code == 403
    assert not CommunityMembership.objects.get(community=community, user=member).is_focal_point


def test_focal_point_must_be_a_community_member(community, community_people):
    admin, _moderator, _member = community_people
    stranger = make_user("stranger")

    response = client_for(admin).post(focal_point_url(community, stranger), {"is_focal_point": "1"})

    assert messages_of(response) == ["Only members of the community can be its focal points."]
    assert not CommunityMembership.objects.filter(community=community, user=stranger).exists()


def role_url(community, user) -> str:
    return reverse("communities:member-role", kwargs={"community_slug": community.slug, "user_id": user.pk})


def test_community_admin_changes_a_members_community_role(community, community_people):
    admin, _moderator, member = community_people

    response = client_for(admin).post(role_url(community, member), {"role": CommunityRole.MODERATOR})

    assert messages_of(response) == [f"{member.public_name}'s community role was changed."]
    assert CommunityMembership.objects.get(community=community, user=member).role == CommunityRole.MODERATOR
    members_page = client_for(member).get(reverse("communities:members", kwargs={"community_slug": community.slug}))
    assert members_page.status_code == 200  # community moderators see the member list


@pytest.mark.parametrize("who", ["moderator", "member"])
def test_only_community_admins_change_community_roles(community, community_people, who):
    admin, moderator, member = community_people
    actor = {"moderator": moderator, "member": member}[who]

    response = client_for(actor).post(role_url(community, member), {"role": CommunityRole.ADMIN})

    assert response.status_code == 403
    assert CommunityMembership.objects.get(community=community, user=member).role == CommunityRole.MEMBER


def test_unknown_community_role_is_refused(community, community_people):
    admin, _moderator, member = community_people

    response = client_for(admin).post(role_url(community, member), {"role": "owner"})

    assert messages_of(response) == ["Choose a community role."]
    assert CommunityMembership.objects.get(community=community, user=member).role == CommunityRole.MEMBER


# --- Creating communities -----------------------------------------------------------------------------------
def community_data(**overrides) -> dict:
    data = {
        "name": "Census Methods",
        "slug": "census-methods",
        "description": "Peers running the 2030 round.",
        "guidelines": "Be kind.",
        "time_zone": "Europe/Paris",
        "intro_questions": "Which census do you work on?\nWhat would help you most?",
    }
    return {**data, **overrides}


def test_site_staff_create_a_community(staff):
    response = client_for(staff).post(reverse("communities:create"), community_data())

    community = Community.objects.get(slug="census-methods")
    assert response.url == community.get_absolute_url()
    assert messages_of(response) == ["Community created."]
    assert (community.name, community.time_zone, community.created_by) == (
        "Census Methods",
        "Europe/Paris",
        staff,
    )
    assert [q.text for q in community.intro_questions.all()] == [
        "Which census do you work on?",
        "What would help you most?",
    ]
    assert not CommunityMembership.objects.filter(community=community, user=staff).exists()


def test_site_staff_create_a_community_with_a_logo(staff, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    logo = SimpleUploadedFile("logo.png", png_bytes((40, 40)), content_type="image/png")

    client_for(staff).post(reverse("communities:create"), community_data(logo=logo))

    community = Community.objects.get(slug="census-methods")
    assert community.logo.name.startswith("community-logos/census-methods/")


@pytest.mark.parametrize("method", ["get", "post"])
def test_non_staff_cannot_create_a_community(db, method):
    member = make_user("amina")

    response = getattr(client_for(member), method)(reverse("communities:create"), community_data())

    assert response.status_code == 403
    assert not Community.objects.exists()


def test_anonymous_visitor_is_asked_to_sign_in_to_create_a_community(db):
    response = Client().get(reverse("communities:create"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_directory_next_page_keeps_the_filters(db):
    viewer = make_user("viewer", country="Chile")
    for n in range(25):
        make_user(f"peruvian{n}", country="Peru")
    browser = client_for(viewer)
    first = browser.get(reverse("members:directory"), {"country": "Peru"})
    assert first.context["page"].paginator.count == 25
    next_href = re.search(r'href="([^"]*page=2[^"]*)"', first.content.decode()).group(1)

    second = browser.get(reverse("members:directory") + html.unescape(next_href))

    assert second.context["page"].paginator.count == 25
    assert viewer.username not in listed(second)


def test_introductions_show_on_the_profile_from_onboarding_before_any_space(staff, community):
    newcomer, peer, moderator = make_user("newcomer"), make_user("peer"), make_user("moderator")
    for user in (newcomer, peer, moderator):
        onboard(user, community)
    community_services.community_role_set(
        actor=staff, community=community, user=moderator, role=CommunityRole.MODERATOR
    )
    profile_url = reverse("members:profile", args=[newcomer.username])

    def shows_the_introduction(user) -> bool:
        return "To learn from peers." in client_for(user).get(profile_url).content.decode()

    # As the onboarding page promises: on the member's own profile and to the community's moderators.
    assert shows_the_introduction(newcomer)
    assert shows_the_introduction(moderator)
    assert not shows_the_introduction(peer)
