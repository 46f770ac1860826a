"""``MemberStanding``, one row per member and community kept by database triggers from the memberships and the
whole-community months (migration 0006), and the return rate and cohort table of whole communities read from it:
the same figures as the slower pass over memberships, months and eras, which still answers for spaces and for
ends before this month."""

from __future__ import annotations

import importlib
import random
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from analytics import metrics
from analytics.metrics import Scope
from analytics.models import MemberDay, MemberStanding
from communities.models import CommunityMembership
from tests.analytics.helpers_months import expected_standing, month_index, standing_rows
from tests.factories import make_community, make_user

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("analytics.migrations.0006_memberstanding")
TODAY = date(2026, 3, 14)


def active_day(member_id: int, community_id: int, day: date, **values) -> MemberDay:
    values.setdefault("events", 1)
    return MemberDay(member_id=member_id, community_id=community_id, day=day, **values)


def test_standing_follows_memberships_and_months(staff):
    community = make_community(staff, slug="standing")
    member, other = make_user("standing-a"), make_user("standing-b")
    membership = CommunityMembership.objects.create(community=community, user=member)
    row = MemberStanding.objects.get(member_id=member.pk, community_id=community.pk)
    assert (row.joined_at, row.last_month) == (membership.joined_at, None)

    MemberDay.objects.bulk_create(
        [
            active_day(member.pk, community.pk, date(2020, 12, 5)),  # 63 months before the last: not kept
            active_day(member.pk, community.pk, date(2026, 1, 2)),
            active_day(member.pk, community.pk, date(2026, 3, 1)),
            active_day(member.pk, community.pk, date(2026, 3, 31), events=0),  # a credit only
            active_day(member.pk, community.pk, date(2026, 3, 9), space_id=4),  # a space's row: not folded
            active_day(other.pk, community.pk, date(2025, 12, 25)),  # active without being a member
        ]
    )
    assert standing_rows() == expected_standing()
    row = MemberStanding.objects.get(member_id=member.pk, community_id=community.pk)
    assert (row.last_month, row.mask0, row.mask1, row.mask2) == (month_index(date(2026, 3, 1)), 1, 0, 2)
    assert row.active_months == 0b101  # March and January; 2021 is beyond the 63 months kept
    assert MemberStanding.objects.get(member_id=other.pk).joined_at is None

    MemberDay.objects.filter(member_id=member.pk, day=date(2026, 3, 1)).delete()  # the last month empties
    assert standing_rows() == expected_standing()
    assert MemberStanding.objects.get(member_id=member.pk).last_month == month_index(date(2026, 1, 1))

    later = datetime(2026, 2, 1, 9, tzinfo=UTC)
    CommunityMembership.objects.filter(pk=membership.pk).update(joined_at=later)
    assert MemberStanding.objects.get(member_id=member.pk).joined_at == later
    membership.delete()  # left, but was active: the row stays, no longer a member
    assert standing_rows() == expected_standing()
    assert MemberStanding.objects.get(member_id=member.pk).joined_at is None
    MemberDay.objects.filter(member_id__in=[member.pk, other.pk]).delete()
    assert not MemberStanding.objects.filter(member_id__in=[member.pk, other.pk]).exists()

    CommunityMembership.objects.create(community=community, user=other)
    CommunityMembership.objects.filter(user=other).delete()  # never active: the row goes with the membership
    assert not MemberStanding.objects.filter(member_id=other.pk).exists()


def test_the_migrations_fold_equals_the_triggers(staff):
    community = make_community(staff, slug="standing-backfill")
    users = [make_user(f"backfill-{n}") for n in range(4)]
    for user in users[:3]:
        CommunityMembership.objects.create(community=community, user=user)
    MemberDay.objects.bulk_create(
        [
            active_day(user.pk, community.pk, date(2025, 1 + k % 12, 1 + (n * 5 + k) % 28), events=k % 3)
            for n, user in enumerate(users)
            for k in range(15)
        ]
    )
    expected = standing_rows()
    assert expected == expected_standing()
    statements = [MIGRATION.PG_BACKFILL] if connection.vendor == "postgresql" else MIGRATION.SQLITE_BACKFILL
    MemberStanding.objects.all().delete()
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    assert standing_rows() == expected


