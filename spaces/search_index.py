"""Keeping the search text of every item current (issue 7).

``Item.search_text`` holds the plain text of an item's body: Markdown reduced to its words, a poll's options, an
event's venue, a file's description and the text read from inside it. One function writes it,
``search_index_item``; post_save receivers of the typed models call it (``spaces/receivers.py``), the upload of a
file schedules ``file_text_extract`` after commit (a Celery task), and ``manage.py search_reindex`` rebuilds
everything. The full-text index itself (a weighted tsvector on PostgreSQL, an FTS5 table on SQLite) is kept by
database triggers on ``title`` and ``search_text`` (migration 0006), so a write through any path, a bulk
``update()`` included, reaches it.

An event's online meeting link is never indexed: it is shown only to registered participants, and a search
snippet must not show more than the item's page does.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import contextmanager

from django.db import connections, transaction
from markdown_it import MarkdownIt

from spaces.models import (
    Answer,
    Comment,
    Event,
    FileAsset,
    Item,
    ItemKind,
    Page,
    Poll,
    PollOption,
    Post,
    Question,
    Tag,
)

logger = logging.getLogger(__name__)

# A tsvector holds at most 1 MB; far more text than anyone searches inside one item.
SEARCH_TEXT_LIMIT = 100_000
PDF_PAGE_LIMIT = 300
TEXT_FILE_BYTES_LIMIT = 400_000

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACE = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]*>")
_markdown = MarkdownIt("commonmark").enable("table").enable("strikethrough")


# --- Text --------------------------------------------------------------------------------------------------
def clean_text(text: str, limit: int = SEARCH_TEXT_LIMIT) -> str:
    """One line of plain text: no control characters (the search snippets use two of them as highlight marks),
    runs of white space collapsed, at most ``limit`` characters."""
    text = _CONTROL.sub(" ", unicodedata.normalize("NFC", text or ""))
    return _SPACE.sub(" ", text).strip()[:limit]


def markdown_to_text(source: str) -> str:
    """The words of a Markdown text, without its markup: link and image text kept, URLs and HTML tags dropped."""
    words: list[str] = []
    for token in _markdown.parse(source or ""):
        if token.type == "inline":
            for child in token.children or []:
                if child.type in ("text", "code_inline"):
                    words.append(child.content)
                elif child.type == "image":
                    words.append(child.content)  # the alt text
                elif child.type in ("softbreak", "hardbreak"):
                    words.append(" ")
                elif child.type == "html_inline":
                    words.append(" ")
            words.append("\n")
        elif token.type in ("fence", "code_block"):
            words.append(token.content + "\n")
        elif token.type == "html_block":
            words.append(_TAG.sub(" ", token.content) + "\n")
    return clean_text(" ".join(words))


def _join(*parts: str) -> str:
    return clean_text("\n".join(p for p in parts if p))


# --- What each kind of item contributes -------------------------------------------------------------------
# Each source reads the texts of many items of its kind in one or two queries: {item_id: text}.
TextSource = Callable[[list[int]], dict[int, str]]


def _simple(model, *fields: str, markdown: tuple[str, ...] = ()) -> TextSource:
    def texts(item_ids: list[int]) -> dict[int, str]:
        result = {}
        rows = model.objects.filter(item_id__in=item_ids).values_list("item_id", *fields).order_by()
        for item_id, *values in rows:
            parts = [markdown_to_text(v) if f in markdown else (v or "") for f, v in zip(fields, values, strict=True)]
            result[item_id] = _join(*parts)
        return result

    return texts


def _question_texts(item_ids: list[int]) -> dict[int, str]:
    tags: dict[int, list[str]] = defaultdict(list)
    tag_rows = Tag.objects.filter(questions__item_id__in=item_ids)
    for item_id, name in tag_rows.values_list("questions__item_id", "name").order_by("name"):
        tags[item_id].append(name)
    bodies = _simple(Question, "body", markdown=("body",))(item_ids)
    return {item_id: _join(text, " ".join(tags[item_id])) for item_id, text in bodies.items()}


def _poll_texts(item_ids: list[int]) -> dict[int, str]:
    options: dict[int, list[str]] = defaultdict(list)
    option_rows = PollOption.objects.filter(poll__item_id__in=item_ids)
    for item_id, label in option_rows.values_list("poll__item_id", "label").order_by("position", "pk"):
        options[item_id].append(label)
    descriptions = _simple(Poll, "description", markdown=("description",))(item_ids)
    return {item_id: _join(text, "\n".join(options[item_id])) for item_id, text in descriptions.items()}


def _file_texts(item_ids: list[int]) -> dict[int, str]:
    rows = FileAsset.objects.filter(item_id__in=item_ids)
    return {
        item_id: _join(description, extracted)
        for item_id, description, extracted in rows.values_list("item_id", "description", "item__extracted_text")
    }


TEXT_SOURCES: dict[str, TextSource] = {
    ItemKind.PAGE: _simple(Page, "body", markdown=("body",)),
    ItemKind.QUESTION: _question_texts,
    ItemKind.ANSWER: _simple(Answer, "body", markdown=("body",)),
    ItemKind.EVENT: _simple(Event, "description", "venue", markdown=("description",)),
    ItemKind.POST: _simple(Post, "body", markdown=("body",)),
    ItemKind.POLL: _poll_texts,
    ItemKind.COMMENT: _simple(Comment, "body", markdown=("body",)),
    ItemKind.FILE: _file_texts,
}


def item_search_text(item: Item) -> str:
    """The search text of one item, read from its typed row (one or two queries)."""
    return TEXT_SOURCES[item.kind]([item.pk]).get(item.pk, "")


def search_index_item(item: Item) -> str:
    """Write ``item.search_text`` from its typed row; the database triggers update the index from it.

    Only ``pk`` and ``kind`` of ``item`` are read. An ``update()``, not ``save()``: the edit time is the
    service's business, and no other field of a possibly stale instance is written back.
    """
    text = item_search_text(item)
    Item.objects.filter(pk=item.pk).update(search_text=text)
    item.search_text = text
    return text


# --- Text inside uploaded files -------------------------------------------------------------------------------
def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    parts: list[str] = []
    size = 0
    for page in reader.pages[:PDF_PAGE_LIMIT]:
        text = page.extract_text() or ""
        parts.append(text)
        size += len(text)
        if size >= SEARCH_TEXT_LIMIT:
            break
    return "\n".join(parts)


def _docx_text(data: bytes) -> str:
    import docx

    document = docx.Document(io.BytesIO(data))
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def _plain_text(data: bytes) -> str:
    return data[:TEXT_FILE_BYTES_LIMIT].decode("utf-8", errors="replace")


def _reader_for(content_type: str) -> Callable[[bytes], str] | None:
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == "application/pdf":
        return _pdf_text
    if kind == DOCX_TYPE:
        return _docx_text
    if kind.startswith("text/") or kind == "application/json":
        return _plain_text
    return None


def extract_text(version) -> str:
    """The text inside a stored file version (PDF, Word .docx, UTF-8 text), or "" for other types.

    A file that cannot be read (damaged, encrypted, not what it claims) is searchable by its name and
    description only; the failure is logged, never raised, so an upload never fails because of it.
    """
    reader = _reader_for(version.content_type)
    if reader is None:
        return ""
    try:
        with version.file.open("rb") as handle:
            data = handle.read()
        return clean_text(reader(data))
    except Exception:  # any damaged file must leave the upload and the index intact
        logger.warning(
            "Could not read the text of file version %s (%s)", version.pk, version.original_name, exc_info=True
        )
        return ""


def file_text_extract(asset_id: int) -> bool:
    """Read the text inside a file's current version and index it with the file. Safe to run twice.

    Returns False when the file is gone or has no version yet.
    """
    asset = FileAsset.objects.select_related("current_version").filter(pk=asset_id).first()
    if asset is None or asset.current_version is None:
        return False
    text = extract_text(asset.current_version)
    Item.objects.filter(pk=asset.item_id).update(extracted_text=text)
    search_index_item(Item(pk=asset.item_id, kind=ItemKind.FILE))
    return True


# --- Rebuilding everything ----------------------------------------------------------------------------------
def _chunks(ids: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def search_reindex(
    *, files: str = "missing", batch_size: int = 500, progress: Callable[[str, int], None] | None = None
) -> int:
    """Recompute the search text of every item and rebuild the full-text index. Idempotent.

    ``files``: "missing" reads the text of files that have none stored yet, "all" re-reads every file,
    "none" reads no file. Returns the number of items written.
    """
    connection = connections["default"]
    if connection.vendor == "sqlite":
        ensure_sqlite_triggers()  # so the writes below reach the index
    if files != "none":
        assets = FileAsset.objects.filter(current_version__isnull=False)
        if files == "missing":
            assets = assets.filter(item__extracted_text="")
        for asset_id in assets.values_list("pk", flat=True).order_by("pk"):
            file_text_extract(asset_id)
    written = 0
    for kind, source in TEXT_SOURCES.items():
        ids = list(Item.objects.filter(kind=kind).values_list("pk", flat=True).order_by("pk"))
        for chunk in _chunks(ids, batch_size):
            texts = source(chunk)
            rows = [Item(pk=pk, search_text=texts.get(pk, "")) for pk in chunk]
            Item.objects.bulk_update(rows, ["search_text"], batch_size=batch_size)
            written += len(rows)
            if progress is not None:
                progress(kind, len(rows))
    if connection.vendor == "sqlite":
        # PostgreSQL's trigger has just recomputed every vector from the text written above; FTS5 is rebuilt
        # from the table as a whole, which also repairs an index that drifted from it.
        search_index_rebuild()
    search_words_rebuild()
    return written


def search_index_rebuild(using: str = "default") -> None:
    """Rebuild the full-text index from the stored titles and texts (the triggers keep it current after)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "UPDATE spaces_item SET search_vector = "
                "setweight(to_tsvector('copapp_search', coalesce(title, '')), 'A') || "
                "setweight(to_tsvector('copapp_search', coalesce(search_text, '')), 'B')"
            )
        elif connection.vendor == "sqlite":
            ensure_sqlite_triggers(using)
            cursor.execute("INSERT INTO spaces_item_fts (spaces_item_fts) VALUES ('rebuild')")


