"""Every engagement figure on hand-built roll-ups, with the right answer worked out by hand in the comments.

The roll-ups (``MemberDay``, ``ActivityBucket``) are written directly: these tests check what the metrics make of
them, not how the roll-up fills them (tests/analytics/test_rollup.py). END is a Sunday; with it, "the last 30
days" are 2025-05-31..2025-06-29 and "the 30 days before" 2025-05-01..2025-05-30.
"""

from __future__ import annotations

import dataclasses
import functools
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics import metrics
from analytics.metrics import NOT_STATED, Ratio, Scope
from analytics.models import ActivityBucket, MemberDay
from communities.models import CommunityMembership
from spaces import services as space_services
from spaces.models import SpaceMembership
from spaces.services import events as event_services
from spaces.services import moderation as moderation_services
from spaces.services import trash as trash_services
from tests.analytics.helpers_dashboards import planner_statements
from tests.factories import make_community, make_space, make_user, onboard

pytestmark = pytest.mark.django_db

User = get_user_model()
END = date(2025, 6, 29)
EARLY = date(2025, 1, 1)


def d(month: int, day: int, year: int = 2025) -> date:
    return date(year, month, day)


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


@pytest.fixture
def community(staff):
    return make_community(staff, slug="statistics")


def join(community, name: str, joined: date | datetime = EARLY, *, staff=False, login: date | None = EARLY, **profile):
    """A member of ``community`` who joined at ``joined`` (noon UTC for a date) and last signed in on ``login``."""
    user = make_user(name, staff=staff, **profile)
    membership = CommunityMembership.objects.create(community=community, user=user)
    moment = joined if isinstance(joined, datetime) else noon(joined)
    CommunityMembership.objects.filter(pk=membership.pk).update(joined_at=moment)
    User.objects.filter(pk=user.pk).update(last_login=noon(login) if login else None)
    return user


def activity(community, user, *days: date, space_id: int = 0, **values) -> None:
    """One roll-up row per day; ``events`` defaults to 1 (an active day)."""
    values.setdefault("events", 1)
    MemberDay.objects.bulk_create(
        [MemberDay(member_id=user.pk, community_id=community.pk, space_id=space_id, day=day, **values) for day in days]
    )


def scope(community, **kw) -> Scope:
    kw.setdefault("end", END)
    return Scope(community_ids=(community.pk,), **kw)


def queries(function) -> int:
    with CaptureQueriesContext(connection) as captured:
        function()
    return len(captured)


# --- Return rates -----------------------------------------------------------------------------------------------
@pytest.fixture
def returners(community, staff):
    people = {}

    def add(name, *days, **kw):
        people[name] = join(community, name, **{k: v for k, v in kw.items() if k in ("joined", "staff")})
        activity(community, people[name], *days)
        return people[name]

    add("ann", d(5, 10), d(6, 10))
    add("bob", d(5, 1))
    add("cat", d(5, 30), d(5, 31))
    add("dan", d(6, 20), d(6, 29))
    add("eve", d(5, 10), d(6, 10), staff=True)
    add("fay", d(5, 10), d(6, 10), joined=d(6, 30))
    add("gus", d(4, 30), d(6, 1))
    hal = add("hal", d(6, 29))
    activity(community, hal, d(5, 15), events=0, points=15)  # credited only: not an active day
    add("ivy", d(6, 20), d(6, 26), joined=d(6, 25))
    return people


def test_return_rate_counts_members_active_before_who_came_back(community, returners):
    # Active on 05-01..05-30: ann (05-10), bob (05-01), cat (05-30). Not gus (04-30), not hal (credit only),
    # not eve (staff), not fay (joined 06-30, after the end). Back on 05-31..06-29: ann, cat (05-31). 2 of 3.
    assert metrics.return_rate(scope(community)) == Ratio(2, 3)


def test_returning_members_are_active_on_two_distinct_days_of_the_last_30(community, returners):
    # Active on 05-31..06-29: ann 1 day, cat 1 (05-31), dan 2, gus 1 (06-01), hal 1, ivy 2 (06-20 before she
    # joined on 06-25 counts: she is a member on the end date). eve is staff, fay joined after. 2 of 6.
    assert metrics.returning_members(scope(community)) == Ratio(2, 6)


