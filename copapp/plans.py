"""Which queries PostgreSQL may run from a plan made once (a prepared statement's generic plan).

On PostgreSQL the site sends parameters apart from the SQL (``server_side_binding``), so psycopg prepares a
statement its connection has run a few times (``DB_PREPARE_THRESHOLD``) and PostgreSQL, after five executions, may
keep one generic plan for it instead of planning it again for each request's values. Planning was most of what a
page's permission-filtered queries cost the database (2.4 of 3.9 ms for the notifications list at the scale data
set, bench/page_cpu.py --slow).

A generic plan cannot know how many rows a value selects. Where that decides the plan (full-text search: how common
the words are; a question list: how many questions the space holds), the code runs inside ``custom_plans()`` and
PostgreSQL plans each execution for its own values, as without prepared statements.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection, transaction

_CUSTOM = ContextVar("copapp_custom_plans", default=False)


@contextmanager
def _planned_per_run(custom: bool) -> Iterator[None]:
    token = _CUSTOM.set(custom)
    try:
        yield
    finally:
        _CUSTOM.reset(token)


def custom_plans():
    """Within this block (or function, as a decorator) no statement is prepared: each is planned for its own
    parameters."""
    return _planned_per_run(True)


def shared_plans():
    """Within ``custom_plans()``, a block whose statements read rows by their keys (an id list): one plan fits every
    value, so they are prepared again."""
    return _planned_per_run(False)


def custom_plans_wanted() -> bool:
    return _CUSTOM.get()


@contextmanager
def planner_settings(settings: dict[str, str], *, savepoint: bool = True) -> Iterator[None]:
    """PostgreSQL settings (``set_config(name, value, true)``) for the statements of this block only.

    Such a setting lasts until its transaction ends, so the block runs in one; inside a caller's transaction the
    settings are given back at the block's end. ``savepoint``: a failing statement rolls back the block alone, with
    its settings (two statements more inside a caller's transaction)."""
    names = list(settings)
    nested = connection.in_atomic_block
    with transaction.atomic(savepoint=savepoint), connection.cursor() as cursor:
        calls = ", ".join(["set_config(%s, %s, true)"] * len(names))
        cursor.execute(f"SELECT {calls}", [part for name in names for part in (name, settings[name])])  # noqa: S608  # nosec B608 # placeholders only
        yield
        if nested:
            cursor.execute("SELECT set_config(name, reset_val, true) FROM pg_settings WHERE name = ANY(%s)", [names])
