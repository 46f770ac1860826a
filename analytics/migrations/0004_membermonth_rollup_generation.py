"""``MemberMonth`` and ``MemberEra``, kept by database triggers, and the roll-up state's generation.

Every statement that inserts, updates or deletes member days folds them into their months in the same
transaction: a month row's ``days`` counts its member days, its masks have bit ``d - 1`` set when day ``d`` has a
member day with events (``active_mask``), contributions (``contribution_mask``) or visits (``visit_mask``), and
``points``, ``contributions`` and ``referrals`` are the sums of its days'. A month whose last member day goes is
deleted. The months fold in turn into eras of 60 months: ``months`` counts an era's member months and bit ``k`` of
``active_months`` is set when its ``k``-th month has an active day. On PostgreSQL the triggers run once per
statement over its transition tables (a bulk insert of millions of days is one grouped upsert per level); on
SQLite once per row. Existing member days are folded in when the migration runs.

The SQL is written out here rather than imported, so that this migration keeps doing what it did when written.
"""

from django.db import migrations, models

MONTH_COLUMNS = (
    "member_id, community_id, space_id, month, days, active_mask, contribution_mask, visit_mask, points, "
    "contributions, referrals"
)
MONTH_KEY = ("member_id", "community_id", "space_id", "month")
ERA_COLUMNS = "member_id, community_id, space_id, era, months, active_months"
ERA_KEY = ("member_id", "community_id", "space_id", "era")
# Rows are written in the order of the tables' keys, so that a scope's months (eras) lie together on disk.
MONTH_ORDER = "ORDER BY community_id, space_id, month, member_id"
ERA_ORDER = "ORDER BY community_id, space_id, era, member_id"


def _join(key: tuple[str, ...]) -> str:
    return " AND ".join(f"t.{column} = o.{column}" for column in key)


