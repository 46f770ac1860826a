"""The API access matrix: every visibility x every persona x every endpoint family, each cell its own test.

It mirrors the web's matrix (tests/access/test_space_access_matrix.py, docs/permissions.md) for the REST API.
The expected outcomes are written out by hand from the product rules, never computed by calling the code under
test. Every persona calls with a read-and-write personal access token of their own; anonymous calls carry none.

Legend:
  see_in_list  yes / no  the space is in GET /communities/{c}/spaces (and in Space.objects.visible_to(user))
  reads        ok        200 with the content
               403       {"code": "permission_denied"}: the space is listed but its content is for members
               404       {"code": "not_found"}, exactly the answer for a space that does not exist
  writes       ok        201/200 and the database changed as asked
               refused   422 {"code": "validation_error"} (e.g. joining a space one already belongs to)
               401       {"code": "not_authenticated"}: no credentials
               403 / 404 as for reads; the database did not change

Actions (the content was written by the space's creator, site staff):
  space_detail GET the space           page_list / page_detail / page_versions     GET the pages
  question_list / answer_list          event_list / event_detail / post_list       GET the rest
  join          POST join              page_create POST pages                      page_edit PATCH the page
  question_ask  POST questions         question_edit PATCH staff's question (the asker or moderators only)
  answer_post   POST an answer         event_create POST events                    post_create POST posts
  event_register PUT one's registration as "going" (viewers too: registering is not writing content)
"""

from __future__ import annotations

import pytest

from spaces.models import Item, Question, Registration, Space, SpaceMembership
from tests.api.support import GHOST_SLUG, api_for, error_shape_ok, space_path
from tests.conftest import PERSONAS

ACTIONS = [
    "see_in_list",
    "space_detail",
    "page_list",
    "page_detail",
    "page_versions",
    "question_list",
    "answer_list",
    "event_list",
    "event_detail",
    "post_list",
    "join",
    "page_create",
    "page_edit",
    "question_ask",
    "question_edit",
    "answer_post",
    "event_create",
    "event_register",
    "post_create",
]

