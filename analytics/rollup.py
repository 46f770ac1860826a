"""The roll-up engine: folds the append-only activity log into ``MemberDay`` and ``ActivityBucket``, the tables
every dashboard reads (``MemberMonth``, the monthly fold of ``MemberDay``, follows it by database triggers).

What a row holds (docs/analytics.md repeats this):

- ``MemberDay``: one member's events on one calendar day of the community's time zone, in the community as a
  whole (``space_id`` 0) and, for an event in a space, in that space as well. ``events`` counts every kind but
  credits, ``visits`` the visit kind, ``views`` the view kinds, ``contributions`` the contribution kinds,
  ``kind_counts`` every kind (credits included); ``points`` = min(daily cap, sum of count x weight) under the
  community's points policy. ``country`` and ``organisation_type`` are those of the day's latest event (latest
  ``occurred_at``, then highest id).
- ``ActivityBucket``: the non-credit events (and the contributions among them) of one 15-minute UTC bucket, per
  community (``space_id`` 0) and space, country and organisation type.

Events without a member or a community count nowhere. The incremental pass (``rollup_new_events``) and
``rebuild`` run the same batch code, so on the same log they give the same rows, events that arrive late
included. Roll-ups of days whose raw events were purged (``raw_activity_purge``) are kept by ``rebuild``.

``MemberMonth`` is never written here: triggers on the member-day table (migration 0004) fold each statement's
inserted, updated and deleted member days into their months, so the months follow every write above, exactly once.
Each run that changes the roll-ups bumps ``RollupState.generation`` (cached dashboard figures are keyed by it).
"""

from __future__ import annotations

import calendar
import logging
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from analytics.kinds import (
    DEFAULT_DAILY_POINTS_CAP,
    DEFAULT_POINTS,
    VISIT,
    is_activity,
    is_contribution,
    is_view,
)
from analytics.models import ActivityBucket, ActivityEvent, MemberDay, PointsPolicy, RollupState
from communities.selectors import community_time_zones

logger = logging.getLogger(__name__)

STATE_NAME = "activity"
# A gap (an id missing when read) is re-read on every run for this long: on PostgreSQL a transaction may
# commit an id lower than one already read. An id still missing after a day was rolled back, never committed.
GAP_LIFETIME = timedelta(days=1)
# Ids burnt by rolled-back inserts (and by visits that were already recorded) leave gaps; keep the newest ones.
MAX_GAPS = 10_000
BUCKET_MINUTES = 15
# Rows per IN (...) list and per bulk write.
CHUNK = 500

DAY_FIELDS = ["events", "visits", "views", "contributions", "kind_counts", "points", "country", "organisation_type"]
BUCKET_FIELDS = ["events", "contributions"]


# --- Points -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Policy:
    """A community's points policy, resolved: a weight for every kind (defaults filled in) and the daily cap."""

    weights: Mapping[str, int]
    daily_cap: int


DEFAULT_POLICY = Policy(weights=dict(DEFAULT_POINTS), daily_cap=DEFAULT_DAILY_POINTS_CAP)


def _resolve(row: PointsPolicy) -> Policy:
    weights = dict(DEFAULT_POINTS)
    for kind, weight in (row.weights or {}).items():
        try:
            weights[str(kind)] = max(0, int(weight))
        except (TypeError, ValueError):
            logger.warning("Ignoring points weight %r for %r in community %s", weight, kind, row.community_id)
    return Policy(weights=weights, daily_cap=row.daily_cap)


def policy_for(community_id: int) -> Policy:
    """The community's points policy; the defaults of ``analytics.kinds`` when it has none."""
    row = PointsPolicy.objects.filter(community_id=community_id).first()
    return DEFAULT_POLICY if row is None else _resolve(row)


def _policies(community_ids: Iterable[int]) -> dict[int, Policy]:
    rows = PointsPolicy.objects.filter(community_id__in=list(community_ids))
    return {row.community_id: _resolve(row) for row in rows}


def points_for(kind_counts: Mapping[str, int], policy: Policy | PointsPolicy | None = None) -> int:
    """A day's points: the sum of count x weight over its kinds, capped at the policy's daily cap."""
    if policy is None:
        policy = DEFAULT_POLICY
    elif not isinstance(policy, Policy):
        policy = _resolve(policy)
    total = sum(int(count) * policy.weights.get(kind, 0) for kind, count in kind_counts.items())
    return max(0, min(policy.daily_cap, total))


# --- Reading the log ----------------------------------------------------------------------------------------
class _Event(NamedTuple):
    id: int
    member_id: int | None
    community_id: int | None
    space_id: int | None
    kind: str
    country: str
    organisation_type: str
    occurred_at: datetime


