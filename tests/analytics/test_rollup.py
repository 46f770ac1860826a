"""The roll-up engine (issue 6, items 1 and 5): hand-computed member days, time zones, points, the incremental
path against a full rebuild, gaps, purge and the commands."""

import io
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.db.models import Max
from django.urls import reverse

from analytics import rollup
from analytics.models import ActivityBucket, ActivityEvent, MemberDay, PointsPolicy, RollupState
from analytics.recording import record_activity, record_visit
from analytics.rollup import points_for, points_recompute, raw_activity_purge, rebuild, rollup_new_events
from analytics.tasks import points_recompute_task, purge_task, rollup_task
from communities.services import community_update
from tests.analytics.helpers_months import assert_folds_agree, era_rows, month_rows
from tests.factories import make_community, make_space, make_user


@pytest.fixture(autouse=True)
def _fresh_visit_cache():
    """record_visit remembers today's visit in the cache; ids are reused between tests on SQLite."""
    cache.clear()
    yield
    cache.clear()


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def record(member, kind: str, when: str, community, space=None):
    return record_activity(
        actor=member,
        kind=kind,
        community_id=community.pk,
        space_id=space.pk if space else None,
        occurred_at=utc(when),
    )


def community_in(staff, zone: str, slug: str):
    community = make_community(staff, slug=slug)
    return community_update(actor=staff, community=community, time_zone=zone)


def day_row(member, community, day: str, space=None) -> MemberDay:
    return MemberDay.objects.get(
        member_id=member.pk, community_id=community.pk, space_id=space.pk if space else 0, day=date.fromisoformat(day)
    )


def snapshot() -> tuple[list, list, list]:
    """Every roll-up row, without ids: what the dashboards would read (member months and eras included, which must
    be exactly the fold of the member days: ``assert_folds_agree``)."""
    days = sorted(
        (
            r.member_id,
            r.community_id,
            r.space_id,
            r.day,
            r.country,
            r.organisation_type,
            r.events,
            r.visits,
            r.views,
            r.contributions,
            sorted(r.kind_counts.items()),
            r.points,
        )
        for r in MemberDay.objects.all()
    )
    buckets = sorted(
        ActivityBucket.objects.values_list(
            "community_id", "space_id", "country", "organisation_type", "bucket", "events", "contributions"
        )
    )
    assert_folds_agree()
    return days, (month_rows(), era_rows()), buckets


@pytest.fixture
def world(staff):
    community = make_community(staff, slug="data-integration")
    return {
        "staff": staff,
        "community": community,
        "library": make_space(staff, community, slug="library"),
        "workshop": make_space(staff, community, slug="workshop"),
        "asha": make_user("asha", country="Nepal", organisation_type="nso"),
        "brian": make_user("brian", country="Kenya", organisation_type="academia"),
    }


