"""Every list endpoint runs a fixed number of queries, however many rows it returns (no N+1).

Each list is measured with 3 rows, rows are added, and it is measured again with 30 (the page size is raised to
fit them): the two counts must be equal, and equal to an exact number so that any growth is noticed in review.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from communities.services import community_create
from members.models import Notification, PersonalAccessToken
from spaces import services
from spaces.models import SpaceRole, Visibility
from spaces.services import events as event_services
from spaces.services import posts as post_services
from tests.api.support import ApiClient, new_token
from tests.factories import add_member, make_space, make_user

FEW, MANY = 3, 30


def queries_for(api: ApiClient, path: str, rows: int) -> int:
    """Queries of one GET, after a first call has settled per-request state. The token's last-used time is
    written at most once a minute: it is set just before, so that write never falls into the measured call."""
    sep = "&" if "?" in path else "?"
    path = f"{path}{sep}limit=100"
    assert api.get(path).status_code == 200
    PersonalAccessToken.objects.update(last_used_at=timezone.now())
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(path)
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == rows, response.json()["count"]
    return len(ctx.captured_queries)


@pytest.fixture
def site(staff, community):
    space = make_space(staff, community, Visibility.PRIVATE, slug="working-group")
    member = make_user("member", organisation="Statistics Office", country="Fiji")
    add_member(space, member, SpaceRole.EDITOR)
    return space, member, ApiClient(new_token(member))


def base(space, suffix: str) -> str:
    return f"/communities/{space.community.slug}/spaces/{space.slug}{suffix}"


def add_pages(staff, space, start, stop):
    for n in range(start, stop):
        author = make_user(f"writer{n}")
        add_member(space, author, SpaceRole.EDITOR)
        page = services.page_create(actor=author, space=space, title=f"Page {n}", body="text")
        services.page_update(actor=staff, page=page, title=f"Page {n}", body="more", base_version=1)


def add_questions(staff, space, start, stop):
    for n in range(start, stop):
        services.question_ask(actor=staff, space=space, title=f"Question number {n}?", tags=[f"t{n}", "common"])


def add_answers(staff, question, start, stop):
    for n in range(start, stop):
        author = make_user(f"answerer{n}")
        add_member(question.space, author, SpaceRole.EDITOR)
        services.answer_post(actor=author, question=question, body=f"Answer {n}")


def add_events(staff, space, start, stop, member):
    begin = (timezone.now() + timedelta(days=3)).replace(microsecond=0)
    for n in range(start, stop):
        event = event_services.event_create(
            actor=staff,
            space=space,
            title=f"Event {n}",
            starts_at=begin + timedelta(hours=n),
            ends_at=begin + timedelta(hours=n + 1),
            time_zone="UTC",
        )
        if n % 2:
            event_services.event_registration_set(actor=member, event=event, status="going")


def add_posts(staff, space, start, stop):
    for n in range(start, stop):
        post_services.post_create(actor=staff, space=space, body=f"Post {n}")


@pytest.mark.parametrize("kind", ["pages", "questions", "events", "posts"])
def test_space_content_lists_run_a_fixed_number_of_queries(staff, site, kind):
    space, member, api = site
    fill = {
        "pages": lambda a, b: add_pages(staff, space, a, b),
        "questions": lambda a, b: add_questions(staff, space, a, b),
        "events": lambda a, b: add_events(staff, space, a, b, member),
        "posts": lambda a, b: add_posts(staff, space, a, b),
    }[kind]
    fill(0, FEW)
    few = queries_for(api, base(space, f"/{kind}"), FEW)
    fill(FEW, MANY)
    many = queries_for(api, base(space, f"/{kind}"), MANY)
    expected = {"pages": 5, "questions": 6, "events": 6, "posts": 5}[kind]
    assert (few, many) == (expected, expected)


def test_answers_and_versions_run_a_fixed_number_of_queries(staff, site):
    space, member, api = site
    question = services.question_ask(actor=staff, space=space, title="Which key?")
    add_answers(staff, question, 0, FEW)
    answers = base(space, f"/questions/{question.slug}/answers")
    few = queries_for(api, answers, FEW)
    add_answers(staff, question, FEW, MANY)
    assert (few, queries_for(api, answers, MANY)) == (7, 7)

    page = services.page_create(actor=staff, space=space, title="Versioned")
    for n in range(1, FEW):
        services.page_update(actor=staff, page=page, title="Versioned", body=f"v{n}", base_version=n)
    versions = base(space, f"/pages/{page.slug}/versions")
    few = queries_for(api, versions, FEW)
    for n in range(FEW, MANY):
        services.page_update(actor=staff, page=page, title="Versioned", body=f"v{n}", base_version=n)
    assert (few, queries_for(api, versions, MANY)) == (6, 6)


def test_question_and_answer_versions_run_a_fixed_number_of_queries(staff, site):
    space, member, api = site
    question = services.question_ask(actor=staff, space=space, title="Which key?", body="v0")
    answer = services.answer_post(actor=staff, question=question, body="a0")

    def edit(first: int, last: int) -> None:
        for n in range(first, last):
            services.question_edit(actor=staff, question=question, title="Which key?", body=f"v{n}", tags=[])
            services.answer_edit(actor=staff, answer=answer, body=f"a{n}")

    question_versions = base(space, f"/questions/{question.slug}/versions")
    answer_versions = base(space, f"/questions/{question.slug}/answers/{answer.pk}/versions")
    edit(1, FEW)
    few = (queries_for(api, question_versions, FEW), queries_for(api, answer_versions, FEW))
    edit(FEW, MANY)
    many = (queries_for(api, question_versions, MANY), queries_for(api, answer_versions, MANY))
    assert few == many == (7, 8)  # the question (and the answer) found with its checks, then one page of history


def test_space_and_community_lists_run_a_fixed_number_of_queries(staff, community, site):
    _space, member, api = site
    for n in range(FEW - 1):
        make_space(staff, community, [Visibility.OPEN, Visibility.CLOSED][n % 2], slug=f"space-{n}")
    few = queries_for(api, f"/communities/{community.slug}/spaces", FEW - 1 + 1 - (FEW - 1) // 2)
    for n in range(FEW - 1, MANY):
        make_space(staff, community, Visibility.OPEN, slug=f"space-{n}")
    listed = 1 + (FEW - 1) - (FEW - 1) // 2 + (MANY - (FEW - 1))
    assert (few, queries_for(api, f"/communities/{community.slug}/spaces", listed)) == (5, 5)

    for n in range(FEW - 1):
        community_create(actor=staff, name=f"C {n}", slug=f"c-{n}")
    few = queries_for(api, "/communities", FEW)
    for n in range(FEW - 1, MANY - 1):
        community_create(actor=staff, name=f"C {n}", slug=f"c-{n}")
    assert (few, queries_for(api, "/communities", MANY)) == (4, 4)


def test_members_and_notifications_run_a_fixed_number_of_queries(staff, site):
    space, member, api = site
    # The directory: every active member (staff, member, then the ones added here).
    for n in range(FEW - 2):
        make_user(f"person{n}", organisation="Office", country="Chile", job_title="Analyst")
    few = queries_for(api, "/members", FEW)
    for n in range(FEW - 2, MANY - 2):
        make_user(f"person{n}", organisation="Office", country="Chile")
    assert (few, queries_for(api, "/members", MANY)) == (4, 4)

    services.watch_toggle(actor=member, space=space)
    for n in range(FEW - 1):  # and the invitation that brought the member in
        services.page_create(actor=staff, space=space, title=f"News {n}")
    assert Notification.objects.filter(recipient=member).count() == FEW
    few = queries_for(api, "/me/notifications", FEW)
    for n in range(FEW - 1, MANY - 1):
        services.page_create(actor=staff, space=space, title=f"News {n}")
    assert (few, queries_for(api, "/me/notifications", MANY)) == (6, 6)  # the page's keys, then its rows
