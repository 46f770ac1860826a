"""Points, rank and ambassador badges on a member's profile (issue 6 items 2 and "Referrals").

Points and rank are the member's own (and the community's admins', who see the leaderboard anyway); the
ambassador badge is public to everyone who can see the profile. Activity is recorded through the one recording
function and rolled up by the real roll-up; referrals come from invitations accepted through the services.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analytics import metrics, rollup
from analytics.recording import record_activity
from analytics.selectors import profile_engagement
from communities import services as community_services
from spaces import services as space_services
from spaces.models import Visibility
from tests.factories import add_member, make_community, make_space, make_user, onboard
from tests.spaces.helpers import client_for

pytestmark = pytest.mark.django_db

POINTS_LABEL = "points, last 30 days"


def _community(staff, slug: str):
    community = make_community(staff, slug=slug)
    space = make_space(staff, community, Visibility.OPEN, slug=f"{slug}-forum")
    return community, space


def _join(user, space) -> None:
    onboard(user, space.community)
    space_services.space_join(actor=user, space=space)


def _act(user, space, kind: str, times: int = 1) -> None:
    for _n in range(times):
        record_activity(actor=user, kind=kind, community_id=space.community_id, space_id=space.pk)


def _profile(viewer, member):
    return client_for(viewer).get(reverse("members:profile", kwargs={"username": member.username}))


@pytest.fixture
def forum(staff):
    return _community(staff, "statistics")[1]


def test_member_sees_own_points_and_rank_on_profile(forum):
    member, keen = make_user("member"), make_user("keen")
    for user in (member, keen):
        _join(user, forum)
    _act(member, forum, "answer_post")  # 10 points (joining is worth none)
    _act(keen, forum, "answer_post", times=2)  # 20 points: first on the leaderboard
    rollup.rollup_new_events()

    response = _profile(member, member)

    (row,) = response.context["engagement"]
    assert row.points == metrics.MemberPoints(points_30=10, points_90=10, points_all=10, rank_30=2)
    assert row.points == metrics.member_points(member.pk, forum.community_id)
    html = response.content.decode()
    assert POINTS_LABEL in html and "#2" in html


def test_another_member_does_not_see_points_or_rank(forum):
    member, other = make_user("member"), make_user("other")
    for user in (member, other):
        _join(user, forum)
    _act(member, forum, "answer_post")
    rollup.rollup_new_events()

    response = _profile(other, member)

    assert response.status_code == 200
    assert all(row.points is None for row in response.context["engagement"])
    assert POINTS_LABEL not in response.content.decode()


def test_community_admin_sees_a_members_points(staff, forum):
    member, admin = make_user("member"), make_user("admin")
    _join(member, forum)
    community_services.community_role_set(actor=staff, community=forum.community, user=admin, role="admin")
    _act(member, forum, "question_ask")
    rollup.rollup_new_events()

    response = _profile(admin, member)

    (row,) = response.context["engagement"]
    assert row.points.points_30 == 5 and row.points.rank_30 == 1
    assert POINTS_LABEL in response.content.decode()


def _ambassador(staff, forum, accepted: int):
    """A community admin whose invitations to ``accepted`` people were accepted."""
    ambassador = make_user("inviter")
    community_services.community_role_set(actor=staff, community=forum.community, user=ambassador, role="admin")
    for _n in range(accepted):
        add_member(forum, make_user(), by=ambassador)
    rollup.rollup_new_events()
    return ambassador


def test_two_accepted_invitations_show_a_bronze_badge_to_everyone(staff, forum):
    ambassador = _ambassador(staff, forum, accepted=2)
    stranger = make_user("stranger")  # in no community at all

    response = _profile(stranger, ambassador)

    (row,) = response.context["engagement"]
    assert (row.referrals, row.badge, row.points) == (2, "bronze", None)
    assert "Bronze ambassador" in response.content.decode()


def test_one_accepted_invitation_shows_no_badge(staff, forum):
    ambassador = _ambassador(staff, forum, accepted=1)

    response = _profile(make_user("stranger"), ambassador)

    assert response.context["engagement"] == []
    assert "badge-ambassador" not in response.content.decode()


def test_ranks_agree_with_the_leaderboard_on_ties_and_outside_the_population(staff, forum):
    """Equal points go to the older account first; staff are not on the leaderboard."""
    first, second, third = make_user("first"), make_user("second"), make_user("third")
    for user in (first, second, third):
        _join(user, forum)
    _act(first, forum, "comment_create", times=3)  # 6
    _act(second, forum, "comment_create", times=3)  # 6, a newer account: after ``first``
    _act(third, forum, "answer_post")  # 10
    _act(staff, forum, "answer_post", times=5)  # 50, but staff are no one's competition
    rollup.rollup_new_events()

    for user, rank in ((third, 1), (first, 2), (second, 3)):
        (row,) = profile_engagement(user, user)
        assert row.points == metrics.member_points(user.pk, forum.community_id)
        assert row.points.rank_30 == rank, user


def _member_of(staff, count: int):
    member = make_user("member")
    for n in range(count):
        space = _community(staff, f"community-{count}-{n}")[1]
        _join(member, space)
        _join(make_user(), space)  # someone else on the leaderboard, with no points
        _act(member, space, "page_edit")
    rollup.rollup_new_events()
    return member


def test_profile_queries_do_not_grow_with_communities(staff):
    one, three = _member_of(staff, 1), _member_of(staff, 3)
    browsers = {member: client_for(member) for member in (one, three)}
    for member, browser in browsers.items():
        browser.get(reverse("members:profile", kwargs={"username": member.username}))  # warm the session

    counts = {}
    for member, browser in browsers.items():
        with CaptureQueriesContext(connection) as queries:
            response = browser.get(reverse("members:profile", kwargs={"username": member.username}))
        counts[member] = len(queries)
        assert all(row.points.points_30 == 5 and row.points.rank_30 == 1 for row in response.context["engagement"])
    assert len(response.context["engagement"]) == 3
    assert counts[one] == counts[three]

    for member in (one, three):
        with CaptureQueriesContext(connection) as queries:
            profile_engagement(member, member)
        assert len(queries) == 3  # memberships, own figures, ranks
