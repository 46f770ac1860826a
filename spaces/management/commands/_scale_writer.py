"""Bulk writing for ``seed_scale``: PostgreSQL ``COPY`` (psycopg 3) or batched inserts elsewhere.

Rows are plain tuples in the order of the field names given (attnames: ``space_id``, not ``space``). Ids are
handed out by the seed itself (``reserve``), so related rows can point at each other without reading anything
back; the sequences are moved past them at the end (``reset_sequences``). Nothing goes through ``save()``:
no signals, no ``auto_now``, no per-row query. The rows must already respect the models' invariants.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from django.core.management.color import no_style
from django.db import DatabaseError, connections, models, transaction

INSERT_BATCH = 2000


def backend_cpu_seconds(connection) -> float | None:
    """CPU time so far of the PostgreSQL backend serving ``connection``, when the server runs on this machine."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class BulkWriter:
    def __init__(self, using: str = "default"):
        self.alias = using
        self.is_postgres = self.connection.vendor == "postgresql"
        self._next_id: dict[str, int] = {}
        self.touched: set[type[models.Model]] = set()
        self.rows_written = 0
        self._triggers: dict[str, bool] = {}
        self._lock = threading.Lock()
        self.parallel_cpu = 0.0  # CPU seconds of the database backends that served ``run_parallel`` jobs
        self._may_switch: bool | None = None
        self._queue: queue.Queue | None = None
        self._owner: int | None = None
        self._failure: BaseException | None = None

    @property
    def connection(self):
        """This thread's connection (``run_parallel`` jobs each have their own)."""
        return connections[self.alias]

    def run_parallel(self, jobs: Sequence[Callable[[], object]], *, parallel: bool | None = None) -> list:
        """Run ``jobs`` two at a time, each on its own connection and in its own transactions, so PostgreSQL
        works on both cores; one after the other on this connection when that cannot be (another database, or
        inside a transaction, where other connections would not see the rows: the tests)."""
        if parallel is None:
            parallel = not self.connection.in_atomic_block
        if not self.is_postgres or not parallel or len(jobs) < 2:
            return [job() for job in jobs]

        def run(job):
            connection = connections[self.alias]
            before = backend_cpu_seconds(connection)
            try:
                return job()
            finally:
                after = backend_cpu_seconds(connection)
                if before is not None and after is not None:
                    with self._lock:
                        self.parallel_cpu += after - before
                connection.close()

        with ThreadPoolExecutor(max_workers=2) as pool:
            return list(pool.map(run, jobs))

    # --- Writing in the background ----------------------------------------------------------------------------
    @contextmanager
    def background(self):
        """While inside, ``insert`` and ``copy_text`` from this thread hand their rows to a writer thread with its
        own connection (each ``COPY`` commits by itself), so Python builds the next rows while PostgreSQL loads
        these: the two cores work at once. Only on PostgreSQL outside a transaction (the tests write inline)."""
        if not self.is_postgres or self.connection.in_atomic_block:
            yield
            return
        self._queue = queue.Queue(maxsize=2)
        self._failure = None
        self._owner = threading.get_ident()
        thread = threading.Thread(target=self._drain, name="seed-writer", daemon=True)
        thread.start()
        try:
            yield
        finally:
            self._owner = None
            self._queue.put(None)
            thread.join()
            self._queue = None
        if self._failure is not None:
            raise self._failure

    def _handing_over(self) -> bool:
        return getattr(self, "_owner", None) == threading.get_ident() and self._queue is not None

    def _hand_over(self, job: Callable[[], object]) -> None:
        if self._failure is not None:
            raise self._failure
        self._queue.put(job)

    def _drain(self) -> None:
        connection = connections[self.alias]
        before = backend_cpu_seconds(connection)
        try:
            while (job := self._queue.get()) is not None:
                if self._failure is None:
                    try:
                        job()
                    except BaseException as exc:  # raised in the main thread when it next hands over or ends
                        self._failure = exc
        finally:
            after = backend_cpu_seconds(connection)
            if before is not None and after is not None:
                with self._lock:
                    self.parallel_cpu += after - before
            connection.close()

    # --- ids ------------------------------------------------------------------------------------------------
    def reserve(self, model: type[models.Model], count: int) -> int:
        """The first of ``count`` fresh primary keys for ``model`` (the rest follow it)."""
        table = model._meta.db_table
        if table not in self._next_id:
            pk = model._meta.pk.column
            with self.connection.cursor() as cursor:
                cursor.execute(f"SELECT COALESCE(MAX({pk}), 0) FROM {table}")  # noqa: S608 (names from models)  # nosec B608
                self._next_id[table] = cursor.fetchone()[0] + 1
        first = self._next_id[table]
        self._next_id[table] = first + count
        return first

    def reset_sequences(self) -> None:
        """Move every touched table's id sequence past the ids the seed handed out (PostgreSQL)."""
        statements = self.connection.ops.sequence_reset_sql(no_style(), sorted(self.touched, key=str))
        with self.connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)

    # --- rows -------------------------------------------------------------------------------------------------
    def insert(self, model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]) -> int:
        """Write ``rows`` into ``model``'s table (a list, when writing in the background); returns how many."""
        self.touched.add(model)
        if self._handing_over():
            rows = list(rows)
            self._hand_over(lambda: self._insert_now(model, fields, rows))
            self.rows_written += len(rows)
            return len(rows)
        count = self._insert_now(model, fields, rows)
        self.rows_written += count
        return count

    def _insert_now(self, model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]) -> int:
        meta_fields = [model._meta.get_field(name) for name in fields]
        quote = self.connection.ops.quote_name
        columns = [quote(field.column) for field in meta_fields]
        if self.is_postgres:
            return self._copy(model._meta.db_table, columns, meta_fields, rows)
        return self._insert_batches(model._meta.db_table, columns, meta_fields, rows)

    def _copy(self, table: str, columns: list[str], meta_fields: list, rows: Iterable[Sequence]) -> int:
        from psycopg.types.json import Jsonb

        json_at = [i for i, field in enumerate(meta_fields) if isinstance(field, models.JSONField)]
        count = 0
        with self.without_checks(table), self.connection.connection.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    if json_at:
                        row = list(row)
                        for i in json_at:
                            row[i] = Jsonb(row[i])
                    copy.write_row(row)
                    count += 1
        return count

    # --- PostgreSQL: bulk loading without per-row foreign-key checks -------------------------------------------
    def _has_own_triggers(self, table: str) -> bool:
        if table not in self._triggers:
            with self.connection.cursor() as cursor:
                cursor.execute(
                    "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal)",
                    [table],
                )
                self._triggers[table] = cursor.fetchone()[0]
        return self._triggers[table]

    @contextmanager
    def without_checks(self, table: str):
        """Write into ``table`` with ``session_replication_role = replica``, as ``pg_restore --disable-triggers``
        does: the foreign-key triggers then skip their per-row lookup (and the row lock it takes on the member
        or space referred to), which is most of the cost of loading millions of rows. Only for tables without
        triggers of their own (``spaces_item`` keeps its search trigger, so it loads normally), and only when
        the server allows it (superuser). The seed makes its rows point at rows it wrote;
        ``foreign_key_problems`` checks that afterwards (``--verify``, and the tests)."""
        self.connection.ensure_connection()
        switched = False
        if self.is_postgres and not self._has_own_triggers(table) and self._may_switch is not False:
            try:
                with transaction.atomic(using=self.connection.alias), self.connection.cursor() as cursor:
                    cursor.execute("SET session_replication_role = replica")
                switched = self._may_switch = True
            except DatabaseError:
                self._may_switch = False
        try:
            yield
        finally:
            if switched:
                with self.connection.cursor() as cursor:
                    cursor.execute("SET session_replication_role = DEFAULT")

    def foreign_key_problems(self) -> list[str]:
        """Foreign keys of the written tables that point at no row (should be none): one query per key."""
        problems = []
        with self.connection.cursor() as cursor:
            for model in sorted(self.touched, key=str):
                for field in model._meta.concrete_fields:
                    if not field.is_relation or not field.db_constraint:
                        continue
                    target = field.target_field
                    table, ref = model._meta.db_table, target.model._meta.db_table
                    cursor.execute(
                        f"SELECT count(*) FROM {table} t LEFT JOIN {ref} r ON r.{target.column} = t.{field.column} "  # noqa: S608  # nosec B608 # names from the models
                        f"WHERE t.{field.column} IS NOT NULL AND r.{target.column} IS NULL"
                    )
                    missing = cursor.fetchone()[0]
                    if missing:
                        problems.append(f"{table}.{field.column}: {missing} rows point at no {ref} row")
        return problems

    def _insert_batches(self, table: str, columns: list[str], meta_fields: list, rows: Iterable[Sequence]) -> int:
        connection = self.connection
        preps = [field.get_db_prep_save for field in meta_fields]
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608  # nosec B608 # names from the models
        count = 0
        batch: list[tuple] = []
        with connection.cursor() as cursor:
            for row in rows:
                batch.append(tuple(prep(value, connection) for prep, value in zip(preps, row, strict=True)))
                if len(batch) >= INSERT_BATCH:
                    cursor.executemany(sql, batch)
                    count += len(batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
                count += len(batch)
        return count

    def copy_text(self, sql: str, lines: Iterable[str]) -> None:
        """``COPY ... FROM STDIN`` of ready tab-separated lines (PostgreSQL only; the activity staging table)."""
        if self._handing_over():
            lines = list(lines)
            self._hand_over(lambda: self._copy_text_now(sql, lines))
            return
        self._copy_text_now(sql, lines)

    def _copy_text_now(self, sql: str, lines: Iterable[str]) -> None:
        self.connection.ensure_connection()
        with self.connection.connection.cursor() as cursor:
            with cursor.copy(sql) as copy:
                chunk: list[str] = []
                for line in lines:
                    chunk.append(line)
                    if len(chunk) >= 20000:
                        copy.write("".join(chunk))
                        chunk = []
                if chunk:
                    copy.write("".join(chunk))