# --- What a member day holds --------------------------------------------------------------------------------
def test_member_days_count_visits_views_and_contributions_for_the_community_and_each_space(world):
    asha, community, library, workshop = world["asha"], world["community"], world["library"], world["workshop"]
    record_visit(actor=asha, community=community, space_id=library.pk, now=utc("2025-03-10 08:00"))
    record_visit(actor=asha, community=community, space_id=library.pk, now=utc("2025-03-10 08:01"))  # same day
    record(asha, "page_view", "2025-03-10 08:05", community, library)
    record(asha, "answer_post", "2025-03-10 09:00", community, library)
    record(asha, "comment_create", "2025-03-10 09:20", community, workshop)
    record(asha, "question_ask", "2025-03-10 10:00", community)
    record(asha, "flag_create", "2025-03-10 11:00", community)  # no registry entry: activity, nothing more
    record(asha, "page_view", "2025-03-11 07:00", community, library)

    rollup_new_events()

    whole = day_row(asha, community, "2025-03-10")
    assert (whole.events, whole.visits, whole.views, whole.contributions) == (6, 1, 1, 3)
    assert whole.kind_counts == {
        "visit": 1,
        "page_view": 1,
        "answer_post": 1,
        "comment_create": 1,
        "question_ask": 1,
        "flag_create": 1,
    }
    assert whole.points == 1 + 10 + 2 + 5
    assert (whole.country, whole.organisation_type) == ("Nepal", "nso")
    in_library = day_row(asha, community, "2025-03-10", library)
    assert (in_library.events, in_library.visits, in_library.views, in_library.contributions) == (3, 1, 1, 1)
    assert in_library.points == 11
    in_workshop = day_row(asha, community, "2025-03-10", workshop)
    assert (in_workshop.events, in_workshop.visits, in_workshop.views, in_workshop.contributions) == (1, 0, 0, 1)
    assert in_workshop.kind_counts == {"comment_create": 1} and in_workshop.points == 2
    next_day = day_row(asha, community, "2025-03-11")
    assert (next_day.events, next_day.views, next_day.points) == (1, 1, 0)
    assert MemberDay.objects.filter(member_id=asha.pk).count() == 5

    def bucket(moment: str, space=None):
        rows = ActivityBucket.objects.filter(
            community_id=community.pk, space_id=space.pk if space else 0, bucket=utc(moment)
        )
        return list(rows.values_list("country", "organisation_type", "events", "contributions"))

    assert bucket("2025-03-10 08:00") == [("Nepal", "nso", 2, 0)]
    assert bucket("2025-03-10 09:00") == [("Nepal", "nso", 1, 1)]
    assert bucket("2025-03-10 09:15") == [("Nepal", "nso", 1, 1)]
    assert bucket("2025-03-10 09:15", workshop) == [("Nepal", "nso", 1, 1)]
    assert bucket("2025-03-10 09:15", library) == []


def test_the_day_is_the_calendar_day_in_the_communitys_time_zone(world):
    staff, asha = world["staff"], world["asha"]
    kathmandu = community_in(staff, "Asia/Kathmandu", "kathmandu")  # UTC+5:45
    auckland = community_in(staff, "Pacific/Auckland", "auckland")  # UTC+13 in March (daylight saving)
    greenwich = world["community"]  # UTC
    for community in (kathmandu, greenwich):
        record(asha, "page_view", "2025-03-10 18:14", community)  # 23:59 in Kathmandu
        record(asha, "page_view", "2025-03-10 18:15", community)  # 00:00 on the 11th in Kathmandu
    record(asha, "page_view", "2025-03-10 10:59", auckland)  # 23:59 in Auckland
    record(asha, "page_view", "2025-03-10 11:00", auckland)  # 00:00 on the 11th in Auckland

    rollup_new_events()

    def days(community):
        rows = MemberDay.objects.filter(member_id=asha.pk, community_id=community.pk)
        return sorted((row.day.isoformat(), row.events) for row in rows)

    assert days(kathmandu) == [("2025-03-10", 1), ("2025-03-11", 1)]
    assert days(auckland) == [("2025-03-10", 1), ("2025-03-11", 1)]
    assert days(greenwich) == [("2025-03-10", 2)]
    # The heatmap's buckets stay in UTC quarter hours, so +5:45 lands on a bucket edge.
    buckets = ActivityBucket.objects.filter(community_id=kathmandu.pk, space_id=0).order_by("bucket")
    assert [(b.bucket, b.events) for b in buckets] == [(utc("2025-03-10 18:00"), 1), (utc("2025-03-10 18:15"), 1)]


# --- Points -------------------------------------------------------------------------------------------------
def test_points_stop_at_the_daily_cap(world):
    asha, community, library = world["asha"], world["community"], world["library"]
    for minute in range(25):
        record(asha, "answer_post", f"2025-03-10 09:{minute:02d}", community, library)
    for minute in range(3):
        record(asha, "answer_post", f"2025-03-11 09:{minute:02d}", community, library)

    rollup_new_events()

    capped = day_row(asha, community, "2025-03-10")
    assert capped.kind_counts == {"answer_post": 25} and capped.contributions == 25
    assert capped.points == 200  # 250 before the cap
    assert day_row(asha, community, "2025-03-10", library).points == 200
    assert day_row(asha, community, "2025-03-11").points == 30


