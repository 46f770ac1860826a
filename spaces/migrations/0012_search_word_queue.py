"""Search (issue 7): the word-list trigger queues new words instead of inserting them into the list.

Two transactions that each wrote several items bringing the same new words, in different orders, waited on each
other's uncommitted words in ``spaces_searchword`` and deadlocked (one save failed). The trigger now appends the
words the list does not hold yet to ``spaces_searchwordqueue``, which has no unique key and so never waits;
``spaces.search_index.search_words_collect`` moves them into the list in one statement, in word order.
SQLite keeps an empty table, as for the list itself.
"""

from django.db import migrations, models

WORDS = r"'^[[:alpha:]]{3,30}$'"

QUEUEING = f"""
CREATE OR REPLACE FUNCTION spaces_item_search_words() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO spaces_searchwordqueue (word)
    SELECT lexeme FROM unnest(NEW.search_vector) AS words
     WHERE lexeme ~ {WORDS}
       AND NOT EXISTS (SELECT 1 FROM spaces_searchword s WHERE s.word = words.lexeme);
  RETURN NULL;
END
$$
"""

INSERTING = f"""
CREATE OR REPLACE FUNCTION spaces_item_search_words() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO spaces_searchword (word, documents)
    SELECT lexeme, 1 FROM unnest(NEW.search_vector) WHERE lexeme ~ {WORDS} ORDER BY lexeme
    ON CONFLICT (word) DO NOTHING;
  RETURN NULL;
END
$$
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(QUEUEING, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "INSERT INTO spaces_searchword (word, documents) SELECT DISTINCT word, 1 FROM spaces_searchwordqueue "
            "ORDER BY word ON CONFLICT (word) DO NOTHING",
            params=None,
        )
        schema_editor.execute(INSERTING, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("spaces", "0011_search_words"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchWordQueue",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("word", models.CharField(max_length=30, verbose_name="word")),
            ],
            options={
                "verbose_name": "queued search word",
                "verbose_name_plural": "queued search words",
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