def test_return_rate_trend_steps_back_a_week_with_each_point_s_own_population(community, returners):
    points = metrics.return_rate_trend(scope(community), weeks=2)
    assert [p.week_end for p in points] == [d(6, 22), d(6, 29)]
    # On 06-22: 04-24..05-23 active: ann, bob, gus -> back on 05-24..06-22: ann, gus = 2 of 3.
    # Returning on 05-24..06-22: ann 1 day, cat 2 (05-30, 05-31), dan 1 (06-20), gus 1; ivy not yet a member.
    assert (points[0].return_rate, points[0].returning_members) == (Ratio(2, 3), Ratio(1, 4))
    assert (points[1].return_rate, points[1].returning_members) == (Ratio(2, 3), Ratio(2, 6))


def test_population_day_is_the_community_s_calendar_day(staff):
    tokyo = make_community(staff, slug="tokyo")
    tokyo.time_zone = "Asia/Tokyo"
    tokyo.save()
    la = make_community(staff, slug="los-angeles")
    la.time_zone = "America/Los_Angeles"
    la.save()
    # 2025-06-29 16:00 UTC is 06-30 01:00 in Tokyo: after the end date there.
    late = join(tokyo, "late", datetime(2025, 6, 29, 16, tzinfo=UTC))
    activity(tokyo, late, d(6, 20), d(6, 21))
    # 2025-06-30 03:00 UTC is 06-29 20:00 in Los Angeles: on the end date there.
    early = join(la, "early", datetime(2025, 6, 30, 3, tzinfo=UTC))
    activity(la, early, d(6, 20), d(6, 21))
    assert metrics.returning_members(scope(tokyo)) == Ratio(0, 0)
    assert metrics.returning_members(scope(la)) == Ratio(1, 1)


def test_space_scope_counts_space_members_and_a_day_in_two_spaces_once(community, staff):
    one = make_space(staff, community, slug="one")
    two = make_space(staff, community, slug="two")
    both = join(community, "both")
    SpaceMembership.objects.create(space=one, user=both)
    again = join(community, "again")
    SpaceMembership.objects.create(space=two, user=again)
    outsider = join(community, "outsider")  # in the community, in no space
    for user in (both, again, outsider):
        SpaceMembership.objects.filter(user=user).update(joined_at=noon(EARLY))
    activity(community, both, d(6, 10), space_id=one.pk)
    activity(community, both, d(6, 10), space_id=two.pk)
    activity(community, again, d(6, 10), space_id=one.pk)
    activity(community, again, d(6, 11), space_id=two.pk)
    activity(community, outsider, d(6, 10), d(6, 11), space_id=one.pk)
    # Spaces one and two: both (one day, in two spaces), again (2 days); outsider is no space member. 1 of 2.
    assert metrics.returning_members(scope(community, space_ids=(one.pk, two.pk))) == Ratio(1, 2)
    # Space one alone: its only member, both, was active on one day.
    assert metrics.returning_members(scope(community, space_ids=(one.pk,))) == Ratio(0, 1)


# --- Cohorts ----------------------------------------------------------------------------------------------------
def test_cohort_cells_are_shares_of_each_join_month_active_k_months_later(staff):
    tokyo = make_community(staff, slug="cohorts")
    tokyo.time_zone = "Asia/Tokyo"
    tokyo.save()
    pia = join(tokyo, "pia", d(4, 10))
    quinn = join(tokyo, "quinn", d(4, 20))
    rob = join(tokyo, "rob", d(5, 5))
    join(tokyo, "sue", d(6, 1))  # no activity
    join(tokyo, "tom", d(3, 15))  # before the first cohort shown
    boss = join(tokyo, "boss", d(4, 10), staff=True)
    uma = join(tokyo, "uma", datetime(2025, 4, 30, 20, tzinfo=UTC))  # May 1st, 05:00 in Tokyo
    activity(tokyo, pia, d(4, 10), d(5, 3))
    activity(tokyo, quinn, d(4, 25), d(6, 15))
    activity(tokyo, rob, d(4, 28), d(5, 5), d(6, 2))  # 04-28 is before he joined: no month -1
    activity(tokyo, uma, d(5, 1))
    activity(tokyo, boss, d(4, 10), d(5, 10), d(6, 10))
    rows = metrics.cohort_retention(scope(tokyo), months=3)
    assert [(r.cohort, r.size) for r in rows] == [(d(4, 1), 2), (d(5, 1), 2), (d(6, 1), 1)]
    # April {pia, quinn}: April both; May pia; June quinn.
    assert rows[0].shares == [Ratio(2, 2), Ratio(1, 2), Ratio(1, 2)]
    # May {rob, uma}: May both; June rob.
    assert rows[1].shares == [Ratio(2, 2), Ratio(1, 2)]
    # June {sue}: no activity.
    assert rows[2].shares == [Ratio(0, 1)]


