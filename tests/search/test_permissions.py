"""Search never reveals what a member may not see: not in results, not in counts, not in snippets, not in the
header's suggestions. Every item below holds the word "zebra" and a word of its own; each persona must find
exactly the zebras they may see, and no trace of the others' own words anywhere on the page."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from spaces import services
from spaces.models import SpaceMembership, Visibility
from spaces.services import moderation as moderation_services
from tests.factories import make_space
from tests.search.helpers import page, post, question, suggestion_titles, titles, total
from tests.spaces.helpers import client_for


@pytest.fixture
def w(world_factory):
    w = world_factory(Visibility.OPEN)
    page(w.space, w.editor, "Zebra public", "Zebra crossing, open to all: publicword.")
    closed = make_space(w.staff, w.community, Visibility.CLOSED, slug="zebra-closed")
    page(closed, w.staff, "Zebra closed", "Zebra in a closed space: closedword.")
    restricted = page(w.space, w.editor, "Zebra restricted", "Zebra for named people: restrictedword.")
    services.page_set_restrictions(
        actor=w.editor, page=restricted, viewers=[w.moderator], restrict_view=True, restrict_edit=False
    )
    services.comment_create(actor=w.editor, target=restricted.item, body="Zebra comment: restrictedcomment.")
    hidden = post(w.space, w.editor, "Zebra hidden by a moderator: hiddenword.")
    moderation_services.item_hide(actor=w.moderator, item=hidden.item, reason="off topic")
    hidden_question = question(w.space, w.editor, "Zebra hidden question", "hiddenquestion")
    services.answer_post(actor=w.admin, question=hidden_question, body="Zebra answer: hiddenanswer.")
    moderation_services.item_hide(actor=w.moderator, item=hidden_question.item, reason="duplicate")
    post(w.space, w.editor, "Zebra scheduled: scheduledword.", publish_at=timezone.now() + timedelta(days=2))
    trashed = page(w.space, w.editor, "Zebra trashed", "Zebra in the trash: trashedword.")
    services.item_trash(actor=w.editor, item=trashed.item)
    w.closed = closed
    return w


SECRETS = {
    "closedword": "Zebra closed",
    "restrictedword": "Zebra restricted",
    "restrictedcomment": None,
    "hiddenword": None,
    "hiddenquestion": "Zebra hidden question",
    "hiddenanswer": None,
    "scheduledword": None,
    "trashedword": "Zebra trashed",
}


def assert_sees_only_the_public_zebra(w, user) -> None:
    assert titles(user, "zebra") == ["Zebra public"]
    assert total(user, "zebra") == 1
    assert suggestion_titles(user, "zeb") == ["Zebra public"]
    for word, title in SECRETS.items():
        assert total(user, word) == 0, word
    browser = client_for(user) if user.is_authenticated else Client()
    body = browser.get(reverse("search:results"), {"q": "zebra"}).content.decode()
    assert "1 result" in body
    suggestions = browser.get(reverse("search:suggest"), {"q": "zebra"}).content.decode()
    for word, title in SECRETS.items():
        assert word not in body and word not in suggestions, word
        if title:
            assert title not in body and title not in suggestions, title


@pytest.mark.parametrize("persona", ["anonymous", "outsider", "viewer", "banned"])
def test_members_without_rights_find_only_what_they_may_see(w, persona):
    assert_sees_only_the_public_zebra(w, getattr(w, persona))


def test_each_exception_sees_exactly_its_own_items(w):
    # the named person and the space's admin see the restricted page (and the comment on it)
    assert "Zebra restricted" in titles(w.moderator, "restrictedword")
    assert total(w.admin, "restrictedword") == 1 and total(w.admin, "restrictedcomment") == 1
    assert total(w.viewer, "restrictedcomment") == 0
    # the author and the space's moderators see hidden and scheduled items; the author of a hidden question's
    # answer does not see it once the question is hidden (the answer goes with its question)
    assert total(w.editor, "hiddenword") == 1 and total(w.moderator, "scheduledword") == 1
    assert total(w.admin, "hiddenanswer") == 1  # admins are moderators too
    assert total(w.viewer, "hiddenanswer") == 0
    # nobody finds the trash, not even its author
    assert total(w.editor, "trashedword") == 0 and total(w.staff, "trashedword") == 0
    # members of the closed space find its content; its community's moderators hold a role there too
    assert titles(w.staff, "closedword") == ["Zebra closed"]
    assert titles(w.community_moderator, "closedword") == ["Zebra closed"]
    assert total(w.outsider, "closedword") == 0


def test_banned_and_removed_members_lose_a_private_space_from_search(world_factory):
    w = world_factory(Visibility.PRIVATE)
    page(w.space, w.editor, "Zebra private", "Zebra for members: privateword.")
    before = total(w.viewer, "privateword")
    membership = SpaceMembership.objects.get(space=w.space, user=w.viewer)
    services.membership_remove(actor=w.admin, membership=membership)

    assert before == 1
    assert total(w.viewer, "privateword") == 0 and suggestion_titles(w.viewer, "zebra") == []
    assert total(w.banned, "privateword") == 0 and suggestion_titles(w.banned, "zebra") == []
    assert total(w.outsider, "zebra") == 0
    assert total(w.editor, "privateword") == 1


# --- PostgreSQL counts a common query by reading the table in order (selectors_search._Postgres.count) -------------
@pytest.fixture
def words_always_common(monkeypatch):
    """Every query counted as a common one: the planner has no statistics on a test's few rows."""
    from spaces import selectors_search

    monkeypatch.setattr(selectors_search, "COMMON_SHARE", 0.0)


