"""The search page, its htmx partial, the header box and its title suggestions: who may use them, what they show,
how filters and pages travel in the address, and a fixed number of queries however many results there are."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from spaces import selectors_search
from spaces.models import Visibility
from tests.factories import make_space
from tests.search.helpers import page, question
from tests.spaces.helpers import client_for, htmx, template_names

SEARCH = reverse("search:results")
SUGGEST = reverse("search:suggest")


@pytest.fixture
def w(world_factory):
    return world_factory(Visibility.OPEN)


def result_titles(response) -> list[str]:
    return re.findall(r'class="search-result-title"><a href="[^"]*">(.*?)</a>', response.content.decode())


def test_anyone_can_search_open_content_and_the_page_says_how_many(w):
    page(w.space, w.editor, "Tourism statistics", "Arrivals by country.")
    response = Client().get(SEARCH, {"q": "tourism"})

    assert response.status_code == 200
    assert "spaces/search.html" in template_names(response)
    assert result_titles(response) == ["<mark>Tourism</mark> statistics"]
    assert "1 result for “tourism”" in response.content.decode()


def test_an_empty_query_shows_the_form_and_no_results(w):
    response = Client().get(SEARCH)
    assert response.status_code == 200
    assert 'name="q"' in response.content.decode() and result_titles(response) == []
    assert "search-count" not in response.content.decode()


def test_search_endpoints_answer_get_only(w):
    browser = client_for(w.viewer)
    assert browser.post(SEARCH, {"q": "x"}).status_code == 405
    assert browser.post(SUGGEST, {"q": "x"}).status_code == 405


def test_htmx_request_gets_the_results_partial_and_the_space_filter_out_of_band(w):
    page(w.space, w.editor, "Tourism statistics", "Arrivals by country.")
    browser = client_for(w.viewer)
    response = htmx(browser, "get", f"{SEARCH}?q=tourism&community={w.community.slug}")
    bad = htmx(browser, "get", f"{SEARCH}?q=tourism&date_from=2030-02-01&date_to=2030-01-01").content.decode()

    names = template_names(response)
    assert names[0] == "spaces/partials/search_results.html" and "spaces/search.html" not in names
    body = response.content.decode()
    assert "<html" not in body
    assert result_titles(response) == ["<mark>Tourism</mark> statistics"]
    # the community chosen, the space filter (outside the swapped results) is refreshed with its spaces
    assert 'id="search-space-field" class="field" hx-swap-oob="true"' in body
    assert f'<option value="{w.space.slug}">' in body
    assert "The end date is before the start date." in bad  # errors show where the results go


def test_filters_from_the_address_and_a_closed_space_an_outsider_names_is_refused(w):
    page(w.space, w.editor, "Tourism statistics", "Arrivals by country.")
    question(w.space, w.editor, "Tourism satellite account?", "How to start.")
    closed = make_space(w.staff, w.community, Visibility.CLOSED, slug="tourism-closed")
    page(closed, w.staff, "Tourism secret", "Closed.")
    browser = client_for(w.outsider)

    by_kind = browser.get(SEARCH, {"q": "tourism", "kind": "question"})
    by_space = browser.get(SEARCH, {"q": "tourism", "community": w.community.slug, "space": w.space.slug})
    named_closed = browser.get(SEARCH, {"q": "tourism", "community": w.community.slug, "space": closed.slug})
    by_author = browser.get(SEARCH, {"q": "tourism", "author": "@" + w.editor.username})
    bad_dates = browser.get(SEARCH, {"q": "tourism", "date_from": "2030-02-01", "date_to": "2030-01-01"})

    assert result_titles(by_kind) == ["<mark>Tourism</mark> satellite account?"]
    assert len(result_titles(by_space)) == 2
    assert result_titles(named_closed) == [] and "Tourism secret" not in named_closed.content.decode()
    assert "tourism-closed" not in by_space.content.decode()  # not offered in the space filter either
    assert len(result_titles(by_author)) == 2
    assert result_titles(bad_dates) == [] and "The end date is before the start date." in bad_dates.content.decode()


def test_pagination_links_keep_the_query_and_filters(w):
    for n in range(23):
        page(w.space, w.editor, f"Water accounts {n}", "Water abstraction.")
    browser = client_for(w.viewer)

    first = browser.get(SEARCH, {"q": "water", "kind": "page"}).content.decode()
    second = browser.get(SEARCH, {"q": "water", "kind": "page", "page": "2"})

    assert "23 results" in first
    assert 'href="?q=water&amp;kind=page&amp;page=2"' in first
    assert len(result_titles(second)) == 3


def test_content_in_results_is_escaped(w):
    page(w.space, w.editor, "Tourism <img src=x onerror=alert(1)>", "Body with <b>tags</b> and tourism.")
    body = client_for(w.viewer).get(SEARCH, {"q": "tourism"}).content.decode()

    assert "<img src=x" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body
    assert "<b>tags" not in body


def test_header_box_on_every_page_asks_for_suggestions_with_htmx(w):
    body = client_for(w.viewer).get(reverse("home")).content.decode()
    assert 'role="search"' in body and 'id="site-search-q"' in body
    assert f'hx-get="{SUGGEST}"' in body and f'action="{SEARCH}"' in body
    assert "<script>" not in body and "onkey" not in body  # no inline script of our own


def test_suggestions_are_at_most_eight_links_to_titles(w):
    for n in range(10):
        page(w.space, w.editor, f"Labour force survey {n}", "Employment.")
    question(w.space, w.editor, "Labour market flows?", "Transitions.")
    response = htmx(client_for(w.viewer), "get", SUGGEST + "?q=labo")
    body = response.content.decode()

    links = re.findall(r'<li><a href="([^"]+)">', body)
    assert response.status_code == 200
    assert len(links) == 9  # eight titles and "all results"
    assert links[-1] == SEARCH + "?q=labo"
    assert htmx(client_for(w.viewer), "get", SUGGEST + "?q=").content.strip() == b""


def _queries(browser, url: str) -> int:
    assert browser.get(url).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        assert browser.get(url).status_code == 200
    return len(ctx.captured_queries)


def _add_mixed(w, start: int, stop: int) -> None:
    for n in range(start, stop):
        target = page(w.space, w.editor, f"Energy balance {n}", "Energy flows.")
        if n % 3 == 0:
            from spaces import services

            services.comment_create(actor=w.admin, target=target.item, body=f"Energy comment {n}")
        if n % 3 == 1:
            q = question(w.space, w.editor, f"Energy question {n}?", "Energy units.")
            from spaces import services

            services.answer_post(actor=w.admin, question=q, body="Energy in joules.")


@pytest.mark.parametrize("persona", ["anonymous", "viewer"])
@pytest.mark.parametrize("common_share", [2.0, 0.0], ids=["counted first", "recent matches first"])
def test_search_page_queries_are_the_same_for_3_and_30_results(w, persona, common_share, monkeypatch):
    monkeypatch.setattr(selectors_search, "COMMON_SHARE", common_share)  # both ways PostgreSQL takes the count
    browser = Client() if persona == "anonymous" else client_for(getattr(w, persona))
    url = f"{SEARCH}?q=energy&community={w.community.slug}"
    _add_mixed(w, 0, 3)
    few = _queries(browser, url)
    _add_mixed(w, 3, 12)
    many = _queries(browser, url)

    assert few == many
    # the header's counts come from the cache; the results are ranked on narrow rows, then the page's rows are read;
    # PostgreSQL's planner is asked first how common the words are (selectors_search._Postgres.is_common)
    assert many == {"anonymous": 6, "viewer": 8}[persona] + (connection.vendor == "postgresql")


def test_suggestions_queries_are_the_same_for_3_and_8_titles(w):
    browser = client_for(w.viewer)
    url = f"{SUGGEST}?q=energ"
    _add_mixed(w, 0, 3)
    few = _queries(browser, url)
    _add_mixed(w, 3, 12)
    many = _queries(browser, url)

    assert few == many == 3  # session, user, the suggestions


@pytest.mark.postgres
def test_a_corrected_search_page_costs_the_same_for_3_and_30_results(w):
    browser = client_for(w.viewer)
    url = f"{SEARCH}?q=enrgy"  # corrected to "energy": the word list, a second count, then the page as usual
    _add_mixed(w, 0, 3)
    few = _queries(browser, url)
    _add_mixed(w, 3, 12)
    many = _queries(browser, url)

    assert "Showing results for “energy”" in browser.get(url).content.decode()
    assert few == many <= 12
