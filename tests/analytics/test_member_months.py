"""The monthly and five-year roll-ups (``MemberMonth``, ``MemberEra``): kept by database triggers as the exact fold of
the member days, whatever writes them (the roll-up, a rebuild, the points recomputation, plain ORM writes,
set-based SQL), and the figures read from them agree with the definitions worked out day by day."""

from __future__ import annotations

import importlib
import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection

from analytics import metrics
from analytics.metrics import Ratio, Scope
from analytics.models import ActivityEvent, MemberDay, MemberEra, MemberMonth, PointsPolicy, RollupState
from analytics.recording import record_activity
from analytics.rollup import points_recompute, rebuild, rollup_new_events
from communities.models import CommunityMembership
from communities.services import community_update
from spaces.models import SpaceMembership
from tests.analytics.helpers_months import assert_folds_agree, era_rows, month_rows
from tests.factories import make_community, make_space, make_user

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("analytics.migrations.0004_membermonth_rollup_generation")


@pytest.fixture(autouse=True)
def _fresh_visit_cache():
    cache.clear()
    yield
    cache.clear()


def day_row(member_id: int, day: date, **values) -> MemberDay:
    values.setdefault("events", 1)
    return MemberDay(member_id=member_id, community_id=7, space_id=values.pop("space_id", 0), day=day, **values)


def month(member_id: int, first: date, space_id: int = 0) -> MemberMonth:
    return MemberMonth.objects.get(member_id=member_id, community_id=7, space_id=space_id, month=first)


def test_months_follow_inserts_updates_and_deletes_of_member_days():
    MemberDay.objects.create(
        member_id=1, community_id=7, day=date(2024, 2, 29), events=2, visits=1, contributions=1, points=9
    )
    MemberDay.objects.bulk_create(
        [
            day_row(1, date(2024, 2, 1), kind_counts={"referral": 2, "visit": 1}, points=41, visits=1),
            day_row(1, date(2024, 2, 3), events=0, points=15, kind_counts={"answer_accepted": 1}),  # a credit only
            day_row(1, date(2024, 3, 31), contributions=3, points=15),
            day_row(1, date(2024, 3, 31), space_id=5, contributions=3, points=15),
            day_row(2, date(2024, 2, 3)),
        ]
    )
    february = month(1, date(2024, 2, 1))
    assert (february.days, february.points, february.referrals, february.contributions) == (3, 65, 2, 1)
    assert february.active_mask == (1 << 0) | (1 << 28)  # the 1st and the 29th; the 3rd was a credit only
    assert february.visit_mask == (1 << 0) | (1 << 28) and february.contribution_mask == 1 << 28
    assert month(1, date(2024, 3, 1)).contribution_mask == 1 << 30  # the 31st: the highest bit
    assert_folds_agree()

    MemberDay.objects.filter(member_id=1, day=date(2024, 2, 3)).update(events=1, visits=1)
    assert month(1, date(2024, 2, 1)).active_mask == (1 << 0) | (1 << 2) | (1 << 28)
    days = list(MemberDay.objects.filter(member_id=1))
    for row in days:
        row.points += 1
    MemberDay.objects.bulk_update(days, ["points"])
    assert month(1, date(2024, 2, 1)).points == 68
    assert_folds_agree()

    MemberDay.objects.filter(member_id=1, day=date(2024, 2, 29)).delete()
    assert month(1, date(2024, 2, 1)).active_mask == (1 << 0) | (1 << 2)
    MemberDay.objects.filter(member_id=1, space_id=5).delete()  # the space's only day: its month goes
    assert not MemberMonth.objects.filter(space_id=5).exists()
    assert_folds_agree()
    era, february = MemberEra.of(date(2024, 2, 1))
    assert MemberEra.of(date(2024, 3, 1)) == (era, february + 1)
    assert era_rows()[(1, 7, 0, era)] == (2, 0b11 << february)  # February and March
    MemberDay.objects.filter(member_id=1, day__month=3).update(events=0)  # March: credits only
    assert era_rows()[(1, 7, 0, era)] == (2, 1 << february)
    MemberDay.objects.all().delete()
    assert not MemberMonth.objects.exists() and not MemberEra.objects.exists()


def test_the_migrations_fold_of_existing_days_equals_the_triggers():
    MemberDay.objects.bulk_create(
        [
            day_row(member, date(2025, 1 + k % 12, 1 + (member * 7 + k) % 28), points=k, contributions=k % 2)
            for member in range(1, 6)
            for k in range(20)
        ]
    )
    expected = (month_rows(), era_rows())
    assert_folds_agree()
    MemberMonth.objects.all().delete()  # as before migration 0004 (the eras go with the months)
    assert not MemberEra.objects.exists()
    statements = [MIGRATION.PG_BACKFILL] if connection.vendor == "postgresql" else MIGRATION.SQLITE_BACKFILL
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    assert (month_rows(), era_rows()) == expected


