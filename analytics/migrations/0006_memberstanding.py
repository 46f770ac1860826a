"""``MemberStanding``: one row per member and community, kept by database triggers.

A row holds when the member joined the community (``joined_at``, set from the community membership and emptied
when it goes) and their recent whole-community activity: the latest month with an active day (``last_month``, as
``year * 12 + month - 1``), the day masks of that month and the two before it, and the active months of the 63
months up to it as bits. Triggers on the community memberships set ``joined_at``; triggers on the whole-community
``MemberMonth`` rows (``space_id`` 0) fold each statement's members again from their months, read through a new
index on (member, community, month). A row whose member has neither a membership nor active months is deleted.
On PostgreSQL the triggers run once per statement over its transition tables; on SQLite once per row. Existing
memberships and months are folded in when the migration runs.

The SQL is written out here rather than imported, so that this migration keeps doing what it did when written.
"""

from django.db import migrations, models

STANDING_COLUMNS = "member_id, community_id, joined_at, last_month, mask0, mask1, mask2, active_months"
ACTIVITY_UPDATE = (
    "last_month = EXCLUDED.last_month, mask0 = EXCLUDED.mask0, mask1 = EXCLUDED.mask1, mask2 = EXCLUDED.mask2, "
    "active_months = EXCLUDED.active_months"
)
RECENT = 63


# --- PostgreSQL: statement triggers over the transition tables ------------------------------------------------
PG_MONTH_INDEX = "(extract(year FROM m.month)::int * 12 + extract(month FROM m.month)::int - 1)"


def _pg_refold(keys: str) -> str:
    """Fold again the activity of the (member_id, community_id) pairs that ``keys`` selects, from their months."""
    return f"""
    INSERT INTO analytics_memberstanding ({STANDING_COLUMNS})
    SELECT k.member_id, k.community_id, NULL, f.last_month, COALESCE(f.mask0, 0), COALESCE(f.mask1, 0),
        COALESCE(f.mask2, 0), COALESCE(f.active_months, 0)
    FROM ({keys}) k
    LEFT JOIN (
        SELECT a.member_id, a.community_id, t.last_month,
            max(a.active_mask) FILTER (WHERE a.idx = t.last_month) AS mask0,
            max(a.active_mask) FILTER (WHERE a.idx = t.last_month - 1) AS mask1,
            max(a.active_mask) FILTER (WHERE a.idx = t.last_month - 2) AS mask2,
            bit_or(1::bigint << (t.last_month - a.idx)) FILTER (WHERE t.last_month - a.idx < {RECENT})
                AS active_months
        FROM (
            SELECT m.member_id, m.community_id, {PG_MONTH_INDEX} AS idx, m.active_mask
            FROM analytics_membermonth m JOIN ({keys}) k2
                ON m.member_id = k2.member_id AND m.community_id = k2.community_id
            WHERE m.space_id = 0 AND m.active_mask > 0
        ) a
        JOIN (
            SELECT m.member_id, m.community_id, max({PG_MONTH_INDEX}) AS last_month
            FROM analytics_membermonth m JOIN ({keys}) k3
                ON m.member_id = k3.member_id AND m.community_id = k3.community_id
            WHERE m.space_id = 0 AND m.active_mask > 0
            GROUP BY 1, 2
        ) t ON t.member_id = a.member_id AND t.community_id = a.community_id
        GROUP BY 1, 2, 3
    ) f ON f.member_id = k.member_id AND f.community_id = k.community_id
    ORDER BY k.community_id, k.member_id
    ON CONFLICT (community_id, member_id) DO UPDATE SET {ACTIVITY_UPDATE};
    {_pg_drop_empty(keys)}"""


def _pg_drop_empty(keys: str) -> str:
    return f"""
    DELETE FROM analytics_memberstanding s USING ({keys}) k
    WHERE s.member_id = k.member_id AND s.community_id = k.community_id
        AND s.joined_at IS NULL AND s.last_month IS NULL;"""


def _pg_month_keys(table: str) -> str:
    return f"SELECT DISTINCT member_id, community_id FROM {table} WHERE space_id = 0"