SEARCH_WORD_TRIGGERS = ("spaces_item_search_words_insert", "spaces_item_search_words_update")  # migration 0011
_SEARCH_WORD = r"^[[:alpha:]]{3,30}$"


def search_words_rebuild(using: str = "default") -> int:
    """Recount the words of every item (PostgreSQL; nothing elsewhere): what misspelled search words are corrected
    to. The triggers queue the new words of each item written (``search_words_collect`` adds them), but never
    count or remove words; this does. Returns the
    number of distinct words. A bulk load turns the insert trigger off (``search_words_paused``) and calls this
    once at its end."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return 0
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute("DELETE FROM spaces_searchwordqueue")  # every item's words are counted below
        cursor.execute("DELETE FROM spaces_searchword")
        cursor.execute(
            "INSERT INTO spaces_searchword (word, documents) SELECT word, ndoc "
            "FROM ts_stat('SELECT search_vector FROM spaces_item') WHERE word ~ %s",
            [_SEARCH_WORD],
        )
        return cursor.rowcount


def search_words_collect(using: str = "default") -> int:
    """Add the words the trigger queued (migration 0012) to the word list (PostgreSQL; nothing elsewhere). One
    statement, in word order: two collections at once wait on each other's words in the same order, never
    deadlock, and a queued word is taken by exactly one of them. Returns the number of new words."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH queued AS (DELETE FROM spaces_searchwordqueue RETURNING word) "
            "INSERT INTO spaces_searchword (word, documents) SELECT DISTINCT word, 1 FROM queued ORDER BY word "
            "ON CONFLICT (word) DO NOTHING"
        )
        return cursor.rowcount