EVENT_FIELDS = list(_Event._fields)


def _events(queryset) -> list[_Event]:
    return [_Event(*values) for values in queryset.values_list(*EVENT_FIELDS)]


def _events_by_id(ids: Iterable[int]) -> list[_Event]:
    ids = sorted(ids)
    found: list[_Event] = []
    for start in range(0, len(ids), CHUNK):
        found += _events(ActivityEvent.objects.filter(pk__in=ids[start : start + CHUNK]).order_by("pk"))
    return found


def _zones(community_ids: Iterable[int]) -> dict[int, zoneinfo.ZoneInfo]:
    """Each community's zone (UTC for a community that is gone or whose zone is unknown), in one query."""
    utc = zoneinfo.ZoneInfo("UTC")
    zones: dict[int, zoneinfo.ZoneInfo] = {}
    names = community_time_zones(community_ids)
    for community_id in community_ids:
        try:
            zones[community_id] = zoneinfo.ZoneInfo(names.get(community_id) or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zones[community_id] = utc
    return zones


def _bucket_start(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % BUCKET_MINUTES, second=0, microsecond=0)


def _scopes(space_id: int | None) -> tuple[int, ...]:
    """The whole community, and the event's space when it has one."""
    return (MemberDay.WHOLE_COMMUNITY, space_id) if space_id else (MemberDay.WHOLE_COMMUNITY,)


# --- Folding a batch into the roll-ups ----------------------------------------------------------------------
DayKey = tuple[int, int, int, date]  # member, community, space (0 = whole community), day
BucketKey = tuple[int, int, str, str, datetime]  # community, space, country, organisation type, bucket


@dataclass
class _DayDelta:
    events: int = 0
    visits: int = 0
    views: int = 0
    contributions: int = 0
    kind_counts: Counter = field(default_factory=Counter)
    latest: tuple[datetime, int] | None = None
    country: str = ""
    organisation_type: str = ""

    def add(self, event: _Event) -> None:
        activity = is_activity(event.kind)
        self.events += int(activity)
        self.visits += int(activity and event.kind == VISIT)
        self.views += int(activity and is_view(event.kind))
        self.contributions += int(activity and is_contribution(event.kind))
        self.kind_counts[event.kind] += 1
        stamp = (event.occurred_at, event.id)
        if self.latest is None or stamp > self.latest:
            self.latest, self.country, self.organisation_type = stamp, event.country, event.organisation_type


def _staff_ids(member_ids: Iterable[int]) -> set[int]:
    """Staff accounts are left out of the heatmap buckets (they carry no member, so metrics cannot exclude staff
    afterwards as they do for member days)."""
    ids = sorted(set(member_ids))
    staff: set[int] = set()
    for start in range(0, len(ids), CHUNK):
        staff.update(
            get_user_model()
            .objects.filter(pk__in=ids[start : start + CHUNK], is_staff=True)
            .values_list("pk", flat=True)
        )
    return staff


def _accumulate(events: list[_Event], days: dict, buckets: dict, zones: dict) -> list[_Event]:
    """Add ``events`` to the ``days`` and ``buckets`` deltas (fetching zones of new communities into ``zones``);
    returns the events that count (those with a member and a community)."""
    countable = [e for e in events if e.member_id is not None and e.community_id is not None]
    missing = {e.community_id for e in countable} - set(zones)
    if missing:
        zones.update(_zones(missing))
    staff = _staff_ids(e.member_id for e in countable)
    for event in countable:
        day = event.occurred_at.astimezone(zones[event.community_id]).date()
        scopes = _scopes(event.space_id)
        for space_id in scopes:
            days.setdefault((event.member_id, event.community_id, space_id, day), _DayDelta()).add(event)
        if is_activity(event.kind) and event.member_id not in staff:
            bucket = _bucket_start(event.occurred_at)
            for space_id in scopes:
                key = (event.community_id, space_id, event.country, event.organisation_type, bucket)
                counts = buckets.setdefault(key, [0, 0])
                counts[0] += 1
                counts[1] += int(is_contribution(event.kind))
    return countable


def _flush(days: dict, buckets: dict, zones: dict) -> None:
    community_ids = {key[1] for key in days}
    _write_days(days, zones, _policies(community_ids))
    _write_buckets(buckets)


def _fold(events: list[_Event]) -> int:
    """Add ``events`` (never counted before) to the roll-ups; returns how many counted."""
    days: dict[DayKey, _DayDelta] = {}
    buckets: dict[BucketKey, list[int]] = {}
    zones: dict[int, zoneinfo.ZoneInfo] = {}
    countable = _accumulate(events, days, buckets, zones)
    if countable:
        _flush(days, buckets, zones)
    return len(countable)


def _chunks(values: Iterable, size: int = CHUNK) -> list[list]:
    values = sorted(set(values))
    return [values[start : start + size] for start in range(0, len(values), size)] or [[]]


def _existing_days(keys: Iterable[DayKey]) -> dict[DayKey, MemberDay]:
    keys = set(keys)
    communities = {k[1] for k in keys}
    found: dict[DayKey, MemberDay] = {}
    for members in _chunks(k[0] for k in keys):
        for days in _chunks(k[3] for k in keys):
            rows = MemberDay.objects.filter(member_id__in=members, community_id__in=communities, day__in=days)
            for row in rows:
                key = (row.member_id, row.community_id, row.space_id, row.day)
                if key in keys:
                    found[key] = row
    return found


def _write_days(days: dict[DayKey, _DayDelta], zones, policies: dict[int, Policy]) -> None:
    existing = _existing_days(days)
    to_create: list[MemberDay] = []
    to_update: list[MemberDay] = []
    unsettled: dict[DayKey, MemberDay] = {}
    for key, delta in days.items():
        member_id, community_id, space_id, day = key
        row = existing.get(key)
        if row is None:
            row = MemberDay(
                member_id=member_id,
                community_id=community_id,
                space_id=space_id,
                day=day,
                country=delta.country,
                organisation_type=delta.organisation_type,
            )
            to_create.append(row)
        else:
            to_update.append(row)
            if (row.country, row.organisation_type) != (delta.country, delta.organisation_type):
                # Which event of the day is the latest cannot be told from the row: ask the log.
                unsettled[key] = row
        row.events += delta.events
        row.visits += delta.visits
        row.views += delta.views
        row.contributions += delta.contributions
        counts = Counter(row.kind_counts or {})
        counts.update(delta.kind_counts)
        row.kind_counts = dict(sorted(counts.items()))
        row.points = points_for(row.kind_counts, policies.get(community_id, DEFAULT_POLICY))
    if unsettled:
        _settle_breakdown(unsettled, zones)
    MemberDay.objects.bulk_update(to_update, DAY_FIELDS, batch_size=CHUNK)
    MemberDay.objects.bulk_create(to_create, batch_size=CHUNK)


def _settle_breakdown(rows: dict[DayKey, MemberDay], zones) -> None:
    """Set country and organisation type of ``rows`` from the latest event of their day in the log.

    Needed only when a member's country or organisation type changed during a day and its events were counted
    in more than one batch; any event of the day not yet counted settles its row again when it is."""
    wanted = {(m, c, d) for m, c, _s, d in rows}
    latest: dict[DayKey, tuple[datetime, int, str, str]] = {}
    for chunk in _chunks(wanted, 100):
        query = Q()
        for member_id, community_id, day in chunk:
            # Any zone's day lies within a day either side of the UTC day; the exact day is checked below.
            start = datetime.combine(day, time(), tzinfo=UTC) - timedelta(days=1)
            query |= Q(
                member_id=member_id,
                community_id=community_id,
                occurred_at__gte=start,
                occurred_at__lt=start + timedelta(days=3),
            )
        for event in _events(ActivityEvent.objects.filter(query)):
            day = event.occurred_at.astimezone(zones[event.community_id]).date()
            for space_id in _scopes(event.space_id):
                key = (event.member_id, event.community_id, space_id, day)
                candidate = (event.occurred_at, event.id, event.country, event.organisation_type)
                if key in rows and (key not in latest or candidate[:2] > latest[key][:2]):
                    latest[key] = candidate
    for key, (_moment, _id, country, organisation_type) in latest.items():
        rows[key].country, rows[key].organisation_type = country, organisation_type


def _write_buckets(buckets: dict[BucketKey, list[int]]) -> None:
    if not buckets:
        return
    keys = set(buckets)
    communities = {k[0] for k in keys}
    existing: dict[BucketKey, ActivityBucket] = {}
    for moments in _chunks(k[4] for k in keys):
        for row in ActivityBucket.objects.filter(community_id__in=communities, bucket__in=moments):
            key = (row.community_id, row.space_id, row.country, row.organisation_type, row.bucket)
            if key in keys:
                existing[key] = row
    to_create: list[ActivityBucket] = []
    for key, (events, contributions) in buckets.items():
        row = existing.get(key)
        if row is None:
            community_id, space_id, country, organisation_type, bucket = key
            row = ActivityBucket(
                community_id=community_id,
                space_id=space_id,
                country=country,
                organisation_type=organisation_type,
                bucket=bucket,
            )
            to_create.append(row)
        row.events += events
        row.contributions += contributions
    ActivityBucket.objects.bulk_update(list(existing.values()), BUCKET_FIELDS, batch_size=CHUNK)
    ActivityBucket.objects.bulk_create(to_create, batch_size=CHUNK)


# --- The watermark ------------------------------------------------------------------------------------------
def _ensure_state() -> None:
    RollupState.objects.get_or_create(name=STATE_NAME)


def _missing_ids(previous: int, read: list[int], limit: int) -> list[int]:
    """Ids after ``previous`` and before the last of ``read`` (sorted) that were not read: newest first, at most
    ``limit`` of them."""
    missing: list[int] = []
    upper = read[-1]
    for lower in reversed([previous, *read[:-1]]):
        for missing_id in range(upper - 1, lower, -1):
            missing.append(missing_id)
            if len(missing) >= limit:
                return missing
        upper = lower
    return missing


def _advance(state: RollupState, *, batch_size: int, with_gaps: bool) -> tuple[int, int]:
    """Count the next batch after the watermark (and the gaps that have since committed); the caller holds the
    state row's lock. Returns (events read after the watermark, events counted)."""
    now = timezone.now()
    gaps: dict[int, str] = {int(gap["id"]): gap["seen"] for gap in state.gaps or []}
    events: list[_Event] = []
    if with_gaps and gaps:
        for event in _events_by_id(gaps):
            events.append(event)
            del gaps[event.id]
    new = _events(ActivityEvent.objects.filter(pk__gt=state.last_event_id).order_by("pk")[:batch_size])
    if new:
        read = [event.id for event in new]
        seen = now.isoformat()
        for missing_id in _missing_ids(state.last_event_id, read, MAX_GAPS):
            gaps[missing_id] = seen
        state.last_event_id = read[-1]
        events += new
    counted = _fold(events)
    oldest = now - GAP_LIFETIME
    kept = sorted(gap_id for gap_id, seen in gaps.items() if datetime.fromisoformat(seen) > oldest)[-MAX_GAPS:]
    state.gaps = [{"id": gap_id, "seen": gaps[gap_id]} for gap_id in kept]
    state.generation += int(counted > 0)  # cached dashboard figures are recomputed (analytics.figures_cache)
    state.save(update_fields=["last_event_id", "gaps", "generation", "updated_at"])
    return len(new), counted


def rollup_new_events(*, batch_size: int = 5000) -> int:
    """Count every event recorded since the last run into the roll-ups, in batches of ``batch_size``; returns
    how many events were counted.

    Each batch is one transaction holding the roll-up state row's lock, so an event is never counted twice; a
    run that finds the lock taken (another run, or a rebuild) leaves the work to that one and the next run."""
    _ensure_state()
    counted = 0
    first = True
    while True:
        with transaction.atomic():
            state = RollupState.objects.select_for_update(skip_locked=True).filter(name=STATE_NAME).first()
            if state is None:
                return counted
            read, folded = _advance(state, batch_size=batch_size, with_gaps=first)
        counted += folded
        first = False
        if read < batch_size:
            return counted


# --- Rebuild ------------------------------------------------------------------------------------------------
def _delete_rebuildable() -> None:
    """Delete the roll-ups the raw log still covers: per community, from the day (and the 15-minute bucket) of
    its oldest retained event on. The purge removes whole days, so every such day is complete in the log."""
    oldest = dict(
        ActivityEvent.objects.filter(community_id__isnull=False)
        .values("community_id")
        .annotate(first=Min("occurred_at"))
        .values_list("community_id", "first")
    )
    zones = _zones(oldest)
    for community_id, first in oldest.items():
        first_day = first.astimezone(zones[community_id]).date()
        MemberDay.objects.filter(community_id=community_id, day__gte=first_day).delete()
        ActivityBucket.objects.filter(community_id=community_id, bucket__gte=_bucket_start(first)).delete()


# A rebuild folds this many member-days in memory before writing them: one write per row instead of one per
# batch that touches it, which is what makes a rebuild fast.
REBUILD_FLUSH_DAYS = 300_000


def rebuild(*, progress: Callable[[int, int], None] | None = None, batch_size: int = 5000) -> None:
    """Recompute every roll-up from the activity log, in one transaction (dashboards see the old figures until
    it commits); roll-ups of days whose raw events were purged are kept. ``progress(done, total)`` is called
    after each batch."""
    _ensure_state()
    with transaction.atomic():
        state = RollupState.objects.select_for_update().get(name=STATE_NAME)
        _delete_rebuildable()
        first_id = ActivityEvent.objects.order_by("pk").values_list("pk", flat=True).first()
        # Ids below the oldest retained event were purged, not skipped: they are no gaps.
        previous = first_id - 1 if first_id else 0
        total = ActivityEvent.objects.count()
        done = 0
        if progress:
            progress(done, total)
        days: dict[DayKey, _DayDelta] = {}
        buckets: dict[BucketKey, list[int]] = {}
        zones: dict[int, zoneinfo.ZoneInfo] = {}
        last_id = previous
        gaps: dict[int, str] = {}
        seen = timezone.now().isoformat()
        while True:
            batch = _events(ActivityEvent.objects.filter(pk__gt=last_id).order_by("pk")[:batch_size])
            if not batch:
                break
            read = [event.id for event in batch]
            for missing_id in _missing_ids(last_id, read, MAX_GAPS):
                gaps[missing_id] = seen
            last_id = read[-1]
            _accumulate(batch, days, buckets, zones)
            if len(days) >= REBUILD_FLUSH_DAYS:
                _flush(days, buckets, zones)
                days, buckets = {}, {}
            done += len(batch)
            if progress:
                progress(min(done, total), total)
            if len(batch) < batch_size:
                break
        if days:
            _flush(days, buckets, zones)
        kept = sorted(gaps)[-MAX_GAPS:]
        state.last_event_id = last_id
        state.gaps = [{"id": gap_id, "seen": gaps[gap_id]} for gap_id in kept]
        state.generation += 1
        state.save(update_fields=["last_event_id", "gaps", "generation", "updated_at"])


# --- Points after a policy change ---------------------------------------------------------------------------
def points_recompute(*, community_id: int) -> int:
    """Re-derive the points of every day of one community from its kind counts under its current policy (after
    an admin changed the weights or the cap); returns how many rows changed."""
    _ensure_state()
    changed = 0
    with transaction.atomic():
        # No roll-up batch may write points under the old policy meanwhile.
        state = RollupState.objects.select_for_update().get(name=STATE_NAME)
        policy = policy_for(community_id)
        pending: list[MemberDay] = []
        rows = MemberDay.objects.filter(community_id=community_id).only("pk", "kind_counts", "points")
        for row in rows.iterator(chunk_size=2000):
            points = points_for(row.kind_counts or {}, policy)
            if points != row.points:
                row.points = points
                pending.append(row)
            if len(pending) >= 2000:
                MemberDay.objects.bulk_update(pending, ["points"], batch_size=CHUNK)
                changed += len(pending)
                pending = []
        MemberDay.objects.bulk_update(pending, ["points"], batch_size=CHUNK)
        changed += len(pending)
        if changed:
            state.generation += 1
            state.save(update_fields=["generation", "updated_at"])
    return changed


# --- Retention ----------------------------------------------------------------------------------------------
def _months_before(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _local_midnight(moment: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    return datetime.combine(moment.astimezone(zone).date(), time(), tzinfo=zone)


def raw_activity_purge(*, now: datetime | None = None) -> int:
    """Delete activity events older than ``ANALYTICS_RAW_RETENTION_MONTHS``; the roll-ups stay. Returns how many.

    The cut falls on the start of the community's calendar day, so a day is either wholly purged or wholly kept
    (``rebuild`` relies on it). The log is otherwise append-only: this is its one delete."""
    now = now or timezone.now()
    cutoff = _months_before(now, settings.ANALYTICS_RAW_RETENTION_MONTHS)
    old = ActivityEvent.objects.filter(occurred_at__lt=cutoff)
    community_ids = sorted(set(old.filter(community_id__isnull=False).values_list("community_id", flat=True)))
    zones = _zones(community_ids)
    deleted = 0
    with transaction.atomic():
        for community_id in community_ids:
            boundary = _local_midnight(cutoff, zones[community_id])
            _count, per_model = ActivityEvent.objects.filter(
                community_id=community_id, occurred_at__lt=boundary
            ).delete()
            deleted += per_model.get(ActivityEvent._meta.label, 0)
        _count, per_model = ActivityEvent.objects.filter(community_id__isnull=True, occurred_at__lt=cutoff).delete()
        deleted += per_model.get(ActivityEvent._meta.label, 0)
    if deleted:
        logger.info("Purged %s activity events that occurred before %s", deleted, cutoff.isoformat())
    return deleted
