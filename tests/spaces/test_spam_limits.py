"""Limits for new accounts: posts per hour, links and mentions per post; staff, moderators and old accounts exempt."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from spaces import services
from spaces.models import Comment, Item, Page, Question, Visibility
from spaces.services.events import event_create, event_edit
from spaces.services.moderation import spam_check
from spaces.services.posts import post_create, post_edit
from tests.spaces.helpers import client_for, form_errors, space_url


@pytest.fixture(autouse=True)
def limits_on(settings):
    """Tests switch the limits off (every test member is minutes old); these tests switch them back on."""
    settings.NEW_ACCOUNT_HOURS = 24
    settings.NEW_ACCOUNT_MAX_POSTS_PER_HOUR = 5
    settings.NEW_ACCOUNT_MAX_LINKS = 2
    settings.NEW_ACCOUNT_MAX_MENTIONS = 3


@pytest.fixture
def w(world_factory, settings):
    settings.NEW_ACCOUNT_HOURS = 0  # the world itself is built by brand-new accounts
    world = world_factory(Visibility.OPEN)
    settings.NEW_ACCOUNT_HOURS = 24
    return world


def post_pages(w, count: int, *, by=None) -> None:
    for n in range(count):
        services.page_create(actor=by or w.editor, space=w.space, title=f"Page {n}", body="Text")


def age(user, hours: float):
    type(user).objects.filter(pk=user.pk).update(date_joined=timezone.now() - timedelta(hours=hours))
    user.refresh_from_db()
    return user


# --- Posts per hour ---------------------------------------------------------------------------------------------
def test_a_new_account_posts_five_times_an_hour_then_gets_a_clear_message_and_nothing_is_stored(w):
    post_pages(w, 5)
    page = Page.objects.filter(space=w.space).first()
    before = Item.objects.count()

    attempts = [
        lambda: services.page_create(actor=w.editor, space=w.space, title="Sixth", body="Text"),
        lambda: services.comment_create(actor=w.editor, target=page.item, body="A comment"),
        lambda: services.question_ask(actor=w.editor, space=w.space, title="A question?", body="Text"),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError, match="New accounts can post 5 times an hour"):
            attempt()

    assert Item.objects.count() == before
    assert not Comment.objects.exists() and not Question.objects.exists()


def test_answers_count_and_are_capped_too(w):
    question = services.question_ask(actor=w.moderator, space=w.space, title="Keys?", body="Which?")
    post_pages(w, 5)

    with pytest.raises(ValidationError, match="times an hour"):
        services.answer_post(actor=w.editor, question=question, body="Names")

    assert question.answers.count() == 0


def test_posting_is_allowed_again_an_hour_later(w):
    post_pages(w, 5)

    with time_machine.travel(timezone.now() + timedelta(minutes=61), tick=False):
        page = services.page_create(actor=w.editor, space=w.space, title="Later", body="Text")

    assert page.pk


def test_the_comment_form_shows_the_message(w):
    post_pages(w, 5)
    page = Page.objects.filter(space=w.space).first()

    response = client_for(w.editor).post(
        space_url("comment-create", w.space, item_id=page.item_id), {"body": "One more"}, follow=True
    )

    assert "New accounts can post 5 times an hour" in response.content.decode()
    assert not Comment.objects.exists()


def test_the_page_form_shows_the_message(w):
    post_pages(w, 5)

    response = client_for(w.editor).post(
        space_url("page-create", w.space), {"title": "Sixth", "body": "Text", "summary": ""}
    )

    assert response.status_code == 200
    assert "New accounts can post 5 times an hour" in form_errors(response)["__all__"][0]


# --- Links and mentions ------------------------------------------------------------------------------------------
def test_links_per_post_are_capped_for_new_accounts(w):
    body = "See https://a.example.org, https://b.example.org and www.c.example.org"

    with pytest.raises(ValidationError, match="at most 2 links in a post"):
        services.page_create(actor=w.editor, space=w.space, title="Links", body=body)
    services.page_create(
        actor=w.editor,
        space=w.space,
        title="Two links",
        body="[a](https://a.example.org) https://a.example.org https://b.example.org",
    )

    assert Page.objects.filter(space=w.space).count() == 1


def test_mentions_per_post_are_capped_for_new_accounts(w):
    page = services.page_create(actor=w.admin, space=w.space, title="Guide", body="x")

    with pytest.raises(ValidationError, match="mention at most 3 people"):
        services.comment_create(actor=w.editor, target=page.item, body="@ana @ben @cy @dee look")
    services.comment_create(actor=w.editor, target=page.item, body="@ana @ben @cy look")

    assert Comment.objects.count() == 1


# --- Who is exempt ------------------------------------------------------------------------------------------------
def test_old_accounts_staff_and_moderators_are_exempt(w):
    age(w.editor, 25)
    post_pages(w, 7)
    post_pages(w, 7, by=w.staff)
    post_pages(w, 7, by=w.moderator)
    many_links = " ".join(f"https://{n}.example.org" for n in range(5))

    spam_check(w.editor, w.space, many_links)
    spam_check(w.staff, w.space, many_links)
    spam_check(w.moderator, w.space, many_links)
    with pytest.raises(ValidationError):
        spam_check(w.viewer, w.space, many_links)


def test_limits_end_after_the_configured_hours(w, settings):
    settings.NEW_ACCOUNT_HOURS = 2
    age(w.editor, 3)
    post_pages(w, 6)

    settings.NEW_ACCOUNT_HOURS = 0  # switched off altogether
    spam_check(w.viewer, w.space, " ".join(f"https://{n}.example.org" for n in range(5)))


# --- Edits are held to the same limits on links and mentions ---------------------------------------------------------
TEN_LINKS = " ".join(f"https://shop{n}.example.org" for n in range(10))


def test_a_new_account_cannot_bring_ten_links_in_by_editing_its_page(w):
    page = services.page_create(actor=w.editor, space=w.space, title="Tips", body="Plain text.")

    with pytest.raises(ValidationError, match="at most 2 links in a post"):
        services.page_update(actor=w.editor, page=page, title="Tips", body=TEN_LINKS, base_version=page.version)

    page = Page.objects.get(pk=page.pk)
    assert (page.body, page.version, page.versions.count()) == ("Plain text.", 1, 1)


def test_the_page_edit_form_shows_the_message_and_changes_nothing(w):
    page = services.page_create(actor=w.editor, space=w.space, title="Tips", body="Plain text.")

    response = client_for(w.editor).post(
        page.get_absolute_url() + "edit/",
        {"title": "Tips", "body": TEN_LINKS, "base_version": page.version, "summary": ""},
    )

    assert response.status_code == 200
    assert "at most 2 links in a post" in " ".join(sum(form_errors(response).values(), []))
    page = Page.objects.get(pk=page.pk)
    assert (page.body, page.version, page.versions.count()) == ("Plain text.", 1, 1)


def test_edits_of_questions_answers_comments_posts_and_events_are_held_to_the_link_cap(w):
    question = services.question_ask(actor=w.editor, space=w.space, title="Keys?", body="Which?")
    answer = services.answer_post(actor=w.editor, question=question, body="Names.")
    comment = services.comment_create(actor=w.editor, target=question.item, body="Good one.")
    post = post_create(actor=w.editor, space=w.space, body="Hello.")
    start = timezone.now() + timedelta(days=2)
    event = event_create(
        actor=w.editor,
        space=w.space,
        title="Clinic",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        time_zone="UTC",
    )
    edits = [
        lambda: services.question_edit(actor=w.editor, question=question, title="Keys?", body=TEN_LINKS),
        lambda: services.answer_edit(actor=w.editor, answer=answer, body=TEN_LINKS),
        lambda: services.comment_edit(actor=w.editor, comment=comment, body=TEN_LINKS),
        lambda: post_edit(actor=w.editor, post=post, body=TEN_LINKS),
        lambda: event_edit(actor=w.editor, event=event, description=TEN_LINKS),
    ]

    for edit in edits:
        with pytest.raises(ValidationError, match="at most 2 links in a post"):
            edit()

    question.refresh_from_db()
    answer.refresh_from_db()
    comment.refresh_from_db()
    post.refresh_from_db()
    event.refresh_from_db()
    assert (question.body, answer.body, comment.body, post.body, event.description) == (
        "Which?",
        "Names.",
        "Good one.",
        "Hello.",
        "",
    )
    assert (question.versions.count(), answer.versions.count(), comment.versions.count()) == (1, 1, 1)


def test_mentions_cannot_be_added_by_editing_a_comment(w):
    page = services.page_create(actor=w.admin, space=w.space, title="Guide", body="x")
    comment = services.comment_create(actor=w.editor, target=page.item, body="@ana look")

    with pytest.raises(ValidationError, match="mention at most 3 people"):
        services.comment_edit(actor=w.editor, comment=comment, body="@ana @ben @cy @dee look")

    comment.refresh_from_db()
    assert comment.body == "@ana look"


def test_an_edit_is_not_a_new_post_for_the_hourly_cap(w):
    post_pages(w, 5)
    page = Page.objects.filter(space=w.space).first()

    services.page_update(actor=w.editor, page=page, title=page.title, body="Better text", base_version=page.version)

    assert Page.objects.get(pk=page.pk).body == "Better text"


def test_a_new_account_may_fix_a_typo_in_a_page_full_of_links_but_not_add_one(w):
    links = " ".join(f"https://ref{n}.example.org" for n in range(5))
    page = services.page_create(actor=w.admin, space=w.space, title="References", body=f"Refrences: {links}")

    services.page_update(
        actor=w.editor, page=page, title="References", body=f"References: {links}", base_version=page.version
    )
    with pytest.raises(ValidationError, match="at most 2 links"):
        services.page_update(
            actor=w.editor,
            page=page,
            title="References",
            body=f"References: {links} https://shop.example.org",
            base_version=page.version,
        )

    assert Page.objects.get(pk=page.pk).body == f"References: {links}"


def test_moderators_edits_are_exempt(w):
    page = services.page_create(actor=w.editor, space=w.space, title="Tips", body="Plain text.")

    services.page_update(actor=w.moderator, page=page, title="Tips", body=TEN_LINKS, base_version=page.version)

    assert Page.objects.get(pk=page.pk).body == TEN_LINKS
