"""Every engagement figure, defined once, read from the roll-ups (``MemberDay`` and its folds ``MemberMonth`` and
``MemberEra``, ``ActivityBucket``), never from the raw activity log. The exact definitions shown beside each
figure on the dashboards live in ``DEFINITIONS`` here and in docs/analytics.md.

Conventions shared by every function:
- A ``Scope`` is already permission-checked by the caller (analytics/permissions.py): its communities and
  spaces are ones the viewer may see figures for.
- Days are calendar days in each community's own time zone (that is how ``MemberDay.day`` is stored).
- The population is the members of the scope (community members, or members of the scope's spaces) who had
  joined by the window's last day; staff accounts are excluded from every figure.
- ``country`` / ``organisation_type`` on the scope restrict every figure to members with that value in their
  profile today (the breakdown filters; ``NOT_STATED`` selects members who left it blank); ``breakdown()``
  computes a figure for each value. The heatmap alone has no members: it filters on the values copied onto the
  activity when it was recorded.
- A scope of several communities or spaces is their union: its population is the members of any of them, and a
  member's activity in any of them counts.
- Active means ``MemberDay.events > 0``; a contribution day ``MemberDay.contributions > 0``.
- Every function runs a fixed number of queries whatever the amount of data (the query-count tests hold it);
  figures are aggregated in the database, except rolling windows, which read the members' active days from the
  monthly roll-up (``MemberMonth``) and count them in Python as bit sets. The cohort table reads the five-year
  roll-up (``MemberEra``). Both are folds of ``MemberDay`` kept by database triggers, so every figure is what the
  member days say. The return rate and cohorts of whole communities read ``MemberStanding`` (memberships and
  recent months, one row per member and community, kept by triggers too) when it can answer.
- ``dashboard()`` computes a whole dashboard from inputs read once (``_Inputs``); each figure equals its own
  function's.
"""

from __future__ import annotations

import calendar
import statistics
import zoneinfo
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import cached_property

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    DateField,
    Expression,
    F,
    IntegerField,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, ExtractHour, ExtractIsoWeekDay, TruncDate, TruncWeek
from django.db.models.lookups import GreaterThan
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analytics.models import ActivityBucket, MemberDay, MemberEra, MemberMonth, MemberStanding
from communities.models import Community, CommunityMembership
from copapp.plans import planner_settings
from spaces import selectors_analytics
from spaces.models import Space, SpaceMembership


@dataclass(frozen=True)
class Scope:
    community_ids: tuple[int, ...]
    # None: whole communities (MemberDay.space_id == 0 rows); otherwise only these spaces.
    space_ids: tuple[int, ...] | None = None
    end: date | None = None  # the window's last day ("today" for today's figures); None = today (UTC date)
    start: date | None = None  # first day for series (charts); None = end minus 12 months
    country: str = ""
    organisation_type: str = ""


@dataclass(frozen=True)
class Ratio:
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


@dataclass(frozen=True)
class TrendPoint:
    week_end: date
    return_rate: Ratio
    returning_members: Ratio


@dataclass(frozen=True)
class CohortRow:
    cohort: date  # first day of the join month
    size: int
    shares: list[Ratio]  # index k = months since joining (0 = the join month), up to the scope's end


@dataclass(frozen=True)
class ActiveMembers:
    day: date
    dau: int
    wau: int  # distinct members active in the 7 days ending on ``day``
    mau: int  # distinct members active in the 30 days ending on ``day``

    @property
    def stickiness(self) -> float | None:
        return self.dau / self.mau if self.mau else None


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int
    member_id: int
    name: str
    points: int
    contributions: int
    visit_days: int


@dataclass(frozen=True)
class MemberPoints:
    points_30: int
    points_90: int
    points_all: int
    rank_30: int | None  # None when the member has no points in the window


LEVELS = ("core", "active", "peripheral", "dormant", "never")


@dataclass(frozen=True)
class Levels:
    counts: dict[str, int]  # level -> members, over LEVELS
    total: int
    # (level in the previous 30-day period, level now) -> members
    transitions: dict[tuple[str, str], int] = field(default_factory=dict)
    # level now -> members who joined during the current period (they had no previous level)
    joined: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SeriesPoint:
    week_start: date  # Monday
    key: str  # community / space / member label ("" for a single series)
    contributions: int
    id: int = 0  # community / space / member id behind ``key`` (labels need not be unique); 0 for a single series


@dataclass(frozen=True)
class Heatmap:
    time_zone: str
    cells: list[list[int]]  # [weekday 0=Monday][hour 0-23] -> events

    @property
    def peak(self) -> tuple[int, int] | None:
        """(weekday, hour) with the most events, the earliest in the week on a tie; None when there are none."""
        best, where = 0, None
        for weekday, hours in enumerate(self.cells):
            for hour, events in enumerate(hours):
                if events > best:
                    best, where = events, (weekday, hour)
        return where


@dataclass(frozen=True)
class KnowledgeHealth:
    unanswered_by_age: dict[str, int]  # "< 7 days", "7-30 days", "30-90 days", "> 90 days"
    median_hours_to_first_answer: float | None
    pages_not_edited_12_months: int
    events_few_registrations: list[tuple[int, str, int]]  # (event item id, title, registrations), upcoming
    answered_questions: int = 0  # questions behind the median (asked in the window, answered)


@dataclass(frozen=True)
class ReferralRow:
    member_id: int
    name: str
    accepted: int
    level: str  # "", "bronze", "silver", "gold"