# --- DAU / WAU / MAU ----------------------------------------------------------------------------------------------
def test_daily_weekly_and_monthly_active_members_and_stickiness(community, staff):
    ann = join(community, "ann")
    bob = join(community, "bob")
    cy = join(community, "cy", d(6, 5))
    boss = join(community, "boss", staff=True)
    activity(community, ann, d(5, 5), d(6, 1), d(6, 3))
    activity(community, bob, d(6, 3), d(6, 9))
    activity(community, cy, d(6, 2), d(6, 6))  # 06-02 is before cy joined: counted from 06-05
    activity(community, boss, *(d(6, n) for n in range(1, 11)))
    days = metrics.active_members(scope(community, start=d(6, 1), end=d(6, 10)))
    # day:  01 02 03 04 05 06 07 08 09 10
    # DAU: ann on 01, 03; bob on 03, 09; cy on 06.
    # WAU: ann 01..09 (01 and 03, 7 days each); bob 03..10; cy 05..10 (from joining; 06 reaches 12).
    # MAU: ann all days (05-05 reaches 06-03, then 06-01 and 06-03); bob 03..10; cy 05..10.
    assert [(x.day.day, x.dau, x.wau, x.mau) for x in days] == [
        (1, 1, 1, 1),
        (2, 0, 1, 1),
        (3, 2, 2, 2),
        (4, 0, 2, 2),
        (5, 0, 3, 3),
        (6, 1, 3, 3),
        (7, 0, 3, 3),
        (8, 0, 3, 3),
        (9, 1, 3, 3),
        (10, 0, 2, 3),
    ]
    assert days[2].stickiness == 1.0  # 2 / 2
    assert days[5].stickiness == pytest.approx(1 / 3)
    assert days[1].stickiness == 0.0


# --- Points -------------------------------------------------------------------------------------------------------
@pytest.fixture
def scorers(community, staff):
    ann = join(community, "ann")
    bob = join(community, "bob")
    cat = join(community, "cat")
    dan = join(community, "dan")
    eve = join(community, "eve")
    boss = join(community, "boss", staff=True)
    activity(community, ann, d(6, 20), points=10, contributions=2, visits=1)
    activity(community, ann, d(6, 25), points=5, visits=1)
    activity(community, ann, d(1, 10), points=100)
    activity(community, bob, d(6, 1), points=15)
    activity(community, cat, d(4, 15), points=40)
    activity(community, dan, d(12, 1, 2024), points=50)
    activity(community, eve, d(5, 30), points=20)
    activity(community, boss, d(6, 28), points=500)
    return {"ann": ann, "bob": bob, "cat": cat, "dan": dan, "eve": eve, "boss": boss}


def test_leaderboards_for_30_days_90_days_and_all_time_break_ties_by_member_id(community, scorers):
    board = metrics.leaderboard(scope(community), period_days=30)
    # 05-31..06-29: ann 10 + 5 = 15, bob 15 (06-01); ann's account is older, so she is first. Staff left out.
    assert [(r.rank, r.name, r.points) for r in board] == [(1, "Ann", 15), (2, "Bob", 15)]
    assert (board[0].contributions, board[0].visit_days) == (2, 2)
    # 04-01..06-29: cat 40, eve 20 (05-30), ann 15, bob 15.
    assert [(r.name, r.points) for r in metrics.leaderboard(scope(community), period_days=90)] == [
        ("Cat", 40),
        ("Eve", 20),
        ("Ann", 15),
        ("Bob", 15),
    ]
    # All time: ann 115, dan 50, cat 40, eve 20, bob 15; the first two only.
    all_time = metrics.leaderboard(scope(community), period_days=None, limit=2)
    assert [(r.rank, r.name, r.points) for r in all_time] == [(1, "Ann", 115), (2, "Dan", 50)]