# fmt: off
# Columns: list=see_in_list det=space_detail pgl/pgd/pgv=page list/detail/versions ql/al=question/answer lists
# el/ed=event list/detail pl=post list | join pgc/pge=page create/edit qa/qe=question ask/edit ap=answer_post
# ec/er=event create/register pc=post_create
EXPECTED_TABLES = {
    "open": """
        persona              list det  pgl  pgd  pgv  ql   al   el   ed   pl   join    pgc  pge  qa   qe   ap   ec   er   pc
        anonymous            yes  ok   ok   ok   ok   ok   ok   ok   ok   ok   401     401  401  401  401  401  401  401  401
        outsider             yes  ok   ok   ok   ok   ok   ok   ok   ok   ok   ok      403  403  403  403  403  403  403  403
        requester            yes  ok   ok   ok   ok   ok   ok   ok   ok   ok   ok      403  403  403  403  403  403  403  403
        invited              yes  ok   ok   ok   ok   ok   ok   ok   ok   ok   ok      403  403  403  403  403  403  403  403
        banned               yes  ok   ok   ok   ok   ok   ok   ok   ok   ok   403     403  403  403  403  403  403  403  403
        viewer               yes  ok   ok   ok   ok   ok   ok   ok   ok   ok   refused 403  403  403  403  403  403  ok   403
        editor               yes  ok   ok   ok   ok   ok   ok   ok   ok   ok   refused ok   ok   ok   403  ok   ok   ok   ok
        moderator            yes  ok   ok   ok   ok   ok   ok   ok   ok   ok   refused ok   ok   ok   ok   ok   ok   ok   ok
        admin                yes  ok   ok   ok   ok   ok   ok   ok   ok   ok   refused ok   ok   ok   ok   ok   ok   ok   ok
        community_moderator  yes  ok   ok   ok   ok   ok   ok   ok   ok   ok   refused ok   ok   ok   ok   ok   ok   ok   ok
        community_admin      yes  ok   ok   ok   ok   ok   ok   ok   ok   ok   refused ok   ok   ok   ok   ok   ok   ok   ok
        staff                yes  ok   ok   ok   ok   ok   ok   ok   ok   ok   refused ok   ok   ok   ok   ok   ok   ok   ok
    """,  # noqa: E501
    "private": """
        persona              list det  pgl  pgd  pgv  ql   al   el   ed   pl   join    pgc  pge  qa   qe   ap   ec   er   pc
        anonymous            yes  ok   403  403  403  403  403  403  403  403  401     401  401  401  401  401  401  401  401
        outsider             yes  ok   403  403  403  403  403  403  403  403  refused 403  403  403  403  403  403  403  403
        requester            yes  ok   403  403  403  403  403  403  403  403  refused 403  403  403  403  403  403  403  403
        invited              yes  ok   403  403  403  403  403  403  403  403  refused 403  403  403  403  403  403  403  403
        banned               yes  ok   403  403  403  403  403  403  403  403  403     403  403  403  403  403  403  403  403
        viewer               yes  ok   ok   ok   ok   ok   ok   ok   ok   ok   refused 403  403  403  403  403  403  ok   403
        editor               yes  ok   ok   ok   ok   ok   ok   ok   ok   ok   refused ok   ok   ok   403  ok   ok   ok   ok
        moderator            yes  ok   ok   ok   ok   ok   ok   ok   ok   ok   refused ok   ok   ok   ok   ok   ok   ok   ok
        admin                yes  ok   ok   ok   ok   ok   ok   ok   ok   ok   refused ok   ok   ok   ok   ok   ok   ok   ok
        community_moderator  yes  ok   ok   ok   ok   ok   ok   ok   ok   ok   refused ok   ok   ok   ok   ok   ok   ok   ok
        community_admin      yes  ok   ok   ok   ok   ok   ok   ok   ok   ok   refused ok   ok   ok   ok   ok   ok   ok   ok
        staff                yes  ok   ok   ok   ok   ok   ok   ok   ok   ok   refused ok   ok   ok   ok   ok   ok   ok   ok
    """,  # noqa: E501
    "closed": """
        persona              list det  pgl  pgd  pgv  ql   al   el   ed   pl   join    pgc  pge  qa   qe   ap   ec   er   pc
        anonymous            no   404  404  404  404  404  404  404  404  404  401     401  401  401  401  401  401  401  401
        outsider             no   404  404  404  404  404  404  404  404  404  404     404  404  404  404  404  404  404  404
        requester            no   404  404  404  404  404  404  404  404  404  404     404  404  404  404  404  404  404  404
        invited              no   404  404  404  404  404  404  404  404  404  404     404  404  404  404  404  404  404  404
        banned               no   404  404  404  404  404  404  404  404  404  404     404  404  404  404  404  404  404  404
        viewer               yes  ok   ok   ok   ok   ok   ok   ok   ok   ok   refused 403  403  403  403  403  403  ok   403
        editor               yes  ok   ok   ok   ok   ok   ok   ok   ok   ok   refused ok   ok   ok   403  ok   ok   ok   ok
        moderator            yes  ok   ok   ok   ok   ok   ok   ok   ok   ok   refused ok   ok   ok   ok   ok   ok   ok   ok
        admin                yes  ok   ok   ok   ok   ok   ok   ok   ok   ok   refused ok   ok   ok   ok   ok   ok   ok   ok
        community_moderator  yes  ok   ok   ok   ok   ok   ok   ok   ok   ok   refused ok   ok   ok   ok   ok   ok   ok   ok
        community_admin      yes  ok   ok   ok   ok   ok   ok   ok   ok   ok   refused ok   ok   ok   ok   ok   ok   ok   ok
        staff                yes  ok   ok   ok   ok   ok   ok   ok   ok   ok   refused ok   ok   ok   ok   ok   ok   ok   ok
    """,  # noqa: E501
}
# fmt: on

READS = {"space_detail", "page_list", "page_detail", "page_versions", "question_list", "answer_list"}
READS |= {"event_list", "event_detail", "post_list"}
VOCABULARY = {"see_in_list": {"yes", "no"}, "space_detail": {"ok", "404"}}
READ_VOCABULARY = {"ok", "403", "404"}
WRITE_VOCABULARY = {"ok", "refused", "401", "403", "404"}


