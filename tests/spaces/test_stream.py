"""The space home's stream: every kind of content, newest first, only what the reader may see, in a fixed
number of queries (issue 4, item 8)."""

from datetime import datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from spaces import services
from spaces.models import Item, ItemKind, Visibility
from spaces.services import events as event_services
from spaces.services import moderation as moderation_services
from spaces.services import polls as poll_services
from spaces.services import posts as post_services
from tests.factories import make_user
from tests.spaces.helpers import client_for
from tests.spaces.test_query_counts import queries_for, queries_report


def _one_of_each(w, n: int = 0) -> dict[str, Item]:
    """A page, a question, an event, a post and a poll by the space's editor, oldest first."""
    editor, space = w.editor, w.space
    page = services.page_create(actor=editor, space=space, title=f"Linkage guide {n}", body="How we link.")
    question = services.question_ask(actor=editor, space=space, title=f"Which key do you use {n}?", body="")
    event = event_services.event_create(
        actor=editor,
        space=space,
        title=f"Expert group meeting {n}",
        starts_at=datetime(2031, 3, 4, 9, 0),
        ends_at=datetime(2031, 3, 4, 17, 0),
        time_zone="Asia/Bangkok",
    )
    post = post_services.post_create(actor=editor, space=space, body=f"Slides from the webinar are up {n}.")
    poll = poll_services.poll_create(
        actor=editor, space=space, question=f"Next meeting in June or July {n}?", options=["June", "July"]
    )
    return {"page": page.item, "question": question.item, "event": event.item, "post": post.item, "poll": poll.item}


def _stream(browser, space, **params) -> list[Item]:
    response = browser.get(space.get_absolute_url(), params)
    assert response.status_code == 200
    return list(response.context["stream_items"])


def test_stream_mixes_every_kind_newest_first(world_factory):
    w = world_factory(Visibility.OPEN)
    items = _one_of_each(w)
    stream = _stream(client_for(w.viewer), w.space)
    assert [i.pk for i in stream] == [items[k].pk for k in ["poll", "post", "event", "question", "page"]]
    html = client_for(w.viewer).get(w.space.get_absolute_url()).content.decode()
    for text in ["Linkage guide 0", "Which key do you use 0?", "Expert group meeting 0", "Slides from the webinar"]:
        assert text in html
    assert items["event"].event.get_absolute_url() in html


def test_stream_filters_by_kind(world_factory):
    w = world_factory(Visibility.OPEN)
    items = _one_of_each(w)
    assert [i.pk for i in _stream(client_for(w.viewer), w.space, kind="event")] == [items["event"].pk]
    assert len(_stream(client_for(w.viewer), w.space, kind="nonsense")) == 5


def test_closed_space_stream_is_404_for_outsiders_and_shows_everything_to_members(world_factory):
    w = world_factory(Visibility.CLOSED)
    _one_of_each(w)
    assert client_for(w.outsider).get(w.space.get_absolute_url()).status_code == 404
    assert len(_stream(client_for(w.viewer), w.space)) == 5


def test_private_space_stream_is_empty_for_non_members(world_factory):
    w = world_factory(Visibility.PRIVATE)
    _one_of_each(w)
    response = client_for(w.outsider).get(w.space.get_absolute_url())
    assert response.status_code == 200
    assert "stream_items" not in response.context
    assert b"Linkage guide" not in response.content


def test_scheduled_post_shows_only_to_its_author_and_moderators_until_its_time(world_factory):
    w = world_factory(Visibility.OPEN)
    later = timezone.now() + timedelta(hours=3)
    post = post_services.post_create(
        actor=w.editor, space=w.space, body="Reminder: papers due Friday", publish_at=later
    )
    assert post.item.pk not in [i.pk for i in _stream(client_for(w.viewer), w.space)]
    assert post.item.pk in [i.pk for i in _stream(client_for(w.editor), w.space)]
    assert post.item.pk in [i.pk for i in _stream(client_for(w.moderator), w.space)]
    assert b"Scheduled for" in client_for(w.editor).get(w.space.get_absolute_url()).content
    Item.objects.filter(pk=post.item.pk).update(publish_at=timezone.now() - timedelta(minutes=1))
    assert post.item.pk in [i.pk for i in _stream(client_for(w.viewer), w.space)]