def test_member_points_and_rank_on_the_30_day_leaderboard(community, scorers):
    ann = metrics.member_points(scorers["ann"].pk, community.pk, end=END)
    assert ann == metrics.MemberPoints(points_30=15, points_90=15, points_all=115, rank_30=1)
    assert metrics.member_points(scorers["bob"].pk, community.pk, end=END).rank_30 == 2
    cat = metrics.member_points(scorers["cat"].pk, community.pk, end=END)
    assert cat == metrics.MemberPoints(points_30=0, points_90=40, points_all=40, rank_30=None)
    # Staff have points but no place on the leaderboard.
    assert metrics.member_points(scorers["boss"].pk, community.pk, end=END).rank_30 is None


# --- Participation levels -----------------------------------------------------------------------------------------
def test_participation_levels_thresholds_and_transitions(community, staff):
    four = join(community, "four")
    three = join(community, "three")
    peri = join(community, "peri")
    dorm = join(community, "dorm")
    join(community, "never", login=None)
    join(community, "idle")  # signed in, never did anything here
    new = join(community, "new", d(6, 15))
    late = join(community, "late", login=d(6, 20))
    boss = join(community, "boss", staff=True)
    activity(community, four, d(6, 1), d(6, 2), d(6, 3), d(6, 4), contributions=1)  # 4 contribution days: core
    activity(community, four, d(5, 5), d(5, 6), d(5, 7), d(5, 8), contributions=2)  # core before too
    activity(community, three, d(6, 1), d(6, 2), d(6, 3), contributions=3)  # 3 days: active
    activity(community, three, d(5, 20), contributions=1)
    activity(community, peri, d(6, 10), visits=1)  # activity, no contribution
    activity(community, dorm, d(5, 10), views=2)
    activity(community, new, d(6, 16), contributions=1)
    activity(community, late, d(6, 20), visits=1)
    activity(community, boss, d(6, 1), d(6, 2), d(6, 3), d(6, 4), contributions=1)
    levels = metrics.participation_levels(scope(community))
    # core: four; active: three, new; peripheral: peri, late; dormant: dorm (05-10), idle (signed in);
    # never: never. Staff left out.
    assert levels.counts == {"core": 1, "active": 2, "peripheral": 2, "dormant": 2, "never": 1}
    assert levels.total == 8
    # The 30 days before (to 05-30): four core, three active (05-20), dorm peripheral, peri dormant (signed in
    # 01-01, nothing done), idle dormant, never never, late never (no activity and no sign-in by 05-30).
    assert levels.transitions == {
        ("core", "core"): 1,
        ("active", "active"): 1,
        ("peripheral", "dormant"): 1,
        ("dormant", "peripheral"): 1,
        ("dormant", "dormant"): 1,
        ("never", "never"): 1,
        ("never", "peripheral"): 1,
    }
    assert levels.joined == {"active": 1}  # new joined on 06-15