def test_an_accepted_answer_earns_points_but_is_no_activity(world):
    asha, community, library = world["asha"], world["community"], world["library"]
    record(asha, "answer_accepted", "2025-03-10 09:00", community, library)

    rollup_new_events()

    row = day_row(asha, community, "2025-03-10")
    assert (row.events, row.visits, row.views, row.contributions) == (0, 0, 0, 0)
    assert row.kind_counts == {"answer_accepted": 1} and row.points == 15
    assert not ActivityBucket.objects.filter(community_id=community.pk, bucket=utc("2025-03-10 09:00")).exists()


def test_points_recompute_follows_changed_weights_and_cap_in_that_community_only(world):
    staff, asha, community, library = world["staff"], world["asha"], world["community"], world["library"]
    other = make_community(staff, slug="other")
    for minute in range(3):
        record(asha, "answer_post", f"2025-03-10 09:{minute:02d}", community, library)
        record(asha, "answer_post", f"2025-03-10 09:{minute:02d}", other)
    rollup_new_events()
    assert day_row(asha, community, "2025-03-10").points == day_row(asha, other, "2025-03-10").points == 30

    PointsPolicy.objects.create(community=community, weights={"answer_post": 20}, daily_cap=50)
    changed = points_recompute(community_id=community.pk)

    assert changed == 2  # the community's row and the library's
    assert day_row(asha, community, "2025-03-10").points == 50  # 60 capped at 50
    assert day_row(asha, community, "2025-03-10", library).points == 50
    assert day_row(asha, other, "2025-03-10").points == 30
    assert points_recompute_task.delay(community.pk).get() == 0  # twice changes nothing
    # New events are counted under the new policy.
    record(asha, "answer_post", "2025-03-11 09:00", community)
    rollup_new_events()
    assert day_row(asha, community, "2025-03-11").points == 20


def test_points_for_uses_the_defaults_and_a_policys_overrides(world):
    counts = {"answer_post": 2, "visit": 1, "page_view": 4}
    assert points_for(counts) == 21
    policy = PointsPolicy(community=world["community"], weights={"visit": 5}, daily_cap=22)
    assert points_for(counts, policy) == 22  # 20 + 5, capped
    assert rollup.policy_for(world["community"].pk) == rollup.DEFAULT_POLICY


def test_saving_a_points_policy_in_the_admin_recomputes_the_points(world, client, django_capture_on_commit_callbacks):
    asha, community = world["asha"], world["community"]
    for minute in range(3):
        record(asha, "answer_post", f"2025-03-10 09:{minute:02d}", community)
    rollup_new_events()
    root = make_user("root", staff=True)
    root.is_superuser = True
    root.save()
    client.force_login(root)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:analytics_pointspolicy_add"),
            {"community": community.pk, "weights": '{"answer_post": 1}', "daily_cap": 100},
        )

    assert response.status_code == 302
    assert PointsPolicy.objects.get(community=community).updated_by == root
    assert day_row(asha, community, "2025-03-10").points == 3


