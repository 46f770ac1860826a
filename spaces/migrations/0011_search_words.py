"""Search (issue 7): the words of every item, for correcting misspelled search words on PostgreSQL.

A trigger adds the words (lexemes of the stored ``search_vector``: 3 to 30 letters) of every item inserted, or
updated with a new vector, in a fixed order so that two writers never wait on each other's words in opposite
orders. Existing items' words are counted once here (``ts_stat``). ``fuzzystrmatch`` gives ``levenshtein``.
SQLite keeps an empty table: its search has no misspelling fallback.
"""

from django.db import migrations, models

WORDS = r"'^[[:alpha:]]{3,30}$'"

POSTGRES_FORWARDS = [
    "CREATE EXTENSION IF NOT EXISTS fuzzystrmatch",
    f"""
    CREATE OR REPLACE FUNCTION spaces_item_search_words() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO spaces_searchword (word, documents)
        SELECT lexeme, 1 FROM unnest(NEW.search_vector) WHERE lexeme ~ {WORDS} ORDER BY lexeme
        ON CONFLICT (word) DO NOTHING;
      RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER spaces_item_search_words_insert AFTER INSERT ON spaces_item
    FOR EACH ROW WHEN (NEW.search_vector IS NOT NULL) EXECUTE FUNCTION spaces_item_search_words()
    """,
    """
    CREATE TRIGGER spaces_item_search_words_update AFTER UPDATE OF title, search_text ON spaces_item
    FOR EACH ROW WHEN (NEW.search_vector IS NOT NULL AND NEW.search_vector IS DISTINCT FROM OLD.search_vector)
    EXECUTE FUNCTION spaces_item_search_words()
    """,
    f"""
    INSERT INTO spaces_searchword (word, documents)
    SELECT word, ndoc FROM ts_stat('SELECT search_vector FROM spaces_item') WHERE word ~ {WORDS}
    """,
]

POSTGRES_BACKWARDS = [
    "DROP TRIGGER IF EXISTS spaces_item_search_words_update ON spaces_item",
    "DROP TRIGGER IF EXISTS spaces_item_search_words_insert ON spaces_item",
    "DROP FUNCTION IF EXISTS spaces_item_search_words()",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in POSTGRES_FORWARDS:
            schema_editor.execute(sql, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in POSTGRES_BACKWARDS:
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("spaces", "0010_item_space_publish_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchWord",
            fields=[
                ("word", models.CharField(max_length=30, primary_key=True, serialize=False, verbose_name="word")),
                ("documents", models.PositiveIntegerField(default=1, verbose_name="items containing it")),
            ],
            options={"verbose_name": "search word", "verbose_name_plural": "search words"},
        ),
        migrations.RunPython(forwards, backwards),
    ]