@contextmanager
def search_words_paused(using: str = "default"):
    """Items written inside skip the word-list triggers (a bulk load's millions of rows would each upsert their
    words), which are back on the way out, also when the load fails; then call ``search_words_rebuild``."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    _search_word_triggers(connection, "DISABLE")
    try:
        yield
    finally:
        _search_word_triggers(connection, "ENABLE")


def _search_word_triggers(connection, action: str) -> None:
    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            # ALTER TABLE refuses to run while foreign-key checks wait for the commit: run them now, and defer the
            # later ones again (Django's foreign keys are all "deferrable initially deferred").
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for trigger in SEARCH_WORD_TRIGGERS:
            cursor.execute(f"ALTER TABLE spaces_item {action} TRIGGER {trigger}")
        if connection.in_atomic_block:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


# --- SQLite: triggers lost to a table rebuild --------------------------------------------------------------
SQLITE_TRIGGERS = {
    "spaces_item_fts_insert": """
        CREATE TRIGGER spaces_item_fts_insert AFTER INSERT ON spaces_item BEGIN
          INSERT INTO spaces_item_fts (rowid, title, search_text) VALUES (new.id, new.title, new.search_text);
        END""",
    "spaces_item_fts_delete": """
        CREATE TRIGGER spaces_item_fts_delete AFTER DELETE ON spaces_item BEGIN
          INSERT INTO spaces_item_fts (spaces_item_fts, rowid, title, search_text)
          VALUES ('delete', old.id, old.title, old.search_text);
        END""",
    "spaces_item_fts_update": """
        CREATE TRIGGER spaces_item_fts_update AFTER UPDATE OF title, search_text ON spaces_item BEGIN
          INSERT INTO spaces_item_fts (spaces_item_fts, rowid, title, search_text)
          VALUES ('delete', old.id, old.title, old.search_text);
          INSERT INTO spaces_item_fts (rowid, title, search_text) VALUES (new.id, new.title, new.search_text);
        END""",
}


def ensure_sqlite_triggers(using: str = "default") -> bool:
    """Put back the FTS triggers if a migration rebuilt ``spaces_item`` (SQLite alters a table by copying it,
    which drops its triggers), and then rebuild the index so it matches the table again. True if it did.

    Runs after every ``migrate`` (``spaces/receivers.py``); a no-op before migration 0006 and on PostgreSQL.
    """
    connection = connections[using]
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE (type = 'trigger' AND name LIKE 'spaces_item_fts_%') "
            "OR (type = 'table' AND name = 'spaces_item_fts')"
        )
        present = {row[0] for row in cursor.fetchall()}
        if "spaces_item_fts" not in present:
            return False
        missing = [name for name in SQLITE_TRIGGERS if name not in present]
        for name in missing:
            cursor.execute(SQLITE_TRIGGERS[name])
        if missing:
            cursor.execute("INSERT INTO spaces_item_fts (spaces_item_fts) VALUES ('rebuild')")
    return bool(missing)