# --- Incremental against rebuild ----------------------------------------------------------------------------
def test_incremental_runs_in_steps_give_exactly_the_rows_of_a_rebuild_late_events_included(world):
    staff, asha, brian = world["staff"], world["asha"], world["brian"]
    community, library, workshop = world["community"], world["library"], world["workshop"]
    kathmandu = community_in(staff, "Asia/Kathmandu", "kathmandu")
    sherpa = make_space(staff, kathmandu, slug="sherpa")

    # Step 1: three days of ordinary activity.
    for day in (10, 11, 12):
        record_visit(actor=asha, community=community, space_id=library.pk, now=utc(f"2025-03-{day} 08:00"))
        record(asha, "page_view", f"2025-03-{day} 08:10", community, library)
        record(brian, "answer_post", f"2025-03-{day} 12:40", community, workshop)
        record(brian, "page_edit", f"2025-03-{day} 18:20", kathmandu, sherpa)
        record(asha, "answer_accepted", f"2025-03-{day} 19:00", community, workshop)
    record_activity(actor=asha, kind="page_view", occurred_at=utc("2025-03-10 09:00"))  # no community: skipped
    rollup_new_events(batch_size=3)

    # Step 2: late events for days already rolled up, and Asha moves to India in the evening of the 12th.
    record(brian, "comment_create", "2025-03-10 13:00", community, workshop)
    record(asha, "question_ask", "2025-03-11 23:59", community)
    record(brian, "page_view", "2025-03-10 18:14", kathmandu, sherpa)  # the 10th there, late
    asha.profile.country = "India"
    asha.profile.save()
    record(asha, "post_create", "2025-03-12 20:00", community, library)
    rollup_new_events(batch_size=3)

    # Step 3: back in Nepal, an event of the 12th's morning arrives late: the evening stays the latest.
    asha.profile.country = "Nepal"
    asha.profile.save()
    record(asha, "page_view", "2025-03-12 05:00", community, library)
    record(asha, "answer_post", "2025-03-13 10:00", community, library)
    assert rollup_new_events(batch_size=3) == 2
    incremental = snapshot()

    assert day_row(asha, community, "2025-03-12").country == "India"
    assert day_row(asha, community, "2025-03-12", library).country == "India"
    assert day_row(asha, community, "2025-03-13").country == "Nepal"
    assert day_row(brian, community, "2025-03-10", workshop).kind_counts == {"answer_post": 1, "comment_create": 1}
    assert day_row(brian, kathmandu, "2025-03-10", sherpa).kind_counts == {"page_view": 1}
    assert day_row(brian, kathmandu, "2025-03-11", sherpa).kind_counts == {"page_edit": 1}  # 00:05 on the 11th

    rebuild()
    assert snapshot() == incremental
    rebuild(batch_size=2)
    assert snapshot() == incremental


def test_running_twice_counts_nothing_twice(world):
    asha, community, library = world["asha"], world["community"], world["library"]
    for minute in range(7):
        record(asha, "page_view", f"2025-03-10 09:{minute:02d}", community, library)

    first = rollup_new_events(batch_size=2)
    rows = snapshot()
    assert first >= 7
    assert rollup_new_events(batch_size=2) == 0
    assert rollup_task.delay().get() == 0
    assert snapshot() == rows
    assert day_row(asha, community, "2025-03-10", library).views == 7


def test_an_id_that_commits_after_the_watermark_passed_it_is_counted_once(world):
    asha, community = world["asha"], world["community"]
    rollup_new_events()
    base = (ActivityEvent.objects.aggregate(last=Max("pk"))["last"] or 0) + 10

    def event(pk: int, when: str) -> None:
        ActivityEvent.objects.create(
            pk=pk, member=asha, community_id=community.pk, kind="page_view", occurred_at=utc(when)
        )

    event(base + 1, "2025-03-10 09:00")
    event(base + 4, "2025-03-10 09:30")  # base + 2 and base + 3 are still being written
    assert rollup_new_events() == 2
    state = RollupState.objects.get(name="activity")
    assert state.last_event_id == base + 4
    assert [gap["id"] for gap in state.gaps if gap["id"] > base] == [base + 2, base + 3]

    event(base + 2, "2025-03-10 09:10")  # commits late, below the watermark
    assert rollup_new_events() == 1
    assert day_row(asha, community, "2025-03-10").views == 3
    assert [gap["id"] for gap in RollupState.objects.get(name="activity").gaps if gap["id"] > base] == [base + 3]
    assert rollup_new_events() == 0

    rows = snapshot()
    rebuild()
    assert snapshot() == rows
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=25), tick=False):
        rollup_new_events()
    assert RollupState.objects.get(name="activity").gaps == []  # never committed: given up after a day


