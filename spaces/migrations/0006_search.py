"""Search (issue 7): the plain text of every item, and a full-text index over title and text that the database
keeps current by itself on each write.

- PostgreSQL: a weighted ``search_vector`` (title A, text B) set by a trigger, a GIN index on it, and a trigram
  GIN index on the title for misspellings (``pg_trgm``). The text-search configuration ``copapp_search`` is
  ``simple`` (no stemming, no stop words: the content is in many languages, and an unstemmed index is what lets
  the last word typed match as a prefix) with accents removed (``unaccent``), like SQLite's tokenizer.
- SQLite: an FTS5 table over the same two columns (external content: ``spaces_item`` itself, so the text is
  stored once), kept by triggers. ``spaces.search_index.ensure_sqlite_triggers`` restores the triggers after a
  later migration rebuilds ``spaces_item`` (SQLite's way to alter a table drops its triggers).

The SQL is written out here rather than imported, so that this migration keeps doing what it did when the app
changes. Existing rows get their text from ``manage.py search_reindex``.
"""

import django.contrib.postgres.search
from django.db import migrations, models

POSTGRES_FORWARDS = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    """
    DO $$
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'copapp_search') THEN
        CREATE TEXT SEARCH CONFIGURATION copapp_search (COPY = simple);
        ALTER TEXT SEARCH CONFIGURATION copapp_search
          ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple;
      END IF;
    END
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION spaces_item_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.search_vector :=
        setweight(to_tsvector('copapp_search', coalesce(NEW.title, '')), 'A')
        || setweight(to_tsvector('copapp_search', coalesce(NEW.search_text, '')), 'B');
      RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER spaces_item_search_vector BEFORE INSERT OR UPDATE OF title, search_text ON spaces_item
    FOR EACH ROW EXECUTE FUNCTION spaces_item_search_vector()
    """,
    """
    UPDATE spaces_item SET search_vector =
      setweight(to_tsvector('copapp_search', coalesce(title, '')), 'A')
      || setweight(to_tsvector('copapp_search', coalesce(search_text, '')), 'B')
    """,
    "CREATE INDEX spaces_item_search_vector_gin ON spaces_item USING gin (search_vector)",
    "CREATE INDEX spaces_item_title_trgm ON spaces_item USING gin (title gin_trgm_ops)",
]

POSTGRES_BACKWARDS = [
    "DROP INDEX IF EXISTS spaces_item_title_trgm",
    "DROP INDEX IF EXISTS spaces_item_search_vector_gin",
    "DROP TRIGGER IF EXISTS spaces_item_search_vector ON spaces_item",
    "DROP FUNCTION IF EXISTS spaces_item_search_vector()",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS copapp_search",
]

SQLITE_FORWARDS = [
    """
    CREATE VIRTUAL TABLE spaces_item_fts USING fts5(
      title, search_text, content='spaces_item', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER spaces_item_fts_insert AFTER INSERT ON spaces_item BEGIN
      INSERT INTO spaces_item_fts (rowid, title, search_text) VALUES (new.id, new.title, new.search_text);
    END
    """,
    """
    CREATE TRIGGER spaces_item_fts_delete AFTER DELETE ON spaces_item BEGIN
      INSERT INTO spaces_item_fts (spaces_item_fts, rowid, title, search_text)
      VALUES ('delete', old.id, old.title, old.search_text);
    END
    """,
    """
    CREATE TRIGGER spaces_item_fts_update AFTER UPDATE OF title, search_text ON spaces_item BEGIN
      INSERT INTO spaces_item_fts (spaces_item_fts, rowid, title, search_text)
      VALUES ('delete', old.id, old.title, old.search_text);
      INSERT INTO spaces_item_fts (rowid, title, search_text) VALUES (new.id, new.title, new.search_text);
    END
    """,
    "INSERT INTO spaces_item_fts (spaces_item_fts) VALUES ('rebuild')",
]

SQLITE_BACKWARDS = [
    "DROP TRIGGER IF EXISTS spaces_item_fts_update",
    "DROP TRIGGER IF EXISTS spaces_item_fts_delete",
    "DROP TRIGGER IF EXISTS spaces_item_fts_insert",
    "DROP TABLE IF EXISTS spaces_item_fts",
]

FORWARDS = {"postgresql": POSTGRES_FORWARDS, "sqlite": SQLITE_FORWARDS}
BACKWARDS = {"postgresql": POSTGRES_BACKWARDS, "sqlite": SQLITE_BACKWARDS}


def _execute(schema_editor, statements: dict) -> None:
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


def forwards(apps, schema_editor):
    _execute(schema_editor, FORWARDS)


def backwards(apps, schema_editor):
    _execute(schema_editor, BACKWARDS)


class Migration(migrations.Migration):
    dependencies = [
        ("spaces", "0005_flags_moderation_log_visits"),
    ]

    operations = [
        migrations.AddField(
            model_name="item",
            name="extracted_text",
            field=models.TextField(
                blank=True, default="", editable=False, help_text="Text read from an uploaded file's current version."
            ),
        ),
        migrations.AddField(
            model_name="item",
            name="search_text",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="item",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(forwards, backwards),
    ]