# --- Posting history ----------------------------------------------------------------------------------------------
def test_posting_history_counts_contributions_per_monday_week(community, staff):
    one = make_space(staff, community, slug="one")
    two = make_space(staff, community, slug="two")
    ann = join(community, "ann")
    bob = join(community, "bob")
    boss = join(community, "boss", staff=True)
    activity(community, ann, d(5, 31), contributions=5)  # before the start
    activity(community, ann, d(6, 1), contributions=2)  # Sunday: week of Monday 05-26
    activity(community, ann, d(6, 3), contributions=1)
    activity(community, ann, d(6, 3), contributions=1, space_id=one.pk)
    activity(community, ann, d(6, 8), contributions=3)  # Sunday: week of 06-02
    activity(community, ann, d(6, 8), contributions=3, space_id=two.pk)
    activity(community, ann, d(6, 16), contributions=4)  # after the end
    activity(community, bob, d(6, 10), contributions=2)
    activity(community, bob, d(6, 10), contributions=2, space_id=one.pk)
    activity(community, boss, d(6, 10), contributions=9)
    window = scope(community, start=d(6, 1), end=d(6, 15))
    weeks = [d(5, 26), d(6, 2), d(6, 9)]

    def series(by):
        return [(p.key, p.week_start, p.contributions) for p in metrics.posting_history(window, by=by)]

    assert series("") == [("", weeks[0], 2), ("", weeks[1], 4), ("", weeks[2], 2)]
    assert series("community") == [
        ("Statistics", weeks[0], 2),
        ("Statistics", weeks[1], 4),
        ("Statistics", weeks[2], 2),
    ]
    assert series("member") == [
        ("Ann", weeks[0], 2),
        ("Ann", weeks[1], 4),
        ("Ann", weeks[2], 0),
        ("Bob", weeks[0], 0),
        ("Bob", weeks[1], 0),
        ("Bob", weeks[2], 2),
    ]
    assert series("space") == [
        ("One", weeks[0], 0),
        ("One", weeks[1], 1),
        ("One", weeks[2], 2),
        ("Two", weeks[0], 0),
        ("Two", weeks[1], 3),
        ("Two", weeks[2], 0),
    ]


# --- Heatmap ------------------------------------------------------------------------------------------------------
@pytest.fixture
def buckets(community, staff):
    space = make_space(staff, community, slug="heat")

    def bucket(moment, events, space_id=0, country=""):
        ActivityBucket.objects.create(
            community_id=community.pk, space_id=space_id, bucket=moment, events=events, country=country
        )

    bucket(datetime(2025, 6, 2, 0, 0, tzinfo=UTC), 5)  # Monday 00:00 UTC
    bucket(datetime(2025, 6, 2, 0, 0, tzinfo=UTC), 5, space_id=space.pk)  # the same events, in the space row
    bucket(datetime(2025, 6, 2, 23, 30, tzinfo=UTC), 3)
    bucket(datetime(2025, 6, 2, 18, 15, tzinfo=UTC), 2)
    bucket(datetime(2025, 6, 8, 18, 30, tzinfo=UTC), 7, country="Nepal")  # Sunday
    return scope(community, start=d(6, 1), end=d(6, 15))


def cells_with_events(heatmap) -> dict[tuple[int, int], int]:
    return {(day, hour): n for day, hours in enumerate(heatmap.cells) for hour, n in enumerate(hours) if n}


@pytest.mark.parametrize(
    ("zone", "expected", "peak"),
    [
        # Monday 00:00, Monday 23:30, Monday 18:15, Sunday 18:30.
        ("UTC", {(0, 0): 5, (0, 23): 3, (0, 18): 2, (6, 18): 7}, (6, 18)),
        # +5:30: Mon 05:30, Tue 05:00, Mon 23:45, Mon 00:00 (a new week's Monday).
        ("Asia/Kolkata", {(0, 5): 5, (1, 5): 3, (0, 23): 2, (0, 0): 7}, (0, 0)),
        # +5:45: Mon 05:45, Tue 05:15, Tue 00:00, Mon 00:15.
        ("Asia/Kathmandu", {(0, 5): 5, (1, 5): 3, (1, 0): 2, (0, 0): 7}, (0, 0)),
    ],
)
def test_heatmap_puts_each_bucket_in_the_zone_s_weekday_and_hour(buckets, zone, expected, peak):
    heatmap = metrics.activity_heatmap(buckets, zone)
    assert heatmap.time_zone == zone
    assert cells_with_events(heatmap) == expected
    assert heatmap.peak == peak


def test_heatmap_country_filter_uses_the_recorded_country(buckets):
    heatmap = metrics.activity_heatmap(dataclasses.replace(buckets, country="Nepal"), "UTC")
    assert cells_with_events(heatmap) == {(6, 18): 7}
    assert metrics.Heatmap(time_zone="UTC", cells=[[0] * 24 for _ in range(7)]).peak is None