# --- PostgreSQL: statement triggers over the transition tables ------------------------------------------------
PG_DAY_BIT = "(1 << (extract(day FROM d.day)::int - 1))"
PG_MONTH = "date_trunc('month', d.day)::date"
PG_REFERRALS = "COALESCE((d.kind_counts ->> 'referral')::int, 0)"
PG_FOLD_DAYS = f"""
    SELECT d.member_id, d.community_id, d.space_id, {PG_MONTH} AS month, count(*)::int AS days,
        COALESCE(bit_or({PG_DAY_BIT}) FILTER (WHERE d.events > 0), 0) AS active_mask,
        COALESCE(bit_or({PG_DAY_BIT}) FILTER (WHERE d.contributions > 0), 0) AS contribution_mask,
        COALESCE(bit_or({PG_DAY_BIT}) FILTER (WHERE d.visits > 0), 0) AS visit_mask,
        sum(d.points)::int AS points, sum(d.contributions)::int AS contributions,
        sum({PG_REFERRALS})::int AS referrals, bit_or({PG_DAY_BIT}) AS day_bits
    FROM {{table}} d
    GROUP BY 1, 2, 3, 4
"""
PG_MONTH_INDEX = "(extract(year FROM m.month)::int * 12 + extract(month FROM m.month)::int - 1)"
PG_MONTH_BIT = f"(1::bigint << ({PG_MONTH_INDEX} % 60))"
PG_FOLD_MONTHS = f"""
    SELECT m.member_id, m.community_id, m.space_id, {PG_MONTH_INDEX} / 60 AS era, count(*)::int AS months,
        COALESCE(bit_or({PG_MONTH_BIT}) FILTER (WHERE m.active_mask > 0), 0) AS active_months,
        bit_or({PG_MONTH_BIT}) AS month_bits
    FROM {{table}} m
    GROUP BY 1, 2, 3, 4
"""
PG_INSTALL = f"""
CREATE OR REPLACE FUNCTION analytics_membermonth_fold() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE analytics_membermonth t SET
            days = t.days - o.days,
            active_mask = t.active_mask & ~o.day_bits,
            contribution_mask = t.contribution_mask & ~o.day_bits,
            visit_mask = t.visit_mask & ~o.day_bits,
            points = t.points - o.points,
            contributions = t.contributions - o.contributions,
            referrals = t.referrals - o.referrals
        FROM ({PG_FOLD_DAYS.format(table="old_days")}) o
        WHERE {_join(MONTH_KEY)};
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO analytics_membermonth ({MONTH_COLUMNS})
        SELECT {MONTH_COLUMNS} FROM ({PG_FOLD_DAYS.format(table="new_days")}) n {MONTH_ORDER}
        ON CONFLICT (community_id, space_id, month, member_id) DO UPDATE SET
            days = analytics_membermonth.days + EXCLUDED.days,
            active_mask = analytics_membermonth.active_mask | EXCLUDED.active_mask,
            contribution_mask = analytics_membermonth.contribution_mask | EXCLUDED.contribution_mask,
            visit_mask = analytics_membermonth.visit_mask | EXCLUDED.visit_mask,
            points = analytics_membermonth.points + EXCLUDED.points,
            contributions = analytics_membermonth.contributions + EXCLUDED.contributions,
            referrals = analytics_membermonth.referrals + EXCLUDED.referrals;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM analytics_membermonth t
        USING (SELECT DISTINCT d.member_id, d.community_id, d.space_id, {PG_MONTH} AS month FROM old_days d) o
        WHERE {_join(MONTH_KEY)} AND t.days = 0;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION analytics_memberera_fold() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE analytics_memberera t SET
            months = t.months - o.months,
            active_months = t.active_months & ~o.month_bits
        FROM ({PG_FOLD_MONTHS.format(table="old_months")}) o
        WHERE {_join(ERA_KEY)};
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO analytics_memberera ({ERA_COLUMNS})
        SELECT {ERA_COLUMNS} FROM ({PG_FOLD_MONTHS.format(table="new_months")}) n {ERA_ORDER}
        ON CONFLICT (community_id, space_id, era, member_id) DO UPDATE SET
            months = analytics_memberera.months + EXCLUDED.months,
            active_months = analytics_memberera.active_months | EXCLUDED.active_months;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM analytics_memberera t
        USING (SELECT DISTINCT m.member_id, m.community_id, m.space_id, {PG_MONTH_INDEX} / 60 AS era
               FROM old_months m) o
        WHERE {_join(ERA_KEY)} AND t.months = 0;
    END IF;
    RETURN NULL;
END
$$;

-- DELETE rather than TRUNCATE: a TRUNCATE listing these tables too (Django's flush) has them in use already.
CREATE OR REPLACE FUNCTION analytics_membermonth_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM analytics_membermonth;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION analytics_memberera_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM analytics_memberera;
    RETURN NULL;
END
$$;

CREATE TRIGGER analytics_memberday_months_insert AFTER INSERT ON analytics_memberday
    REFERENCING NEW TABLE AS new_days FOR EACH STATEMENT EXECUTE FUNCTION analytics_membermonth_fold();
CREATE TRIGGER analytics_memberday_months_update AFTER UPDATE ON analytics_memberday
    REFERENCING OLD TABLE AS old_days NEW TABLE AS new_days FOR EACH STATEMENT EXECUTE FUNCTION analytics_membermonth_fold();
CREATE TRIGGER analytics_memberday_months_delete AFTER DELETE ON analytics_memberday
    REFERENCING OLD TABLE AS old_days FOR EACH STATEMENT EXECUTE FUNCTION analytics_membermonth_fold();
CREATE TRIGGER analytics_memberday_months_truncate AFTER TRUNCATE ON analytics_memberday
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_membermonth_truncate();

CREATE TRIGGER analytics_membermonth_eras_insert AFTER INSERT ON analytics_membermonth
    REFERENCING NEW TABLE AS new_months FOR EACH STATEMENT EXECUTE FUNCTION analytics_memberera_fold();
CREATE TRIGGER analytics_membermonth_eras_update AFTER UPDATE ON analytics_membermonth
    REFERENCING OLD TABLE AS old_months NEW TABLE AS new_months FOR EACH STATEMENT EXECUTE FUNCTION analytics_memberera_fold();
CREATE TRIGGER analytics_membermonth_eras_delete AFTER DELETE ON analytics_membermonth
    REFERENCING OLD TABLE AS old_months FOR EACH STATEMENT EXECUTE FUNCTION analytics_memberera_fold();
CREATE TRIGGER analytics_membermonth_eras_truncate AFTER TRUNCATE ON analytics_membermonth
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_memberera_truncate();
"""
PG_UNINSTALL = """
DROP TRIGGER IF EXISTS analytics_memberday_months_insert ON analytics_memberday;
DROP TRIGGER IF EXISTS analytics_memberday_months_update ON analytics_memberday;
DROP TRIGGER IF EXISTS analytics_memberday_months_delete ON analytics_memberday;
DROP TRIGGER IF EXISTS analytics_memberday_months_truncate ON analytics_memberday;
DROP TRIGGER IF EXISTS analytics_membermonth_eras_insert ON analytics_membermonth;
DROP TRIGGER IF EXISTS analytics_membermonth_eras_update ON analytics_membermonth;
DROP TRIGGER IF EXISTS analytics_membermonth_eras_delete ON analytics_membermonth;
DROP TRIGGER IF EXISTS analytics_membermonth_eras_truncate ON analytics_membermonth;
DROP FUNCTION IF EXISTS analytics_membermonth_fold();
DROP FUNCTION IF EXISTS analytics_memberera_fold();
DROP FUNCTION IF EXISTS analytics_membermonth_truncate();
DROP FUNCTION IF EXISTS analytics_memberera_truncate();
"""
# Writers wait while existing days are folded in, so that none is missed or counted twice. The months' insert
# folds them into eras through the trigger.
PG_BACKFILL = f"""
LOCK TABLE analytics_memberday IN SHARE MODE;
DELETE FROM analytics_membermonth;
INSERT INTO analytics_membermonth ({MONTH_COLUMNS})
SELECT {MONTH_COLUMNS} FROM ({PG_FOLD_DAYS.format(table="analytics_memberday")}) n {MONTH_ORDER};
ANALYZE analytics_membermonth;
ANALYZE analytics_memberera;
"""