def _pg_membership_keys(table: str) -> str:
    return f"SELECT DISTINCT user_id AS member_id, community_id FROM {table}"


PG_JOIN = f"""
    INSERT INTO analytics_memberstanding ({STANDING_COLUMNS})
    SELECT user_id, community_id, joined_at, NULL, 0, 0, 0, 0 FROM new_members ORDER BY community_id, user_id
    ON CONFLICT (community_id, member_id) DO UPDATE SET joined_at = EXCLUDED.joined_at;"""
PG_LEAVE = """
    UPDATE analytics_memberstanding s SET joined_at = NULL
    FROM old_members o WHERE s.member_id = o.user_id AND s.community_id = o.community_id;"""
PG_INSTALL = f"""
CREATE OR REPLACE FUNCTION analytics_memberstanding_months() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_pg_refold(_pg_month_keys("new_months"))}
    ELSIF TG_OP = 'UPDATE' THEN
        {_pg_refold(_pg_month_keys("new_months") + " UNION " + _pg_month_keys("old_months"))}
    ELSE
        {_pg_refold(_pg_month_keys("old_months"))}
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION analytics_memberstanding_members() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {PG_LEAVE}
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        {PG_JOIN}
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {_pg_drop_empty(_pg_membership_keys("old_members"))}
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER analytics_membermonth_standing_insert AFTER INSERT ON analytics_membermonth
    REFERENCING NEW TABLE AS new_months FOR EACH STATEMENT EXECUTE FUNCTION analytics_memberstanding_months();
CREATE TRIGGER analytics_membermonth_standing_update AFTER UPDATE ON analytics_membermonth
    REFERENCING OLD TABLE AS old_months NEW TABLE AS new_months
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_memberstanding_months();
CREATE TRIGGER analytics_membermonth_standing_delete AFTER DELETE ON analytics_membermonth
    REFERENCING OLD TABLE AS old_months FOR EACH STATEMENT EXECUTE FUNCTION analytics_memberstanding_months();

CREATE TRIGGER communities_membership_standing_insert AFTER INSERT ON communities_communitymembership
    REFERENCING NEW TABLE AS new_members FOR EACH STATEMENT EXECUTE FUNCTION analytics_memberstanding_members();
CREATE TRIGGER communities_membership_standing_update AFTER UPDATE ON communities_communitymembership
    REFERENCING OLD TABLE AS old_members NEW TABLE AS new_members
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_memberstanding_members();
CREATE TRIGGER communities_membership_standing_delete AFTER DELETE ON communities_communitymembership
    REFERENCING OLD TABLE AS old_members FOR EACH STATEMENT EXECUTE FUNCTION analytics_memberstanding_members();
"""
PG_UNINSTALL = """
DROP TRIGGER IF EXISTS analytics_membermonth_standing_insert ON analytics_membermonth;
DROP TRIGGER IF EXISTS analytics_membermonth_standing_update ON analytics_membermonth;
DROP TRIGGER IF EXISTS analytics_membermonth_standing_delete ON analytics_membermonth;
DROP TRIGGER IF EXISTS communities_membership_standing_insert ON communities_communitymembership;
DROP TRIGGER IF EXISTS communities_membership_standing_update ON communities_communitymembership;
DROP TRIGGER IF EXISTS communities_membership_standing_delete ON communities_communitymembership;
DROP FUNCTION IF EXISTS analytics_memberstanding_months();
DROP FUNCTION IF EXISTS analytics_memberstanding_members();
"""
# Writers wait while the existing rows are folded in, so that none is missed.
PG_BACKFILL = f"""
LOCK TABLE communities_communitymembership, analytics_membermonth IN SHARE MODE;
DELETE FROM analytics_memberstanding;
INSERT INTO analytics_memberstanding ({STANDING_COLUMNS})
SELECT user_id, community_id, joined_at, NULL, 0, 0, 0, 0 FROM communities_communitymembership
ORDER BY community_id, user_id;
{_pg_refold(_pg_month_keys("analytics_membermonth"))}
ANALYZE analytics_memberstanding;
"""