# --- Breakdowns ---------------------------------------------------------------------------------------------------
def test_breakdown_by_country_uses_each_member_s_profile(community, staff):
    k1 = join(community, "k1", country="Kenya")
    k2 = join(community, "k2", country="Kenya")
    n1 = join(community, "n1", country="Nepal")
    x1 = join(community, "x1")
    boss = join(community, "boss", staff=True, country="France")
    activity(community, k1, d(6, 1), d(6, 2), country="Uganda")  # the profile says Kenya: that decides
    activity(community, k2, d(6, 1))
    activity(community, n1, d(6, 3), d(6, 4))
    activity(community, x1, d(6, 5))
    activity(community, boss, d(6, 1), d(6, 2))
    result = metrics.breakdown(metrics.returning_members, scope(community), "country")
    # Kenya: k1 2 days, k2 1 day; Nepal: n1 2 days; not stated: x1 1 day. No France: only staff live there.
    assert result == {"Kenya": Ratio(1, 2), "Nepal": Ratio(1, 1), NOT_STATED: Ratio(0, 1)}
    levels = metrics.breakdown(metrics.participation_levels, scope(community), "organisation_type")
    assert list(levels) == [NOT_STATED]
    assert levels[NOT_STATED].total == 4


# --- Referrals ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("accepted", "level"),
    [(0, ""), (1, ""), (2, "bronze"), (9, "bronze"), (10, "silver"), (24, "silver"), (25, "gold")],
)
def test_ambassador_levels_at_2_10_and_25_accepted_invitations(accepted, level):
    assert metrics.ambassador_level(accepted) == level


def test_ambassador_thresholds_come_from_settings(settings):
    settings.ANALYTICS_AMBASSADOR_LEVELS = {"bronze": 1, "silver": 3, "gold": 5}
    assert [metrics.ambassador_level(n) for n in (0, 1, 3, 5)] == ["", "bronze", "silver", "gold"]


def test_referrals_add_up_accepted_invitations_per_member(community, staff):
    one = join(community, "one")
    two = join(community, "two")
    ten = join(community, "ten")
    gold = join(community, "gold")
    join(community, "none")
    boss = join(community, "boss", staff=True)
    activity(community, one, d(6, 1), kind_counts={"referral": 1, "visit": 1})
    activity(community, two, d(3, 1), d(6, 2), kind_counts={"referral": 1})
    activity(community, ten, d(6, 3), kind_counts={"referral": 10})
    activity(community, gold, d(5, 1), kind_counts={"referral": 20})
    activity(community, gold, d(6, 1), kind_counts={"referral": 5, "page_edit": 3})
    activity(community, gold, d(7, 1), kind_counts={"referral": 100})  # after the end date
    activity(community, boss, d(6, 1), kind_counts={"referral": 50})
    rows = metrics.referrals(scope(community))
    # gold 20 + 5 = 25, ten 10, two 1 + 1 = 2, one 1; "none" has none, staff left out.
    assert [(r.name, r.accepted, r.level) for r in rows] == [
        ("Gold", 25, "gold"),
        ("Ten", 10, "silver"),
        ("Two", 2, "bronze"),
        ("One", 1, ""),
    ]
    assert metrics.member_referrals(gold.pk, community.pk) == 125


# --- Knowledge health ---------------------------------------------------------------------------------------------
NOW = datetime(2025, 6, 29, 12, tzinfo=UTC)


def at(moment, call, **kw):
    with time_machine.travel(moment, tick=False):
        return call(**kw)