def slow(function, *args, **kwargs):
    """``function`` answered by the pass over memberships, months and eras."""
    original = metrics._standing_rows
    metrics._standing_rows = lambda *_a, **_k: None
    try:
        return function(*args, **kwargs)
    finally:
        metrics._standing_rows = original


@pytest.fixture
def random_communities(staff):
    """Two communities (one in Bangkok's zone) with members joined over 14 months, some in both, one who left, one
    staff member, and random active days (credits among them) up to today."""
    rng = random.Random(14)
    communities = [make_community(staff, slug="standing-utc"), make_community(staff, slug="standing-bkk")]
    communities[1].time_zone = "Asia/Bangkok"
    communities[1].save(update_fields=["time_zone"])
    people = [make_user(f"standing-r{n}", country=rng.choice(["Fiji", "Nepal", ""])) for n in range(24)]
    people.append(make_user("standing-staff", staff=True))
    rows = []
    for n, user in enumerate(people):
        for community in rng.sample(communities, rng.choice([1, 1, 2])):
            joined = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=rng.randrange(14 * 30 * 24))
            CommunityMembership.objects.create(community=community, user=user)
            CommunityMembership.objects.filter(community=community, user=user).update(joined_at=joined)
            for _k in range(rng.randrange(0, 40)):
                day = TODAY - timedelta(days=rng.randrange(420))
                rows.append(active_day(user.pk, community.pk, day, events=0 if rng.random() < 0.1 else 1))
        if n == 3:
            CommunityMembership.objects.filter(user=user).delete()
    MemberDay.objects.bulk_create(rows, ignore_conflicts=True)
    assert standing_rows() == expected_standing()
    return communities


@pytest.mark.parametrize("end", [TODAY, TODAY.replace(day=1), None])
@pytest.mark.parametrize("which", ["both", "first", "second"])
def test_whole_communities_read_the_standing_and_agree_with_the_slower_pass(random_communities, end, which):
    ids = tuple(c.pk for c in random_communities)
    ids = {"both": ids, "first": ids[:1], "second": ids[1:]}[which]
    with time_machine.travel(datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=13)):
        for scope in (Scope(community_ids=ids, end=end), Scope(community_ids=ids, end=end, country="Nepal")):
            zones = metrics._zones(scope)
            assert metrics._standing_rows(scope, zones, end or TODAY) is not None  # the standing answers
            assert metrics.return_rate(scope) == slow(metrics.return_rate, scope)
            cohorts = metrics.cohort_retention(scope)
            assert cohorts == slow(metrics.cohort_retention, scope)
            assert sum(row.size for row in cohorts) > 0


def test_spaces_and_earlier_ends_and_later_activity_take_the_slower_pass(random_communities):
    community = random_communities[0]
    with time_machine.travel(datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=13)):
        zones = metrics._zones(Scope(community_ids=(community.pk,)))
        assert metrics._standing_rows(Scope(community_ids=(community.pk,), space_ids=(1,)), zones, TODAY) is None
        earlier = Scope(community_ids=(community.pk,), end=date(2026, 2, 27))
        assert metrics._standing_rows(earlier, zones, earlier.end) is None
        # A member active after end's month (here a day recorded ahead, in next month): the row cannot say which of
        # its days came before the end, so the figures come from the slower pass and still agree with it.
        member = CommunityMembership.objects.filter(community=community).first().user_id
        MemberDay.objects.create(member_id=member, community_id=community.pk, day=date(2026, 4, 2), events=1)
        scope = Scope(community_ids=(community.pk,))
        assert metrics.return_rate(scope) == slow(metrics.return_rate, scope)
        assert metrics.cohort_retention(scope) == slow(metrics.cohort_retention, scope)
