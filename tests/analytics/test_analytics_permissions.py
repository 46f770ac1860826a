"""Who may see which engagement figures (analytics/permissions.py), answered in the database."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from analytics import permissions
from spaces import services as space_services
from spaces.models import SpaceRole
from tests.analytics.helpers_dashboards import build_site
from tests.factories import add_member, make_user


@pytest.fixture
def site(db):
    return build_site()


def space_names(user, community) -> set[str]:
    return set(permissions.dashboard_spaces_for(user, community).values_list("name", flat=True))


def community_slugs(user) -> set[str]:
    return set(permissions.dashboard_communities_for(user).values_list("slug", flat=True))


def test_analyst_and_staff_see_every_community_and_space_closed_ones_included(site):
    for person in (site.analyst, site.staff):
        assert community_slugs(person) == {"statistics", "other-community"}
        assert space_names(person, site.community) == {"Open Commons", "Beta Lab", "Hidden Working Group"}
        assert space_names(person, site.other) == {"Elsewhere"}
        assert permissions.can_see_community_figures(person, site.other)


def test_community_admin_sees_their_community_and_all_its_spaces_but_not_another_community(site):
    admin = site.community_admin
    assert community_slugs(admin) == {"statistics"}
    assert space_names(admin, site.community) == {"Open Commons", "Beta Lab", "Hidden Working Group"}
    assert space_names(admin, site.other) == set()
    assert permissions.can_see_community_figures(admin, site.community)
    assert not permissions.can_see_community_figures(admin, site.other)
    with pytest.raises(Http404):
        permissions.get_dashboard_for_user(admin, "other-community")


def test_space_moderator_sees_only_their_space_and_no_community_wide_figures(site):
    moderator = site.space_mod
    assert community_slugs(moderator) == set()
    assert space_names(moderator, site.community) == {"Beta Lab"}
    assert not permissions.can_see_community_figures(moderator, site.community)
    access = permissions.get_dashboard_for_user(moderator, "statistics")
    assert not access.whole
    assert [s.name for s in access.spaces] == ["Beta Lab"]


def test_community_moderator_sees_every_space_of_the_community_but_not_the_whole(site):
    moderator = site.community_moderator
    assert space_names(moderator, site.community) == {"Open Commons", "Beta Lab", "Hidden Working Group"}
    assert not permissions.can_see_community_figures(moderator, site.community)
    assert not permissions.can_edit_points_policy(moderator, site.community)


def test_editors_viewers_outsiders_and_anonymous_see_no_dashboard(site):
    viewer = make_user("viewer")
    add_member(site.beta, viewer, SpaceRole.VIEWER, by=site.staff)
    for person in (site.member, site.dana, viewer, site.outsider, AnonymousUser()):
        assert community_slugs(person) == set()
        assert space_names(person, site.community) == set()
        assert not permissions.can_see_member_figures(person, site.community)
        assert not permissions.can_see_any_dashboard(person)
        with pytest.raises(Http404):
            permissions.get_dashboard_for_user(person, "statistics")


def test_a_banned_moderator_loses_the_space_dashboard(site):
    space_services.member_ban(actor=site.staff, space=site.beta, user=site.space_mod, reason="abuse")
    assert space_names(site.space_mod, site.community) == set()
    with pytest.raises(Http404):
        permissions.get_dashboard_for_user(site.space_mod, "statistics")


def test_member_level_figures_only_for_dashboard_roles(site):
    allowed = [site.analyst, site.staff, site.community_admin, site.space_mod, site.community_moderator]
    for person in allowed:
        assert permissions.can_see_member_figures(person, site.community), person
    assert not permissions.can_see_member_figures(site.space_mod, site.other)
    assert not permissions.can_see_member_figures(site.other_admin, site.community)


def test_points_policy_is_edited_by_community_admins_and_staff_only(site):
    assert permissions.can_edit_points_policy(site.community_admin, site.community)
    assert permissions.can_edit_points_policy(site.staff, site.community)
    assert not permissions.can_edit_points_policy(site.community_admin, site.other)
    for person in (site.analyst, site.space_mod, site.community_moderator, site.member, AnonymousUser()):
        assert not permissions.can_edit_points_policy(person, site.community)


def test_dashboard_link_shown_exactly_to_people_with_a_dashboard(site):
    for person in (site.analyst, site.staff, site.community_admin, site.space_mod, site.other_admin):
        assert permissions.can_see_any_dashboard(person)
    for person in (site.member, site.outsider, site.dana, AnonymousUser()):
        assert not permissions.can_see_any_dashboard(person)