@pytest.fixture
def content(community, staff):
    other_staff = make_user("helper", staff=True)
    space = make_space(staff, community, slug="library")
    elsewhere = make_space(staff, make_community(staff, slug="elsewhere"), slug="far")

    def ask(moment, title, space=space):
        return at(moment, space_services.question_ask, actor=staff, space=space, title=title)

    def answer(moment, question):
        return at(moment, space_services.answer_post, actor=other_staff, question=question, body="An answer.")

    ask(datetime(2025, 6, 27, 12, tzinfo=UTC), "Two days old")  # < 7 days
    ask(datetime(2025, 6, 22, 12, tzinfo=UTC), "Exactly seven days old")  # 7-30 days
    ask(datetime(2025, 5, 1, 12, tzinfo=UTC), "Fifty-nine days old")  # 30-90 days
    ask(datetime(2025, 3, 1, 12, tzinfo=UTC), "Four months old")  # > 90 days
    ask(datetime(2025, 3, 1, 12, tzinfo=UTC), "In another community", space=elsewhere)
    trashed = ask(datetime(2025, 6, 25, 12, tzinfo=UTC), "Trashed")
    trash_services.item_trash(actor=staff, item=trashed.item)
    hidden_only = ask(datetime(2025, 6, 28, 12, tzinfo=UTC), "Only a hidden answer")  # < 7 days
    moderation_services.item_hide(actor=staff, item=answer(datetime(2025, 6, 28, 13, tzinfo=UTC), hidden_only).item)
    # Answered, asked in the window: first answers after 3 h, 10 h (the hidden 2 h answer does not count), 24 h.
    three = ask(datetime(2025, 6, 10, 12, tzinfo=UTC), "Three hours")
    answer(datetime(2025, 6, 10, 15, tzinfo=UTC), three)
    answer(datetime(2025, 6, 11, 15, tzinfo=UTC), three)
    ten = ask(datetime(2025, 6, 15, 0, tzinfo=UTC), "Ten hours")
    moderation_services.item_hide(actor=staff, item=answer(datetime(2025, 6, 15, 2, tzinfo=UTC), ten).item)
    answer(datetime(2025, 6, 15, 10, tzinfo=UTC), ten)
    day = ask(datetime(2025, 6, 20, 0, tzinfo=UTC), "A day")
    answer(datetime(2025, 6, 21, 0, tzinfo=UTC), day)
    before = ask(datetime(2025, 5, 20, 0, tzinfo=UTC), "Before the window")
    answer(datetime(2025, 5, 20, 1, tzinfo=UTC), before)

    def page(moment, title):
        return at(moment, space_services.page_create, actor=staff, space=space, title=title, body="Text")

    page(datetime(2024, 5, 1, tzinfo=UTC), "Never edited")  # stale
    edited = page(datetime(2024, 5, 1, tzinfo=UTC), "Edited last July")
    at(
        datetime(2024, 7, 1, tzinfo=UTC),
        space_services.page_update,
        actor=staff,
        page=edited,
        title=edited.title,
        body="New text",
        base_version=edited.version,
    )
    page(datetime(2024, 6, 29, 11, tzinfo=UTC), "Twelve months and an hour")  # stale
    trash_services.item_trash(actor=staff, item=page(datetime(2024, 1, 1, tzinfo=UTC), "Trashed page").item)
    moderation_services.item_hide(actor=staff, item=page(datetime(2024, 1, 1, tzinfo=UTC), "Hidden page").item)

    goers = []
    for n in range(3):
        user = make_user(f"goer{n}")
        onboard(user, community)
        space_services.space_join(actor=user, space=space)
        goers.append(user)

    def event(starts, title, going=0, status="going"):
        created = at(
            datetime(2025, 6, 1, tzinfo=UTC),
            event_services.event_create,
            actor=staff,
            space=space,
            title=title,
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            time_zone="UTC",
        )
        for user in goers[:going]:
            at(
                datetime(2025, 6, 2, tzinfo=UTC),
                event_services.event_registration_set,
                actor=user,
                event=created,
                status=status,
            )
        return created

    event(datetime(2025, 7, 10, 9, tzinfo=UTC), "Two going", going=2)
    event(datetime(2025, 7, 5, 9, tzinfo=UTC), "Three going", going=3)
    event(datetime(2025, 7, 1, 9, tzinfo=UTC), "One maybe", going=1, status="maybe")
    event(datetime(2025, 6, 20, 9, tzinfo=UTC), "Already over")
    trash_services.item_trash(actor=staff, item=event(datetime(2025, 7, 2, 9, tzinfo=UTC), "Trashed event").item)
    return space


def test_knowledge_health_of_questions_pages_and_events(community, content):
    health = at(NOW, metrics.knowledge_health, scope=scope(community, start=d(6, 1)))
    assert health.unanswered_by_age == {"< 7 days": 2, "7-30 days": 1, "30-90 days": 1, "> 90 days": 1}
    # Asked 06-01..06-29 and answered: 3 h, 10 h, 24 h -> the middle one.
    assert health.median_hours_to_first_answer == 10.0
    assert health.answered_questions == 3
    # "Never edited" (2024-05-01) and "Twelve months and an hour" (2024-06-29 11:00, cutoff 12:00).
    assert health.pages_not_edited_12_months == 2
    titles = [(title, going) for _id, title, going in health.events_few_registrations]
    assert titles == [("One maybe", 0), ("Two going", 2)]