# --- SQLite: row triggers ---------------------------------------------------------------------------------------
SQLITE_MONTH_INDEX = "(CAST(substr(m.month, 1, 4) AS INTEGER) * 12 + CAST(substr(m.month, 6, 2) AS INTEGER) - 1)"


def _sqlite_refold(row: str) -> str:
    """Fold again the activity of ``row``'s member in ``row``'s community (no common table expressions: SQLite
    allows none in a trigger). Each month appears once per member, so the sum of its bits is their bitwise or."""
    key = f"m.member_id = {row}.member_id AND m.community_id = {row}.community_id AND m.space_id = 0"

    def mask(back: int) -> str:
        return (
            f"COALESCE((SELECT m.active_mask FROM analytics_membermonth m WHERE {key} "
            f"AND {SQLITE_MONTH_INDEX} = t.last_month - {back}), 0)"
        )

    return f"""
    INSERT INTO analytics_memberstanding ({STANDING_COLUMNS})
    SELECT {row}.member_id, {row}.community_id, NULL, t.last_month, {mask(0)}, {mask(1)}, {mask(2)},
        COALESCE((SELECT sum(1 << (t.last_month - {SQLITE_MONTH_INDEX})) FROM analytics_membermonth m
                  WHERE {key} AND m.active_mask > 0 AND t.last_month - {SQLITE_MONTH_INDEX} < {RECENT}), 0)
    FROM (SELECT max({SQLITE_MONTH_INDEX}) AS last_month FROM analytics_membermonth m
          WHERE {key} AND m.active_mask > 0) t
    WHERE true
    ON CONFLICT (community_id, member_id) DO UPDATE SET {ACTIVITY_UPDATE.replace("EXCLUDED", "excluded")};
    {_sqlite_drop_empty(row, "member_id")}"""


def _sqlite_drop_empty(row: str, member: str) -> str:
    return (
        f"DELETE FROM analytics_memberstanding WHERE member_id = {row}.{member} "
        f"AND community_id = {row}.community_id AND joined_at IS NULL AND last_month IS NULL;"
    )


SQLITE_JOIN = f"""
    INSERT INTO analytics_memberstanding ({STANDING_COLUMNS})
    VALUES (NEW.user_id, NEW.community_id, NEW.joined_at, NULL, 0, 0, 0, 0)
    ON CONFLICT (community_id, member_id) DO UPDATE SET joined_at = excluded.joined_at;"""
