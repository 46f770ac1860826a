"""The analytics roll-ups for ``seed_scale``, computed set-based in PostgreSQL.

``analytics.rollup.rebuild()`` folds the log in Python, batch by batch: right for the trickle of a live site and
for the demo, far too slow for ten million events. Here the same rows come from two ``INSERT ... SELECT ...
GROUP BY`` statements that follow the rules of ``analytics/rollup.py`` to the letter (``tests/test_seed_scale.py``
checks that they produce exactly what ``rebuild()`` does):

- ``MemberDay`` per member, community, scope (0 = whole community, and the event's space) and calendar day in the
  community's time zone; events without a member or a community count nowhere; ``events`` every kind but
  credits, ``visits``, ``views``, ``contributions`` by ``analytics.kinds``; ``kind_counts`` every kind;
  ``points`` = min(daily cap, sum of count x weight) under the community's policy; country and organisation type
  of the day's latest event (latest ``occurred_at``, then highest id);
- ``ActivityBucket`` per community, scope, country, organisation type and 15-minute UTC bucket: the non-credit
  events and the contributions among them.

Like ``rebuild()`` it first deletes the roll-ups the raw log still covers (per community, from the day of its
oldest event) and leaves older ones alone, and it sets the incremental roll-up's watermark to the last event.
On other databases ``rebuild()`` itself runs (the embedded default only ever holds small data sets).
"""

from __future__ import annotations

import zoneinfo

from django.db import connections, transaction

from analytics import rollup
from analytics.kinds import CONTRIBUTION_KINDS, CREDIT_KINDS, VIEW_KINDS, VISIT
from analytics.models import ActivityEvent, RollupState
from communities.models import Community
from spaces.management.commands._scale_writer import BulkWriter


def _literals(values) -> str:
    return ", ".join("'" + str(value).replace("'", "''") + "'" for value in sorted(values)) or "NULL"