# --- Retention ----------------------------------------------------------------------------------------------
def test_purge_removes_only_raw_events_of_whole_days_past_retention_and_rebuild_keeps_their_roll_ups(world, settings):
    settings.ANALYTICS_RAW_RETENTION_MONTHS = 25
    staff, asha, community = world["staff"], world["asha"], world["community"]
    kathmandu = community_in(staff, "Asia/Kathmandu", "kathmandu")
    now = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    cutoff = rollup._months_before(now, 25)  # 12:00 UTC, 17:45 in Kathmandu
    day = cutoff.date()
    before = (day - timedelta(days=1)).isoformat()
    purged = [
        record(asha, "answer_post", f"{before} 23:00", community),  # the day before the cutoff's day
        record(asha, "page_view", f"{before} 18:00", kathmandu),  # 23:45 the day before, there
    ]
    kept = [
        record(asha, "page_view", f"{day.isoformat()} 01:00", community),  # before the cutoff, but on its day
        record(asha, "answer_post", f"{before} 18:30", kathmandu),  # 00:15 on the cutoff's day, there
        record(asha, "page_view", f"{(day + timedelta(days=3)).isoformat()} 10:00", community),
    ]
    rollup_new_events()
    rows = snapshot()

    assert raw_activity_purge(now=now) == 2

    remaining = set(ActivityEvent.objects.filter(pk__in=[e.pk for e in purged + kept]).values_list("pk", flat=True))
    assert remaining == {e.pk for e in kept}
    assert snapshot() == rows
    rebuild()
    assert snapshot() == rows
    assert day_row(asha, community, before).points == 10  # its raw event is gone; its roll-up is not
    assert day_row(asha, kathmandu, day.isoformat()).points == 10
    with time_machine.travel(now, tick=False):
        assert purge_task.delay().get() == 0


# --- Commands -----------------------------------------------------------------------------------------------
def test_rebuild_analytics_command_recomputes_and_says_what_it_rebuilt(world, capsys):
    asha, community, library = world["asha"], world["community"], world["library"]
    record(asha, "answer_post", "2025-03-10 09:00", community, library)
    record(asha, "page_view", "2025-03-11 09:00", community, library)
    rollup_new_events()
    expected = snapshot()
    MemberDay.objects.filter(member_id=asha.pk).update(points=0, events=0)  # damaged roll-ups

    out = io.StringIO()
    call_command("rebuild_analytics", stdout=out)

    assert snapshot() == expected
    message = out.getvalue()
    total = ActivityEvent.objects.count()
    assert f"Rebuilt the analytics roll-ups from {total} activity events" in message
    assert f"{MemberDay.objects.count()} member days" in message
    assert "events" in capsys.readouterr().err  # the progress bar


def test_rollup_analytics_command_counts_new_events_once(world):
    asha, community = world["asha"], world["community"]
    rollup_new_events()
    record(asha, "page_view", "2025-03-10 09:00", community)
    record(asha, "page_view", "2025-03-10 09:05", community)

    first, second = io.StringIO(), io.StringIO()
    call_command("rollup_analytics", stdout=first)
    call_command("rollup_analytics", stdout=second)

    assert first.getvalue().strip() == "Activity events rolled up: 2."
    assert second.getvalue().strip() == "Activity events rolled up: 0."
    assert day_row(asha, community, "2025-03-10").views == 2


# --- A real race on PostgreSQL ------------------------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_runs_at_the_same_moment_never_count_an_event_twice():
    staff = make_user("staff", staff=True)
    community = make_community(staff, slug="race")
    members = [make_user(f"racer{n}", country="Nepal") for n in range(3)]
    for n in range(40):
        record(members[n % 3], "page_view", f"2025-03-{10 + n % 4} 09:{n:02d}", community)
    barrier = threading.Barrier(4)
    counted: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            counted.append(rollup_new_events(batch_size=5))
        except BaseException as exc:  # reported below: a thread's exception would otherwise vanish
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    rollup_new_events()  # whatever a skipped run left

    assert errors == []
    assert MemberDay.objects.filter(space_id=0, member_id__in=[m.pk for m in members]).count() == 12
    assert sum(r.views for r in MemberDay.objects.filter(member_id__in=[m.pk for m in members])) == 40
    rows = snapshot()
    rebuild()
    assert snapshot() == rows


def test_staff_activity_counts_in_member_days_but_not_in_the_heatmap_buckets(db):
    staff = make_user("heatmap-staff", staff=True)
    member = make_user("heatmap-member")
    community = community_in(staff, "UTC", "heatmap-staff")
    record(staff, "page_edit", "2026-03-02T09:05:00", community)
    record(member, "page_edit", "2026-03-02T09:10:00", community)

    rollup_new_events()

    assert day_row(staff, community, "2026-03-02").contributions == 1
    bucket = ActivityBucket.objects.get(community_id=community.pk, space_id=0)
    assert (bucket.events, bucket.contributions) == (1, 1)