SQLITE_LEAVE = (
    "UPDATE analytics_memberstanding SET joined_at = NULL "
    "WHERE member_id = OLD.user_id AND community_id = OLD.community_id;"
)
SQLITE_TRIGGERS = {
    "analytics_membermonth_standing_insert": (
        f"AFTER INSERT ON analytics_membermonth WHEN NEW.space_id = 0 BEGIN {_sqlite_refold('NEW')} END"
    ),
    "analytics_membermonth_standing_update": (
        "AFTER UPDATE ON analytics_membermonth WHEN NEW.space_id = 0 OR OLD.space_id = 0 "
        f"BEGIN {_sqlite_refold('OLD')} {_sqlite_refold('NEW')} END"
    ),
    "analytics_membermonth_standing_delete": (
        f"AFTER DELETE ON analytics_membermonth WHEN OLD.space_id = 0 BEGIN {_sqlite_refold('OLD')} END"
    ),
    "communities_membership_standing_insert": (
        f"AFTER INSERT ON communities_communitymembership BEGIN {SQLITE_JOIN} END"
    ),
    "communities_membership_standing_update": (
        "AFTER UPDATE ON communities_communitymembership "
        f"BEGIN {SQLITE_LEAVE} {SQLITE_JOIN} {_sqlite_drop_empty('OLD', 'user_id')} END"
    ),
    "communities_membership_standing_delete": (
        "AFTER DELETE ON communities_communitymembership "
        f"BEGIN {SQLITE_LEAVE} {_sqlite_drop_empty('OLD', 'user_id')} END"
    ),
}
SQLITE_INSTALL = [f"CREATE TRIGGER {name} {body};" for name, body in SQLITE_TRIGGERS.items()]
SQLITE_UNINSTALL = [f"DROP TRIGGER IF EXISTS {name};" for name in SQLITE_TRIGGERS]
SQLITE_BACKFILL = [
    "DELETE FROM analytics_memberstanding;",
    f"""INSERT INTO analytics_memberstanding ({STANDING_COLUMNS})
    SELECT user_id, community_id, joined_at, NULL, 0, 0, 0, 0 FROM communities_communitymembership
    ORDER BY community_id, user_id;""",
    f"""WITH a AS (
        SELECT m.member_id, m.community_id, {SQLITE_MONTH_INDEX} AS idx, m.active_mask
        FROM analytics_membermonth m WHERE m.space_id = 0 AND m.active_mask > 0
    ), t AS (SELECT member_id, community_id, max(idx) AS last_month FROM a GROUP BY 1, 2)
    INSERT INTO analytics_memberstanding ({STANDING_COLUMNS})
    SELECT a.member_id, a.community_id, NULL, t.last_month,
        max(CASE WHEN a.idx = t.last_month THEN a.active_mask ELSE 0 END),
        max(CASE WHEN a.idx = t.last_month - 1 THEN a.active_mask ELSE 0 END),
        max(CASE WHEN a.idx = t.last_month - 2 THEN a.active_mask ELSE 0 END),
        sum(CASE WHEN t.last_month - a.idx < {RECENT} THEN 1 << (t.last_month - a.idx) ELSE 0 END)
    FROM a JOIN t ON t.member_id = a.member_id AND t.community_id = a.community_id
    GROUP BY a.member_id, a.community_id, t.last_month
    ON CONFLICT (community_id, member_id) DO UPDATE SET {ACTIVITY_UPDATE.replace("EXCLUDED", "excluded")};""",
]


def _run(schema_editor, statements) -> None:
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def install(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, [PG_INSTALL, PG_BACKFILL])
    elif vendor == "sqlite":
        _run(schema_editor, [*SQLITE_INSTALL, *SQLITE_BACKFILL])
    else:
        raise NotImplementedError(f"analytics.MemberStanding needs triggers written for {vendor}")


def uninstall(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    _run(schema_editor, [PG_UNINSTALL] if vendor == "postgresql" else SQLITE_UNINSTALL)


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0005_field_labels"),
        ("communities", "0004_field_labels"),
    ]

    operations = [
        migrations.CreateModel(
            name="MemberStanding",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("member_id", models.BigIntegerField(verbose_name="member ID")),
                ("community_id", models.BigIntegerField(verbose_name="community ID")),
                (
                    "joined_at",
                    models.DateTimeField(
                        blank=True, help_text="Empty when not a member now.", null=True, verbose_name="joined"
                    ),
                ),
                (
                    "last_month",
                    models.IntegerField(
                        blank=True,
                        help_text="year * 12 + month - 1 of the latest active month.",
                        null=True,
                        verbose_name="last active month",
                    ),
                ),
                ("mask0", models.PositiveIntegerField(default=0, verbose_name="days of the last active month")),
                ("mask1", models.PositiveIntegerField(default=0, verbose_name="days of the month before")),
                ("mask2", models.PositiveIntegerField(default=0, verbose_name="days of two months before")),
                (
                    "active_months",
                    models.PositiveBigIntegerField(
                        default=0,
                        help_text="Bit k: active in month last_month - k.",
                        verbose_name="active months (bit mask)",
                    ),
                ),
            ],
            options={
                "verbose_name": "member standing",
                "verbose_name_plural": "member standings",
                "constraints": [
                    models.UniqueConstraint(fields=("community_id", "member_id"), name="analytics_memberstanding_unique")
                ],
            },
        ),
        migrations.AddIndex(
            model_name="membermonth",
            index=models.Index(
                condition=models.Q(("space_id", 0)),
                fields=["member_id", "community_id", "month"],
                name="analytics_membermonth_member",
            ),
        ),
        migrations.RunPython(install, uninstall),
    ]
