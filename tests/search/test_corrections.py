"""Misspelled searches, on both engines: a word found in no item is corrected to the nearest word that is, the
corrected query is searched instead and the page says so; a correction never comes from content the reader may not
see. On PostgreSQL the word list follows every write through a trigger (which queues new words, so that writers
never wait on each other) and is recounted by ``search_words_rebuild``; on SQLite the words are the full-text
index's own vocabulary."""

import pytest
from django.db import connection

from spaces import search_index, selectors_search
from spaces import tasks as search_tasks
from spaces.models import Item, SearchWord, SearchWordQueue, Visibility
from tests.search.helpers import page, text_of
from tests.spaces.helpers import client_for

SEARCH = "/search/"


def result_titles(found) -> list[str]:
    return [text_of(r.title) for r in found.results]


def test_a_misspelled_word_is_corrected_and_the_corrected_query_searched(w, filler):
    page(w.space, w.editor, "Record linkage guide", "Probabilistic matching of two registers.")
    page(w.space, w.editor, "Census methods", "How the record of each household was kept.")

    found = selectors_search.search(w.viewer, "recrod linkage")

    assert found.corrected == "record linkage"
    assert result_titles(found) == ["Record linkage guide"]  # both corrected words must match, as typed words do
    assert found.total == 1 and not found.similar_titles
    assert selectors_search.search(w.viewer, "census").corrected == ""  # a query that matches is left alone


def test_the_search_page_says_which_query_it_shows(w, filler):
    page(w.space, w.editor, "Population census methods", "How the count was organised.")

    html = client_for(w.viewer).get(SEARCH, {"q": "censis"}).content.decode()

    assert "Nothing matches “censis”. Showing results for “census”" in html
    assert "<mark>census</mark>" in html


def test_the_last_word_typed_counts_as_known_when_it_begins_a_word(w, filler):
    page(w.space, w.editor, "Record linkage guide", "Matching registers.")

    found = selectors_search.search(w.viewer, "recrod linka")

    assert found.corrected == "record linka"
    assert result_titles(found) == ["Record linkage guide"]


def test_a_word_from_a_closed_space_is_never_offered(w, world_factory):
    closed = world_factory(Visibility.CLOSED)
    page(closed.space, closed.editor, "Zanzibar protocol", "Only for the task team.")
    search_index.search_words_collect()
    if connection.vendor == "postgresql":
        assert SearchWord.objects.filter(word="zanzibar").exists()  # the word list knows it...

    found = selectors_search.search(w.viewer, "zanzibbar")

    # ...but its search finds nothing the reader may see, so neither the word nor a count shows
    assert (found.corrected, found.total, found.results) == ("", 0, [])
    assert "zanzibar" not in client_for(w.viewer).get(SEARCH, {"q": "zanzibbar"}).content.decode().lower()
    assert selectors_search.search(closed.viewer, "zanzibbar").corrected == "zanzibar"


def test_known_words_that_never_meet_find_nothing_and_no_similar_titles(w, filler):
    page(w.space, w.editor, "Census methods", "How the count was organised.")
    page(w.space, w.editor, "Zebra crossings", "Road statistics.")

    found = selectors_search.search(w.viewer, "census zebra")

    assert (found.total, found.results, found.similar_titles, found.corrected) == (0, [], False, "")


def test_a_word_like_no_known_word_is_left_out_and_the_page_says_so(w, filler):
    page(w.space, w.editor, "Census methods", "How the count was organised.")

    found = selectors_search.search(w.viewer, "census qqqqzzzz")

    assert found.corrected == "census"
    assert result_titles(found) == ["Census methods"]


def test_of_two_equally_near_words_the_more_common_is_chosen(w, filler):
    for n in range(3):
        page(w.space, w.editor, f"Linkage study {n}", "Keys.")
    page(w.space, w.editor, "Linkago", "A product name.")
    search_index.search_words_rebuild()

    if connection.vendor == "postgresql":
        assert SearchWord.objects.get(word="linkage").documents == 3
    assert selectors_search.search(w.viewer, "linkaqe x").corrected == ""  # "x" is too short to correct: no match
    assert selectors_search.search(w.viewer, "linkagu").corrected == "linkage"


@pytest.fixture
def words_always_rare(monkeypatch):
    """Every query counted from the text index, which first asks whether each word occurs at all."""
    monkeypatch.setattr(selectors_search, "COMMON_SHARE", 2.0)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "query",
    [
        "zanzibar protocol",  # words an admin deleted from the word list
        "protocol zanzib",  # ...and the last word typed, as a prefix
        "quokka census",  # a word written since the last collection (still queued)
        "sdg2030 census",  # a word the list never holds (a digit)
    ],
)
def test_a_word_the_word_list_lacks_is_still_found(w, filler, words_always_rare, query):
    page(w.space, w.editor, "Zanzibar protocol", "Census of sdg2030 indicators.")
    search_index.search_words_collect()
    SearchWord.objects.filter(word__in=["zanzibar", "protocol"]).delete()
    page(w.space, w.editor, "Quokka census", "Counting animals.")
    assert not SearchWord.objects.filter(word__in=["zanzibar", "protocol", "quokka", "sdg2030"]).exists()

    found = selectors_search.search(w.viewer, query)

    assert (found.total, found.corrected, found.similar_titles) == (1, "", False)  # found as typed
    assert len(found.results) == 1


