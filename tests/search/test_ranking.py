"""What search finds and in which order, the same on SQLite (FTS5) and PostgreSQL (tsvector): a title match above
a body match, the more recent of two equal matches first, the last word typed as a prefix, phrases, excluded
words, accents, misspellings (titles like a query with no known word: PostgreSQL), and highlighted snippets that
never carry markup from content."""

import pytest

from spaces import selectors_search
from tests.search.helpers import day, exact_titles, page, text_of, titles


def test_title_match_ranks_above_body_match_and_recency_breaks_a_tie(w, filler, time_machine):
    time_machine.move_to(day(2024, 1, 10))
    older = page(w.space, w.editor, "Census methods", "How the count was organised.")
    time_machine.move_to(day(2024, 2, 10))
    in_body = page(w.space, w.editor, "Field work", "Enumerators visited every household; the census took a month.")
    time_machine.move_to(day(2024, 3, 10))
    newer = page(w.space, w.editor, "Census methods", "How the count was organised.")

    found = [r.item.pk for r in selectors_search.search(w.viewer, "census").results]

    # two equal title matches, the newer first; the match in the body only, although more recent than one of
    # them, after both
    assert found == [newer.item_id, older.item_id, in_body.item_id]


def test_equal_matches_come_newest_first(w, filler, time_machine):
    # written out of order, so that the newest is not simply the last one saved
    for month in (3, 1, 5):
        time_machine.move_to(day(2024, month, 1))
        page(w.space, w.editor, f"Seasonal adjustment {month}", "Seasonal adjustment with X-13.")
    time_machine.move_to(day(2024, 6, 1))

    assert titles(w.viewer, "seasonal adjustment") == [
        "Seasonal adjustment 5",
        "Seasonal adjustment 3",
        "Seasonal adjustment 1",
    ]


def test_the_last_word_matches_as_a_prefix_and_only_the_last(w, filler):
    page(w.space, w.editor, "Integration of administrative registers", "Linking registers to the census frame.")

    assert titles(w.viewer, "integ") == ["Integration of administrative registers"]
    assert titles(w.viewer, "administrative regis") == ["Integration of administrative registers"]
    assert exact_titles(w.viewer, "integ registers") == []  # an earlier word is a whole word
    assert exact_titles(w.viewer, "registers xyzzy") == []  # every word must match


def test_phrases_excluded_words_and_common_words(w, filler):
    page(w.space, w.editor, "Population census results", "Final population census tables.")
    page(w.space, w.editor, "Census of population housing", "Population and housing; the census draft.")

    assert titles(w.viewer, '"population census"') == ["Population census results"]
    assert titles(w.viewer, "census -draft") == ["Population census results"]
    # "how", "to" and "the" are not required to appear: a question typed as a sentence still finds the page
    assert "Census of population housing" in titles(w.viewer, "how to the census")


def test_accents_do_not_matter(w, filler):
    page(w.space, w.editor, "Recensement au Sénégal", "Méthodes de l'enquête.")

    assert titles(w.viewer, "senegal") == ["Recensement au Sénégal"]
    assert titles(w.viewer, "methodes") == ["Recensement au Sénégal"]
    assert "<mark>Sénégal</mark>" in selectors_search.search(w.viewer, "recensement senegal").results[0].title


def test_markdown_is_searched_as_text_and_its_markup_is_not(w, filler):
    page(
        w.space,
        w.editor,
        "Style guide",
        "Write **boldly**; see [the manual](https://docs.example.org/unlikelyword) and `code_sample`.",
    )

    assert titles(w.viewer, "boldly") == ["Style guide"]
    assert titles(w.viewer, "manual") == ["Style guide"]
    assert exact_titles(w.viewer, "unlikelyword") == []  # link targets are not text


def test_snippets_highlight_the_words_and_escape_the_content(w, filler):
    page(
        w.space,
        w.editor,
        "Census <em>draft</em> & notes",
        "Introduction. `if x < y && z > w` then the census team <script>alert(1)</script> met again.",
    )

    result = selectors_search.search(w.viewer, "census").results[0]

    assert "<mark>census</mark>" in result.snippet
    assert "&lt;" in result.snippet and "&amp;&amp;" in result.snippet  # content shown as text
    assert "<script" not in result.snippet and "< y" not in result.snippet
    assert "<mark>Census</mark>" in result.title
    assert "<em>" not in result.title and "&amp;" in result.title
    assert text_of(result.title).startswith("Census")


def test_a_misspelled_word_still_finds_the_title(w, filler):
    page(w.space, w.editor, "Population census methods", "How the count was organised.")
    secret = page(w.space, w.editor, "Census secrets", "Restricted.")
    from spaces import services

    services.page_set_restrictions(actor=w.editor, page=secret, restrict_view=True, restrict_edit=False)

    found = selectors_search.search(w.viewer, "censis")

    assert found.corrected == "census"
    assert [text_of(r.title) for r in found.results] == ["Population census methods"]
    assert found.total == 1  # the restricted page is not among the results, nor in the count
    assert selectors_search.search(w.viewer, "qqqqzzzz").results == []


@pytest.mark.postgres
def test_a_word_like_no_known_word_offers_similar_titles_on_postgresql(w, filler):
    page(w.space, w.editor, "Population census methods", "How the count was organised.")

    found = selectors_search.search(w.viewer, "populationcensus")  # six edits from any word: not corrected

    assert found.similar_titles and not found.corrected
    assert [text_of(r.title) for r in found.results] == ["Population census methods"]