def _parse(text: str) -> dict[str, dict[str, str]]:
    """One literal table -> {persona: {action: outcome}}; a malformed table fails at import."""
    lines = [line.split() for line in text.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    assert len(header) == len(ACTIONS) + 1, header
    table = {}
    for row in rows:
        assert len(row) == len(header), row
        persona, outcomes = row[0], dict(zip(ACTIONS, row[1:], strict=True))
        for action, outcome in outcomes.items():
            allowed = VOCABULARY.get(action, READ_VOCABULARY if action in READS else WRITE_VOCABULARY)
            assert outcome in allowed, (persona, action, outcome)
        table[persona] = outcomes
    assert sorted(table) == sorted(PERSONAS), sorted(table)
    return table


EXPECTED = {visibility: _parse(text) for visibility, text in EXPECTED_TABLES.items()}
CELLS = [
    pytest.param(visibility, persona, action, id=f"{visibility}-{persona}-{action}")
    for visibility in EXPECTED
    for persona in PERSONAS
    for action in ACTIONS
]


# --- Observing one cell ---------------------------------------------------------------------------------------------
def snapshot(w) -> dict:
    """Everything these writes could change."""
    return {
        "items": Item.objects.filter(space=w.space).count(),
        "members": sorted(SpaceMembership.objects.filter(space=w.space).values_list("user_id", "role")),
        "page": (w.page.__class__.objects.get(pk=w.page.pk).version,),
        "question": Question.objects.values_list("title", "version").get(pk=w.question.pk),
        "registrations": Registration.objects.filter(event=w.event).count(),
    }


def assert_not_found_like_ghost(api, w, response, method: str, suffix: str, body=None) -> None:
    """404, the space's name nowhere, and the same request on a made-up space answers exactly the same."""
    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"
    assert w.space.name not in response.content.decode()
    ghost = api.request(method, space_path(w, suffix, slug=GHOST_SLUG), body)
    assert (ghost.status_code, ghost.json()) == (response.status_code, response.json())


def check_read(api, w, expected: str, suffix: str, shows: str) -> None:
    response = api.get(space_path(w, suffix))
    if expected == "ok":
        assert response.status_code == 200, response.content
        assert shows in response.content.decode()
    elif expected == "403":
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "permission_denied"
        assert shows not in response.content.decode()
    else:
        assert_not_found_like_ghost(api, w, response, "GET", suffix)


def check_write(api, w, expected: str, method: str, suffix: str, body: dict, done) -> None:
    before = snapshot(w)
    assert not done(), "the effect must not be there before the action"
    response = api.request(method, space_path(w, suffix), body)
    if expected == "ok":
        assert response.status_code in (200, 201), response.content
        assert done(), "allowed, but the database did not change"
        return
    assert snapshot(w) == before, "refused, but the database changed"
    assert error_shape_ok(response), response.content
    code = response.json()["code"]
    if expected == "refused":
        assert (response.status_code, code) == (422, "validation_error"), response.content
    elif expected == "401":
        assert (response.status_code, code) == (401, "not_authenticated"), response.content
    elif expected == "403":
        assert (response.status_code, code) == (403, "permission_denied"), response.content
    else:
        assert_not_found_like_ghost(api, w, response, method, suffix, body)


# --- The actions ----------------------------------------------------------------------------------------------------
def check_see_in_list(api, w, actor, expected):
    response = api.get(f"/communities/{w.community.slug}/spaces")
    assert response.status_code == 200
    listed = w.space.slug in {space["slug"] for space in response.json()["results"]}
    in_queryset = Space.objects.visible_to(actor).filter(pk=w.space.pk).exists()
    assert (listed, in_queryset) == ((True, True) if expected == "yes" else (False, False))


def check_space_detail(api, w, actor, expected):
    check_read(api, w, expected, "", w.space.name)


def check_page_list(api, w, actor, expected):
    check_read(api, w, expected, "/pages", w.page.title)


def check_page_detail(api, w, actor, expected):
    check_read(api, w, expected, f"/pages/{w.page.slug}", w.page.title)


def check_page_versions(api, w, actor, expected):
    check_read(api, w, expected, f"/pages/{w.page.slug}/versions", w.page.title)


def check_question_list(api, w, actor, expected):
    check_read(api, w, expected, "/questions", w.question.title)


def check_answer_list(api, w, actor, expected):
    check_read(api, w, expected, f"/questions/{w.question.slug}/answers", '"count"')


def check_event_list(api, w, actor, expected):
    check_read(api, w, expected, "/events", w.event.title)


def check_event_detail(api, w, actor, expected):
    check_read(api, w, expected, f"/events/{w.event.slug}", w.event.title)


def check_post_list(api, w, actor, expected):
    check_read(api, w, expected, "/posts", "Matrix post")


def _user_id(actor):
    return getattr(actor, "pk", None)


def check_join(api, w, actor, expected):
    was_member = SpaceMembership.objects.filter(space=w.space, user_id=_user_id(actor)).exists()

    def done():
        return not was_member and SpaceMembership.objects.filter(space=w.space, user_id=_user_id(actor)).exists()

    check_write(api, w, expected, "POST", "/join", {}, done)


def check_page_create(api, w, actor, expected):
    title = "A page from the API matrix"

    def done():
        return w.space.pages.filter(title=title).exists()

    check_write(api, w, expected, "POST", "/pages", {"title": title, "body": "Hello"}, done)


def check_page_edit(api, w, actor, expected):
    def done():
        return w.page.__class__.objects.filter(pk=w.page.pk, title="Edited by the matrix", version=2).exists()

    body = {"title": "Edited by the matrix", "base_version": 1}
    check_write(api, w, expected, "PATCH", f"/pages/{w.page.slug}", body, done)


def check_question_ask(api, w, actor, expected):
    title = "Asked through the API matrix?"

    def done():
        return w.space.questions.filter(title=title).exists()

    check_write(api, w, expected, "POST", "/questions", {"title": title, "tags": ["census"]}, done)


def check_question_edit(api, w, actor, expected):
    def done():
        return Question.objects.filter(pk=w.question.pk, title="Retitled by the matrix?").exists()

    body = {"title": "Retitled by the matrix?"}
    check_write(api, w, expected, "PATCH", f"/questions/{w.question.slug}", body, done)


def check_answer_post(api, w, actor, expected):
    def done():
        return w.question.answers.filter(body="An answer from the matrix").exists()

    body = {"body": "An answer from the matrix"}
    check_write(api, w, expected, "POST", f"/questions/{w.question.slug}/answers", body, done)


def check_event_create(api, w, actor, expected):
    title = "An event from the API matrix"

    def done():
        return w.space.events.filter(title=title).exists()

    body = {
        "title": title,
        "starts_at": "2031-03-04T09:00:00",
        "ends_at": "2031-03-04T11:00:00",
        "time_zone": "Pacific/Fiji",
    }
    check_write(api, w, expected, "POST", "/events", body, done)


def check_event_register(api, w, actor, expected):
    def done():
        return Registration.objects.filter(event=w.event, user_id=_user_id(actor), status="going").exists()

    check_write(api, w, expected, "PUT", f"/events/{w.event.slug}/registration", {"status": "going"}, done)


def check_post_create(api, w, actor, expected):
    def done():
        return w.space.posts.filter(body="Posted through the API matrix").exists()

    check_write(api, w, expected, "POST", "/posts", {"body": "Posted through the API matrix"}, done)


CHECKS = {name: globals()[f"check_{name}"] for name in ACTIONS}


def test_table_covers_every_cell():
    assert len(CELLS) == len(EXPECTED) * len(PERSONAS) * len(ACTIONS) == 684


@pytest.mark.django_db
@pytest.mark.parametrize("visibility,persona,action", CELLS)
def test_cell(api_worlds, visibility, persona, action):
    w = api_worlds[visibility]
    CHECKS[action](api_for(w, persona), w, getattr(w, persona), EXPECTED[visibility][persona][action])
