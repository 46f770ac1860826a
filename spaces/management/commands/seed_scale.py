"""``python manage.py seed_scale``: a large, realistic data set for the benchmark (issue 7, item 5).

Default size: 50,000 members, 20 communities, 1,000 spaces of mixed visibility, 200,000 pages with 3 versions
on average, 100,000 questions with 300,000 answers, 20,000 events with registrations, 50,000 posts, 100,000
comments and 10,000,000 activity events over one year, with the long tail of real communities (see
``_scale_world``). ``--small`` is a tenth of that, ``--tiny`` a few hundred rows of each; every size has its flag.

Rows are written in bulk, never one ``save()`` each: ``COPY`` on PostgreSQL, batched inserts elsewhere
(``_scale_writer``); Markdown is rendered once per paragraph of a pool (``_scale_text``); the analytics roll-ups are
computed set-based in the database (``_scale_rollup``). Invariants the services keep hold: every piece of content
has its ``Item``; page, question, answer and comment versions are in the history tables; every space membership
has its community membership and onboarding and every space an admin; ``member_count``, ``answer_count``,
``vote_score``, ``like_count`` and the registration counters count the rows they stand for.

It adds to what is there (fresh ids, e-mails and slugs), so it can run on a database that already holds data;
the benchmark gives it a database of its own.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, replace
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from tqdm import tqdm

from spaces.management.commands._scale_rollup import rollups_rebuild
from spaces.management.commands._scale_world import CLASS_NAMES, PRESETS, ScaleWorld, Sizes
from spaces.management.commands._scale_writer import BulkWriter, backend_cpu_seconds
from spaces.search_index import search_words_paused, search_words_rebuild

SIZE_FLAGS = {
    "members": int,
    "communities": int,
    "spaces": int,
    "pages": int,
    "versions": float,
    "questions": int,
    "answers": int,
    "events": int,
    "posts": int,
    "comments": int,
    "votes": int,
    "likes": int,
    "activity": int,
}
DEFAULT_PASSWORD = "scale-pass-2026"


class StageClock:
    """Wall time per stage, and CPU time of this process and of the PostgreSQL backends serving it (read from
    ``/proc`` when the server runs on this machine): on a shared machine the CPU time is what the work costs."""

    def __init__(self, writer: BulkWriter):
        self.writer = writer
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, dict[str, float | None]] = {}

    def _database_cpu(self) -> float | None:
        own = backend_cpu_seconds(connection)
        return None if own is None else own + self.writer.parallel_cpu

    def stage(self, name: str, function):
        wall, own, database = time.monotonic(), time.process_time(), self._database_cpu()
        result = function()
        after = self._database_cpu()
        self.wall[name] = round(time.monotonic() - wall, 2)
        self.cpu[name] = {
            "seed": round(time.process_time() - own, 2),
            "database": None if database is None or after is None else round(after - database, 2),
        }
        return result

    def cpu_totals(self) -> dict[str, float | None]:
        seed = sum(c["seed"] or 0 for c in self.cpu.values())
        known = [c["database"] for c in self.cpu.values() if c["database"] is not None]
        return {"seed": round(seed, 2), "database": round(sum(known), 2) if known else None}


class Command(BaseCommand):
    help = "Build a large, realistic data set fast (bulk inserts): members, spaces, content and a year of activity."

    def add_arguments(self, parser):
        preset = parser.add_mutually_exclusive_group()
        preset.add_argument("--tiny", action="store_true", help="A few hundred rows of each kind (tests, smoke runs).")
        preset.add_argument("--small", action="store_true", help="A tenth of the full size.")
        full = PRESETS["full"]
        for name, kind in SIZE_FLAGS.items():
            parser.add_argument(
                f"--{name}", type=kind, default=None, help=f"How many {name} (full size: {getattr(full, name):,})."
            )
        parser.add_argument("--random-seed", type=int, default=7, help="Same seed, same data set.")
        parser.add_argument("--password", default=DEFAULT_PASSWORD, help="Password of every seeded account.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bars.")
        parser.add_argument("--no-vacuum", action="store_true", help="Skip VACUUM ANALYZE at the end (PostgreSQL).")
        parser.add_argument(
            "--verify", action="store_true", help="Check afterwards that every foreign key points at a row (slow)."
        )
        parser.add_argument("--json", help="Also write the summary (sizes, counts, timings, logins) to this file.")

    def handle(self, *args, **options):
        sizes = self._sizes(options)
        progress = self._progress(options["no_progress"])
        writer = BulkWriter()
        world = ScaleWorld(
            sizes, writer=writer, seed=options["random_seed"], password=options["password"], progress=progress
        )
        clock = StageClock(writer)
        clock.stage("members", lambda: world.run_stage(world.build_people))
        clock.stage("communities, spaces, memberships", lambda: world.run_stage(world.build_spaces))
        with search_words_paused():
            clock.stage("pages", lambda: world.run_stage(world.build_pages))
            clock.stage("questions and answers", lambda: world.run_stage(world.build_questions))
            clock.stage("events", lambda: world.run_stage(world.build_events))
            clock.stage("posts and comments", lambda: world.run_stage(world.build_posts))
        clock.stage("search words", search_words_rebuild)
        clock.stage("activity (reading)", lambda: world.run_stage(world.build_reading))
        activity = clock.stage("activity (writing)", world.write_activity)
        clock.stage("sequences", writer.reset_sequences)
        if options["verify"]:
            problems = clock.stage("verify", writer.foreign_key_problems)
            if problems:
                raise CommandError("Broken foreign keys:\n" + "\n".join(problems))
        rollups = clock.stage("roll-ups", lambda: rollups_rebuild(writer=writer))
        if connection.vendor == "postgresql" and not options["no_vacuum"]:
            clock.stage("vacuum analyze", lambda: self._vacuum(writer))
        summary = self._summary(world, sizes, activity, rollups, clock, options["password"])
        self._print(summary)
        if options["json"]:
            Path(options["json"]).write_text(json.dumps(summary, indent=2, default=str))
        return None

    # --- Options -----------------------------------------------------------------------------------------------
    @staticmethod
    def _sizes(options) -> Sizes:
        base = PRESETS["tiny"] if options["tiny"] else PRESETS["small"] if options["small"] else PRESETS["full"]
        changes = {name: options[name] for name in SIZE_FLAGS if options.get(name) is not None}
        sizes = replace(base, **changes)
        if sizes.members < 10 or sizes.communities < 1 or sizes.spaces < sizes.communities:
            raise CommandError("Need at least 10 members, one community and a space per community.")
        if sizes.versions < 1:
            raise CommandError("--versions is the average number of versions per page: at least 1.")
        return sizes

    def _progress(self, disabled: bool):
        def bar(**kwargs):
            return tqdm(disable=disabled or None, leave=False, dynamic_ncols=True, **kwargs)

        return bar

    @staticmethod
    def _vacuum(writer: BulkWriter) -> None:
        """Set the visibility map and planner statistics, as a settled database has them (outside a transaction)."""
        tables = sorted({model._meta.db_table for model in writer.touched} | {"analytics_activityevent"})
        tables += ["analytics_memberday", "analytics_activitybucket"]
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"VACUUM (ANALYZE) {table}")

    # --- Output ------------------------------------------------------------------------------------------------
    @staticmethod
    def _summary(world: ScaleWorld, sizes: Sizes, activity: int, rollups, clock: StageClock, password) -> dict:
        classes: dict[str, int] = {}
        for cls in world.cls:
            classes[CLASS_NAMES[cls]] = classes.get(CLASS_NAMES[cls], 0) + 1
        admin = world.community_admins[0][0]
        logins = {
            "site staff": world.staff_email,
            "community admin": world.emails[admin],
            "core member": world.emails[next(i for i, c in enumerate(world.cls) if c == 0)],
            "reader": world.emails[next(i for i, c in enumerate(world.cls) if c == 2)],
        }
        return {
            "sizes": asdict(sizes),
            "database": connection.vendor,
            "rows": dict(sorted(world.summary.items())),
            "activity events": activity,
            "contributions": world.activity.contributions,
            "roll-ups": rollups,
            "member classes": classes,
            "timings": clock.wall,
            "total seconds": round(sum(clock.wall.values()), 2),
            "cpu seconds": clock.cpu_totals(),
            "cpu seconds by stage": clock.cpu,
            "rows written": world.writer.rows_written + activity,
            "password": password,
            "logins": logins,
            "communities": [int(pk) for pk in world.community_ids],
        }

    def _print(self, summary: dict) -> None:
        out = self.stdout
        out.write(self.style.SUCCESS(f"Seeded at scale in {summary['total seconds']:.1f} s ({summary['database']})."))
        out.write("Rows:")
        for label, count in summary["rows"].items():
            out.write(f"  {label:<40} {count:>12,}")
        out.write(f"  {'analytics.ActivityEvent':<40} {summary['activity events']:>12,}")
        for label, count in summary["roll-ups"].items():
            out.write(f"  {label:<40} {count:>12,}")
        out.write("Members by class: " + ", ".join(f"{k}: {v:,}" for k, v in summary["member classes"].items()))
        out.write("Stages (seconds): " + ", ".join(f"{k}: {v}" for k, v in summary["timings"].items()))
        cpu = summary["cpu seconds"]
        if cpu.get("database") is not None:
            out.write(
                f"CPU seconds: this process {cpu['seed']:.1f}, database server {cpu['database']:.1f} "
                "(on a busy machine the wall time above is longer than the work itself)"
            )
        out.write(f"Sign in with any of these (password {summary['password']!r}):")
        for role, email in summary["logins"].items():
            out.write(f"  {role:<16} {email}")