@pytest.fixture
def counted_by_reading(words_always_common, monkeypatch):
    """A common query whose most recent matches do not settle its count, which is then taken by reading: with a
    cap of one, the viewer's two newest zebras by their own rules (the answer to the hidden question, the comment
    on the restricted page) are both out of their sight (``selectors_search._from_recent``)."""
    from spaces import selectors_search

    monkeypatch.setattr(selectors_search, "COUNT_CAP", 1)


def _counts_taken(user, text: str) -> list[str]:
    """The COUNT statements one search runs."""
    from django.db import connection

    statements: list[str] = []

    def remember(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(remember):
        total(user, text)
    return [sql for sql in statements if sql.startswith("SELECT COUNT(*)")]


@pytest.mark.postgres
def test_a_common_word_is_counted_from_its_most_recent_matches_when_they_settle_it(w, words_always_common, monkeypatch):
    """Ranking the most recent matches (at most one more than the cap) gives the count with them: all of them
    when there are no more, or more than the cap when all of a full set are visible. Only the viewer's
    newest zebras are out of their sight, so only the viewer's search, with a cap of one, still counts."""
    from spaces import selectors_search

    assert total(w.viewer, "zebra") == 1 and not _counts_taken(w.viewer, "zebra")
    assert total(w.admin, "restrictedword") == 1 and not _counts_taken(w.admin, "restrictedword")
    monkeypatch.setattr(selectors_search, "COUNT_CAP", 1)
    found = selectors_search.search(w.admin, "zebra")
    assert (found.total, found.more, len(found.results)) == (1, True, 1) and not _counts_taken(w.admin, "zebra")
    assert total(w.viewer, "zebra") == 1 and _counts_taken(w.viewer, "zebra")


def _setting(name: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s)", [name])
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.parametrize("persona", ["anonymous", "outsider", "viewer", "banned"])
def test_a_common_word_counted_by_reading_counts_only_what_they_may_see(w, persona, words_always_common):
    before = (_setting("enable_bitmapscan"), _setting("statement_timeout"), _setting("plan_cache_mode"))
    assert_sees_only_the_public_zebra(w, getattr(w, persona))
    assert total(w.admin, "restrictedword") == 1 and total(w.editor, "hiddenword") == 1
    # the planner's settings are put back, though the test holds the transaction open
    after = (_setting("enable_bitmapscan"), _setting("statement_timeout"), _setting("plan_cache_mode"))
    assert after == before == ("on", "0", "auto")


@pytest.mark.postgres
def test_a_count_by_reading_keeps_one_plan_and_it_counts_what_each_reader_may_see(w, counted_by_reading):
    """The count by reading is prepared once its connection has run it a few times, with a generic plan; one plan
    for every reader, so each reader's permissions must still decide what it counts."""
    from django.db import connection

    for _ in range(8):  # past psycopg's prepare threshold, and PostgreSQL's five custom plans
        assert total(w.viewer, "zebra") == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT generic_plans FROM pg_prepared_statements WHERE statement LIKE 'SELECT COUNT(*)%%'")
        generic = [n for (n,) in cursor.fetchall()]
    assert generic and max(generic) >= 1

    for persona in ("anonymous", "outsider", "viewer", "banned"):
        assert_sees_only_the_public_zebra(w, getattr(w, persona))
    assert total(w.admin, "restrictedword") == 1 and total(w.editor, "hiddenword") == 1
    assert total(w.viewer, "restrictedword") == 0 and total(w.viewer, "hiddenword") == 0


@pytest.mark.postgres
def test_a_count_by_reading_that_runs_over_its_time_is_counted_again_from_the_index(w, counted_by_reading):
    from django.db import connection

    slowed = []

    def slow_first_count(execute, sql, params, many, context):
        if sql.startswith("SELECT COUNT(*)") and not slowed:
            slowed.append(sql)
            execute("SELECT pg_sleep(1)", None, many, context)  # over the 60 ms timeout: cancelled
        return execute(sql, params, many, context)

    with connection.execute_wrapper(slow_first_count):
        assert total(w.viewer, "zebra") == 1

    assert slowed and _setting("statement_timeout") == "0" and _setting("enable_bitmapscan") == "on"
    assert _setting("plan_cache_mode") == "auto"
