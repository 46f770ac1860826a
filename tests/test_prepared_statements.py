"""On PostgreSQL a statement a connection runs again and again is prepared, so that the database may plan it once
(``copapp.plans``); inside ``custom_plans()`` nothing is prepared, and each run is planned for its own values (how
common a search's words are decides its plan)."""

import pytest
from django.db import connection

from copapp.plans import custom_plans
from spaces.models import Item, Visibility
from spaces.selectors_search import search
from tests.search.helpers import page

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _prepared(fragment: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall() if fragment in statement]


def test_a_statement_run_again_and_again_is_prepared_once():
    for n in range(8):
        list(Item.objects.filter(title=f"Census methods {n}").values_list("pk", flat=True))

    assert len(_prepared('WHERE "spaces_item"."title" = $1')) == 1


def test_inside_custom_plans_nothing_is_prepared():
    with custom_plans():
        for n in range(8):
            list(Item.objects.filter(title__iexact=f"Census methods {n}").values_list("pk", flat=True))

    assert _prepared('UPPER("spaces_item"."title"::text) = UPPER($1)') == []


def test_search_plans_its_matching_for_its_words_and_reads_the_rows_found_with_one_plan(world_factory):
    w = world_factory(Visibility.OPEN)
    for n in range(3):
        page(w.space, w.editor, f"Census methods {n}", "Enumeration areas and coverage checks.")
    for word in ("census", "methods", "enumeration", "coverage", "checks", "areas", "census methods", "census areas"):
        assert search(w.editor, word).results

    matching = [s for s in _prepared("to_tsquery") if "ts_headline" not in s]
    # the count and the ranking, planned for how common each word is (these words are rare to the planner: a common
    # word's count by reading keeps one plan, tests/search/test_permissions.py)
    assert matching == []
    assert len(_prepared("ts_headline")) >= 1  # the page's rows with their highlights, read by id