def test_knowledge_health_runs_the_same_queries_with_more_content(community, staff, content):
    before = at(NOW, queries, function=lambda: metrics.knowledge_health(scope(community, start=d(6, 1))))
    for n in range(4):
        question = at(
            datetime(2025, 6, 3 + n, tzinfo=UTC), space_services.question_ask, actor=staff, space=content, title=f"Q{n}"
        )
        at(datetime(2025, 6, 4 + n, tzinfo=UTC), space_services.answer_post, actor=staff, question=question, body="A")
        at(datetime(2025, 6, 3, tzinfo=UTC), space_services.page_create, actor=staff, space=content, title=f"P{n}")
    after = at(NOW, queries, function=lambda: metrics.knowledge_health(scope(community, start=d(6, 1))))
    # time zones, unanswered by age, first answers, stale pages, events
    assert before == after == 5


# --- Query counts: the same at two data sizes -----------------------------------------------------------------------
def populate(community, space, start: int, n: int) -> list:
    """``n`` more members with half a year of sparse activity, referrals and buckets."""
    users = []
    for i in range(start, start + n):
        user = join(community, f"load{i}", d(1 + i % 6, 1 + i % 27), country=["Kenya", "Nepal", ""][i % 3])
        users.append(user)
        SpaceMembership.objects.create(space=space, user=user)
        for k in range(12):
            day = d(1 + (i + k) % 6, 1 + (3 * k + i) % 28)
            activity(community, user, day, contributions=k % 3, points=k + 1, visits=1, kind_counts={"referral": 1})
            activity(community, user, day, space_id=space.pk, contributions=k % 3, points=k + 1)
        ActivityBucket.objects.create(
            community_id=community.pk, bucket=datetime(2025, 6, 1 + i % 28, i % 24, 15, tzinfo=UTC), events=i + 1
        )
    return users


def test_every_metric_runs_the_same_number_of_queries_at_two_data_sizes(community, staff):
    space = make_space(staff, community, slug="load")
    whole = scope(community)
    spaces = scope(community, space_ids=(space.pk,))
    calls = {
        "return_rate": (lambda: metrics.return_rate(whole), 2 + planner_statements()),
        "returning_members": (lambda: metrics.returning_members(spaces), 2),
        "return_rate_trend": (lambda: metrics.return_rate_trend(whole), 3),
        "cohort_retention": (lambda: metrics.cohort_retention(spaces), 2 + planner_statements()),
        "active_members": (lambda: metrics.active_members(whole), 3),
        "leaderboard": (lambda: metrics.leaderboard(whole), 3),
        "participation_levels": (lambda: metrics.participation_levels(whole), 3),
        "posting_history by member": (lambda: metrics.posting_history(whole, by="member"), 3),
        "activity_heatmap": (lambda: metrics.activity_heatmap(whole, "Asia/Kathmandu"), 1),
        "knowledge_health": (lambda: metrics.knowledge_health(whole), 5),
        "referrals": (lambda: metrics.referrals(whole), 3),
        # two queries to find the values (Kenya, Nepal, not stated), then two for each
        "breakdown": (
            lambda: metrics.breakdown(metrics.return_rate, whole, "country"),
            2 + 3 * (2 + planner_statements()),
        ),
    }
    member = populate(community, space, 0, 3)[1]
    activity(community, member, d(6, 20), points=5)  # a place on the 30-day leaderboard
    small = {name: queries(call) for name, (call, _expected) in calls.items()}
    small["member_points"] = queries(functools.partial(metrics.member_points, member.pk, community.pk, END))
    populate(community, space, 3, 9)
    large = {name: queries(call) for name, (call, _expected) in calls.items()}
    large["member_points"] = queries(functools.partial(metrics.member_points, member.pk, community.pk, END))
    assert large == small
    assert small == {**{name: expected for name, (_call, expected) in calls.items()}, "member_points": 4}