# --- SQLite: row triggers ---------------------------------------------------------------------------------------
def _sqlite_day_values(row: str) -> str:
    bit = f"(1 << (CAST(strftime('%d', {row}.day) AS INTEGER) - 1))"
    return (
        f"{row}.member_id, {row}.community_id, {row}.space_id, date({row}.day, 'start of month'), 1, "
        f"CASE WHEN {row}.events > 0 THEN {bit} ELSE 0 END, "
        f"CASE WHEN {row}.contributions > 0 THEN {bit} ELSE 0 END, "
        f"CASE WHEN {row}.visits > 0 THEN {bit} ELSE 0 END, "
        f"{row}.points, {row}.contributions, "
        f"COALESCE(CAST(json_extract({row}.kind_counts, '$.referral') AS INTEGER), 0)"
    )


def _sqlite_month_index(row: str) -> str:
    return f"(CAST(substr({row}.month, 1, 4) AS INTEGER) * 12 + CAST(substr({row}.month, 6, 2) AS INTEGER) - 1)"


SQLITE_ADD_DAY = f"""
    INSERT INTO analytics_membermonth ({MONTH_COLUMNS}) VALUES ({_sqlite_day_values("NEW")})
    ON CONFLICT (community_id, space_id, month, member_id) DO UPDATE SET
        days = days + excluded.days,
        active_mask = active_mask | excluded.active_mask,
        contribution_mask = contribution_mask | excluded.contribution_mask,
        visit_mask = visit_mask | excluded.visit_mask,
        points = points + excluded.points,
        contributions = contributions + excluded.contributions,
        referrals = referrals + excluded.referrals;
"""
SQLITE_OLD_MONTH = (
    "member_id = OLD.member_id AND community_id = OLD.community_id AND space_id = OLD.space_id "
    "AND month = date(OLD.day, 'start of month')"
)
SQLITE_REMOVE_DAY = f"""
    UPDATE analytics_membermonth SET
        days = days - 1,
        active_mask = active_mask & ~(1 << (CAST(strftime('%d', OLD.day) AS INTEGER) - 1)),
        contribution_mask = contribution_mask & ~(1 << (CAST(strftime('%d', OLD.day) AS INTEGER) - 1)),
        visit_mask = visit_mask & ~(1 << (CAST(strftime('%d', OLD.day) AS INTEGER) - 1)),
        points = points - OLD.points,
        contributions = contributions - OLD.contributions,
        referrals = referrals - COALESCE(CAST(json_extract(OLD.kind_counts, '$.referral') AS INTEGER), 0)
    WHERE {SQLITE_OLD_MONTH};
"""
SQLITE_DROP_EMPTY_MONTH = f"DELETE FROM analytics_membermonth WHERE {SQLITE_OLD_MONTH} AND days = 0;"
SQLITE_ADD_MONTH = f"""
    INSERT INTO analytics_memberera ({ERA_COLUMNS}) VALUES (
        NEW.member_id, NEW.community_id, NEW.space_id, {_sqlite_month_index("NEW")} / 60, 1,
        CASE WHEN NEW.active_mask > 0 THEN 1 << ({_sqlite_month_index("NEW")} % 60) ELSE 0 END)
    ON CONFLICT (community_id, space_id, era, member_id) DO UPDATE SET
        months = months + excluded.months,
        active_months = active_months | excluded.active_months;
"""
SQLITE_OLD_ERA = (
    "member_id = OLD.member_id AND community_id = OLD.community_id AND space_id = OLD.space_id "
    f"AND era = {_sqlite_month_index('OLD')} / 60"
)
SQLITE_REMOVE_MONTH = f"""
    UPDATE analytics_memberera SET
        months = months - 1,
        active_months = active_months & ~(1 << ({_sqlite_month_index("OLD")} % 60))
    WHERE {SQLITE_OLD_ERA};
"""
SQLITE_DROP_EMPTY_ERA = f"DELETE FROM analytics_memberera WHERE {SQLITE_OLD_ERA} AND months = 0;"
SQLITE_TRIGGERS = {
    "analytics_memberday_months_insert": f"AFTER INSERT ON analytics_memberday BEGIN {SQLITE_ADD_DAY} END",
    "analytics_memberday_months_update": (
        f"AFTER UPDATE ON analytics_memberday BEGIN {SQLITE_REMOVE_DAY} {SQLITE_ADD_DAY} {SQLITE_DROP_EMPTY_MONTH} END"
    ),
    "analytics_memberday_months_delete": (
        f"AFTER DELETE ON analytics_memberday BEGIN {SQLITE_REMOVE_DAY} {SQLITE_DROP_EMPTY_MONTH} END"
    ),
    "analytics_membermonth_eras_insert": f"AFTER INSERT ON analytics_membermonth BEGIN {SQLITE_ADD_MONTH} END",
    "analytics_membermonth_eras_update": (
        "AFTER UPDATE ON analytics_membermonth "
        f"BEGIN {SQLITE_REMOVE_MONTH} {SQLITE_ADD_MONTH} {SQLITE_DROP_EMPTY_ERA} END"
    ),
    "analytics_membermonth_eras_delete": (
        f"AFTER DELETE ON analytics_membermonth BEGIN {SQLITE_REMOVE_MONTH} {SQLITE_DROP_EMPTY_ERA} END"
    ),
}
SQLITE_INSTALL = [f"CREATE TRIGGER {name} {body};" for name, body in SQLITE_TRIGGERS.items()]
SQLITE_UNINSTALL = [f"DROP TRIGGER IF EXISTS {name};" for name in SQLITE_TRIGGERS]
SQLITE_BACKFILL = [
    "DELETE FROM analytics_membermonth;",
    # Each day of a month appears once per key, so the sum of its bits is their bitwise or. The eras follow.
    f"""INSERT INTO analytics_membermonth ({MONTH_COLUMNS})
    SELECT member_id, community_id, space_id, date(day, 'start of month') AS month, count(*),
        sum(CASE WHEN events > 0 THEN 1 << (CAST(strftime('%d', day) AS INTEGER) - 1) ELSE 0 END),
        sum(CASE WHEN contributions > 0 THEN 1 << (CAST(strftime('%d', day) AS INTEGER) - 1) ELSE 0 END),
        sum(CASE WHEN visits > 0 THEN 1 << (CAST(strftime('%d', day) AS INTEGER) - 1) ELSE 0 END),
        sum(points), sum(contributions),
        sum(COALESCE(CAST(json_extract(kind_counts, '$.referral') AS INTEGER), 0))
    FROM analytics_memberday GROUP BY 1, 2, 3, 4 {MONTH_ORDER};""",
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
        raise NotImplementedError(f"analytics.MemberMonth needs triggers written for {vendor}")


def uninstall(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    _run(schema_editor, [PG_UNINSTALL] if vendor == "postgresql" else SQLITE_UNINSTALL)


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0003_activitybucket_memberday_pointspolicy_rollupstate_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="rollupstate",
            name="generation",
            field=models.BigIntegerField(default=0),
        ),
        migrations.CreateModel(
            name="MemberMonth",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("member_id", models.BigIntegerField()),
                ("community_id", models.BigIntegerField()),
                ("space_id", models.BigIntegerField(default=0)),
                ("month", models.DateField(help_text="First day of the month.")),
                ("days", models.PositiveIntegerField(default=0, help_text="Member days of the month.")),
                (
                    "active_mask",
                    models.PositiveIntegerField(default=0, help_text="Bit d-1: active on day d (events > 0)."),
                ),
                (
                    "contribution_mask",
                    models.PositiveIntegerField(default=0, help_text="Bit d-1: a contribution on day d."),
                ),
                ("visit_mask", models.PositiveIntegerField(default=0, help_text="Bit d-1: a visit on day d.")),
                ("points", models.PositiveIntegerField(default=0)),
                ("contributions", models.PositiveIntegerField(default=0)),
                (
                    "referrals",
                    models.PositiveIntegerField(default=0, help_text="Accepted invitations (referral actions)."),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("community_id", "space_id", "month", "member_id"), name="analytics_membermonth_unique"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="MemberEra",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("member_id", models.BigIntegerField()),
                ("community_id", models.BigIntegerField()),
                ("space_id", models.BigIntegerField(default=0)),
                ("era", models.IntegerField(help_text="(year * 12 + month - 1) // 60 of its months.")),
                ("months", models.PositiveIntegerField(default=0, help_text="Member months of the era.")),
                (
                    "active_months",
                    models.PositiveBigIntegerField(default=0, help_text="Bit k: active in the era's month k."),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("community_id", "space_id", "era", "member_id"), name="analytics_memberera_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
