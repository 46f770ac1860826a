"""Likes on any item (posts, comments, answers) and bookmarks with the member's saved list (issue 4, item 5)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from analytics.models import ActivityEvent
from spaces import services
from spaces.models import Bookmark, Item, Reaction, SpaceMembership, Visibility
from spaces.services import posts as post_services
from tests.factories import make_user
from tests.spaces.helpers import client_for, htmx, messages_of, space_url, template_names
from tests.spaces.test_pages import count_queries

LOGIN_URL = reverse("account_login")
SAVED_URL = reverse("spaces:saved")


@pytest.fixture
def open_world(world_factory):
    return world_factory(Visibility.OPEN)


@pytest.fixture
def closed_world(world_factory):
    return world_factory(Visibility.CLOSED)


def make_post(w, body: str = "Census results are out.", *, by=None):
    return post_services.post_create(actor=by or w.editor, space=w.space, body=body)


def item_of(obj) -> Item:
    return Item.objects.select_related("space__community").get(pk=obj.item_id)


def like_url(item: Item) -> str:
    return space_url("like", item.space, item_id=item.pk)


def bookmark_url(item: Item) -> str:
    return space_url("bookmark", item.space, item_id=item.pk)


def saved_labels(user) -> list[str]:
    response = client_for(user).get(SAVED_URL)
    assert response.status_code == 200
    return [entry.label for entry in response.context["entries"]]


# --- Likes ----------------------------------------------------------------------------------------------------
def test_a_viewer_likes_a_post_and_takes_the_like_back(open_world):
    w = open_world
    post = make_post(w)
    browser = client_for(w.viewer)

    response = browser.post(like_url(item_of(post)), {"next": post.get_absolute_url()})
    assert response.status_code == 302 and response.url == post.get_absolute_url()
    assert item_of(post).like_count == 1 and Reaction.objects.filter(user=w.viewer).count() == 1

    browser.post(like_url(item_of(post)))
    assert item_of(post).like_count == 0 and not Reaction.objects.exists()
    assert list(ActivityEvent.objects.filter(kind="like_add").values_list("member", flat=True)) == [w.viewer.pk]


def test_likes_are_one_per_member_and_counted_for_each(open_world):
    w = open_world
    post = make_post(w)

    assert post_services.like_toggle(actor=w.viewer, item=item_of(post)) == (True, 1)
    assert post_services.like_toggle(actor=w.moderator, item=item_of(post)) == (True, 2)
    with pytest.raises(IntegrityError), transaction.atomic():
        Reaction.objects.create(user=w.viewer, item=item_of(post))
    assert post_services.like_toggle(actor=w.viewer, item=item_of(post)) == (False, 1)
    assert item_of(post).like_count == Reaction.objects.filter(item=post.item).count() == 1


def test_members_cannot_like_their_own_content(open_world):
    w = open_world
    post = make_post(w)

    with pytest.raises(ValidationError):
        post_services.like_toggle(actor=w.editor, item=item_of(post))
    plain = client_for(w.editor).post(like_url(item_of(post)))
    partial = htmx(client_for(w.editor), "post", like_url(item_of(post)))

    assert messages_of(plain) == ["You cannot like your own content."]
    assert "You cannot like your own content." in partial.content.decode()
    assert item_of(post).like_count == 0 and not Reaction.objects.exists()


def test_htmx_like_answers_with_the_pressed_button_and_the_count(open_world):
    w = open_world
    post = make_post(w)
    post_services.like_toggle(actor=w.moderator, item=item_of(post))

    response = htmx(client_for(w.viewer), "post", like_url(item_of(post)), {"next": "/somewhere/"})

    html = response.content.decode()
    assert response.status_code == 200
    assert template_names(response) == ["spaces/partials/like_button.html"]
    assert f'id="like-{post.item_id}"' in html and 'aria-pressed="true"' in html
    assert "2 likes" in html and 'value="/somewhere/"' in html


def test_an_unsafe_next_falls_back_to_the_item(open_world):
    w = open_world
    post = make_post(w)

    response = client_for(w.viewer).post(like_url(item_of(post)), {"next": "https://evil.example/"})

    assert response.url == post.get_absolute_url()


def test_comments_and_answers_can_be_liked_and_show_the_button(open_world):
    w = open_world
    post = make_post(w)
    comment = services.comment_create(actor=w.editor, target=post.item, body="Agreed")
    question = services.question_ask(actor=w.editor, space=w.space, title="Which keys?", body="")
    answer = services.answer_post(actor=w.moderator, question=question, body="Names.")

    client_for(w.viewer).post(like_url(item_of(comment)))
    client_for(w.viewer).post(like_url(item_of(answer)))
    client_for(w.admin).post(like_url(item_of(answer)))

    assert item_of(comment).like_count == 1 and item_of(answer).like_count == 2
    post_page = client_for(w.viewer).get(post.get_absolute_url()).content.decode()
    question_page = client_for(w.viewer).get(question.get_absolute_url()).content.decode()
    assert f'id="like-{comment.item_id}"' in post_page
    assert f'id="like-{answer.item_id}"' in question_page and 'aria-pressed="true"' in question_page


@pytest.mark.parametrize("persona", ["outsider", "requester", "banned"])
def test_outsiders_cannot_like_or_bookmark_in_a_closed_space(closed_world, persona):
    w = closed_world
    post = make_post(w)
    browser = client_for(getattr(w, persona))

    assert browser.post(like_url(item_of(post))).status_code == 404
    assert browser.post(bookmark_url(item_of(post))).status_code == 404
    assert not Reaction.objects.exists() and not Bookmark.objects.exists()


def test_anonymous_visitors_must_sign_in_to_like_or_save(open_world):
    w = open_world
    post = make_post(w)

    for url in (like_url(item_of(post)), bookmark_url(item_of(post)), SAVED_URL):
        response = Client().post(url) if url != SAVED_URL else Client().get(url)
        assert response.status_code == 302 and response.url.startswith(LOGIN_URL), url
    assert "aria-pressed" not in Client().get(post.get_absolute_url()).content.decode()


def test_outsiders_of_an_open_space_may_not_like_but_may_save(open_world):
    w = open_world
    post = make_post(w)

    with pytest.raises(PermissionDenied):
        post_services.like_toggle(actor=w.outsider, item=item_of(post))
    assert client_for(w.outsider).post(like_url(item_of(post))).status_code == 403
    assert client_for(w.outsider).post(bookmark_url(item_of(post))).status_code == 302
    assert item_of(post).like_count == 0 and Bookmark.objects.filter(user=w.outsider).count() == 1


def test_nobody_likes_in_an_archived_space(open_world):
    w = open_world
    post = make_post(w)
    services.space_set_archived(actor=w.staff, space=w.space, archived=True)

    assert client_for(w.viewer).post(like_url(item_of(post))).status_code == 403
    assert item_of(post).like_count == 0


def test_likes_are_not_offered_on_a_hidden_item_to_people_who_cannot_see_it(open_world):
    w = open_world
    post = make_post(w)
    comment = services.comment_create(actor=w.editor, target=post.item, body="Spam")
    services.comment_hide(actor=w.moderator, comment=comment)

    assert client_for(w.viewer).post(like_url(item_of(comment))).status_code == 404
    assert item_of(comment).like_count == 0


# --- Bookmarks and the saved list ---------------------------------------------------------------------------
def test_a_member_saves_a_post_a_question_and_a_page_and_finds_them_in_the_saved_list(open_world):
    w = open_world
    post = make_post(w, "Short post")
    question = services.question_ask(actor=w.editor, space=w.space, title="Which keys?", body="")
    page = services.page_create(actor=w.editor, space=w.space, title="Guide", body="Text")
    browser = client_for(w.viewer)

    for obj in (post, question, page):
        response = browser.post(bookmark_url(item_of(obj)), {"next": obj.get_absolute_url()})
        assert response.status_code == 302 and response.url == obj.get_absolute_url()
    saved = browser.get(SAVED_URL)

    html = saved.content.decode()
    assert [e.label for e in saved.context["entries"]] == ["Guide", "Which keys?", "Short post"]
    for obj in (post, question, page):
        assert f'href="{obj.get_absolute_url()}"' in html
    assert html.count('aria-pressed="true"') == 3
    for obj in (post, question, page):
        assert 'aria-pressed="true"' in browser.get(obj.get_absolute_url()).content.decode()


def test_htmx_bookmark_toggles_the_button(open_world):
    w = open_world
    post = make_post(w)
    browser = client_for(w.viewer)

    saved = htmx(browser, "post", bookmark_url(item_of(post)))
    removed = htmx(browser, "post", bookmark_url(item_of(post)))

    assert template_names(saved) == ["spaces/partials/bookmark_button.html"]
    assert 'aria-pressed="true"' in saved.content.decode()
    assert 'aria-pressed="false"' in removed.content.decode()
    assert not Bookmark.objects.exists()


def test_comments_and_answers_are_saved_with_links_to_their_place(open_world):
    w = open_world
    post = make_post(w)
    comment = services.comment_create(actor=w.editor, target=post.item, body="Agreed")
    question = services.question_ask(actor=w.editor, space=w.space, title="Which keys?", body="")
    answer = services.answer_post(actor=w.moderator, question=question, body="Names.")

    post_services.bookmark_toggle(actor=w.viewer, item=item_of(comment))
    post_services.bookmark_toggle(actor=w.viewer, item=item_of(answer))

    entries = client_for(w.viewer).get(SAVED_URL).context["entries"]
    assert [e.url for e in entries] == [answer.get_absolute_url(), f"{post.get_absolute_url()}#comment-{comment.pk}"]


def test_the_saved_list_drops_items_when_the_space_turns_closed(open_world):
    w = open_world
    post = make_post(w, "Open for now")
    post_services.bookmark_toggle(actor=w.outsider, item=item_of(post))
    assert saved_labels(w.outsider) == ["Open for now"]

    services.space_update_settings(actor=w.staff, space=w.space, visibility=Visibility.CLOSED)

    assert saved_labels(w.outsider) == []
    assert Bookmark.objects.filter(user=w.outsider).exists()  # kept, in case the space opens again


def test_the_saved_list_drops_items_when_the_member_is_removed(closed_world):
    w = closed_world
    post = make_post(w, "Members only")
    post_services.bookmark_toggle(actor=w.viewer, item=item_of(post))
    assert saved_labels(w.viewer) == ["Members only"]

    services.membership_remove(actor=w.staff, membership=SpaceMembership.objects.get(space=w.space, user=w.viewer))

    assert saved_labels(w.viewer) == []


def test_the_saved_list_drops_trashed_items_and_shows_only_the_members_own(open_world):
    w = open_world
    post = make_post(w, "Going away")
    kept = make_post(w, "Staying")
    for item in (item_of(post), item_of(kept)):
        post_services.bookmark_toggle(actor=w.viewer, item=item)
    post_services.bookmark_toggle(actor=w.moderator, item=item_of(kept))

    services.item_trash(actor=w.editor, item=item_of(post))

    assert saved_labels(w.viewer) == ["Staying"]
    assert saved_labels(w.admin) == []


def test_saved_list_query_count_is_the_same_for_3_and_30_items(open_world):
    w = open_world
    browser = client_for(w.viewer)

    def add(start, stop):
        for n in range(start, stop):
            post = make_post(w, f"Post {n}")
            comment = services.comment_create(actor=w.editor, target=post.item, body=f"Comment {n}")
            page = services.page_create(actor=w.editor, space=w.space, title=f"Page {n}", body="Text")
            for obj in (post, comment, page):
                post_services.bookmark_toggle(actor=w.viewer, item=item_of(obj))

    add(0, 1)
    few = count_queries(browser, SAVED_URL)
    add(1, 10)
    many = count_queries(browser, SAVED_URL)

    assert len(browser.get(SAVED_URL).context["entries"]) == 30
    assert (few, many) == (4, 4)  # the header's counts come from the cache


def test_a_member_may_not_bookmark_what_they_cannot_see(closed_world):
    w = closed_world
    post = make_post(w)
    stranger = make_user("stranger")

    with pytest.raises(PermissionDenied):
        post_services.bookmark_toggle(actor=stranger, item=item_of(post))
    assert not Bookmark.objects.exists()