@pytest.mark.postgres
def test_a_misspelled_word_counted_from_the_text_index_is_corrected(w, filler, words_always_rare):
    page(w.space, w.editor, "Record linkage guide", "Probabilistic matching of two registers.")
    search_index.search_words_collect()

    found = selectors_search.search(w.viewer, "recrod linkage")

    assert (found.corrected, found.total) == ("record linkage", 1)
    assert result_titles(found) == ["Record linkage guide"]


@pytest.mark.postgres
def test_the_word_list_follows_writes_and_a_rebuild_forgets_words_no_item_holds(w):
    created = page(w.space, w.editor, "Seasonal adjustment", "X-13 and TRAMO.")
    assert {"seasonal", "adjustment", "tramo"} <= set(SearchWordQueue.objects.values_list("word", flat=True))
    assert search_index.search_words_collect() >= 3
    assert {"seasonal", "adjustment", "tramo"} <= set(SearchWord.objects.values_list("word", flat=True))
    assert not SearchWordQueue.objects.exists()

    Item.objects.filter(pk=created.item_id).update(title="Benchmarking")  # any write path reaches the trigger
    assert list(SearchWordQueue.objects.values_list("word", flat=True)) == ["benchmarking"]  # only the new word
    assert search_tasks.search_words_collect_task.delay().get() == 1  # the periodic task collects it
    assert SearchWord.objects.filter(word="benchmarking").exists()

    search_index.search_words_rebuild()
    assert not SearchWord.objects.filter(word="seasonal").exists()
    assert SearchWord.objects.filter(word="benchmarking", documents=1).exists()


@pytest.mark.postgres
def test_a_paused_word_list_is_rebuilt_after_the_load_and_its_trigger_is_back_even_after_a_failure(w):
    with pytest.raises(RuntimeError), search_index.search_words_paused():
        page(w.space, w.editor, "Hydrology accounts", "Water.")
        assert not SearchWord.objects.filter(word="hydrology").exists()
        raise RuntimeError("the load failed")

    page(w.space, w.editor, "Forestry accounts", "Trees.")
    assert SearchWordQueue.objects.filter(word="forestry").exists()  # the trigger is on again
    search_index.search_words_rebuild()
    assert SearchWord.objects.filter(word="hydrology").exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgenabled FROM pg_trigger WHERE tgname = ANY(%s)", [list(search_index.SEARCH_WORD_TRIGGERS)]
        )
        assert [enabled for (enabled,) in cursor.fetchall()] == ["O", "O"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_two_writers_bringing_the_same_new_words_in_opposite_orders_never_wait_on_each_other(world_factory):
    """Each of two open transactions writes an item with a new word, then an item with the other's new word. When
    the trigger inserted into the word list itself, the second writes waited on each other's uncommitted words: a
    deadlock, and one save failed. Queued, no write waits (``lock_timeout`` would say so at once)."""
    import psycopg

    w = world_factory(Visibility.OPEN)
    settings = connection.settings_dict
    dsn = f"host={settings['HOST']} port={settings['PORT'] or 5432} dbname={settings['NAME']} user={settings['USER']}"
    insert = (
        "INSERT INTO spaces_item (kind, space_id, title, created_at, updated_at, moderation_state, is_restricted, "
        "like_count, publish_at, extracted_text, search_text) "
        "VALUES ('post', %s, '', now(), now(), 'visible', false, 0, now(), '', %s)"
    )
    with (
        psycopg.connect(dsn, password=settings["PASSWORD"] or None) as one,
        psycopg.connect(dsn, password=settings["PASSWORD"] or None) as two,
    ):
        for writer in (one, two):
            writer.execute("SET lock_timeout = '2s'")
        one.execute(insert, [w.space.pk, "quokkawords"])
        two.execute(insert, [w.space.pk, "wombatwords"])
        one.execute(insert, [w.space.pk, "wombatwords"])  # the trigger used to wait here for two's word
        two.execute(insert, [w.space.pk, "quokkawords"])  # and here for one's: a deadlock
        one.commit()
        two.commit()

    search_index.search_words_collect()
    assert set(SearchWord.objects.filter(word__endswith="words").values_list("word", flat=True)) == {
        "quokkawords",
        "wombatwords",
    }