# --- Shared helpers -------------------------------------------------------------------------------------------
NOT_STATED = "(not stated)"  # breakdown key (and Scope.country / organisation_type value) for a blank profile field
PERIOD_DAYS = 30  # the "last 30 days" of return rates and participation levels
CORE_MIN_DAYS = 4  # contribution days in the period that make a member "core"
BREAKDOWN_FIELDS = ("country", "organisation_type")
DEFAULT_AMBASSADOR_LEVELS = {"bronze": 2, "silver": 10, "gold": 25}
UTC = zoneinfo.ZoneInfo("UTC")
TREND_WEEKS = 52
LEADERBOARD_PERIODS = (30, 90, None)  # days ending on ``end``; None: every day up to it


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def _end(scope: Scope) -> date:
    return scope.end or timezone.now().date()


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def _add_months(day: date, months: int) -> date:
    """The same day of the month ``months`` later (earlier when negative), clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def _months_between(first: date, second: date) -> int:
    return (second.year - first.year) * 12 + second.month - first.month


def _start(scope: Scope, end: date) -> date:
    return scope.start or _add_months(end, -12)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _as_date(value) -> date:
    """A date read by a raw query: a date, a datetime (PostgreSQL's date_trunc) or ISO text (SQLite)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _zones(scope: Scope) -> dict[int, zoneinfo.ZoneInfo]:
    """Each community's time zone (one query)."""
    rows = Community.objects.filter(pk__in=scope.community_ids).values_list("pk", "time_zone")
    return {pk: _zone(name) for pk, name in rows}


def _by_zone(zones: dict[int, zoneinfo.ZoneInfo]) -> list[tuple[zoneinfo.ZoneInfo, list[int]]]:
    """The communities of ``zones`` grouped by their time zone: a condition per zone rather than per community
    (twenty communities in eight zones at the benchmark's scale), which the database evaluates on every row."""
    groups: dict[str, tuple[zoneinfo.ZoneInfo, list[int]]] = {}
    for pk, zone in sorted(zones.items()):
        groups.setdefault(str(zone), (zone, []))[1].append(pk)
    return list(groups.values())


def _local_date(field_name: str, zones: dict[int, zoneinfo.ZoneInfo], community_ref: str) -> Case:
    """The calendar day of the datetime ``field_name`` in the time zone of the row's community."""
    whens = [
        When(**{f"{community_ref}__in": ids}, then=TruncDate(field_name, tzinfo=zone)) for zone, ids in _by_zone(zones)
    ]
    return Case(*whens, default=TruncDate(field_name, tzinfo=UTC), output_field=DateField())


def _blank_q(prefix: str, name: str) -> Q:
    return Q(**{f"{prefix}__{name}": ""}) | Q(**{f"{prefix}__isnull": True})


def _profile_q(scope: Scope, prefix: str = "user__profile") -> Q:
    """The scope's country / organisation-type filter on the members' profiles."""
    q = Q()
    for name in BREAKDOWN_FIELDS:
        value = getattr(scope, name)
        if value == NOT_STATED:
            q &= _blank_q(prefix, name)
        elif value:
            q &= Q(**{f"{prefix}__{name}": value})
    return q


def _member_rows(scope: Scope) -> QuerySet:
    """Membership rows of the scope's non-staff members matching its filters."""
    if scope.space_ids is None:
        rows: QuerySet = CommunityMembership.objects.filter(community_id__in=scope.community_ids)
    else:
        rows = SpaceMembership.objects.filter(space_id__in=scope.space_ids, space__community_id__in=scope.community_ids)
    # Staff are few: leaving out their ids spares joining every member's account (the same rows as is_staff=False).
    staff = get_user_model().objects.filter(is_staff=True).values("pk")
    return rows.exclude(user_id__in=staff).filter(_profile_q(scope)).order_by()


def _memberships(scope: Scope, zones: dict[int, zoneinfo.ZoneInfo]) -> QuerySet:
    """``_member_rows`` with ``join_day`` and ``login_day`` (the day of the account's latest sign-in), both in the
    community's time zone."""
    ref = "community_id" if scope.space_ids is None else "space__community_id"
    return _member_rows(scope).annotate(
        join_day=_local_date("joined_at", zones, ref), login_day=_local_date("user__last_login", zones, ref)
    )


def _joined_by(scope: Scope, zones: dict[int, zoneinfo.ZoneInfo], end: date) -> Q:
    """On the scope's memberships: the join day (in the community's zone) is on or before ``end``, said as "joined
    before the community's next midnight", so that the database compares timestamps instead of converting every
    row to a local day (the same rows as ``join_day__lte=end``)."""
    ref = "community_id" if scope.space_ids is None else "space__community_id"
    after = end + timedelta(days=1)
    midnights = [(datetime.combine(after, time.min, tzinfo=zone), ids) for zone, ids in _by_zone(zones)]
    utc = datetime.combine(after, time.min, tzinfo=UTC)  # _local_date's default zone
    # Most members joined before the earliest of these midnights: one comparison settles them.
    joined = Q(joined_at__lt=min([utc, *(midnight for midnight, _ids in midnights)]))
    for midnight, ids in midnights:
        joined |= Q(**{f"{ref}__in": ids}, joined_at__lt=midnight)
    return joined | (~Q(**{f"{ref}__in": list(zones)}) & Q(joined_at__lt=utc) if zones else Q(joined_at__lt=utc))


def _population(scope: Scope, zones, end: date) -> QuerySet:
    """Ids of the population on ``end`` (a subquery): members who had joined by that day."""
    return _member_rows(scope).filter(_joined_by(scope, zones, end)).values("user_id")


def _rows(scope: Scope) -> QuerySet[MemberDay]:
    """The scope's roll-up rows: whole-community rows, or the rows of its spaces."""
    rows = MemberDay.objects.filter(community_id__in=scope.community_ids)
    if scope.space_ids is None:
        return rows.filter(space_id=MemberDay.WHOLE_COMMUNITY)
    return rows.filter(space_id__in=scope.space_ids)


def _month_rows(scope: Scope) -> QuerySet[MemberMonth]:
    """The scope's monthly roll-up rows, as ``_rows`` for days."""
    rows = MemberMonth.objects.filter(community_id__in=scope.community_ids)
    if scope.space_ids is None:
        return rows.filter(space_id=MemberDay.WHOLE_COMMUNITY)
    return rows.filter(space_id__in=scope.space_ids)


def _era_rows(scope: Scope) -> QuerySet[MemberEra]:
    """The scope's five-year roll-up rows, as ``_rows`` for days."""
    rows = MemberEra.objects.filter(community_id__in=scope.community_ids)
    if scope.space_ids is None:
        return rows.filter(space_id=MemberDay.WHOLE_COMMUNITY)
    return rows.filter(space_id__in=scope.space_ids)


def _one_row_per_day(scope: Scope) -> bool:
    """Whether a member has at most one roll-up row per day in the scope (one community as a whole, or one space):
    then counting rows counts days, and no DISTINCT is needed."""
    if scope.space_ids is None:
        return len(scope.community_ids) <= 1
    return len(scope.space_ids) <= 1


def _names(member_ids) -> dict[int, str]:
    users = get_user_model().objects.filter(pk__in=list(member_ids)).only("display_name", "username", "deleted_at")
    return {user.pk: user.public_name for user in users}


# --- Days as bits ---------------------------------------------------------------------------------------------
# ``MemberMonth`` keeps a month's days as bits (bit d - 1 for day d). A window of days is, per month it touches,
# the bits of its days in that month.
def _day_bits(month: date, first: date, last: date) -> int:
    """The bits of the days of ``month`` from ``first`` to ``last`` (both included)."""
    low, high = max(first, month), min(last, _month_end(month))
    if low > high:
        return 0
    return ((1 << (high.day - low.day + 1)) - 1) << (low.day - 1)


def _window_bits(first: date, last: date) -> dict[date, int]:
    """Month -> the bits of its days from ``first`` to ``last``, for every month the window touches."""
    bits = {}
    month = _month_start(first)
    while month <= last:
        bits[month] = _day_bits(month, first, last)
        month = _add_months(month, 1)
    return bits


def _months_active_within(first: date, last: date) -> Q:
    """On ``MemberMonth``: the month has an active day from ``first`` to ``last``. Months wholly inside the window
    need only a non-empty mask; the one or two at its ends are tested bit by bit."""
    window = _window_bits(first, last)
    whole = [month for month, bits in window.items() if bits == _day_bits(month, month, _month_end(month))]
    condition = Q(month__in=whole, active_mask__gt=0) if whole else Q(pk__in=[])
    for month, bits in window.items():
        if month not in whole and bits:
            condition |= Q(month=month) & Q(GreaterThan(F("active_mask").bitand(bits), 0))
    return condition


def _bitset(indices) -> int:
    """The integer with exactly the bits ``indices`` set."""
    indices = list(indices)
    if not indices:
        return 0
    buffer = bytearray(max(indices) // 8 + 1)
    for index in indices:
        buffer[index >> 3] |= 1 << (index & 7)
    return int.from_bytes(buffer, "little")


def _window_ors(masks: list[int], width: int) -> list[int]:
    """``result[i]`` = the bitwise or of ``masks[i - width + 1 .. i]`` (fewer at the start), in three ors per item
    whatever the width (van Herk / Gil-Werman: ors from each block's start and to each block's end)."""
    n = len(masks)
    prefix, suffix = [0] * n, [0] * n
    for i in range(n):
        prefix[i] = masks[i] if i % width == 0 else prefix[i - 1] | masks[i]
    for i in range(n - 1, -1, -1):
        suffix[i] = masks[i] if i % width == width - 1 or i == n - 1 else suffix[i + 1] | masks[i]
    return [prefix[i] if i < width else suffix[i - width + 1] | prefix[i] for i in range(n)]


@dataclass(frozen=True)
class _Person:
    first: date  # the day they first joined the scope (one of its communities or spaces)
    login: date | None  # the day of their latest sign-in, in the zone of the membership (the earliest such day)
    country: str
    organisation_type: str


class _Activity:
    """The population's active days as bit sets over members: ``on(i)`` has bit ``m`` set when member number ``m``
    was active on day ``first + i``, and ``joined(i)`` when they had joined by then. A rolling window of members is
    then an or of a few dozen integers, whatever the number of members."""

    def __init__(self, first: date, last: date, people: dict[int, _Person], rows) -> None:
        self.first = first
        size = (last - first).days + 1
        self.number = {member_id: n for n, member_id in enumerate(people)}
        within = _window_bits(first, last)  # month -> its days from first to last
        # One byte string per day, a bit per member: set bit by bit, turned into integers at the end.
        on = [bytearray(len(people) // 8 + 1) for _day in range(size)]
        for member_id, month, mask in rows:
            n = self.number.get(member_id)
            if n is None:  # left between the two reads
                continue
            month = _as_date(month)
            mask &= within.get(month, 0)
            offset = (month - first).days - 1  # day d of the month is offset + d
            byte, bit = n >> 3, 1 << (n & 7)
            while mask:
                low = mask & -mask
                on[offset + low.bit_length()][byte] |= bit
                mask ^= low
        self._on = [int.from_bytes(members, "little") for members in on]
        joins: dict[int, list[int]] = defaultdict(list)
        for member_id, person in people.items():
            joins[max(0, (person.first - first).days)].append(self.number[member_id])
        self._joined, running = [], 0
        for i in range(size):
            if i in joins:
                running |= _bitset(joins[i])
            self._joined.append(running)

    def index(self, day: date) -> int:
        return (day - self.first).days

    def on(self, i: int) -> int:
        return self._on[i] if 0 <= i < len(self._on) else 0

    def joined(self, i: int) -> int:
        return self._joined[min(i, len(self._joined) - 1)] if i >= 0 else 0

    def any_of(self, low: int, high: int) -> int:
        """Members active on at least one of days ``low`` .. ``high`` (indexes)."""
        found = 0
        for i in range(max(low, 0), min(high, len(self._on) - 1) + 1):
            found |= self._on[i]
        return found

    def twice_in(self, low: int, high: int) -> int:
        """Members active on at least two of days ``low`` .. ``high``."""
        once = twice = 0
        for i in range(max(low, 0), min(high, len(self._on) - 1) + 1):
            twice |= once & self._on[i]
            once |= self._on[i]
        return twice

    def rolling(self, width: int) -> list[int]:
        """For each day index, the members active on at least one of the ``width`` days ending on it."""
        return _window_ors(self._on, width)


# Per-member day counts read from ``MemberDay`` in one query (``_Inputs.stats``), by name. The leaderboards'
# ``points_<n>``, ``contributions_<n>`` and ``visits_<n>`` (visit days) are over the ``n`` days ending on ``end``
# (``_all``: every day up to it).
LEVEL_STATS = (
    "active_now",  # active days in days end-29..end
    "contributed_now",  # contribution days in end-29..end
    "active_before",  # active days in end-59..end-30
    "contributed_before",  # contribution days in end-59..end-30
    "active_earlier_than_now",  # active days before end-29 (any time)
    "active_earlier_than_before",  # active days before end-59
)
# contributions_since_start: contributions (actions) in start..end
BREAKDOWN_STATS = (
    "active_now",
    "contributed_now",
    "active_before",
    "active_earlier_than_now",
    "contributions_since_start",
)
REFERRAL_STATS = ("referrals",)  # accepted invitations up to end


def _leaderboard_stats(period_days: int | None) -> tuple[str, str, str]:
    suffix = period_days or "all"
    return f"points_{suffix}", f"contributions_{suffix}", f"visits_{suffix}"


class _Inputs:
    """What the figures are computed from, each part read on first use: ``zones``, ``people`` (the population on
    ``end``), ``activity`` (active days as bit sets, from ``MemberMonth``) and ``stats`` (per-member day counts,
    from ``MemberDay``). A figure asked for on its own reads the parts it needs; the dashboard builds one set of
    inputs for all its figures, so figures that share inputs share the queries."""

    def __init__(self, scope: Scope, *, stats: tuple[str, ...] = (), activity_from: date | None = None) -> None:
        self.scope = scope
        self.end = _end(scope)
        self.start = _start(scope, self.end)
        self.wanted = tuple(stats)
        trend_from = self.end - timedelta(days=7 * (TREND_WEEKS - 1) + 2 * PERIOD_DAYS - 1)
        self.activity_from = activity_from or min(trend_from, self.start - timedelta(days=PERIOD_DAYS - 1))

    @cached_property
    def zones(self) -> dict[int, zoneinfo.ZoneInfo]:
        return _zones(self.scope)

    @cached_property
    def population(self) -> QuerySet:
        return _population(self.scope, self.zones, self.end)

    @cached_property
    def people(self) -> dict[int, _Person]:
        """The population on ``end``, with the day each first joined, their latest sign-in day and profile values
        (one query)."""
        rows = (
            _memberships(self.scope, self.zones)
            .filter(_joined_by(self.scope, self.zones, self.end))
            .values("user_id", "user__profile__country", "user__profile__organisation_type")
            .annotate(first=Min("join_day"), login=Min("login_day"))
        )
        return {
            row["user_id"]: _Person(
                first=_as_date(row["first"]),
                login=_as_date(row["login"]) if row["login"] else None,
                country=row["user__profile__country"] or "",
                organisation_type=row["user__profile__organisation_type"] or "",
            )
            for row in rows
        }

    @cached_property
    def activity(self) -> _Activity:
        """The population's active days from ``activity_from`` to ``end`` (one query on the monthly roll-up)."""
        rows = (
            _month_rows(self.scope)
            .filter(
                active_mask__gt=0,
                month__gte=_month_start(self.activity_from),
                month__lte=self.end,
                member_id__in=self.population,
            )
            .values_list("member_id", "month", "active_mask")
            .order_by()
        )
        return _Activity(self.activity_from, self.end, self.people, list(rows))

    @cached_property
    def stats(self) -> dict[int, dict[str, int]]:
        """Member -> the wanted day counts (see ``LEVEL_STATS``; one query on ``MemberDay``, from the earliest day
        one of them needs)."""
        end, distinct = self.end, not _one_row_per_day(self.scope)
        now_first = end - timedelta(days=PERIOD_DAYS - 1)
        before_first = now_first - timedelta(days=PERIOD_DAYS)
        active, contributed, visited = Q(events__gt=0), Q(contributions__gt=0), Q(visits__gt=0)
        now, before = Q(day__gte=now_first), Q(day__gte=before_first, day__lt=now_first)

        def days(condition: Q) -> Count:
            return Count("day", distinct=distinct, filter=condition)

        definitions = {
            "active_now": (days(active & now), now_first),
            "contributed_now": (days(contributed & now), now_first),
            "active_before": (days(active & before), before_first),
            "contributed_before": (days(contributed & before), before_first),
            "active_earlier_than_now": (Count("day", filter=active & Q(day__lt=now_first)), None),
            "active_earlier_than_before": (Count("day", filter=active & Q(day__lt=before_first)), None),
            "contributions_since_start": (Sum("contributions", filter=Q(day__gte=self.start)), self.start),
            "referrals": (Sum(Cast(KT("kind_counts__referral"), IntegerField())), None),
        }
        for name in self.wanted:
            kind, _sep, suffix = name.rpartition("_")
            if name in definitions or kind not in ("points", "contributions", "visits"):
                continue
            since = None if suffix == "all" else end - timedelta(days=int(suffix) - 1)
            window = Q(day__gte=since) if since else Q()
            if kind == "visits":
                definitions[name] = (days(visited & window), since)
            else:
                definitions[name] = (Sum(kind, filter=window) if since else Sum(kind), since)
        wanted = {name: definitions[name] for name in self.wanted}
        rows = _rows(self.scope).filter(day__lte=end, member_id__in=self.population)
        firsts = [since for _aggregate, since in wanted.values()]
        if firsts and None not in firsts:
            rows = rows.filter(day__gte=min(firsts))
        rows = rows.values("member_id").annotate(**{name: aggregate for name, (aggregate, _s) in wanted.items()})
        return {row.pop("member_id"): {k: v or 0 for k, v in row.items()} for row in rows.order_by()}


# --- Return rates ---------------------------------------------------------------------------------------------
def return_rate(scope: Scope) -> Ratio:
    """Of the population active on days end-59..end-30, how many were active on days end-29..end.

    Two queries (three on PostgreSQL: ``_run_per_member``): time zones, and one pass that groups, per member, the
    population's membership rows with the member's months of the 60 days (their days as bits), so the database
    joins nothing: each row says, as bits, "a member" (1), "active before" (2), "active now" (4), and a member's
    rows are or-ed together. For whole communities up to today, that pass reads one ``MemberStanding`` row per
    member and community instead (about 160 -> 90 ms for every community at the scale data set)."""
    end = _end(scope)
    zones = _zones(scope)
    boundary = end - timedelta(days=PERIOD_DAYS)
    first = end - timedelta(days=2 * PERIOD_DAYS - 1)
    standing = _standing_rows(scope, zones, end)
    if standing is not None:
        before, now = _standing_active(first, boundary), _standing_active(boundary + timedelta(days=1), end)
        # As below, with "a member" (1) on every row and "active after end's month" (8), which the row no longer
        # tells apart from its months up to end: then the slower pass answers.
        late = Q(last_month__gt=MemberStanding.month_index(_month_start(end)))
        flags = Value(1) + _flag(before, 2) + _flag(now, 4) + _flag(late, 8)
        rows = standing.annotate(flags=flags).values_list("member_id", "flags")
        inner, params, run = _standing_sql(scope, rows, "BIT_OR(flags) AS flags")
        totals = (
            "SUM(CASE WHEN flags & 3 = 3 THEN 1 ELSE 0 END), SUM(CASE WHEN flags & 7 = 7 THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN flags & 8 = 8 THEN 1 ELSE 0 END)"
        )
        ((denominator, numerator, later),) = run(f"SELECT {totals} FROM ({inner}) m", params)  # noqa: S608  # nosec B608 # ORM-compiled parts
        if not later:
            return Ratio(numerator or 0, denominator or 0)
    members = (
        _member_rows(scope)
        .filter(_joined_by(scope, zones, end))
        .annotate(flags=Value(1, output_field=IntegerField()))
        .values_list("user_id", "flags")
    )
    before, now = _months_active_within(first, boundary), _months_active_within(boundary + timedelta(days=1), end)
    months = (
        _month_rows(scope)
        .filter(_months_active_within(first, end))  # both periods: each month tested once
        .annotate(
            flags=Case(When(before, then=Value(2)), default=Value(0), output_field=IntegerField())
            + Case(When(now, then=Value(4)), default=Value(0), output_field=IntegerField())
        )
        .values_list("member_id", "flags")
    )
    per_member, params = _per_member([members, months], "BIT_OR(flags) AS flags")
    # The parts are compiled by the ORM, with parameters.
    totals = "SUM(CASE WHEN flags & 3 = 3 THEN 1 ELSE 0 END), SUM(CASE WHEN flags = 7 THEN 1 ELSE 0 END)"
    sql = f"SELECT {totals} FROM ({per_member}) m"  # noqa: S608  # nosec B608 # constant SQL around ORM-compiled parts
    ((denominator, numerator),) = _run_per_member(sql, params)
    return Ratio(numerator or 0, denominator or 0)


def _per_member(parts: list[QuerySet], aggregates: str) -> tuple[str, list]:
    """SQL (and its parameters) grouping the rows of ``parts`` (querysets of ``values_list`` whose first column is
    the member id, all with the same columns) by member into ``aggregates``: one pass over their union instead of
    joins between them."""
    sqls, params = [], []
    for part in parts:
        sql, part_params = part.order_by().query.sql_with_params()
        sqls.append(sql)
        params += part_params
    member = parts[0].query.values_select[0]
    union = " UNION ALL ".join(sqls)
    return f"SELECT {member} AS member_id, {aggregates} FROM ({union}) r GROUP BY {member}", params  # noqa: S608  # nosec B608 # ORM-compiled parts


_PER_MEMBER_SETTINGS = {"max_parallel_workers_per_gather": "0", "enable_sort": "off"}


def _run_per_member(sql: str, params: list) -> list[tuple]:
    """The rows of a query over ``_per_member``. On PostgreSQL in one process, grouping by hashing: the planner,
    which cannot tell how many members a union of rows holds, gave them to two workers whose partial groups barely
    shrank (each member's rows are spread between them) and sorted a hundred thousand of them to merge; and it
    sorted the members to count them by cohort. At the scale data set: return rate about 110 -> 88 ms, cohorts
    (with counting per pair) 107 -> 94 ms. One statement more (two inside a caller's transaction, which gets its
    settings back)."""
    if connection.vendor != "postgresql":
        return _fetch(sql, params)
    with planner_settings(_PER_MEMBER_SETTINGS, savepoint=False):
        return _fetch(sql, params)


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# --- The standing roll-up: whole communities, one row per member ------------------------------------------------
def _standing_rows(scope: Scope, zones: dict[int, zoneinfo.ZoneInfo], end: date) -> QuerySet | None:
    """The ``MemberStanding`` rows of the population on ``end``: members who had joined by then, staff and the
    profile filters left out. None when they cannot answer: the scope has spaces (the roll-up folds whole
    communities), or ``end`` lies before this month (a row keeps only its member's latest active months)."""
    if scope.space_ids is not None or _month_start(end) < _month_start(timezone.now().astimezone(UTC).date()):
        return None
    users = get_user_model().objects
    rows = MemberStanding.objects.filter(community_id__in=scope.community_ids, joined_at__isnull=False)
    rows = rows.exclude(member_id__in=users.filter(is_staff=True).values("pk")).filter(_joined_by(scope, zones, end))
    if profile := _profile_q(scope, prefix="profile"):
        rows = rows.filter(member_id__in=users.filter(profile).values("pk"))
    return rows.order_by()


def _standing_mask(month: date) -> Case:
    """On ``MemberStanding``: the active days of ``month`` as bits, from the row's last three active months (none
    when ``month`` is later than its last active month or earlier than those three)."""
    index = MemberStanding.month_index(month)
    whens = [When(last_month=index + back, then=F(f"mask{back}")) for back in range(3)]
    return Case(*whens, default=Value(0), output_field=IntegerField())


def _standing_active(first: date, last: date) -> Q:
    """On ``MemberStanding``: an active day from ``first`` to ``last``, a window within the row's last three
    active months or after them (rows whose last active month is later are found by the caller)."""
    condition = Q(pk__in=[])
    for month, bits in _window_bits(first, last).items():
        if bits:
            condition |= Q(GreaterThan(_standing_mask(month).bitand(bits), 0))
    return condition


def _flag(condition: Q, bit: int) -> Case:
    return Case(When(condition, then=Value(bit)), default=Value(0), output_field=IntegerField())


def _standing_sql(scope: Scope, rows: QuerySet, aggregates: str) -> tuple[str, list, Callable]:
    """SQL (with its parameters, and the function that runs a query around it) giving one row per member from the
    standing ``rows`` (a ``values_list`` starting with the member id): grouped into ``aggregates`` when the scope
    has several communities, since a member may have a row in each; as they are for one community."""
    if len(scope.community_ids) > 1:
        return *_per_member([rows], aggregates), _run_per_member
    sql, params = rows.order_by().query.sql_with_params()
    return sql, list(params), _fetch


def returning_members(scope: Scope) -> Ratio:
    """Of the population active on days end-29..end, how many were active on at least two distinct days."""
    end = _end(scope)
    zones = _zones(scope)
    per_member = (
        _rows(scope)
        .filter(
            events__gt=0,
            day__gt=end - timedelta(days=PERIOD_DAYS),
            day__lte=end,
            member_id__in=_population(scope, zones, end),
        )
        .values("member_id")
        .annotate(days=Count("day", distinct=True))
        .order_by()
    )
    totals = per_member.aggregate(denominator=Count("member_id"), numerator=Count("member_id", filter=Q(days__gte=2)))
    return Ratio(totals["numerator"] or 0, totals["denominator"] or 0)


def return_rate_trend(scope: Scope, weeks: int = TREND_WEEKS) -> list[TrendPoint]:
    """Both return figures at ``end`` and at every 7 days before it, ``weeks`` points, oldest first.

    Three queries whatever ``weeks``: time zones, the population's join days, and the active days of the whole
    span from the monthly roll-up. A point's population is the members who had joined by its own day.
    """
    end = _end(scope)
    if weeks <= 0:
        return []
    first = end - timedelta(days=7 * (weeks - 1) + 2 * PERIOD_DAYS - 1)
    return _trend(_Inputs(scope, stats=(), activity_from=first), weeks)


def _trend(inputs: _Inputs, weeks: int = TREND_WEEKS) -> list[TrendPoint]:
    activity, points = inputs.activity, []
    for k in range(weeks - 1, -1, -1):
        week_end = inputs.end - timedelta(days=7 * k)
        i = activity.index(week_end)
        population = activity.joined(i)
        before = activity.any_of(i - 2 * PERIOD_DAYS + 1, i - PERIOD_DAYS) & population
        now = activity.any_of(i - PERIOD_DAYS + 1, i) & population
        twice = activity.twice_in(i - PERIOD_DAYS + 1, i) & population
        points.append(
            TrendPoint(
                week_end=week_end,
                return_rate=Ratio((before & now).bit_count(), before.bit_count()),
                returning_members=Ratio(twice.bit_count(), now.bit_count()),
            )
        )
    return points


# --- Cohorts --------------------------------------------------------------------------------------------------
def cohort_retention(scope: Scope, months: int = 12) -> list[CohortRow]:
    """Members who joined in each of the ``months`` calendar months up to ``end`` (their first join in the scope),
    and the share of each cohort active in its join month and every month after it, up to ``end``'s month.

    Two queries (three on PostgreSQL: ``_run_per_member``): time zones, and one pass that groups, per member, their
    membership rows (the month they first joined), their five-year rows (the months they were active, as bits) and
    their days of ``end``'s month, then counts the members of each cohort active in each month: a dozen rows come
    back, and no table is joined. For whole communities up to today, one ``MemberStanding`` row per member and
    community holds all three (``_cohort_counts_standing``)."""
    return _cohort_retention(scope, _zones(scope), months)


class _JoinMonth(Expression):
    """On the scope's memberships (or standing rows): the calendar month (of the community's zone) in which
    ``joined_at`` falls, as an index from ``first_month`` (0) to ``months - 1``; -1 before, ``months`` after.

    Compares the timestamp with each community's month starts, so the database converts no row to a local day, and
    by halving: four comparisons for a year's window instead of up to thirteen. The CASE is written here as SQL:
    built from ORM ``When`` nodes for twenty communities in nine zones it cost about 35 ms of Python a query."""

    output_field = IntegerField()

    def __init__(self, ref: str, zones: dict[int, zoneinfo.ZoneInfo], first_month: date, months: int) -> None:
        super().__init__()
        self.community, self.joined = F(ref), F("joined_at")
        self.groups = [(ids, self._starts(zone, first_month, months)) for zone, ids in _by_zone(zones)]
        self.default = self._starts(UTC, first_month, months)

    @staticmethod
    def _starts(zone: zoneinfo.ZoneInfo, first_month: date, months: int) -> list[datetime]:
        return [datetime.combine(_add_months(first_month, k), time.min, tzinfo=zone) for k in range(months + 1)]

    def get_source_expressions(self) -> list:
        return [self.community, self.joined]

    def set_source_expressions(self, exprs) -> None:
        self.community, self.joined = exprs

    def as_sql(self, compiler, connection) -> tuple[str, list]:
        community, community_params = compiler.compile(self.community)
        joined, joined_params = compiler.compile(self.joined)

        def among(starts: list[datetime], low: int, high: int) -> tuple[str, list]:
            # Between ``low`` and ``high`` of the starts are on or before joined_at: the index is that count - 1.
            if low == high:
                return str(low - 1), []
            middle = (low + high) // 2
            below, below_params = among(starts, low, middle)
            above, above_params = among(starts, middle + 1, high)
            start = connection.ops.adapt_datetimefield_value(starts[middle])
            sql = f"CASE WHEN {joined} < %s THEN {below} ELSE {above} END"
            return sql, [*joined_params, start, *below_params, *above_params]

        def tree(starts: list[datetime]) -> tuple[str, list]:
            return among(starts, 0, len(starts))

        default, params = tree(self.default)
        if not self.groups:
            return default, params
        whens, when_params = [], []
        for ids, starts in self.groups:
            sql, tree_params = tree(starts)
            marks = ", ".join("%s" for _id in ids)
            whens.append(f"WHEN {community} IN ({marks}) THEN {sql}")
            when_params += [*community_params, *ids, *tree_params]
        return f"CASE {' '.join(whens)} ELSE {default} END", [*when_params, *params]


def _join_month(scope: Scope, zones: dict[int, zoneinfo.ZoneInfo], first_month: date, months: int) -> _JoinMonth:
    """``_JoinMonth`` of the scope's memberships."""
    return _JoinMonth("community_id" if scope.space_ids is None else "space__community_id", zones, first_month, months)


def _cohort_retention(scope: Scope, zones: dict[int, zoneinfo.ZoneInfo], months: int = 12) -> list[CohortRow]:
    end = _end(scope)
    last_month = _month_start(end)
    first_month = _add_months(last_month, -(months - 1))
    window = [_add_months(first_month, k) for k in range(months)]
    counts = _cohort_counts_standing(scope, zones, end, first_month, months)
    if counts is None:
        counts = _cohort_counts(scope, zones, end, window)
    sizes: dict[date, int] = dict.fromkeys(window, 0)
    cells: dict[tuple[date, date], int] = {}
    for first, size, *active in counts:
        cohort = window[first]
        sizes[cohort] = size
        for k in range(first, months):  # activity before the join month is ignored
            cells[(cohort, window[k])] = active[k] or 0
    return [
        CohortRow(
            cohort=cohort,
            size=sizes[cohort],
            shares=[
                Ratio(cells.get((cohort, _add_months(cohort, k)), 0), sizes[cohort])
                for k in range(_months_between(cohort, last_month) + 1)
            ],
        )
        for cohort in window
    ]


def _cohort_counts_standing(
    scope: Scope, zones: dict[int, zoneinfo.ZoneInfo], end: date, first_month: date, months: int
) -> list[tuple] | None:
    """The cohort counts from ``MemberStanding`` (one row per member and community), or None when it cannot answer
    (``_standing_rows``; or a counted member was active after ``end``'s month, which their row no longer tells
    apart). Bit ``r`` of ``active`` is window month ``months - 1 - r``: the row's months shifted by how long
    before ``end``'s month its last active month was; ``end``'s own month counts its days up to ``end``."""
    rows = _standing_rows(scope, zones, end)
    if rows is None:
        return None
    last = MemberStanding.month_index(_month_start(end))
    window_bits = (1 << months) - 1
    recent = Q(last_month__lte=last, last_month__gt=last - months)
    # The row's months of the window (all but end's own), moved to their bits. The final mask is typed: an untyped
    # Python int is sent as a 4-byte integer when parameters travel apart from the SQL.
    earlier = Case(
        When(recent, then=F("active_months").bitand(window_bits).bitleftshift(Value(last) - F("last_month"))),
        default=Value(0),
        output_field=BigIntegerField(),
    ).bitand(Value(window_bits - 1, output_field=BigIntegerField()))
    rows = rows.annotate(
        first=_join_month(scope, zones, first_month, months),
        active=earlier.bitor(_flag(_standing_active(_month_start(end), end), 1)),
        late=_flag(Q(last_month__gt=last), 1),
    ).values_list("member_id", "first", "active", "late")
    inner, params, run = _standing_sql(scope, rows, "MIN(first) AS first, BIT_OR(active) AS active, MAX(late) AS late")
    pairs = (
        f"SELECT first, active, MAX(late) AS late, COUNT(*) AS n FROM ({inner}) m WHERE first >= 0 "  # noqa: S608  # nosec B608 # ORM-compiled parts
        "GROUP BY first, active"
    )
    sums = ", ".join(f"SUM(((active >> {months - 1 - k}) & 1) * n)" for k in range(months))
    counts = run(f"SELECT first, SUM(n), {sums}, MAX(late) FROM ({pairs}) p GROUP BY first", params)  # noqa: S608  # nosec B608 # ORM-compiled parts
    if any(row[-1] for row in counts):
        return None
    return [row[:-1] for row in counts]


def _cohort_counts(scope: Scope, zones: dict[int, zoneinfo.ZoneInfo], end: date, window: list[date]) -> list[tuple]:
    """The cohort counts from the memberships, the five-year rows and ``end``'s month (any scope, any ``end``):
    per cohort (as a window index), its size and the members active in each window month."""
    months = len(window)
    first_month, last_month = window[0], window[-1]
    nobody = Value(None, output_field=IntegerField())
    # Per member: the month they first joined (-1 before the window), and the months of the window they were active
    # in, as bits (bit k: the window's k-th month) ...
    members = (
        _member_rows(scope)
        .filter(_joined_by(scope, zones, end))
        .annotate(first=_join_month(scope, zones, first_month, months), active=Value(0))
        .values_list("user_id", "first", "active")
    )
    # ... from the five-year rows for every month but the last: each era's months of the window, moved to their
    # places in the window ...
    places: dict[int, list[tuple[int, int]]] = defaultdict(list)  # era -> (window month, bit in the era)
    for k, month in enumerate(window[:-1]):
        era, bit = MemberEra.of(month)
        places[era].append((k, bit))
    whens = []
    for era, pairs in places.items():
        (k, bit), mask = pairs[0], sum(1 << bit for _k, bit in pairs)
        # typed: an untyped Python int is sent as a 4-byte integer when parameters travel apart from the SQL
        moved = F("active_months").bitand(Value(mask, output_field=BigIntegerField()))
        whens.append(When(era=era, then=moved.bitrightshift(bit - k) if bit >= k else moved.bitleftshift(k - bit)))
    in_eras = (
        _era_rows(scope)
        .filter(era__in=list(places), active_months__gt=0)
        .annotate(first=nobody, active=Case(*whens, default=Value(0), output_field=BigIntegerField()))
        .values_list("member_id", "first", "active")
    )
    # ... and for the last from its days up to ``end`` (the month's later days do not count).
    in_last = (
        _month_rows(scope)
        .filter(_months_active_within(last_month, end))
        .annotate(first=nobody, active=Value(1 << (months - 1), output_field=BigIntegerField()))
        .values_list("member_id", "first", "active")
    )
    per_member, params = _per_member([members, in_eras, in_last], "MIN(first) AS first, BIT_OR(active) AS active")
    # The parts are compiled by the ORM, with parameters.
    # Members are counted per (cohort, months active) first: a few thousand such pairs among tens of thousands of
    # members, so the twelve sums run over those (hashed, not sorted) rather than over every member.
    sums = ", ".join(f"SUM(((active >> {k}) & 1) * n)" for k in range(months))
    pairs = f"SELECT first, active, COUNT(*) AS n FROM ({per_member}) m WHERE first >= 0 GROUP BY first, active"  # noqa: S608  # nosec B608 # ORM-compiled parts
    sql = f"SELECT first, SUM(n), {sums} FROM ({pairs}) p GROUP BY first"  # noqa: S608  # nosec B608 # ORM-compiled parts
    return _run_per_member(sql, params)


# --- Daily, weekly and monthly active members -----------------------------------------------------------------
def active_members(scope: Scope) -> list[ActiveMembers]:
    """DAU, WAU (7 days) and MAU (30 days) for every day from ``start`` to ``end`` (three queries: time zones,
    join days, active days)."""
    end = _end(scope)
    start = _start(scope, end)
    if start > end:
        return []
    return _active_members(_Inputs(scope, stats=(), activity_from=start - timedelta(days=PERIOD_DAYS - 1)))


def _active_members(inputs: _Inputs) -> list[ActiveMembers]:
    if inputs.start > inputs.end:
        return []
    activity = inputs.activity
    weekly, monthly = activity.rolling(7), activity.rolling(PERIOD_DAYS)
    result = []
    for i in range(activity.index(inputs.start), activity.index(inputs.end) + 1):
        joined = activity.joined(i)
        result.append(
            ActiveMembers(
                day=activity.first + timedelta(days=i),
                dau=(activity.on(i) & joined).bit_count(),
                wau=(weekly[i] & joined).bit_count(),
                mau=(monthly[i] & joined).bit_count(),
            )
        )
    return result


# --- Engagement points ----------------------------------------------------------------------------------------
def leaderboard(scope: Scope, period_days: int | None = 30, limit: int = 20) -> list[LeaderboardRow]:
    """Population members by points in the ``period_days`` days ending on ``end`` (None: every day up to
    ``end``), most first, ties by member id; members without points are not listed. Three queries."""
    inputs = _Inputs(scope, stats=_leaderboard_stats(period_days))
    rows = _leaderboard(inputs, period_days, limit)
    return _named(rows, _names(row.member_id for row in rows) if rows else {})


def _leaderboard(inputs: _Inputs, period_days: int | None, limit: int = 20) -> list[LeaderboardRow]:
    """The leaderboard without names (``_named`` adds them)."""
    points, contributions, visits = _leaderboard_stats(period_days)
    top = sorted(
        ((stats[points], member_id) for member_id, stats in inputs.stats.items() if stats[points] > 0),
        key=lambda pair: (-pair[0], pair[1]),
    )[:limit]
    return [
        LeaderboardRow(
            rank=i + 1,
            member_id=member_id,
            name="",
            points=total,
            contributions=inputs.stats[member_id][contributions],
            visit_days=inputs.stats[member_id][visits],
        )
        for i, (total, member_id) in enumerate(top)
    ]


def _named(rows: list, names: dict[int, str]) -> list:
    return [replace(row, name=names.get(row.member_id, "")) for row in rows]


def member_points(member_id: int, community_id: int, end: date | None = None) -> MemberPoints:
    """A member's points in a community over the last 30 and 90 days and all time up to ``end``, and their rank
    on the community's 30-day leaderboard (None when they have no points there or are not in its population)."""
    scope = Scope(community_ids=(community_id,), end=end)
    end = _end(scope)
    rows = _rows(scope).filter(day__lte=end)
    recent = Q(day__gt=end - timedelta(days=30))
    mine = rows.filter(member_id=member_id).aggregate(
        p30=Sum("points", filter=recent),
        p90=Sum("points", filter=Q(day__gt=end - timedelta(days=90))),
        p_all=Sum("points"),
    )
    points_30 = mine["p30"] or 0
    rank = None
    if points_30:
        zones = _zones(scope)
        population = _population(scope, zones, end)
        ahead = (
            rows.filter(recent, member_id__in=population)
            .values("member_id")
            .annotate(total=Sum("points"))
            .filter(Q(total__gt=points_30) | Q(total=points_30, member_id__lt=member_id))
            .order_by()
        )
        counted = rows.filter(recent, member_id__in=population, member_id=member_id).exists()
        rank = ahead.count() + 1 if counted else None
    return MemberPoints(points_30=points_30, points_90=mine["p90"] or 0, points_all=mine["p_all"] or 0, rank_30=rank)


# --- Participation levels -------------------------------------------------------------------------------------
def _level(active_days: int, contribution_days: int, active_earlier: bool, signed_in: bool) -> str:
    if contribution_days >= CORE_MIN_DAYS:
        return "core"
    if contribution_days:
        return "active"
    if active_days:
        return "peripheral"
    if active_earlier or signed_in:
        return "dormant"
    return "never"


def participation_levels(scope: Scope) -> Levels:
    """Each population member's level over days end-29..end, and over the 30 days before for the transitions.

    Three queries: time zones, the population (join and sign-in days), per-member day counts.
    """
    return _participation_levels(_Inputs(scope, stats=LEVEL_STATS))


class _NoStats(dict):
    """The stats of a member without roll-up rows: every count is 0."""

    def __missing__(self, key: str) -> int:
        return 0


NO_STATS = _NoStats()


def _participation_levels(inputs: _Inputs) -> Levels:
    end = inputs.end
    before_end = end - timedelta(days=PERIOD_DAYS)
    counts = dict.fromkeys(LEVELS, 0)
    transitions: dict[tuple[str, str], int] = defaultdict(int)
    joined_now: dict[str, int] = defaultdict(int)
    for member_id, person in inputs.people.items():
        row = inputs.stats.get(member_id, NO_STATS)
        login = person.login
        now_level = _level(
            row["active_now"],
            row["contributed_now"],
            row["active_earlier_than_now"] > 0,
            login is not None and login <= end,
        )
        counts[now_level] += 1
        if person.first > before_end:
            joined_now[now_level] += 1
            continue
        before_level = _level(
            row["active_before"],
            row["contributed_before"],
            row["active_earlier_than_before"] > 0,
            login is not None and login <= before_end,
        )
        transitions[(before_level, now_level)] += 1
    return Levels(counts=counts, total=len(inputs.people), transitions=dict(transitions), joined=dict(joined_now))


# --- Posting history ------------------------------------------------------------------------------------------
POSTING_KEYS = {"": None, "community": "community_id", "space": "space_id", "member": "member_id"}


def _labels(by: str, ids) -> dict[int, str]:
    if by == "community":
        return dict(Community.objects.filter(pk__in=ids).values_list("pk", "name"))
    if by == "space":
        return dict(Space.objects.filter(pk__in=ids).values_list("pk", "name"))
    return _names(ids)


def posting_history(scope: Scope, by: str = "") -> list[SeriesPoint]:
    """Contributions per week (weeks start on Monday; the first and last week count only days from ``start`` to
    ``end``) by the population on ``end``: one series, or one per community, space or member. Every week from
    ``start`` to ``end`` is listed for every series, with 0 where there was nothing."""
    return _posting_history(_Inputs(scope, stats=()), by)


def _posting_history(inputs: _Inputs, by: str = "") -> list[SeriesPoint]:
    return _posting_series(inputs, by, _posting_totals(inputs, by))


def _posting_series(
    inputs: _Inputs, by: str, totals: dict[tuple[int, date], int], names: dict[int, str] | None = None
) -> list[SeriesPoint]:
    """Every week of every series, from ``_posting_totals``; ``names``: the members' names when already read (the
    dashboard's), for ``by="member"``."""
    key_field = POSTING_KEYS[by]
    keys = sorted({key for key, _week in totals}) if key_field else [0]
    if names is not None and by == "member":
        labels = names
    else:
        labels = _labels(by, keys) if key_field and keys else {}
    weeks = []
    week = _monday(inputs.start)
    while week <= inputs.end:
        weeks.append(week)
        week += timedelta(days=7)
    return [
        SeriesPoint(
            week_start=week,
            key=labels.get(key, "") if key_field else "",
            contributions=totals.get((key, week), 0),
            id=key,
        )
        for key in keys
        for week in weeks
    ]


def _posting_totals(inputs: _Inputs, by: str) -> dict[tuple[int, date], int]:
    """(community, space or member id, or 0 for a single series; Monday) -> contributions (one query)."""
    if by not in POSTING_KEYS:
        raise ValueError(f"posting_history by {by!r}: expected one of {sorted(POSTING_KEYS)}")
    scope, start, end = inputs.scope, inputs.start, inputs.end
    rows = MemberDay.objects.filter(community_id__in=scope.community_ids)
    if scope.space_ids is not None:
        rows = rows.filter(space_id__in=scope.space_ids)
    elif by == "space":
        rows = rows.exclude(space_id=MemberDay.WHOLE_COMMUNITY)
    else:
        rows = rows.filter(space_id=MemberDay.WHOLE_COMMUNITY)
    key_field = POSTING_KEYS[by]
    grouped = (
        rows.filter(contributions__gt=0, day__gte=start, day__lte=end, member_id__in=inputs.population)
        .annotate(week=TruncWeek("day"))
        .values("week", *([key_field] if key_field else []))
        .annotate(total=Sum("contributions"))
        .order_by()
    )
    totals: dict[tuple[int, date], int] = {}
    for row in grouped:
        week = row["week"].date() if isinstance(row["week"], datetime) else row["week"]
        totals[(row[key_field] if key_field else 0, week)] = row["total"]
    return totals


# --- Best time to post ----------------------------------------------------------------------------------------
def activity_heatmap(scope: Scope, time_zone: str, measure: str = "events") -> Heatmap:
    """Activity (or contributions, ``measure="contributions"``) from ``start`` to ``end`` (days in
    ``time_zone``), by weekday and hour in ``time_zone``. Each 15-minute UTC bucket is converted to the zone as a
    whole, so zones 30 or 45 minutes off the hour land exactly. One query."""
    return activity_heatmaps(scope, [time_zone], measure)[0]


def activity_heatmaps(scope: Scope, time_zones: list[str], measure: str = "events") -> list[Heatmap]:
    """``activity_heatmap`` for several zones at once, in one query: the buckets are grouped by weekday and hour
    in every zone together (a few hundred groups), then added up zone by zone. A zone's days run from ``start``
    to ``end`` in that zone, so with several zones only the buckets inside every zone's range are grouped, and
    those in some zones' ranges only are told apart by a flag per zone."""
    if measure not in ("events", "contributions"):
        raise ValueError(f"activity_heatmap measure {measure!r}")
    zones = [_zone(name) for name in time_zones]
    if not zones:
        return []
    end = _end(scope)
    start = _start(scope, end)
    ranges = [
        (
            datetime.combine(start, time.min, tzinfo=zone),
            datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
        )
        for zone in zones
    ]
    buckets = ActivityBucket.objects.filter(
        community_id__in=scope.community_ids,
        bucket__gte=min(low for low, _high in ranges),
        bucket__lt=max(high for _low, high in ranges),
    )
    if scope.space_ids is None:
        buckets = buckets.filter(space_id=0)
    else:
        buckets = buckets.filter(space_id__in=scope.space_ids)
    for name in BREAKDOWN_FIELDS:  # the values copied onto the activity when it was recorded
        value = getattr(scope, name)
        if value:
            buckets = buckets.filter(**{name: "" if value == NOT_STATED else value})
    columns: dict[str, object] = {}
    for n, (zone, (low, high)) in enumerate(zip(zones, ranges, strict=True)):
        columns[f"weekday{n}"] = ExtractIsoWeekDay("bucket", tzinfo=zone)
        columns[f"hour{n}"] = ExtractHour("bucket", tzinfo=zone)
        if len(zones) > 1:
            inside = Q(bucket__gte=low, bucket__lt=high)
            columns[f"inside{n}"] = Case(When(inside, then=Value(1)), default=Value(0), output_field=IntegerField())
    grouped = buckets.annotate(**columns).values(*columns).annotate(total=Sum(measure)).order_by()
    cells = [[[0] * 24 for _day in range(7)] for _zone in zones]
    for row in grouped:
        for n in range(len(zones)):
            if len(zones) == 1 or row[f"inside{n}"]:
                cells[n][row[f"weekday{n}"] - 1][row[f"hour{n}"]] += row["total"] or 0
    return [Heatmap(time_zone=str(zone.key), cells=cells[n]) for n, zone in enumerate(zones)]


# --- Knowledge health -----------------------------------------------------------------------------------------
def knowledge_health(scope: Scope) -> KnowledgeHealth:
    """The state of the scope's content now (see spaces/selectors_analytics.py for what counts), and the median
    time to a first answer for questions asked from ``start`` to ``end`` (days in each community's zone).
    Five queries."""
    return _knowledge_health(_Inputs(scope, stats=()))


def _knowledge_health(inputs: _Inputs) -> KnowledgeHealth:
    scope, start, end = inputs.scope, inputs.start, inputs.end
    now = timezone.now()
    ids = {"community_ids": scope.community_ids, "space_ids": scope.space_ids}
    asked = Q(pk__in=[])
    for community_id, zone in inputs.zones.items():
        asked |= Q(
            space__community_id=community_id,
            created_at__gte=datetime.combine(start, time.min, tzinfo=zone),
            created_at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
        )
    delays = selectors_analytics.first_answer_delays(asked=asked, now=now, **ids)
    hours = [delay.total_seconds() / 3600 for delay in delays]
    return KnowledgeHealth(
        unanswered_by_age=selectors_analytics.unanswered_questions_by_age(now=now, **ids),
        median_hours_to_first_answer=statistics.median(hours) if hours else None,
        pages_not_edited_12_months=selectors_analytics.pages_not_edited_since(
            cutoff=_add_months_datetime(now, -12), now=now, **ids
        ),
        events_few_registrations=selectors_analytics.events_with_few_registrations(now=now, **ids),
        answered_questions=len(hours),
    )


def _add_months_datetime(moment: datetime, months: int) -> datetime:
    day = _add_months(moment.date(), months)
    return moment.replace(year=day.year, month=day.month, day=day.day)


# --- Referrals ------------------------------------------------------------------------------------------------
def _ambassador_levels() -> list[tuple[int, str]]:
    """(threshold, level) from settings.ANALYTICS_AMBASSADOR_LEVELS, a mapping level -> accepted invitations
    (or a list of such pairs), highest threshold first."""
    levels = getattr(settings, "ANALYTICS_AMBASSADOR_LEVELS", None) or DEFAULT_AMBASSADOR_LEVELS
    pairs = levels.items() if isinstance(levels, dict) else levels
    return sorted(((int(threshold), str(name)) for name, threshold in pairs), reverse=True)


def ambassador_level(accepted: int) -> str:
    """The highest level whose threshold ``accepted`` reaches ("" below the lowest)."""
    for threshold, name in _ambassador_levels():
        if accepted >= threshold:
            return name
    return ""


def _referral_count():
    return Sum(Cast(KT("kind_counts__referral"), IntegerField()))


def referrals(scope: Scope, limit: int = 20) -> list[ReferralRow]:
    """Population members by invitations accepted (``referral`` activity) on every day up to ``end``, most
    first, ties by member id; members with none are not listed. Three queries."""
    rows = _referrals(_Inputs(scope, stats=REFERRAL_STATS), limit)
    return _named(rows, _names(row.member_id for row in rows) if rows else {})


def _referrals(inputs: _Inputs, limit: int = 20) -> list[ReferralRow]:
    """The referrals without names (``_named`` adds them)."""
    top = sorted(
        ((stats["referrals"], member_id) for member_id, stats in inputs.stats.items() if stats["referrals"] > 0),
        key=lambda pair: (-pair[0], pair[1]),
    )[:limit]
    return [
        ReferralRow(member_id=member_id, name="", accepted=accepted, level=ambassador_level(accepted))
        for accepted, member_id in top
    ]


def member_referrals(member_id: int, community_id: int | None = None) -> int:
    """Invitations the member has had accepted, in one community or (None) in all of them: for profile badges
    (``ambassador_level`` of it). One query."""
    rows = MemberDay.objects.filter(
        member_id=member_id, space_id=MemberDay.WHOLE_COMMUNITY, kind_counts__has_key="referral"
    )
    if community_id is not None:
        rows = rows.filter(community_id=community_id)
    return rows.aggregate(accepted=_referral_count())["accepted"] or 0


# --- Breakdowns -----------------------------------------------------------------------------------------------
def breakdown_values(scope: Scope, by: str) -> list[str]:
    """The values of ``by`` among the scope's population on ``end``, sorted, NOT_STATED last (if any). Two
    queries."""
    if by not in BREAKDOWN_FIELDS:
        raise ValueError(f"breakdown by {by!r}: expected one of {BREAKDOWN_FIELDS}")
    return breakdown_choices(scope, fields=(by,))[by]


def breakdown_choices(scope: Scope, fields: tuple[str, ...] = BREAKDOWN_FIELDS) -> dict[str, list[str]]:
    """``breakdown_values`` of each of ``fields``, in two queries whatever their number."""
    end = _end(scope)
    names = [f"user__profile__{by}" for by in fields]
    zones = _zones(scope)
    found = list(_member_rows(scope).filter(_joined_by(scope, zones, end)).values_list(*names).distinct())
    choices = {}
    for n, by in enumerate(fields):
        present = {row[n] for row in found}
        values = sorted(value for value in present if value)
        if "" in present or None in present:
            values.append(NOT_STATED)
        choices[by] = values
    return choices


def breakdown(metric, scope: Scope, by: str) -> dict[str, object]:
    """``metric(scope)`` for each value of ``by`` ("country" or "organisation_type") among the population,
    with the scope restricted to members with that value; members with the field blank under NOT_STATED.
    ``metric`` takes a scope (use functools.partial for the other arguments)."""
    return {value: metric(replace(scope, **{by: value})) for value in breakdown_values(scope, by)}


@dataclass(frozen=True)
class BreakdownRow:
    value: str  # the country or organisation type (NOT_STATED for members who left it blank)
    members: int  # the population on ``end`` with this value
    return_rate: Ratio
    returning_members: Ratio
    monthly_active: int  # MAU on ``end``: members active on at least one of days end-29..end
    levels: dict[str, int]  # level now -> members, over LEVELS
    contributions: int  # contributions (actions) on days start..end

    def level_share(self, level: str) -> Ratio:
        return Ratio(self.levels.get(level, 0), self.members)


def breakdown_table(scope: Scope, by: str) -> list[BreakdownRow]:
    """The dashboard's breakdown table: for each value of ``by`` ("country" or "organisation_type") among the
    population on ``end``, in ``breakdown_values`` order, the population, both return figures, MAU on ``end``,
    the participation-level counts and the contributions from ``start`` to ``end``.

    Each figure equals the one its own function gives for the scope restricted to that value (what
    ``breakdown(metric, scope, by)`` computes value by value), but the whole table costs three queries whatever
    the number of values: time zones, the population with each member's value and latest sign-in, and one row
    of day counts per member.
    """
    if by not in BREAKDOWN_FIELDS:
        raise ValueError(f"breakdown by {by!r}: expected one of {BREAKDOWN_FIELDS}")
    return _breakdown_table(_Inputs(scope, stats=BREAKDOWN_STATS), by)


def _breakdown_table(inputs: _Inputs, by: str) -> list[BreakdownRow]:
    if by not in BREAKDOWN_FIELDS:
        raise ValueError(f"breakdown by {by!r}: expected one of {BREAKDOWN_FIELDS}")
    end = inputs.end
    # value -> [members, active before, returned, active now, active now on 2+ days, contributions]
    totals: dict[str, list[int]] = defaultdict(lambda: [0] * 6)
    levels: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(LEVELS, 0))
    for member_id, person in inputs.people.items():
        value = getattr(person, by) or NOT_STATED
        row = inputs.stats.get(member_id, NO_STATS)
        now, before = row["active_now"], row["active_before"]
        counts = totals[value]
        counts[0] += 1
        counts[1] += before > 0
        counts[2] += before > 0 and now > 0
        counts[3] += now > 0
        counts[4] += now >= 2
        counts[5] += row["contributions_since_start"]
        level = _level(
            now,
            row["contributed_now"],
            row["active_earlier_than_now"] > 0,
            person.login is not None and person.login <= end,
        )
        levels[value][level] += 1
    values = sorted(value for value in totals if value != NOT_STATED)
    if NOT_STATED in totals:
        values.append(NOT_STATED)
    return [
        BreakdownRow(
            value=value,
            members=totals[value][0],
            return_rate=Ratio(totals[value][2], totals[value][1]),
            returning_members=Ratio(totals[value][4], totals[value][3]),
            monthly_active=totals[value][3],
            levels=levels[value],
            contributions=totals[value][5],
        )
        for value in values
    ]


# --- A whole dashboard ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Dashboard:
    """Every figure of one dashboard (``dashboard()``); member-level lists are empty unless asked for."""

    return_rate: Ratio
    returning_members: Ratio
    trend: list[TrendPoint]
    active: list[ActiveMembers]
    cohorts: list[CohortRow]
    levels: Levels
    breakdown: list[BreakdownRow]
    posting: list[SeriesPoint]
    heatmaps: list[Heatmap]
    knowledge: KnowledgeHealth
    leaderboards: dict[int | None, list[LeaderboardRow]] = field(default_factory=dict)  # period in days -> rows
    referrals: list[ReferralRow] = field(default_factory=list)


def dashboard(
    scope: Scope,
    *,
    posting_by: str = "",
    heatmap_zones: tuple[str, ...] = (),
    breakdown_by: str = "country",
    member_figures: bool = False,
) -> Dashboard:
    """Every figure of a dashboard, each equal to what its own function gives, but from inputs read once: the
    population, the active days (monthly roll-up) and one row of day counts per member serve the return rates
    and their trend, the active members, the participation levels, the breakdown table, the leaderboards and the
    referrals. A fixed number of queries whatever the data (eleven to thirteen), where the figures one by one cost
    over forty. Today's return figures are the trend's last point (the same definition, on ``end``)."""
    stats = tuple(dict.fromkeys(LEVEL_STATS + BREAKDOWN_STATS))
    if member_figures:
        stats += REFERRAL_STATS + tuple(name for p in LEADERBOARD_PERIODS for name in _leaderboard_stats(p))
    inputs = _Inputs(scope, stats=stats)
    trend = _trend(inputs)
    leaderboards: dict[int | None, list[LeaderboardRow]] = {}
    found: list[ReferralRow] = []
    if member_figures:
        leaderboards = {period: _leaderboard(inputs, period) for period in LEADERBOARD_PERIODS}
        found = _referrals(inputs)
    posting = _posting_totals(inputs, posting_by)
    # One query names the leaderboards' and referrals' members and, per member, the posting series.
    listed = {row.member_id for rows in leaderboards.values() for row in rows} | {row.member_id for row in found}
    if posting_by == "member":
        listed |= {key for key, _week in posting}
    names = _names(listed) if listed else {}
    leaderboards = {period: _named(rows, names) for period, rows in leaderboards.items()}
    found = _named(found, names)
    return Dashboard(
        return_rate=trend[-1].return_rate,
        returning_members=trend[-1].returning_members,
        trend=trend,
        active=_active_members(inputs),
        cohorts=_cohort_retention(scope, inputs.zones),
        levels=_participation_levels(inputs),
        breakdown=_breakdown_table(inputs, breakdown_by),
        posting=_posting_series(inputs, posting_by, posting, names),
        heatmaps=activity_heatmaps(scope, list(heatmap_zones)),
        knowledge=_knowledge_health(inputs),
        leaderboards=leaderboards,
        referrals=found,
    )


# --- Definitions shown beside each figure (docs/analytics.md says the same) -------------------------------------
DEFINITIONS: dict[str, str] = {
    "population": _(
        "Population: people who are members of the community (with a space filter: of at least one selected "
        "space) and joined on or before the last day of the period. Staff accounts are never counted. Members who "
        "have since left or deleted their account are not counted in any period, past periods included. With a "
        "country or organisation-type filter, the members whose profile has that value today."
    ),
    "active": _(
        "Active: a member is active on a day when at least one of their actions was recorded that day in the "
        "community (with a space filter: in the selected spaces). Visits, views and contributions all count; "
        "being credited (one's answer accepted by someone else) does not. Days are calendar days in the "
        "community's time zone."
    ),
    "return_rate": _(
        "30-day return rate: of the members of the population active on at least one day of the 30 days before "
        "the last 30 days (59 to 30 days before the end date), the share active on at least one day of the last "
        "30 days (the end date and the 29 days before it)."
    ),
    "returning_members": _(
        "Returning members: of the members of the population active in the last 30 days (the end date and the 29 "
        "days before it), the share active on at least 2 different days of those 30."
    ),
    "return_rate_trend": _(
        "Weekly trend: the 30-day return rate and the returning-members share computed on the end date and on "
        "every 7th day before it, for 52 weeks; each point counts the members who had joined by its own day."
    ),
    "cohort_retention": _(
        "Cohort retention: members grouped by the calendar month in which they first joined the community (with "
        "a space filter: the first selected space they joined). Month 0 is the join month, month k the k-th "
        "calendar month after it. A cell is the share of the cohort active on at least one day of that month "
        "(the current month up to the end date). Joining is itself recorded as activity, so month 0 is usually "
        "close to 100%."
    ),
    "dau": _("Daily active members (DAU): members of the population active on the day."),
    "wau": _(
        "Weekly active members (WAU): members of the population active on at least one of the 7 days ending on the day."
    ),
    "mau": _(
        "Monthly active members (MAU): members of the population active on at least one of the 30 days ending "
        "on the day."
    ),
    "stickiness": _(
        "Stickiness: DAU divided by MAU on the same day (not shown when MAU is 0); 1 means everyone active in the "
        "month was active that day."
    ),
    "leaderboard": _(
        "Engagement points: every action earns the weight the community set for its kind (by default answer 10, "
        "accepted answer 15 to the answer's author, paper 10, page created or edited 5, question 5, post 3, event "
        "created 3, comment 2, event registration 2, file 2, poll 2, vote 1, poll vote 1, visit day 1, referral "
        "20); a member's points for one day are capped at the community's daily cap (default 200). The "
        "leaderboard adds up daily points over the last 30 days, the last 90 days (both ending on the end date) "
        "or all days up to it. Equal points are listed by account age, oldest first. Members without points are "
        "not listed."
    ),
    "member_points": _(
        "Points and rank: your engagement points in this community over the last 30 days, 90 days and all time; "
        "the rank is your place on the community's 30-day leaderboard (1 = most points)."
    ),
    "participation_levels": _(
        "Participation levels: each member of the population is in exactly one level, judged over the last 30 "
        "days (the end date and the 29 days before it); a contribution day is a day with at least one "
        "contribution. Shares are of the population."
    ),
    "level_core": _("Core: contributed on 4 or more of the last 30 days."),
    "level_active": _("Active: contributed on 1 to 3 of the last 30 days."),
    "level_peripheral": _("Peripheral: active in the last 30 days (visits, views) but contributed on none of them."),
    "level_dormant": _(
        "Dormant: no activity in the last 30 days, but some activity before them or a sign-in on record by the "
        "end date."
    ),
    "level_never": _(
        "Never logged in: no activity in the community up to the end date and no sign-in by then (only the latest "
        "sign-in is stored: when it is after the end date and nothing was recorded before, the member counts "
        "here)."
    ),
    "transitions": _(
        "Movement between levels: each member's level in the previous 30 days (59 to 30 days before the end date, "
        "judged as on that period's last day) against their level in the last 30 days. Members who joined during "
        "the last 30 days had no previous level and are counted as new instead."
    ),
    "contribution": _(
        "Contributions: creating, editing or copying a page, uploading a file, asking, answering, accepting an "
        "answer, commenting, voting, creating or registering for an event, submitting a paper, posting, creating "
        "or voting in a poll, and referring a new member. Views and visits are not contributions."
    ),
    "posting_history": _(
        "Posting history: the number of contributions per calendar week (Monday to Sunday) by members of the "
        "population; the first and last weeks count only days inside the date range."
    ),
    "activity_heatmap": _(
        "Best time to post: recorded actions (visits, views and contributions) by weekday and hour in the chosen "
        "time zone, added up over the date range. Actions are stored in 15-minute UTC intervals, each moved to "
        "the zone as a whole, so zones 30 or 45 minutes off the hour are exact. This is the one figure not "
        "restricted to the population: the intervals do not record who acted, so it counts every signed-in "
        "person's actions except staff accounts' (non-members included), and the country and organisation-type "
        "filters use the values recorded with each action."
    ),
    "unanswered_by_age": _(
        "Unanswered questions: questions with no answer yet, by time since they were asked: under 7 days, 7 to "
        "under 30, 30 to under 90, 90 days or more."
    ),
    "median_hours_to_first_answer": _(
        "Median time to first answer: for the questions asked in the date range that have an answer, the hours "
        "from asking to the first answer (any member's, the asker's own included); the middle value, or the "
        "average of the two middle values. Questions still unanswered are not included."
    ),
    "pages_not_edited_12_months": _(
        "Pages not edited in 12 months: pages whose latest version (or creation, if never edited) is more than 12 "
        "calendar months old."
    ),
    "events_few_registrations": _(
        "Events with few registrations: events not yet started with fewer than 3 people registered as going "
        "(maybe, not going and the waiting list do not count)."
    ),
    "knowledge_health": _(
        "Knowledge health: the content as it is now (only the median time to first answer uses the date range). "
        "Items in the trash, hidden by moderators, restricted to named people or not yet published are not "
        "counted, and a question whose only answers are such items counts as unanswered. Content has no country: "
        "the country and organisation-type filters do not apply."
    ),
    "referrals": _("Referrals: invitations sent by the member and accepted, on every day up to the end date."),
    "ambassador_levels": _(
        "Ambassador levels: bronze, silver and gold at 2, 10 and 25 accepted invitations unless the site sets other "
        "thresholds."
    ),
    "breakdown": _(
        "Breakdowns: each figure computed again for the members of each country (or organisation type) as their "
        "profile says today; members who have not filled it in are shown as not stated."
    ),
    "breakdown_table": _(
        "Breakdown table: one row per country (or organisation type) as members' profiles say today, members "
        "who left it blank as not stated. Members: the population on the end date. The 30-day return rate, "
        "returning members and the participation levels (as shares of the row's members) are those defined "
        "above, judged over the 30 days ending on the end date; monthly active members: members active on at "
        "least one of those 30 days; contributions: the row's members' contributions (actions) in the date range. "
        'Small counts: a row with fewer members than the site\'s threshold (default 5) shows only "<5"; in other '
        'rows a count below it reads "<5" and a share is left blank when either of its two counts is below it.'
    ),
    "suppression": _(
        "Small counts: in downloaded (CSV) tables of aggregates, a count below the site's threshold (default 5) "
        'reads "<5", and a share is left blank when either of its two counts is below it, so that no '
        "individual can be singled out."
    ),
    "retention": _(
        "Retention: individual recorded actions are deleted after 25 months (whole days; the site may set "
        "another period); the daily summaries every figure is computed from are kept."
    ),
}