@pytest.mark.postgres
def test_set_based_sql_writes_and_truncate_keep_the_months():
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO analytics_memberday (member_id, community_id, space_id, day, country, organisation_type,
                events, visits, views, contributions, kind_counts, points)
            SELECT m, 7, s, DATE '2025-01-01' + d, '', '', d % 3, 1, 0, d % 2, '{"referral": 1}'::jsonb, d
            FROM generate_series(1, 4) m, generate_series(0, 1) s, generate_series(0, 70) d
            """
        )
        assert_folds_agree()
        cursor.execute("UPDATE analytics_memberday SET events = 1 - LEAST(events, 1), points = points + 1")
        cursor.execute("DELETE FROM analytics_memberday WHERE day BETWEEN DATE '2025-02-01' AND DATE '2025-02-27'")
        assert_folds_agree()
        assert MemberMonth.objects.filter(month=date(2025, 2, 1)).values_list("days", flat=True).distinct().get() == 1
        cursor.execute("TRUNCATE analytics_memberday")
    assert not MemberMonth.objects.exists() and not MemberEra.objects.exists()


# --- The roll-up ----------------------------------------------------------------------------------------------------
def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_incremental_and_rebuild_give_the_same_months_late_events_and_local_months_included(staff):
    community = community_update(actor=staff, community=make_community(staff, slug="apia"), time_zone="Pacific/Apia")
    space = make_space(staff, community, slug="survey")
    asha, brian = make_user("asha"), make_user("brian")
    rollup_new_events()  # what setting up the community recorded

    def record(member, kind: str, when: str, in_space=True):
        record_activity(
            actor=member,
            kind=kind,
            community_id=community.pk,
            space_id=space.pk if in_space else None,
            occurred_at=utc(when),
        )

    record(asha, "page_view", "2025-01-31 10:00")  # 23:00 on the 31st in Apia (UTC+13)
    record(asha, "page_view", "2025-01-31 11:00")  # 00:00 on 1 February there: another month
    record(brian, "answer_post", "2025-02-10 09:00")
    record(brian, "referral", "2025-02-11 09:00", in_space=False)
    assert rollup_new_events(batch_size=2) == 4
    assert_folds_agree()
    members = MemberMonth.objects.filter(space_id=0, member_id__in=[asha.pk, brian.pk])
    assert {(m.member_id, m.month) for m in members} == {
        (asha.pk, date(2025, 1, 1)),
        (asha.pk, date(2025, 2, 1)),
        (brian.pk, date(2025, 2, 1)),
    }

    record(asha, "answer_post", "2025-01-15 09:00")  # late: January was rolled up already
    record(brian, "page_edit", "2025-03-01 09:00")
    assert rollup_new_events(batch_size=2) == 2
    assert rollup_new_events() == 0  # nothing counted twice
    incremental = (month_rows(), era_rows())
    assert_folds_agree()
    january = MemberMonth.objects.get(member_id=asha.pk, space_id=0, month=date(2025, 1, 1))
    assert (january.days, january.contributions, january.points) == (2, 1, 10)
    assert MemberMonth.objects.get(member_id=brian.pk, space_id=0, month=date(2025, 2, 1)).referrals == 1

    rebuild()
    assert (month_rows(), era_rows()) == incremental
    rebuild(batch_size=1)
    assert (month_rows(), era_rows()) == incremental

    PointsPolicy.objects.create(community=community, weights={"answer_post": 1}, daily_cap=200)
    assert points_recompute(community_id=community.pk) > 0
    assert_folds_agree()
    assert MemberMonth.objects.get(member_id=asha.pk, space_id=0, month=date(2025, 1, 1)).points == 1


def test_a_run_that_changes_the_roll_ups_moves_the_generation(staff):
    community = make_community(staff, slug="generations")
    member = make_user("gen")

    def generation() -> int:
        return RollupState.objects.get(name="activity").generation

    rollup_new_events()
    first = generation()
    assert rollup_new_events() == 0 and generation() == first  # nothing counted: cached figures stay
    record_activity(actor=member, kind="answer_post", community_id=community.pk, occurred_at=utc("2025-03-01 09:00"))
    rollup_new_events()
    assert generation() == first + 1
    rebuild()
    assert generation() == first + 2
    PointsPolicy.objects.create(community=community, weights={"answer_post": 3}, daily_cap=200)
    points_recompute(community_id=community.pk)
    assert generation() == first + 3
    points_recompute(community_id=community.pk)  # nothing changed
    assert generation() == first + 3
    assert ActivityEvent.objects.count() == 1


# --- Days as bits ---------------------------------------------------------------------------------------------------
def test_day_bits_cover_exactly_the_days_of_the_window_in_each_month():
    assert metrics._day_bits(date(2024, 2, 1), date(2024, 1, 20), date(2024, 3, 5)) == (1 << 29) - 1  # 29 days
    assert metrics._day_bits(date(2025, 2, 1), date(2025, 2, 28), date(2025, 3, 1)) == 1 << 27
    assert metrics._day_bits(date(2025, 3, 1), date(2025, 2, 28), date(2025, 3, 1)) == 1
    assert metrics._day_bits(date(2025, 4, 1), date(2025, 2, 28), date(2025, 3, 31)) == 0
    assert metrics._window_bits(date(2024, 12, 30), date(2025, 1, 2)) == {
        date(2024, 12, 1): (1 << 29) | (1 << 30),
        date(2025, 1, 1): 0b11,
    }


def test_rolling_ors_equal_a_plain_or_of_each_window():
    rng = random.Random(7)
    masks = [rng.getrandbits(12) & rng.getrandbits(12) for _day in range(95)]
    for width in (1, 2, 7, 30, 120):
        expected = [0] * len(masks)
        for i in range(len(masks)):
            for j in range(max(0, i - width + 1), i + 1):
                expected[i] |= masks[j]
        assert metrics._window_ors(masks, width) == expected


# --- Figures from the months against the definitions, day by day ---------------------------------------------------
def test_figures_equal_their_definitions_worked_out_day_by_day_on_random_activity(staff):
    """Random active days over 15 months for members of two spaces (a union scope: a member may be active in both
    on one day), joins spread over the year, and end dates in the middle and at the end of a month."""
    rng = random.Random(2025)
    community = make_community(staff, slug="random")
    spaces = [make_space(staff, community, slug=f"random-{n}") for n in range(2)]
    first_day = date(2024, 4, 1)
    active: dict[int, set[date]] = {}
    joined: dict[int, date] = {}
    for n in range(14):
        user = make_user(f"r{n}")
        join = first_day + timedelta(days=rng.randrange(420))
        joined[user.pk] = join
        for space in rng.sample(spaces, rng.choice([1, 2])):
            SpaceMembership.objects.create(space=space, user=user)
        moment = datetime.combine(join, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
        SpaceMembership.objects.filter(user=user).update(joined_at=moment)
        CommunityMembership.objects.filter(user=user).update(joined_at=moment)
        days = {first_day + timedelta(days=rng.randrange(450)) for _k in range(rng.randrange(5, 60))}
        rows = []
        for day in sorted(days):
            credit_only = rng.random() < 0.1
            for space in rng.sample(spaces, rng.choice([1, 2])):
                rows.append(day_row(user.pk, day, space_id=space.pk, events=0 if credit_only else 1))
            if not credit_only:
                active.setdefault(user.pk, set()).add(day)
        for row in rows:
            row.community_id = community.pk
        MemberDay.objects.bulk_create(rows)
    # members joined to at least one space; joined days as the figures see them (UTC community)
    population = {pk for pk in joined if SpaceMembership.objects.filter(user_id=pk).exists()}
    for end in (date(2025, 5, 17), date(2025, 6, 30)):
        scope = Scope(community_ids=(community.pk,), space_ids=tuple(s.pk for s in spaces), end=end)
        members = {pk for pk in population if joined[pk] <= end}

        def active_in(pk: int, first: date, last: date) -> int:
            return sum(1 for day in active.get(pk, ()) if first <= day <= last)

        def rates(on: date) -> tuple[Ratio, Ratio]:
            people = {pk for pk in members if joined[pk] <= on}
            before = {pk for pk in people if active_in(pk, on - timedelta(days=59), on - timedelta(days=30))}
            now = {pk for pk in people if active_in(pk, on - timedelta(days=29), on)}
            twice = {pk for pk in now if active_in(pk, on - timedelta(days=29), on) >= 2}
            return Ratio(len(before & now), len(before)), Ratio(len(twice), len(now))

        return_rate, returning = rates(end)
        assert metrics.return_rate(scope) == return_rate
        assert metrics.returning_members(scope) == returning
        trend = metrics.return_rate_trend(scope, weeks=6)
        assert [(p.return_rate, p.returning_members) for p in trend] == [
            rates(end - timedelta(days=7 * k)) for k in range(5, -1, -1)
        ]
        start = end - timedelta(days=75)
        series = metrics.active_members(replace(scope, start=start))
        for point in series:
            people = {pk for pk in members if joined[pk] <= point.day}
            assert point.dau == sum(1 for pk in people if active_in(pk, point.day, point.day)), point
            assert point.wau == sum(1 for pk in people if active_in(pk, point.day - timedelta(days=6), point.day))
            assert point.mau == sum(1 for pk in people if active_in(pk, point.day - timedelta(days=29), point.day))
        last = end.replace(day=1)
        cohorts = metrics.cohort_retention(scope, months=12)
        for row in cohorts:
            cohort = {pk for pk in members if joined[pk].replace(day=1) == row.cohort}
            assert row.size == len(cohort)
            for k, share in enumerate(row.shares):
                month_first = metrics._add_months(row.cohort, k)
                month_last = min(metrics._month_end(month_first), end)
                assert share == Ratio(sum(1 for pk in cohort if active_in(pk, month_first, month_last)), len(cohort))
            assert len(row.shares) == metrics._months_between(row.cohort, last) + 1
        figures = metrics.dashboard(scope, heatmap_zones=("UTC",), member_figures=True)
        assert (figures.return_rate, figures.returning_members) == (return_rate, returning)
        assert figures.cohorts == cohorts
        assert figures.active == metrics.active_members(scope)
        assert figures.trend[-6:] == trend