def test_hidden_and_trashed_items_leave_the_stream(world_factory):
    w = world_factory(Visibility.OPEN)
    items = _one_of_each(w)
    Item.objects.filter(pk=items["post"].pk).update(moderation_state="hidden")
    services.item_trash(actor=w.moderator, item=items["page"])
    visible = [i.pk for i in _stream(client_for(w.viewer), w.space)]
    assert items["post"].pk not in visible and items["page"].pk not in visible
    assert items["post"].pk in [i.pk for i in _stream(client_for(w.moderator), w.space)]


def test_pinned_posts_are_shown_above_the_stream(world_factory):
    w = world_factory(Visibility.OPEN)
    post = post_services.post_create(actor=w.editor, space=w.space, body="Read this first: how we work")
    _one_of_each(w)
    post_services.post_pin(actor=w.moderator, post=post)
    response = client_for(w.viewer).get(w.space.get_absolute_url())
    assert [i.pk for i in response.context["pinned_items"]] == [post.item.pk]
    html = response.content.decode()
    assert html.index("Read this first") < html.index("Next meeting in June or July")


def test_a_pinned_post_shows_where_its_reader_may_see_it_and_leaves_when_unpinned(world_factory):
    """The space row says whether it has pinned posts in any state; which of them show is the reader's query."""
    w = world_factory(Visibility.OPEN)
    post = post_services.post_create(actor=w.editor, space=w.space, body="Read this first: how we work")
    post_services.post_pin(actor=w.moderator, post=post)
    moderation_services.item_hide(actor=w.moderator, item=post.item, reason="outdated")

    def pinned(user) -> list[int]:
        return [i.pk for i in client_for(user).get(w.space.get_absolute_url()).context["pinned_items"]]

    assert pinned(w.viewer) == [] and pinned(w.moderator) == [post.item.pk]
    moderation_services.item_unhide(actor=w.moderator, item=post.item)
    assert pinned(w.viewer) == [post.item.pk]
    post_services.post_unpin(actor=w.moderator, post=post)
    assert pinned(w.viewer) == [] and pinned(w.moderator) == []


def test_stream_is_paginated(world_factory):
    w = world_factory(Visibility.OPEN)
    for n in range(5):
        _one_of_each(w, n)
    browser = client_for(w.viewer)
    first, second = _stream(browser, w.space), _stream(browser, w.space, page=2)
    assert len(first) == 20 and len(second) == 5
    assert not {i.pk for i in first} & {i.pk for i in second}


@pytest.mark.parametrize("reader", ["viewer", "moderator"])
def test_stream_query_count_does_not_grow_with_content(world_factory, reader):
    w = world_factory(Visibility.PRIVATE)
    browser = client_for(getattr(w, reader))
    url = w.space.get_absolute_url()
    _one_of_each(w, 0)
    _library_file(w, 0)
    few = queries_for(browser, url)
    for n in range(1, 6):
        _one_of_each(w, n)
        _library_file(w, n)
        post_services.like_toggle(actor=make_member_who_likes(w), item=Item.objects.filter(kind=ItemKind.POST).first())
    many = queries_for(browser, url)
    assert few == many, queries_report(browser, url)


def _library_file(w, n: int) -> Item:
    upload = SimpleUploadedFile(f"tables-{n}.csv", b"year,count\n2024,12\n")
    return services.file_upload(actor=w.editor, space=w.space, upload=upload).item


def make_member_who_likes(w):
    from tests.factories import add_member

    member = make_user("fan")
    add_member(w.space, member, 10, by=w.staff)
    return member
