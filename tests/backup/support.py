"""Fingerprints of a whole installation: every row of every table (and sequence), every uploaded file."""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
from pathlib import Path

from django.conf import settings
from django.db import connection


def _plain(value):
    if isinstance(value, memoryview):
        return bytes(value)
    return value


def db_snapshot() -> dict[str, tuple[int, str]]:
    """Table -> (row count, SHA-256 of its rows sorted), for every table in the database; sequences too."""
    tables = sorted(connection.introspection.table_names())
    snapshot = {}
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'")
            tables += [row[0] for row in cursor.fetchall()]
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            rows = sorted(repr(tuple(_plain(v) for v in row)) for row in cursor.fetchall())
            snapshot[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = current_schema() "
                "ORDER BY sequencename"
            )
            snapshot["<sequences>"] = (0, repr(cursor.fetchall()))
    return snapshot


def files_snapshot() -> dict[str, str]:
    """``media/...`` and ``private-media/...`` path -> SHA-256, for every uploaded file."""
    found = {}
    for name, root in (("media", settings.MEDIA_ROOT), ("private-media", settings.PRIVATE_MEDIA_ROOT)):
        root = Path(root)
        if root.is_dir():
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                found[f"{name}/{path.relative_to(root).as_posix()}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


CSRF = re.compile(rb'(name="csrfmiddlewaretoken" value=")[^"]+|(csrf[-_]?token["\']?\s*[:=]\s*["\'])[^"\']+', re.I)


def page_html(response) -> bytes:
    assert response.status_code == 200, response.status_code
    return CSRF.sub(rb"\1\2", response.content)


def rewrite_archive(source: Path, target: Path, *, change=None, manifest=None) -> None:
    """A copy of the archive at ``source`` with member contents changed by ``change(name, data) -> data`` and the
    manifest by ``manifest(dict) -> dict`` (the checksums are left as they were)."""
    with tarfile.open(source, "r:gz") as old, tarfile.open(target, "w:gz") as new:
        for member in old.getmembers():
            data = old.extractfile(member).read()
            if member.name == "manifest.json" and manifest:
                data = json.dumps(manifest(json.loads(data))).encode()
            elif change:
                data = change(member.name, data)
            info = tarfile.TarInfo(member.name)
            info.size = len(data)
            new.addfile(info, io.BytesIO(data))
