"""The "similar questions" suggestion while a title is typed is the site search over question titles: whole words
(not fragments of words), accents ignored, the last word as a prefix, best match first, only what the asker may
see."""

import pytest
from django.test import Client

from spaces import selectors_questions
from spaces.models import Visibility
from tests.search.helpers import question
from tests.spaces.helpers import htmx, space_url


@pytest.fixture
def w(world_factory):
    return world_factory(Visibility.OPEN)


def similar(w, title: str, user=None) -> list[str]:
    return [q.title for q in selectors_questions.similar_questions(user or w.viewer, w.space, title)]


def test_similar_questions_match_words_not_fragments_of_words(w):
    question(w.space, w.editor, "Syntax of SDMX files")
    question(w.space, w.editor, "Tax data for business registers")

    assert similar(w, "Using tax records") == ["Tax data for business registers"]  # not "Syntax"


def test_similar_questions_ignore_accents_and_complete_the_last_word(w):
    question(w.space, w.editor, "Recensement général au Sénégal")

    assert similar(w, "senegal census") == ["Recensement général au Sénégal"]
    assert similar(w, "Census in Seneg") == ["Recensement général au Sénégal"]


def test_the_question_sharing_most_words_comes_first(w):
    question(w.space, w.editor, "Census undercount estimation")
    question(w.space, w.editor, "Post-enumeration survey for census undercount")
    question(w.space, w.editor, "Census timing")

    found = similar(w, "How to estimate census undercount with a post enumeration survey")

    assert found[0] == "Post-enumeration survey for census undercount"
    assert set(found) == {
        "Census undercount estimation",
        "Post-enumeration survey for census undercount",
        "Census timing",
    }


def test_the_suggestion_view_lists_them_as_the_title_is_typed(w):
    question(w.space, w.editor, "Seasonal adjustment of monthly series")

    response = htmx(Client(), "get", space_url("question-similar", w.space) + "?title=seasonal+adjust")

    assert b"Seasonal adjustment of monthly series" in response.content
