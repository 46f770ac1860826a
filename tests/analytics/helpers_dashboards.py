"""A community with a person in every relation to the dashboards, and roll-up rows to show.

Roll-up rows (``MemberDay``, ``ActivityBucket``) are written directly: they are what the incremental roll-up
produces, and the dashboards read nothing else (tests/analytics/test_rollup.py covers how they are filled).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from types import SimpleNamespace

from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models import F
from django.utils import timezone

from analytics.models import ActivityBucket, MemberDay, RollupState
from analytics.rollup import STATE_NAME
from communities import services as community_services
from communities.models import CommunityMembership
from spaces.models import SpaceMembership, SpaceRole, Visibility
from tests.factories import add_member, make_community, make_space, make_user, onboard

CLOSED_NAME = "Hidden Working Group"


def planner_statements() -> int:
    """Statements a pass over members' rows adds inside a test's transaction (``metrics._run_per_member``): on
    PostgreSQL one setting its planner options and one giving them back."""
    return 2 if connection.vendor == "postgresql" else 0


def grant_analyst(user) -> None:
    user.user_permissions.add(Permission.objects.get(codename="view_analytics", content_type__app_label="members"))


def backdate_memberships(users, days: int = 400) -> None:
    """Members joined long ago, so every figure's population holds them on every day of the tests."""
    then = timezone.now() - timedelta(days=days)
    ids = [u.pk for u in users]
    CommunityMembership.objects.filter(user_id__in=ids).update(joined_at=then)
    SpaceMembership.objects.filter(user_id__in=ids).update(joined_at=then)


def build_site() -> SimpleNamespace:
    staff = make_user("staff", staff=True)
    community = make_community(staff, slug="statistics")
    other = make_community(staff, slug="other-community")
    s = SimpleNamespace(staff=staff, community=community, other=other)
    s.open_space = make_space(staff, community, Visibility.OPEN, slug="open-commons")
    s.beta = make_space(staff, community, Visibility.OPEN, slug="beta-lab")
    s.closed = make_space(staff, community, Visibility.CLOSED, slug="hidden-working-group")
    s.elsewhere = make_space(staff, other, Visibility.OPEN, slug="elsewhere")
    assert s.closed.name == CLOSED_NAME

    s.space_mod = make_user("spacemod")
    add_member(s.beta, s.space_mod, SpaceRole.MODERATOR, by=staff)
    s.community_admin = make_user("cadmin")
    onboard(s.community_admin, community)
    community_services.community_role_set(actor=staff, community=community, user=s.community_admin, role="admin")
    s.community_moderator = make_user("cmod")
    onboard(s.community_moderator, community)
    community_services.community_role_set(
        actor=staff, community=community, user=s.community_moderator, role="moderator"
    )
    s.other_admin = make_user("otheradmin")
    onboard(s.other_admin, other)
    community_services.community_role_set(actor=staff, community=other, user=s.other_admin, role="admin")
    s.analyst = make_user("analyst")
    grant_analyst(s.analyst)
    s.member = make_user("plainmember")
    add_member(s.open_space, s.member, SpaceRole.EDITOR, by=staff)
    s.outsider = make_user("outsider")
    # Dana works in the space the moderator runs; Carol only in the closed one.
    s.dana = make_user("dana", country="Kenya")
    add_member(s.beta, s.dana, SpaceRole.EDITOR, by=staff)
    s.carol = make_user("carol", country="Chile")
    add_member(s.closed, s.carol, SpaceRole.EDITOR, by=staff)
    backdate_memberships([s.space_mod, s.community_admin, s.member, s.dana, s.carol])
    return s


def today() -> date:
    return timezone.now().date()


def add_activity(member, space, days, *, contributions: int = 1, points: int = 10, referrals: int = 0) -> None:
    """Activity of ``member`` in ``space`` on each of ``days`` (days ago): the space's rows and the community's."""
    kind_counts = {"visit": 1, "page_edit": contributions}
    if referrals:
        kind_counts["referral"] = referrals
    profile = member.profile
    for ago in days:
        day = today() - timedelta(days=ago)
        for space_id in (MemberDay.WHOLE_COMMUNITY, space.pk):
            MemberDay.objects.create(
                member_id=member.pk,
                community_id=space.community_id,
                space_id=space_id,
                day=day,
                country=profile.country,
                organisation_type=profile.organisation_type,
                events=1 + contributions,
                visits=1,
                contributions=contributions,
                kind_counts=kind_counts,
                points=points,
            )
            moment = datetime.combine(day, datetime.min.time(), tzinfo=timezone.get_fixed_timezone(0))
            ActivityBucket.objects.update_or_create(
                community_id=space.community_id,
                space_id=space_id,
                country=profile.country,
                organisation_type=profile.organisation_type,
                bucket=moment + timedelta(hours=9),
                defaults={"events": 1 + contributions, "contributions": contributions},
            )


def after_a_rollup() -> None:
    """What a roll-up run that counted events does to the dashboards' cached figures: a new generation, so the next
    request computes them again (the roll-up rows of these tests are written directly, without a run)."""
    RollupState.objects.get_or_create(name=STATE_NAME)
    RollupState.objects.filter(name=STATE_NAME).update(generation=F("generation") + 1)
