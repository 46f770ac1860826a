"""Writes go through the services: versions in the history, activity recorded, counters and waiting lists kept,
and every rule the web forms apply (the same words come back as 422)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.models import ActivityEvent
from spaces import services
from spaces.models import Item, Page, Post, Question, Registration, SpaceRole, Visibility
from spaces.services import events as event_services
from tests.api.support import ApiClient, new_token
from tests.factories import add_member, make_space, make_user


@pytest.fixture
def space(staff, community):
    return make_space(staff, community, Visibility.PRIVATE, slug="working-group")


@pytest.fixture
def editor(space):
    user = make_user("editor")
    add_member(space, user, SpaceRole.EDITOR)
    return user


@pytest.fixture
def api(editor):
    return ApiClient(new_token(editor))


def url(space, suffix: str = "") -> str:
    return f"/communities/{space.community.slug}/spaces/{space.slug}{suffix}"


def test_api_page_has_history_and_activity_and_edits_add_versions(api, space, editor):
    created = api.post(url(space, "/pages"), {"title": "Census methods", "body": "First", "summary": "Start"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["version"], body["can_edit"], body["body_html"].strip()) == (1, True, "<p>First</p>")
    page = Page.objects.get(pk=body["id"])
    assert page.versions.count() == 1
    assert page.versions.get().history_user == editor
    assert ActivityEvent.objects.filter(member=editor, kind="page_create", space_id=space.pk).exists()

    edited = api.patch(url(space, f"/pages/{page.slug}"), {"body": "Second", "base_version": 1, "summary": "More"})
    assert edited.status_code == 200 and edited.json()["version"] == 2
    assert ActivityEvent.objects.filter(member=editor, kind="page_edit").exists()
    versions = api.get(url(space, f"/pages/{page.slug}/versions")).json()
    assert [v["version"] for v in versions["results"]] == [2, 1]
    assert versions["results"][0]["summary"] == "More"
    assert versions["results"][0]["author"]["username"] == editor.username
    assert api.get(url(space, f"/pages/{page.slug}/versions/1")).json()["body"] == "First"
    assert api.get(url(space, f"/pages/{page.slug}/versions/9")).status_code == 404

    restored = api.post(url(space, f"/pages/{page.slug}/versions/1/restore"))
    assert restored.status_code == 200
    assert (restored.json()["version"], restored.json()["body"]) == (3, "First")
    assert page.versions.count() == 3


def test_subpage_needs_a_visible_parent_of_the_space(api, space, staff):
    parent = services.page_create(actor=staff, space=space, title="Handbook")
    child = api.post(url(space, "/pages"), {"title": "Chapter 1", "parent": parent.slug})
    assert child.json()["parent_id"] == parent.pk
    missing = api.post(url(space, "/pages"), {"title": "Chapter 2", "parent": "nope"})
    assert missing.status_code == 422


def test_trash_goes_through_the_service_and_follows_the_rules(api, space, staff, editor):
    own = services.page_create(actor=editor, space=space, title="Mine")
    theirs = services.page_create(actor=staff, space=space, title="Theirs")
    assert api.delete(url(space, f"/pages/{own.slug}")).status_code == 204
    assert Item.objects.get(pk=own.item_id).deleted_at is not None
    assert api.get(url(space, f"/pages/{own.slug}")).status_code == 404
    refused = api.delete(url(space, f"/pages/{theirs.slug}"))
    assert refused.status_code == 403 and Item.objects.get(pk=theirs.item_id).deleted_at is None


def test_questions_answers_and_accepting(api, space, staff, editor):
    asked = api.post(url(space, "/questions"), {"title": "How to link records?", "body": "?", "tags": ["Linkage"]})
    assert asked.status_code == 201
    question = Question.objects.get(pk=asked.json()["id"])
    assert asked.json()["tags"] == ["Linkage"]
    assert ActivityEvent.objects.filter(member=editor, kind="question_ask").exists()
    staff_api = ApiClient(new_token(staff))
    answer = staff_api.post(url(space, f"/questions/{question.slug}/answers"), {"body": "Use a key."}).json()
    listing = api.get(url(space, "/questions?sort=unanswered")).json()
    assert listing["count"] == 0
    accepted = api.post(url(space, f"/questions/{question.slug}/accept"), {"answer_id": answer["id"]})
    assert accepted.status_code == 200 and accepted.json()["accepted_answer_id"] == answer["id"]
    answers = api.get(url(space, f"/questions/{question.slug}/answers")).json()["results"]
    assert answers[0]["is_accepted"] is True
    # The asker may accept but not edit someone else's answer.
    refused = api.patch(url(space, f"/questions/{question.slug}/answers/{answer['id']}"), {"body": "Mine now"})
    assert refused.status_code == 403
    edited = api.patch(url(space, f"/questions/{question.slug}"), {"body": "Clearer?"})
    assert edited.json()["version"] == 2 and edited.json()["tags"] == ["Linkage"]
    assert api.get(url(space, "/questions?tag=linkage")).json()["count"] == 1
    assert api.get(url(space, "/questions?tag=nothing")).status_code == 404


def _event(staff, space, **kw):
    start = (timezone.now() + timedelta(days=5)).replace(microsecond=0)
    return event_services.event_create(
        actor=staff,
        space=space,
        title="Regional workshop",
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        time_zone="Asia/Manila",
        online_url="https://meet.example.org/room",
        **kw,
    )


def test_register_and_unregister_like_the_web(space, staff):
    event = _event(staff, space, capacity=1)
    first, second = make_user("first"), make_user("second")
    add_member(space, first, SpaceRole.VIEWER)
    add_member(space, second, SpaceRole.VIEWER)
    api_first, api_second = ApiClient(new_token(first)), ApiClient(new_token(second))
    path = url(space, f"/events/{event.slug}")
    assert api_first.get(path).json()["online_url"] is None
    going = api_first.put(path + "/registration", {"status": "going"})
    assert going.status_code == 200 and going.json()["status"] == "going"
    assert api_first.get(path).json()["online_url"] == "https://meet.example.org/room"
    waiting = api_second.put(path + "/registration", {"status": "going"}).json()
    assert (waiting["status"], waiting["waitlist_position"]) == ("waitlisted", 1)
    assert api_first.delete(path + "/registration").json()["status"] == "not_going"
    assert Registration.objects.get(event=event, user=second).status == "going"
    listed = api_second.get(url(space, "/events")).json()["results"][0]
    assert (listed["my_status"], listed["going_count"]) == ("going", 1)
    bad = api_first.put(path + "/registration", {"status": "waitlisted"})
    assert bad.status_code == 422


def test_event_times_are_checked_by_the_service(api, space):
    body = {
        "title": "Clock change",
        "starts_at": "2031-03-09T02:30:00",  # the clocks skip this hour in New York
        "ends_at": "2031-03-09T04:00:00",
        "time_zone": "America/New_York",
    }
    response = api.post(url(space, "/events"), body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "starts_at"
    body.update(starts_at="2031-03-10T09:00:00", ends_at="2031-03-10T10:00:00")
    created = api.post(url(space, "/events"), body)
    assert created.status_code == 201
    assert created.json()["starts_at"].startswith("2031-03-10T13:00:00")  # stored in UTC
    assert api.post(url(space, "/events"), {**body, "starts_at": "0001-01-01T00:00:00"}).status_code == 422
    edited = api.patch(url(space, f"/events/{created.json()['slug']}"), {"venue": "Room 4"})
    assert edited.status_code == 200 and edited.json()["venue"] == "Room 4"


def test_posts_write_through_the_service(api, space, editor, staff):
    created = api.post(url(space, "/posts"), {"body": "Hello **all**"})
    assert created.status_code == 201
    post = Post.objects.get(pk=created.json()["id"])
    assert "<strong>all</strong>" in post.body_html
    assert ActivityEvent.objects.filter(member=editor, kind="post_create").exists()
    announce = api.post(url(space, "/posts"), {"body": "Big news", "is_announcement": True})
    assert announce.status_code == 403
    edited = api.patch(url(space, f"/posts/{post.pk}"), {"body": "Hello everyone"})
    assert edited.json()["body"] == "Hello everyone" and edited.json()["edited_at"]
    later = (timezone.now() + timedelta(days=1)).isoformat()
    scheduled = ApiClient(new_token(staff)).post(url(space, "/posts"), {"body": "Later", "publish_at": later}).json()
    assert scheduled["is_scheduled"] is True
    assert scheduled["id"] not in [p["id"] for p in api.get(url(space, "/posts")).json()["results"]]
    assert api.get(url(space, f"/posts/{scheduled['id']}")).status_code == 404


def test_join_an_open_space(staff, community):
    library = make_space(staff, community, Visibility.OPEN, slug="library")
    newcomer = make_user("newcomer")
    from tests.factories import onboard

    onboard(newcomer, community)
    api = ApiClient(new_token(newcomer))
    joined = api.post(url(library, "/join"))
    assert joined.status_code == 201 and joined.json()["role"] == "editor"
    again = api.post(url(library, "/join"))
    assert again.status_code == 422 and "already" in again.json()["detail"]
    detail = api.get(url(library)).json()
    assert detail["my_role"] == "editor" and detail["permissions"]["can_contribute"] is True


def test_text_the_database_cannot_store_is_refused(api, space):
    for title in ("nul \x00 byte", "lone \ud800 surrogate"):
        response = api.request("POST", url(space, "/pages"), {"title": title})
        assert response.status_code == 422, title
    assert not Page.objects.filter(space=space).exists()


def test_authors_edit_their_answers_and_move_their_content_to_the_trash(api, space, editor, staff):
    question = api.post(url(space, "/questions"), {"title": "Which blocking keys?", "body": "For census and tax."})
    question_path = url(space, f"/questions/{question.json()['slug']}")
    answer = api.post(question_path + "/answers", {"body": "Year of birth."}).json()
    edited = api.patch(question_path + f"/answers/{answer['id']}", {"body": "Year of birth and sex."})
    assert edited.status_code == 200 and edited.json()["body"] == "Year of birth and sex."
    event = _event(editor, space)
    post = api.post(url(space, "/posts"), {"body": "Minutes are up."}).json()

    for path in (question_path, url(space, f"/events/{event.slug}"), url(space, f"/posts/{post['id']}")):
        assert api.delete(path).status_code == 204, path
        assert api.get(path).status_code == 404, path

    # In the trash, not gone (the question's answer goes with it): a moderator can still restore them.
    trashed = Item.objects.filter(space=space, deleted_at__isnull=False).values_list("kind", flat=True)
    assert sorted(trashed) == ["answer", "event", "post", "question"]


def test_question_and_answer_history_can_be_read_and_restored(api, space, editor, staff):
    """As for pages: each version can be read, and restoring writes a new one; nobody else's text is theirs to
    restore, and a missing version changes nothing."""
    asked = api.post(url(space, "/questions"), {"title": "Which keys?", "body": "First", "tags": ["Linkage"]})
    path = url(space, f"/questions/{asked.json()['slug']}")
    api.patch(path, {"title": "Which blocking keys?", "body": "Second", "summary": "Clearer"})
    versions = api.get(path + "/versions").json()["results"]
    assert [(v["version"], v["title"]) for v in versions] == [(2, "Which blocking keys?"), (1, "Which keys?")]
    assert versions[0]["summary"] == "Clearer"
    assert api.get(path + "/versions/1").json()["body"] == "First"
    assert api.get(path + "/versions/9").status_code == 404

    restored = api.post(path + "/versions/1/restore")
    assert restored.status_code == 200, restored.content
    body = restored.json()
    assert (body["version"], body["title"], body["body"], body["tags"]) == (3, "Which keys?", "First", ["Linkage"])
    missing = api.post(path + "/versions/9/restore")
    assert missing.status_code == 422 and "There is no version 9 of this question." in missing.content.decode()
    assert api.get(path).json()["version"] == 3

    answer = ApiClient(new_token(staff)).post(path + "/answers", {"body": "Year of birth."}).json()
    answer_path = path + f"/answers/{answer['id']}"
    ApiClient(new_token(staff)).patch(answer_path, {"body": "Year of birth and sex."})
    answer_versions = api.get(answer_path + "/versions").json()["results"]
    assert [(v["version"], v["title"]) for v in answer_versions] == [(2, ""), (1, "")]
    assert api.get(answer_path + "/versions/1").json()["body"] == "Year of birth."
    refused = api.post(answer_path + "/versions/1/restore")  # the editor did not write this answer
    assert refused.status_code == 403
    assert api.get(path + "/answers").json()["results"][0]["body"] == "Year of birth and sex."
    back = ApiClient(new_token(staff)).post(answer_path + "/versions/1/restore")
    assert back.status_code == 200
    assert (back.json()["version"], back.json()["body"]) == (3, "Year of birth.")
    outsider = ApiClient(new_token(make_user("outsider")))
    # A private space's questions are closed to outsiders: its history and restore answer as the question does.
    assert outsider.get(path).status_code == outsider.get(path + "/versions").status_code == 403
    assert outsider.get(answer_path + "/versions/1").status_code == 403
    assert outsider.post(path + "/versions/1/restore").status_code == 403
    assert api.get(path).json()["version"] == 3
