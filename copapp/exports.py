"""Building blocks shared by every export (issue 8, item 5): ZIP archives written part by part without holding
them in memory, JSON written row by row, safe names inside an archive, and CSV cells a spreadsheet never runs.

An export is a sequence of *parts*. Each app describes what it contributes (``JsonPart``, ``FilePart``,
``TextPart``) and never writes the archive itself; ``write_zip`` writes the parts into a file (a Celery task's
temporary file) and ``stream_zip`` yields the same archive in chunks for a ``StreamingHttpResponse``. Rows and
file contents are read only when the archive reaches them, so a member with thousands of items or a space with
hundreds of files costs the memory of one row or one file chunk at a time.
"""

from __future__ import annotations

import json
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.core.files.storage import Storage
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

CHUNK = 256 * 1024
# Above this many bytes a member is written with ZIP64 headers (a streamed member's size is not known up front).
_ZIP64_FROM = 1 << 30


@dataclass(frozen=True)
class JsonPart:
    """``rows()`` written as a JSON array, one row per line (or, with ``single``, its one row as an object)."""

    path: str
    rows: Callable[[], Iterable[dict]]
    single: bool = False


@dataclass(frozen=True)
class FilePart:
    """A stored file (``name`` in ``storage``) copied into the archive at ``path``."""

    path: str
    storage: Storage
    name: str


@dataclass(frozen=True)
class TextPart:
    """Text written as UTF-8; ``text`` may be a function, called when the archive reaches the part."""

    path: str
    text: str | Callable[[], str]

    def encoded(self) -> bytes:
        return (self.text() if callable(self.text) else self.text).encode()


Part = JsonPart | FilePart | TextPart


@dataclass
class ZipReport:
    """What went into an archive: member paths with their row counts (JSON) or sizes (files), and stored files
    that were listed but missing from storage (skipped, never fatal: a half-deleted upload must not block a
    member's export)."""

    rows: dict[str, int] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    @property
    def file_bytes(self) -> int:
        return sum(self.files.values())


# --- Names inside an archive ----------------------------------------------------------------------------------
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def safe_component(text: str, *, fallback: str = "untitled", max_length: int = 120) -> str:
    """One path component from member-typed text: no separators, no control characters, never "." or "..",
    never empty, at most ``max_length`` characters (the extension is kept when shortening)."""
    value = unicodedata.normalize("NFC", str(text or ""))
    value = _UNSAFE.sub("-", value).strip().strip(".").strip()
    if not value:
        value = fallback
    if len(value) > max_length:
        stem, dot, ext = value.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            value = stem[: max_length - len(ext) - 1].rstrip() + "." + ext
        else:
            value = value[:max_length].rstrip()
    return value


class UniquePaths:
    """Hands out archive paths, adding "-2", "-3" before the extension when one is taken already."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def claim(self, path: str) -> str:
        candidate, n = path, 1
        while candidate.lower() in self._taken:
            n += 1
            head, slash, tail = path.rpartition("/")
            stem, dot, ext = tail.rpartition(".")
            tail = f"{stem}-{n}.{ext}" if dot and stem else f"{tail}-{n}"
            candidate = f"{head}{slash}{tail}"
        self._taken.add(candidate.lower())
        return candidate


# --- CSV --------------------------------------------------------------------------------------------------------
def csv_cell(value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula: text starting with =, +, -, @ (or a tab or
    carriage return, which some spreadsheets skip before looking) gets a leading apostrophe."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


class Echo:
    """A file-like object whose ``write`` returns what it was given: ``csv.writer(Echo()).writerow(row)`` is
    the row as text, so a CSV can be streamed row by row."""

    def write(self, value: str) -> str:
        return value


# --- JSON -------------------------------------------------------------------------------------------------------
def to_json(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=False)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- Writing archives ------------------------------------------------------------------------------------------
def _zinfo(path: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, date_time=timezone.now().timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _write_parts(archive: zipfile.ZipFile, parts: Iterable[Part], report: ZipReport) -> Iterator[None]:
    """Write each part; yields after every chunk so a streaming caller can pass on what is ready."""
    for part in parts:
        if isinstance(part, TextPart):
            data = part.encoded()
            archive.writestr(_zinfo(part.path), data)
            report.files[part.path] = len(data)
            yield
        elif isinstance(part, JsonPart):
            count = 0
            with archive.open(_zinfo(part.path), "w") as out:
                if part.single:
                    row = next(iter(part.rows()), {})
                    out.write(json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode())
                    count = 1
                else:
                    out.write(b"[")
                    for row in part.rows():
                        out.write((",\n" if count else "\n").encode() + to_json(row).encode())
                        count += 1
                        if count % 200 == 0:
                            yield
                    out.write(b"\n]\n" if count else b"]\n")
            report.rows[part.path] = count
            yield
        else:
            try:
                source = part.storage.open(part.name, "rb")
            except (FileNotFoundError, OSError):
                report.missing.append(part.path)
                continue
            with source:
                try:
                    size = part.storage.size(part.name)
                except (FileNotFoundError, OSError, NotImplementedError):
                    size = 0
                written = 0
                with archive.open(_zinfo(part.path), "w", force_zip64=size >= _ZIP64_FROM) as out:
                    while chunk := source.read(CHUNK):
                        out.write(chunk)
                        written += len(chunk)
                        yield
            report.files[part.path] = written
            yield


def write_zip(fileobj, parts: Iterable[Part], report: ZipReport | None = None) -> ZipReport:
    """Write ``parts`` as a ZIP archive into ``fileobj`` (an open binary file)."""
    report = report if report is not None else ZipReport()
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for _step in _write_parts(archive, parts, report):
            pass
    return report


class _Pipe:
    """An unseekable sink that keeps what zipfile wrote until the streaming generator takes it."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._position = 0

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def stream_zip(parts: Iterable[Part], report: ZipReport | None = None) -> Iterator[bytes]:
    """The archive of ``parts`` in chunks, written as it is sent (members carry data descriptors, which every
    unzip tool reads), for ``StreamingHttpResponse``."""
    pipe = _Pipe()
    report = report if report is not None else ZipReport()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:  # type: ignore[arg-type]
        for _step in _write_parts(archive, parts, report):
            data = pipe.take()
            if len(data):
                yield data
    tail = pipe.take()
    if tail:
        yield tail