def _zones_sql() -> str:
    """(community id, time zone) for every community; unknown zone names count as UTC, as in ``rollup._zones``."""
    rows = []
    for pk, name in Community.objects.values_list("pk", "time_zone"):
        try:
            zoneinfo.ZoneInfo(name or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            name = "UTC"
        rows.append(f"({int(pk)}, '{(name or 'UTC').replace(chr(39), '')}')")
    return ", ".join(rows) or "(0, 'UTC')"


def _policies_sql(community_ids) -> tuple[str, str]:
    """VALUES lists of (community, cap) and (community, kind, weight) under each community's points policy."""
    caps, weights = [], []
    for community_id in community_ids:
        policy = rollup.policy_for(community_id)
        caps.append(f"({int(community_id)}, {int(policy.daily_cap)})")
        for kind, weight in policy.weights.items():
            if weight:
                weights.append(f"({int(community_id)}, '{kind.replace(chr(39), '')}', {int(weight)})")
    return ", ".join(caps) or "(0, 0)", ", ".join(weights) or "(0, '', 0)"


# The event's scopes: the whole community (0) and its space, when it has one (``rollup._scopes``).
SCOPES = "CROSS JOIN LATERAL (VALUES (0::bigint), (NULLIF(e.space_id, 0))) AS sc(space_id)"
COUNTABLE = "e.member_id IS NOT NULL AND e.community_id IS NOT NULL AND sc.space_id IS NOT NULL"
# Marks a day whose events disagree on country or organisation type until it is settled from the log.
UNSETTLED = "chr(1)"


def rollups_rebuild(*, using: str = "default", writer: BulkWriter | None = None) -> dict[str, int]:
    """Recompute ``MemberDay`` and ``ActivityBucket`` from the activity log; returns the row counts.

    The two tables are written at the same time on two connections when ``writer`` allows it (outside a
    transaction), each in a transaction of its own, while this one holds the roll-up state's lock."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        rollup.rebuild()
        return _counts(connection)
    writer = writer or BulkWriter(using)
    parallel = not connection.in_atomic_block  # decided before this function's own transaction begins
    zones = _zones_sql()
    credits, views, contributions = _literals(CREDIT_KINDS), _literals(VIEW_KINDS), _literals(CONTRIBUTION_KINDS)
    with transaction.atomic(using=using):
        RollupState.objects.using(using).get_or_create(name=rollup.STATE_NAME)
        state = RollupState.objects.using(using).select_for_update().get(name=rollup.STATE_NAME)
        with connection.cursor() as cursor:
            # Each community in the log: its oldest event and its zone (UTC for a community that is gone).
            cursor.execute(
                f"""
                SELECT e.community_id, min(e.occurred_at), COALESCE(min(z.tz), 'UTC')
                FROM analytics_activityevent e
                LEFT JOIN (VALUES {zones}) AS z(community_id, tz) ON z.community_id = e.community_id
                WHERE e.community_id IS NOT NULL
                GROUP BY e.community_id
                """  # noqa: S608 (values built from our own rows above)  # nosec B608
            )
            found = cursor.fetchall()
        if not found:
            return _counts(connection)
        firsts = ", ".join(f"({int(c)}, '{first.isoformat()}'::timestamptz, '{tz}')" for c, first, tz in found)
        caps, weights = _policies_sql([c for c, _first, _tz in found])

        def member_days() -> None:
            with transaction.atomic(using=using), connections[using].cursor() as cursor:
                _tune(cursor)
                cursor.execute(
                    f"""
                    DELETE FROM analytics_memberday m USING (VALUES {firsts}) AS f(community_id, first, tz)
                    WHERE m.community_id = f.community_id AND m.day >= (f.first AT TIME ZONE f.tz)::date
                    """  # noqa: S608  # nosec B608 # names and values of our own
                )
                cursor.execute(
                    f"""
                    INSERT INTO analytics_memberday (member_id, community_id, space_id, day, country, organisation_type,
                        events, visits, views, contributions, kind_counts, points)
                    WITH k AS (
                        SELECT e.member_id, e.community_id, sc.space_id, (e.occurred_at AT TIME ZONE z.tz)::date AS day,
                            e.kind, count(*) AS n, min(e.country) AS c_lo, max(e.country) AS c_hi,
                            min(e.organisation_type) AS o_lo, max(e.organisation_type) AS o_hi
                        FROM analytics_activityevent e
                        JOIN (VALUES {firsts}) AS z(community_id, first, tz) ON z.community_id = e.community_id
                        {SCOPES}
                        WHERE {COUNTABLE}
                        GROUP BY 1, 2, 3, 4, 5
                    )
                    SELECT k.member_id, k.community_id, k.space_id, k.day,
                        CASE WHEN min(k.c_lo) = max(k.c_hi) AND min(k.o_lo) = max(k.o_hi) THEN min(k.c_lo)
                            ELSE {UNSETTLED} END,
                        min(k.o_lo),
                        COALESCE(sum(k.n) FILTER (WHERE k.kind NOT IN ({credits})), 0),
                        COALESCE(sum(k.n) FILTER (WHERE k.kind = '{VISIT}'), 0),
                        COALESCE(sum(k.n) FILTER (WHERE k.kind IN ({views}) AND k.kind NOT IN ({credits})), 0),
                        COALESCE(sum(k.n) FILTER (WHERE k.kind IN ({contributions}) AND k.kind NOT IN ({credits})), 0),
                        jsonb_object_agg(k.kind, k.n),
                        GREATEST(0, LEAST(max(p.cap), COALESCE(sum(k.n * w.weight), 0)))
                    FROM k
                    JOIN (VALUES {caps}) AS p(community_id, cap) ON p.community_id = k.community_id
                    LEFT JOIN (VALUES {weights}) AS w(community_id, kind, weight)
                        ON w.community_id = k.community_id AND w.kind = k.kind
                    GROUP BY k.member_id, k.community_id, k.space_id, k.day
                    ORDER BY k.member_id, k.community_id, k.space_id, k.day
                    """  # noqa: S608 (kinds and values from our own registry and rows)  # nosec B608
                )
                # Days whose events disagree on country or organisation type (the member changed their profile
                # that day): those of the latest event, as ``rollup`` settles them. Rare: looked up only for them.
                cursor.execute(
                    f"""
                    UPDATE analytics_memberday m SET country = l.country, organisation_type = l.organisation_type
                    FROM (
                        SELECT DISTINCT ON (
                            e.member_id, e.community_id, sc.space_id, (e.occurred_at AT TIME ZONE z.tz)::date
                        )
                            e.member_id, e.community_id, sc.space_id, (e.occurred_at AT TIME ZONE z.tz)::date AS day,
                            e.country, e.organisation_type
                        FROM analytics_activityevent e
                        JOIN (VALUES {firsts}) AS z(community_id, first, tz) ON z.community_id = e.community_id
                        {SCOPES}
                        WHERE {COUNTABLE} AND (e.member_id, e.community_id) IN (
                            SELECT member_id, community_id FROM analytics_memberday WHERE country = {UNSETTLED}
                        )
                        ORDER BY e.member_id, e.community_id, sc.space_id, (e.occurred_at AT TIME ZONE z.tz)::date,
                            e.occurred_at DESC, e.id DESC
                    ) AS l
                    WHERE m.country = {UNSETTLED} AND m.member_id = l.member_id AND m.community_id = l.community_id
                        AND m.space_id = l.space_id AND m.day = l.day
                    """  # noqa: S608  # nosec B608 # names and values of our own
                )

        def buckets() -> None:
            with transaction.atomic(using=using), connections[using].cursor() as cursor:
                _tune(cursor)
                cursor.execute(
                    f"""
                    DELETE FROM analytics_activitybucket b USING (VALUES {firsts}) AS f(community_id, first, tz)
                    WHERE b.community_id = f.community_id
                      AND b.bucket >= to_timestamp(floor(extract(epoch FROM f.first) / 900) * 900)
                    """  # noqa: S608  # nosec B608 # names and values of our own
                )
                cursor.execute(
                    f"""
                    INSERT INTO analytics_activitybucket (community_id, space_id, country, organisation_type, bucket,
                        events, contributions)
                    SELECT e.community_id, sc.space_id, e.country, e.organisation_type,
                        to_timestamp(floor(extract(epoch FROM e.occurred_at) / 900) * 900),
                        count(*), count(*) FILTER (WHERE e.kind IN ({contributions}))
                    FROM analytics_activityevent e
                    {SCOPES}
                    WHERE {COUNTABLE} AND e.kind NOT IN ({credits})
                    GROUP BY 1, 2, 3, 4, 5
                    ORDER BY 1, 2, 3, 4, 5
                    """  # noqa: S608  # nosec B608 # names and values of our own
                )

        writer.run_parallel([member_days, buckets], parallel=parallel)
        last = ActivityEvent.objects.using(using).order_by("-pk").values_list("pk", flat=True).first() or 0
        state.last_event_id = last
        state.gaps = []
        state.save(update_fields=["last_event_id", "gaps", "updated_at"])
    return _counts(connection)


def _tune(cursor) -> None:
    """Big sorts and hashes in memory; no JIT (it compiles for longer than it saves here)."""
    cursor.execute("SET LOCAL work_mem = '256MB'")
    cursor.execute("SET LOCAL jit = off")
    cursor.execute("SET LOCAL synchronous_commit = off")


def _counts(connection) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM analytics_memberday")
        days = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM analytics_activitybucket")
        buckets = cursor.fetchone()[0]
    return {"member days": days, "activity buckets": buckets}
