"""Backup and restore of a whole installation (issue 8, item 6): ``manage.py backup`` and ``manage.py restore``.

An archive is one ``.tar.gz`` holding
- ``database/copapp.pgdump`` (``pg_dump`` custom format) on PostgreSQL, or ``database/copapp.sqlite3`` (a
  consistent copy made with SQLite's online backup API) on the embedded default;
- ``media/...``: every file under ``MEDIA_ROOT`` (avatars, logos);
- ``private-media/...``: every file under ``PRIVATE_MEDIA_ROOT`` (space files, papers, members' data exports);
- ``manifest.json``, written last: the SHA-256 and size of every other member (computed from the very bytes
  written into the archive), the app and Django versions, the applied migrations, the database vendor and the
  creation time.

A restore reads the whole archive and checks every checksum before it changes anything; it refuses a damaged
archive, one from another database vendor or from a newer version of the code, and (unless told ``--yes``) a
target that already holds data. It then unpacks the files into a staging folder, replaces the database
(``pg_restore --clean --if-exists --single-transaction``, or SQLite's backup API writing the archived copy over
the live database, which is what "replacing the file" means while other connections may hold it open), and
only then swaps the staged files in. The database is dumped before the files are copied, so a file uploaded
during a backup may be in the archive without its row, never the other way round.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import io
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import django
from django.apps import apps
from django.conf import settings
from django.db import connection, connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

FORMAT = 1
MANIFEST = "manifest.json"
DB_MEMBERS = {"postgresql": "database/copapp.pgdump", "sqlite": "database/copapp.sqlite3"}
CHUNK = 1024 * 1024
# Rows that ``migrate`` itself writes: a freshly installed site has them and is still "empty".
MIGRATE_MADE = {"contenttypes.contenttype", "auth.permission", "sites.site", "sessions.session"}

Log = Callable[[str], None]
# ``progress(total=..., desc=..., unit=...)`` gives a tqdm-like context manager with ``update(n)``.
Progress = Callable[..., contextlib.AbstractContextManager]


class BackupError(Exception):
    """Anything that stops a backup or a restore; the message is for the person running the command."""


def _no_progress(**kwargs) -> contextlib.AbstractContextManager:
    class _Bar:
        n = 0
        total = 0

        def update(self, n: int = 1) -> None:
            self.n += n

    return contextlib.nullcontext(_Bar())


def _quiet(message: str) -> None:
    pass


def file_roots() -> dict[str, Path]:
    """Archive folder -> the directory it is backed up from and restored into."""
    return {"media": Path(settings.MEDIA_ROOT), "private-media": Path(settings.PRIVATE_MEDIA_ROOT)}


def app_version() -> str:
    try:
        return importlib.metadata.version("copapp")
    except importlib.metadata.PackageNotFoundError:
        match = re.search(r'^version\s*=\s*"([^"]+)"', (Path(settings.BASE_DIR) / "pyproject.toml").read_text(), re.M)
        return match.group(1) if match else "unknown"


def _vendor() -> str:
    return connection.vendor


def applied_migrations() -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for app_label, name in sorted(MigrationRecorder(connection).applied_migrations()):
        applied.setdefault(app_label, []).append(name)
    return applied


# === PostgreSQL tools ============================================================================================
def _pg_env() -> dict[str, str]:
    """libpq's environment for the default database (so no password appears on a command line)."""
    db = connection.settings_dict
    env = dict(os.environ)
    for key, var in (("NAME", "PGDATABASE"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD"), ("HOST", "PGHOST")):
        if db.get(key):
            env[var] = str(db[key])
    if db.get("PORT"):
        env["PGPORT"] = str(db["PORT"])
    options = db.get("OPTIONS") or {}
    for key, var in (
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
        ("options", "PGOPTIONS"),
    ):
        if options.get(key):
            env[var] = str(options[key])
    return env


def _tool_major(tool: str) -> int:
    """The major version of ``pg_dump`` / ``pg_restore`` on PATH, or a BackupError saying how to install it."""
    path = shutil.which(tool)
    if path is None:
        raise BackupError(
            f"{tool} is not installed (or not on PATH). Install the PostgreSQL client tools of the server's "
            f"version or newer, e.g. `apt-get install postgresql-client-{server_major()}`."
        )
    output = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout  # noqa: S603
    match = re.search(r"(\d+)(?:\.\d+)?", output)
    if not match:
        raise BackupError(f"Could not read the version of {tool} from {output!r}.")
    return int(match.group(1))


def server_major() -> int:
    connection.ensure_connection()
    return connection.pg_version // 10000


def _check_tool(tool: str, needed: int) -> int:
    major = _tool_major(tool)
    if major < needed:
        raise BackupError(
            f"{tool} is version {major}, older than PostgreSQL {needed} that it has to work with. Install "
            f"postgresql-client-{needed} (or newer) and make sure its {tool} comes first on PATH."
        )
    return major


def _run(command: list[str], what: str) -> None:
    # The command is built here from fixed arguments and paths, never from user input.
    result = subprocess.run(command, env=_pg_env(), capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()[-3000:]
        raise BackupError(f"{what} failed (exit status {result.returncode}):\n{detail}")


# === Backup ========================================================================================================
@dataclass
class BackupResult:
    path: Path
    manifest: dict
    size: int


class _HashingReader:
    """Hands a file to tarfile and hashes exactly the bytes tarfile reads, so the manifest describes the archive
    even if the file changes while it is being copied."""

    def __init__(self, raw, bar) -> None:
        self.raw = raw
        self.bar = bar
        self.hash = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.hash.update(data)
        self.size += len(data)
        self.bar.update(len(data))
        return data


def _walk(root: Path, skip: list[Path]) -> Iterator[Path]:
    """Regular files under ``root`` in a stable order; symbolic links and the ``skip`` folders are left out."""
    if not root.is_dir():
        return
    for folder, dirs, names in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not (here / d).is_symlink() and (here / d).resolve() not in skip)
        for name in sorted(names):
            path = here / name
            if path.is_file() and not path.is_symlink():
                yield path


def _files_to_back_up(exclude: list[Path]) -> list[tuple[str, Path]]:
    roots = file_roots()
    resolved = {name: root.resolve() for name, root in roots.items()}
    members = []
    for name, root in roots.items():
        # A root nested in the other (or the output folder inside a root) is not copied twice, nor into itself.
        skip = [p.resolve() for p in exclude] + [r for other, r in resolved.items() if other != name]
        for path in _walk(root, skip):
            members.append((f"{name}/{path.relative_to(root).as_posix()}", path))
    return members


def storage_warnings() -> list[str]:
    """Uploads kept somewhere other than the two local folders (an S3 bucket) are not in the archive: say so."""
    from django.core.files.storage import FileSystemStorage, storages

    warnings = []
    for alias, name in (("default", "media"), ("private", "private-media")):
        storage = storages[alias]
        root = file_roots()[name]
        if not isinstance(storage, FileSystemStorage) or Path(storage.location).resolve() != root.resolve():
            warnings.append(
                f"The {alias!r} file storage is not the local folder {root} ({type(storage).__name__}): its files "
                "are NOT in this archive. Back that storage up separately."
            )
    return warnings


def _dump_sqlite(target: Path) -> None:
    """One backup step for the whole database: it reads a single consistent snapshot (in WAL mode writers go on
    meanwhile), where small steps would start over each time another process writes."""
    connection.ensure_connection()
    if connection.in_atomic_block:
        raise BackupError("Cannot copy an SQLite database from inside a transaction.")
    destination = sqlite3.connect(target)
    try:
        connection.connection.backup(destination, pages=-1)
    finally:
        destination.close()


def _dump_postgresql(target: Path) -> str:
    needed = server_major()
    major = _check_tool("pg_dump", needed)
    _run(
        [shutil.which("pg_dump") or "pg_dump", "--format=custom", "--compress=0", "--file", str(target)],
        "pg_dump",
    )
    return f"{major}"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _add(archive: tarfile.TarFile, name: str, source, size: int, mtime: float, bar) -> dict:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(mtime)
    info.mode = 0o644
    reader = _HashingReader(source, bar)
    archive.addfile(info, reader)  # type: ignore[arg-type]
    return {"sha256": reader.hash.hexdigest(), "size": reader.size}


def backup_create(*, output: Path, progress: Progress = _no_progress, log: Log = _quiet) -> BackupResult:
    """Write one archive of the database and every uploaded file to ``output`` (a ``.tar.gz``).

    Written to ``<output>.partial`` first and renamed at the end, so an interrupted run never leaves a file that
    looks like a finished backup.
    """
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    vendor = _vendor()
    if vendor not in DB_MEMBERS:
        raise BackupError(f"Backups support PostgreSQL and SQLite, not {vendor}.")
    manifest: dict = {
        "format": FORMAT,
        "app": "copapp",
        "app_version": app_version(),
        "django_version": django.get_version(),
        "python_version": platform.python_version(),
        "created_at": timezone.now().isoformat(),
        "database": {"vendor": vendor, "member": DB_MEMBERS[vendor]},
        "migrations": applied_migrations(),
        "roots": {name: str(path) for name, path in file_roots().items()},
        "members": {},
        "warnings": storage_warnings(),
    }
    for warning in manifest["warnings"]:
        log(f"Warning: {warning}")
    with tempfile.TemporaryDirectory(prefix=".copapp-backup-", dir=output.parent) as staging:
        dump = Path(staging) / PurePosixPath(DB_MEMBERS[vendor]).name
        log(f"Copying the {vendor} database…")
        if vendor == "sqlite":
            _dump_sqlite(dump)
        else:
            manifest["database"]["pg_dump_major"] = _dump_postgresql(dump)
            manifest["database"]["server_major"] = server_major()
        files = _files_to_back_up(exclude=[output.parent, Path(staging)])
        total = dump.stat().st_size + sum(_size(path) for _name, path in files)
        log(f"Writing {len(files)} files and the database to {output}…")
        try:
            with open(partial, "wb") as raw:
                with (
                    tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6, format=tarfile.PAX_FORMAT) as archive,
                    progress(total=total, desc="backup", unit="B", unit_scale=True, unit_divisor=1024) as bar,
                ):
                    with open(dump, "rb") as source:
                        stat = dump.stat()
                        manifest["members"][DB_MEMBERS[vendor]] = _add(
                            archive, DB_MEMBERS[vendor], source, stat.st_size, stat.st_mtime, bar
                        )
                    for name, path in files:
                        try:
                            source = open(path, "rb")  # noqa: SIM115 (closed just below)
                            stat = os.fstat(source.fileno())
                        except FileNotFoundError:
                            continue  # deleted since the listing (e.g. the trash was purged): nothing to keep
                        with source:
                            manifest["members"][name] = _add(archive, name, source, stat.st_size, stat.st_mtime, bar)
                    data = json.dumps(manifest, indent=2, sort_keys=True).encode()
                    info = tarfile.TarInfo(MANIFEST)
                    info.size, info.mtime, info.mode = len(data), int(timezone.now().timestamp()), 0o644
                    archive.addfile(info, io.BytesIO(data))
                raw.flush()
                os.fsync(raw.fileno())  # after the tarfile closed: its end blocks and the gzip trailer too
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    os.replace(partial, output)
    return BackupResult(path=output, manifest=manifest, size=output.stat().st_size)


def default_backup_path() -> Path:
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    return Path(settings.BACKUP_DIR) / f"copapp-{stamp}.tar.gz"


# === Restore ======================================================================================================
_FILE_TOPS = {"media", "private-media"}


def _check_name(name: str) -> str | None:
    """Why a member name is not acceptable (absolute, "..", outside the known folders), or None."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or "" in path.parts or "\\" in name or "\x00" in name:
        return "an unsafe path"
    if name == MANIFEST or name in DB_MEMBERS.values():
        return None
    if len(path.parts) < 2 or path.parts[0] not in _FILE_TOPS:
        return "a path outside media/ and private-media/ that is not the database"
    return None


@dataclass
class Verified:
    manifest: dict
    members: dict[str, dict] = field(default_factory=dict)


def _damaged(path: Path, exc: BaseException) -> BackupError:
    return BackupError(
        f"{path} is damaged or is not a copapp backup ({type(exc).__name__}: {exc}). Nothing was changed."
    )


def archive_verify(path: Path, *, progress: Progress = _no_progress) -> Verified:
    """Read the whole archive once and check it against its manifest: every member listed, none missing, none
    extra, every SHA-256 and size equal, every path safe. Raises BackupError; changes nothing."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} does not exist.")
    seen: dict[str, dict] = {}
    manifest_bytes = None
    problems: list[str] = []
    try:
        with (
            open(path, "rb") as raw,
            tarfile.open(fileobj=raw, mode="r|gz") as archive,
            progress(total=path.stat().st_size, desc="verify", unit="B", unit_scale=True, unit_divisor=1024) as bar,
        ):
            for member in archive:
                reason = _check_name(member.name)
                if reason or not member.isfile():
                    problems.append(f"{member.name}: {reason or 'not a regular file'}")
                    continue
                if member.name in seen or (member.name == MANIFEST and manifest_bytes is not None):
                    problems.append(f"{member.name}: appears twice")
                    continue
                source = archive.extractfile(member)
                assert source is not None
                if member.name == MANIFEST:
                    manifest_bytes = source.read()
                    continue
                digest, size = hashlib.sha256(), 0
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                seen[member.name] = {"sha256": digest.hexdigest(), "size": size}
                bar.update(raw.tell() - bar.n)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise _damaged(path, exc) from exc
    if manifest_bytes is None:
        raise BackupError(f"{path} has no {MANIFEST}: it is not a copapp backup, or it was cut short. Nothing changed.")
    try:
        manifest = json.loads(manifest_bytes)
        expected = dict(manifest["members"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"The {MANIFEST} of {path} cannot be read ({exc}). Nothing was changed.") from exc
    for name in sorted(set(expected) - set(seen)):
        problems.append(f"{name}: listed in the manifest but missing from the archive")
    for name in sorted(set(seen) - set(expected)):
        problems.append(f"{name}: in the archive but not in the manifest")
    for name in sorted(set(seen) & set(expected)):
        if seen[name] != {"sha256": expected[name].get("sha256"), "size": expected[name].get("size")}:
            problems.append(f"{name}: checksum mismatch (the file was altered or damaged)")
    if problems:
        shown = "\n  ".join(problems[:20]) + (f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else "")
        raise BackupError(f"{path} failed verification; nothing was changed:\n  {shown}")
    return Verified(manifest=manifest, members=seen)


def compatibility_problems(manifest: dict) -> list[str]:
    """Reasons this installation cannot take the archive (no database, other vendor, newer code, unknown format)."""
    members = manifest.get("members") or {}
    problems = []
    if manifest.get("format") != FORMAT:
        problems.append(f"it is in backup format {manifest.get('format')!r}; this version reads format {FORMAT}")
    vendor = (manifest.get("database") or {}).get("vendor")
    if DB_MEMBERS.get(vendor) != (manifest.get("database") or {}).get("member") or not members.get(
        DB_MEMBERS.get(vendor)
    ):
        problems.append("it holds no database")
    if vendor != _vendor():
        problems.append(f"it holds a {vendor} database and this installation uses {_vendor()}")
    if vendor == "postgresql" and vendor == _vendor():
        dumped = int(manifest["database"].get("pg_dump_major") or 0)
        with contextlib.suppress(BackupError):
            if dumped and _tool_major("pg_restore") < dumped:
                problems.append(f"it was written by pg_dump {dumped}; the pg_restore here is older")
    loader = MigrationLoader(None, ignore_no_migrations=True, load=True)
    known = set(loader.disk_migrations)
    unknown = sorted(
        f"{app}.{name}"
        for app, names in (manifest.get("migrations") or {}).items()
        for name in names
        if (app, name) not in known
    )
    if unknown:
        problems.append(
            "it was made by a newer version of copapp (its database has migrations this code does not know: "
            + ", ".join(unknown[:8])
            + (" …" if len(unknown) > 8 else "")
            + f"); install version {manifest.get('app_version')} or later first"
        )
    return problems


def target_contents() -> list[str]:
    """What this installation already holds (beyond what ``migrate`` writes), to refuse overwriting it: one
    ``exists()`` query per table and the first file of each upload folder, however big the site is."""
    found = []
    existing = set(connection.introspection.table_names())
    for model in apps.get_models():
        if model._meta.label_lower in MIGRATE_MADE or not model._meta.managed or model._meta.proxy:
            continue
        if model._meta.db_table in existing and model._base_manager.exists():
            found.append(f"{model._meta.verbose_name_plural} ({model._meta.label})")
    for name, root in file_roots().items():
        if next(_walk(root, []), None) is not None:
            found.append(f"files in {root} ({name})")
    return found


def _check_roots() -> None:
    roots = [path.resolve() for path in file_roots().values()]
    if roots[0] == roots[1] or roots[0] in roots[1].parents or roots[1] in roots[0].parents:
        raise BackupError(
            "MEDIA_ROOT and PRIVATE_MEDIA_ROOT are the same folder or one holds the other; restoring needs two "
            "separate folders. Nothing was changed."
        )


def _extract_to(archive_path: Path, verified: Verified, staging: dict[str, Path], db_target: Path, bar) -> None:
    """Second pass: the database copy to ``db_target``, files under each root's staging folder; checksums again
    (the archive must not have changed since it was verified)."""
    db_member = verified.manifest["database"]["member"]
    with tarfile.open(archive_path, mode="r|gz") as archive:
        for member in archive:
            if member.name == MANIFEST or not member.isfile():
                continue
            if member.name == db_member:
                target = db_target
            else:
                top, _slash, rest = member.name.partition("/")
                target = staging[top].joinpath(*PurePosixPath(rest).parts)
                target.parent.mkdir(parents=True, exist_ok=True)
            source = archive.extractfile(member)
            assert source is not None
            digest = hashlib.sha256()
            with open(target, "wb") as out:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    bar.update(len(chunk))
            if digest.hexdigest() != verified.members[member.name]["sha256"]:
                raise BackupError(f"{member.name} changed since the archive was verified; nothing was restored.")
            os.utime(target, (member.mtime, member.mtime))


def _restore_sqlite(copy: Path) -> None:
    connection.ensure_connection()
    if connection.in_atomic_block:
        raise BackupError("Cannot restore inside a transaction.")
    source = sqlite3.connect(copy)
    try:
        source.backup(connection.connection)
    finally:
        source.close()
    connection.close()


def _restore_postgresql(dump: Path) -> None:
    _check_tool("pg_restore", server_major())
    connections.close_all()
    _run(
        [
            shutil.which("pg_restore") or "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--no-comments",
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
            connection.settings_dict["NAME"],
            str(dump),
        ],
        "pg_restore",
    )
    connections.close_all()


def _swap_in(root: Path, staged: Path) -> None:
    """Replace everything in ``root`` with the contents of ``staged`` (a folder inside ``root``: same disk, so
    each move is a rename). ``root`` itself stays, as it may be a mount point."""
    for entry in list(root.iterdir()):
        if entry == staged:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    for entry in list(staged.iterdir()):
        os.replace(entry, root / entry.name)
    staged.rmdir()


@dataclass
class RestoreResult:
    manifest: dict
    files: int


def backup_restore(
    *, path: Path, force: bool = False, progress: Progress = _no_progress, log: Log = _quiet
) -> RestoreResult:
    """Bring this installation back to the state in the archive at ``path`` (see the module docstring)."""
    path = Path(path)
    _check_roots()
    log(f"Verifying {path}…")
    verified = archive_verify(path, progress=progress)
    manifest = verified.manifest
    problems = compatibility_problems(manifest)
    if problems:
        raise BackupError("This archive cannot be restored here: " + "; ".join(problems) + ". Nothing was changed.")
    if not force:
        contents = target_contents()
        if contents:
            raise BackupError(
                "This installation is not empty: it holds "
                + "; ".join(contents[:6])
                + (" …" if len(contents) > 6 else "")
                + ". Restoring replaces all of it. Run again with --yes to do so. Nothing was changed."
            )
    roots = file_roots()
    staging: dict[str, Path] = {}
    total = sum(m["size"] for m in verified.members.values())
    try:
        for name, root in roots.items():
            root.mkdir(parents=True, exist_ok=True)
            staging[name] = Path(tempfile.mkdtemp(prefix=".restoring-", dir=root))
        with tempfile.TemporaryDirectory(prefix=".copapp-restore-", dir=path.parent) as work:
            db_copy = Path(work) / PurePosixPath(manifest["database"]["member"]).name
            log("Unpacking…")
            with progress(total=total, desc="unpack", unit="B", unit_scale=True, unit_divisor=1024) as bar:
                _extract_to(path, verified, staging, db_copy, bar)
            log("Replacing the database…")
            if manifest["database"]["vendor"] == "sqlite":
                _restore_sqlite(db_copy)
            else:
                _restore_postgresql(db_copy)
    except BaseException:
        for folder in staging.values():
            shutil.rmtree(folder, ignore_errors=True)
        raise
    log("Replacing the uploaded files…")
    for name, root in roots.items():
        _swap_in(root, staging[name])
    files = sum(1 for name in verified.members if not name.startswith("database/"))
    return RestoreResult(manifest=manifest, files=files)
