"""Filters (community, space, content type, author, date range) and pagination narrow the results and the count
together."""

from datetime import date

import pytest

from spaces import selectors_search, services
from spaces.models import Visibility
from tests.factories import make_community, make_space
from tests.search.helpers import day, event, page, poll, post, question, titles, total


@pytest.fixture
def w(world_factory, time_machine):
    w = world_factory(Visibility.OPEN)
    time_machine.move_to(day(2024, 3, 5))
    page(w.space, w.editor, "Harbour page", "Harbour statistics.")
    time_machine.move_to(day(2024, 4, 5))
    q = question(w.space, w.moderator, "Harbour question", "Which harbour data?")
    services.answer_post(actor=w.editor, question=q, body="Harbour data from customs.")
    post(w.space, w.editor, "Harbour post for everyone.")
    time_machine.move_to(day(2024, 5, 5))
    event(w.space, w.moderator, "Harbour event", "A visit to the harbour.")
    poll(w.space, w.moderator, "Harbour poll", ["Yes", "No"])
    other_space = make_space(w.staff, w.community, Visibility.OPEN, slug="other-space")
    page(other_space, w.staff, "Harbour elsewhere", "Harbour in another space.")
    other_community = make_community(w.staff, slug="other-community")
    far = make_space(w.staff, other_community, Visibility.OPEN, slug="far-space")
    page(far, w.staff, "Harbour far away", "Harbour in another community.")
    time_machine.move_to(day(2024, 6, 1))
    w.other_space, w.other_community = other_space, other_community
    return w


def test_without_filters_everything_visible_is_found(w):
    assert total(w.viewer, "harbour") == 8


def test_community_and_space_filters(w):
    assert set(titles(w.viewer, "harbour", community=w.other_community)) == {"Harbour far away"}
    assert "Harbour far away" not in titles(w.viewer, "harbour", community=w.community)
    assert total(w.viewer, "harbour", community=w.community) == 7
    assert titles(w.viewer, "harbour", space=w.other_space) == ["Harbour elsewhere"]
    assert total(w.viewer, "harbour", space=w.space) == 6


def test_content_type_filter(w):
    assert titles(w.viewer, "harbour", kinds=["question"]) == ["Harbour question"]
    assert set(titles(w.viewer, "harbour", kinds=["event", "poll"])) == {"Harbour event", "Harbour poll"}
    answers = titles(w.viewer, "harbour", kinds=["answer"])
    assert answers == ["Answer to “Harbour question”"]
    assert total(w.viewer, "harbour", kinds=["nonsense"]) == 8  # unknown kinds are ignored


def test_author_filter(w):
    assert total(w.viewer, "harbour", author=w.editor) == 3  # page, answer, post
    assert total(w.viewer, "harbour", author=w.moderator.username) == 3  # question, event, poll
    assert total(w.viewer, "harbour", author="nobody-at-all") == 0


def test_date_range_filter_includes_both_ends(w):
    april = titles(w.viewer, "harbour", date_from=date(2024, 4, 1), date_to=date(2024, 4, 30))
    assert set(april) == {"Harbour question", "Answer to “Harbour question”", "Harbour post for everyone."}
    assert total(w.viewer, "harbour", date_from=date(2024, 5, 5)) == 4
    assert total(w.viewer, "harbour", date_to=date(2024, 3, 5)) == 1


def test_pagination_splits_results_and_keeps_the_total(w, count_order):
    pages = [selectors_search.search(w.viewer, "harbour", per_page=3, page=n) for n in (1, 2, 3)]
    beyond = selectors_search.search(w.viewer, "harbour", per_page=3, page="99")

    assert [p.total for p in pages] == [8, 8, 8]
    assert [len(p.results) for p in pages] == [3, 3, 2]
    assert pages[0].page.has_next() and not pages[2].page.has_next()
    assert len({r.item.pk for p in pages for r in p.results}) == 8  # every result once
    assert [r.item.pk for r in beyond.results] == [r.item.pk for r in pages[2].results]  # past the end: the last


@pytest.fixture(params=["counted first", "recent matches first"])
def count_order(request, monkeypatch):
    """Both ways PostgreSQL counts: a query counted first, or (a common one) ranked among its most recent matches,
    which gives the count (``selectors_search._from_recent``). SQLite always counts first."""
    monkeypatch.setattr(selectors_search, "COMMON_SHARE", 2.0 if request.param == "counted first" else 0.0)


def test_counts_stop_at_the_cap_and_say_there_are_more(w, monkeypatch, client, count_order):
    """Past ``COUNT_CAP`` the count says "more than N" and paging stops there: nobody reads past it, and counting
    every match of a common word is what made search slow at scale."""
    monkeypatch.setattr(selectors_search, "COUNT_CAP", 5)
    found = selectors_search.search(w.viewer, "harbour", per_page=2)
    assert (found.total, found.more) == (5, True)
    assert found.page.paginator.num_pages == 3
    last = selectors_search.search(w.viewer, "harbour", per_page=2, page=3)
    assert len(last.results) == 1  # the fifth best, not the sixth
    exact = selectors_search.search(w.viewer, "harbour", community=w.other_community)
    assert (exact.total, exact.more) == (1, False)
    client.force_login(w.viewer)
    response = client.get("/search/", {"q": "harbour"})
    assert "More than 5 results for “harbour”" in response.content.decode()


def test_past_the_cap_every_page_the_count_offers_has_results(w, monkeypatch, count_order):
    """Past the cap the pages offered are the ones ranked: at 1,000 counted but 300 ranked, pages 16 to 50 of
    "census" were empty at the scale data set."""
    monkeypatch.setattr(selectors_search, "COUNT_CAP", 4)
    first = selectors_search.search(w.viewer, "harbour", per_page=1)
    assert (first.total, first.more) == (4, True)
    pages = [selectors_search.search(w.viewer, "harbour", per_page=1, page=n) for n in range(1, 5)]
    shown = [r.item.pk for p in pages for r in p.results]
    assert len(shown) == len(set(shown)) == 4  # one result on each of the four pages, none twice
