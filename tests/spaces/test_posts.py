"""Posts in a space's stream: who may read and write, scheduling (and the publishing task), pinning,
announcements, mentions, auto-linked URLs, bad input, XSS and query counts (issue 4, item 5)."""

import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from analytics.models import ActivityEvent
from spaces import services
from spaces.models import Item, Mention, Post, SpaceRole, Visibility
from spaces.services import posts as post_services
from spaces.tasks import posts_publish_due_task
from tests.factories import add_member, make_user
from tests.spaces.helpers import client_for, form_errors, messages_of, space_url
from tests.spaces.test_pages import count_queries
from tests.spaces.test_xss import CORPUS, assert_inert

LOGIN_URL = reverse("account_login")
WRITERS = ["editor", "moderator", "admin", "community_moderator", "community_admin", "staff"]
NON_MEMBERS = ["outsider", "requester", "invited", "banned"]


# --- Helpers ------------------------------------------------------------------------------------------------
@pytest.fixture
def open_world(world_factory):
    return world_factory(Visibility.OPEN)


@pytest.fixture
def private_world(world_factory):
    return world_factory(Visibility.PRIVATE)


@pytest.fixture
def closed_world(world_factory):
    return world_factory(Visibility.CLOSED)


def make_post(w, body: str = "Census **results** are out.", *, by=None, **kwargs) -> Post:
    return post_services.post_create(actor=by or w.editor, space=w.space, body=body, **kwargs)


def post_url(name: str, post: Post) -> str:
    return space_url(name, post.space, post_id=post.pk)


def fresh(post: Post) -> Post:
    return Post.objects.select_related("item__space__community", "space__community").get(pk=post.pk)


def kinds(post: Post) -> list[str]:
    return list(
        ActivityEvent.objects.filter(target_type="spaces.post", target_id=post.pk)
        .order_by("pk")
        .values_list("kind", flat=True)
    )


def listed(browser, w) -> str:
    response = browser.get(space_url("posts", w.space))
    assert response.status_code == 200
    return response.content.decode()


def later(**delta) -> datetime:
    return timezone.now() + timedelta(**delta)


# --- Reading --------------------------------------------------------------------------------------------------
def test_anonymous_visitors_read_an_open_space_posts_but_must_sign_in_to_post(open_world):
    w = open_world
    post = make_post(w)
    browser = Client()

    assert "Census <strong>results</strong> are out." in listed(browser, w)
    assert browser.get(post_url("post-detail", post)).status_code == 200
    for url in (space_url("post-create", w.space), post_url("post-edit", post)):
        response = browser.get(url)
        assert response.status_code == 302 and response.url.startswith(LOGIN_URL)
    response = browser.post(space_url("post-create", w.space), {"body": "Anonymous"})
    assert response.status_code == 302 and response.url.startswith(LOGIN_URL)
    assert Post.objects.count() == 1


@pytest.mark.parametrize("persona", ["anonymous", *NON_MEMBERS])
def test_outsiders_never_see_closed_space_posts(closed_world, persona):
    w = closed_world
    post = make_post(w)
    user = getattr(w, persona)
    browser = client_for(user) if user.is_authenticated else Client()

    assert browser.get(space_url("posts", w.space)).status_code == 404
    assert browser.get(post_url("post-detail", post)).status_code == 404
    if user.is_authenticated:
        assert browser.post(space_url("post-create", w.space), {"body": "Hi"}).status_code == 404
        assert browser.post(post_url("post-edit", post), {"body": "Hi"}).status_code == 404
        assert browser.post(post_url("post-pin", post)).status_code == 404
        assert browser.post(space_url("like", w.space, item_id=post.item_id)).status_code == 404
        assert browser.post(space_url("bookmark", w.space, item_id=post.item_id)).status_code == 404
    assert Post.objects.count() == 1 and not fresh(post).is_pinned


def test_people_who_see_a_private_space_but_are_not_members_may_not_read_its_posts(private_world):
    w = private_world
    post = make_post(w)

    assert client_for(w.outsider).get(space_url("posts", w.space)).status_code == 403
    assert client_for(w.outsider).get(post_url("post-detail", post)).status_code == 403
    assert client_for(w.viewer).get(post_url("post-detail", post)).status_code == 200


def test_every_post_view_refuses_the_wrong_method(open_world):
    w = open_world
    post = make_post(w)
    browser = client_for(w.moderator)

    assert browser.post(space_url("posts", w.space)).status_code == 405
    assert browser.post(post_url("post-detail", post)).status_code == 405
    for name in ("post-pin", "post-unpin"):
        assert browser.get(post_url(name, post)).status_code == 405
    for name in ("like", "bookmark"):
        assert browser.get(space_url(name, w.space, item_id=post.item_id)).status_code == 405
    assert browser.post(reverse("spaces:saved")).status_code == 405


# --- Writing --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("persona", WRITERS)
def test_contributors_post_and_are_sent_to_the_post(open_world, persona):
    w = open_world
    author = getattr(w, persona)

    response = client_for(author).post(space_url("post-create", w.space), {"body": "Hello **everyone**\nmore"})

    post = Post.objects.get()
    assert response.status_code == 302 and response.url == post.get_absolute_url()
    assert messages_of(response) == ["Post published."]
    assert post.body_html == "<p>Hello <strong>everyone</strong>\nmore</p>\n"
    assert post.item.kind == "post" and post.item.author == author and post.item.title == "Hello everyone"
    assert post.published_at is not None and not post.is_announcement
    assert kinds(post) == ["post_create"]


def test_viewers_may_not_post(open_world):
    w = open_world
    browser = client_for(w.viewer)

    assert browser.get(space_url("post-create", w.space)).status_code == 403
    assert browser.post(space_url("post-create", w.space), {"body": "Hi"}).status_code == 403
    with pytest.raises(PermissionDenied):
        post_services.post_create(actor=w.viewer, space=w.space, body="Hi")
    assert not Post.objects.exists()


def test_nobody_posts_in_an_archived_space(open_world):
    w = open_world
    services.space_set_archived(actor=w.staff, space=w.space, archived=True)

    assert client_for(w.editor).post(space_url("post-create", w.space), {"body": "Hi"}).status_code == 403
    assert not Post.objects.exists()


def test_the_title_is_the_first_line_as_plain_text_and_short():
    assert post_services.post_title("\n\n# **Big** [news](https://x.org) &amp; more\nsecond") == "Big news & more"
    title = post_services.post_title("word " * 40)
    assert len(title) <= 80 and title.endswith("…")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"body": "   "}, "body", "Write something before posting."),
        ({"body": "x" * 20_001}, "body", "Keep posts under 20000 characters."),
        (
            {"body": "Hi", "publish_at": "2001-01-01T09:00"},
            "publish_at",
            "Choose a time in the future, or leave it empty to post now.",
        ),
        ({"body": "Hi", "publish_at": "tomorrow"}, "publish_at", "Enter the date and time as shown"),
        ({"body": "Hi", "publish_at": "2999-01-01T09:00"}, "publish_at", "Schedule a post at most a year ahead."),
    ],
)
def test_bad_input_gives_a_clear_message_and_changes_nothing(open_world, data, field, message):
    w = open_world

    response = client_for(w.editor).post(space_url("post-create", w.space), data)

    assert response.status_code == 200
    assert form_errors(response)[field][0].startswith(message)
    assert not Post.objects.exists() and not Item.objects.filter(kind="post").exists()


def test_authors_and_moderators_edit_a_post_but_other_editors_may_not(open_world):
    w = open_world
    post = make_post(w, "First draft")

    assert client_for(w.admin).get(post_url("post-edit", post)).status_code == 200
    other = make_user("other")
    add_member(w.space, other, SpaceRole.EDITOR, by=w.staff)
    assert client_for(other).post(post_url("post-edit", post), {"body": "Vandalised"}).status_code == 403
    response = client_for(w.editor).post(post_url("post-edit", post), {"body": "Second draft"})
    client_for(w.moderator).post(post_url("post-edit", post), {"body": "Third draft, tidied"})

    post = fresh(post)
    assert response.status_code == 302 and response.url == post.get_absolute_url()
    assert post.body == "Third draft, tidied" and post.item.title == "Third draft, tidied"
    assert post.edited_at is not None
    assert kinds(post) == ["post_create", "post_edit", "post_edit"]


def test_editing_with_an_empty_body_changes_nothing(open_world):
    w = open_world
    post = make_post(w, "Keep me")

    response = client_for(w.editor).post(post_url("post-edit", post), {"body": ""})

    assert form_errors(response)["body"] == ["Write something before posting."]
    assert fresh(post).body == "Keep me" and fresh(post).edited_at is None


def test_a_trashed_post_leaves_the_list(open_world):
    w = open_world
    post = make_post(w, "Soon gone")

    client_for(w.editor).post(space_url("item-trash", w.space, item_id=post.item_id))

    assert "Soon gone" not in listed(client_for(w.viewer), w)
    assert client_for(w.viewer).get(post_url("post-detail", post)).status_code == 404


# --- Announcements and pinning ----------------------------------------------------------------------------
def test_only_moderators_are_offered_and_may_set_the_announcement_flag(open_world):
    w = open_world

    assert "is_announcement" in client_for(w.moderator).get(space_url("post-create", w.space)).context["form"].fields
    assert "is_announcement" not in client_for(w.editor).get(space_url("post-create", w.space)).context["form"].fields
    client_for(w.moderator).post(space_url("post-create", w.space), {"body": "Meeting moved", "is_announcement": "on"})
    client_for(w.editor).post(space_url("post-create", w.space), {"body": "Sneaky", "is_announcement": "on"})
    with pytest.raises(PermissionDenied):
        post_services.post_create(actor=w.editor, space=w.space, body="Hi", is_announcement=True)

    flags = dict(Post.objects.values_list("body", "is_announcement"))
    assert flags == {"Meeting moved": True, "Sneaky": False}
    assert "Announcement" in listed(client_for(w.viewer), w)


def test_moderators_pin_a_post_to_the_top_and_unpin_it(open_world):
    w = open_world
    oldest = make_post(w, "Oldest")
    make_post(w, "Middle")
    make_post(w, "Newest")
    browser = client_for(w.moderator)

    response = browser.post(post_url("post-pin", oldest))
    order = [p.body for p in client_for(w.viewer).get(space_url("posts", w.space)).context["posts"]]
    assert response.status_code == 302 and response.url == space_url("posts", w.space)
    assert messages_of(response) == ["Post pinned to the top."]
    assert order == ["Oldest", "Newest", "Middle"]
    assert "Pinned" in listed(client_for(w.viewer), w)

    browser.post(post_url("post-unpin", oldest), {"next": oldest.get_absolute_url()})
    order = [p.body for p in client_for(w.viewer).get(space_url("posts", w.space)).context["posts"]]
    assert order == ["Newest", "Middle", "Oldest"]
    assert kinds(oldest) == ["post_create", "post_pin", "post_unpin"]


@pytest.mark.parametrize("persona", ["viewer", "editor"])
def test_members_below_moderator_may_not_pin(open_world, persona):
    w = open_world
    post = make_post(w)
    browser = client_for(getattr(w, persona))

    assert browser.post(post_url("post-pin", post)).status_code == 403
    assert not fresh(post).is_pinned


# --- Scheduling -----------------------------------------------------------------------------------------------
def test_a_scheduled_post_is_hidden_from_members_until_its_time_then_published_once(open_world, time_machine):
    w = open_world
    when = later(hours=2)
    post = make_post(w, "Webinar tomorrow", publish_at=when)

    post = fresh(post)
    assert post.published_at is None
    assert post.item.publish_at == post.item.created_at == post.created_at == when
    assert kinds(post) == ["post_schedule"]
    for persona in ("viewer", "anonymous", "outsider"):
        user = getattr(w, persona)
        browser = client_for(user) if user.is_authenticated else Client()
        assert "Webinar tomorrow" not in listed(browser, w), persona
        assert browser.get(post_url("post-detail", post)).status_code == 404, persona
    for persona in ("editor", "moderator"):
        html = listed(client_for(getattr(w, persona)), w)
        assert "Webinar tomorrow" in html and "Scheduled for" in html, persona
    assert post_services.posts_publish_due() == 0

    time_machine.move_to(when + timedelta(seconds=30))
    assert "Webinar tomorrow" in listed(Client(), w)
    assert posts_publish_due_task.delay().get() == 1
    assert post_services.posts_publish_due() == 0

    post = fresh(post)
    assert post.published_at is not None
    assert kinds(post) == ["post_schedule", "post_create"]
    assert ActivityEvent.objects.get(kind="post_create").occurred_at == when
    assert "Scheduled for" not in listed(client_for(w.moderator), w)


def test_the_publish_time_is_read_in_the_members_time_zone(open_world, time_machine):
    w = open_world
    time_machine.move_to(datetime(2030, 4, 1, 12, 0, tzinfo=zoneinfo.ZoneInfo("UTC")))
    w.editor.profile.time_zone = "Asia/Tokyo"
    w.editor.profile.save()
    browser = client_for(w.editor)

    form = browser.get(space_url("post-create", w.space)).context["form"]
    response = browser.post(space_url("post-create", w.space), {"body": "Morning", "publish_at": "2030-05-01T09:30"})

    post = Post.objects.get()
    assert "Asia/Tokyo" in str(form.fields["publish_at"].help_text)
    assert 'type="datetime-local"' in str(form["publish_at"])
    assert messages_of(response) == ["Post scheduled. Until then only you and the moderators can see it."]
    assert post.item.publish_at == datetime(2030, 5, 1, 0, 30, tzinfo=zoneinfo.ZoneInfo("UTC"))


def test_a_scheduled_post_can_be_moved_or_published_now_and_goes_out_once(open_world):
    w = open_world
    post = make_post(w, "Later", publish_at=later(hours=5))
    browser = client_for(w.editor)

    browser.post(post_url("post-edit", post), {"body": "Later", "publish_at": "2001-01-01T00:00"})
    assert fresh(post).item.publish_at > timezone.now()
    moved = later(days=1).replace(second=0, microsecond=0)
    browser.post(
        post_url("post-edit", post),
        {"body": "Later", "publish_at": timezone.localtime(moved).strftime("%Y-%m-%dT%H:%M")},
    )
    assert fresh(post).item.publish_at == moved == fresh(post).item.created_at

    browser.post(post_url("post-edit", post), {"body": "Now", "publish_at": ""})
    post = fresh(post)
    assert post.published_at is not None and post.item.publish_at <= timezone.now()
    assert "Now" in listed(client_for(w.viewer), w)
    assert post_services.posts_publish_due() == 0
    assert kinds(post).count("post_create") == 1


def test_a_published_post_cannot_be_rescheduled(open_world):
    w = open_world
    post = make_post(w)

    assert "publish_at" not in client_for(w.editor).get(post_url("post-edit", post)).context["form"].fields
    with pytest.raises(ValidationError):
        post_services.post_edit(actor=w.editor, post=fresh(post), body="Hi", publish_at=later(hours=1))


def test_the_publishing_task_leaves_trashed_posts_alone(open_world, time_machine):
    w = open_world
    post = make_post(w, publish_at=later(minutes=10))
    services.item_trash(actor=w.editor, item=fresh(post).item)

    time_machine.move_to(later(minutes=11))

    assert post_services.posts_publish_due() == 0
    assert fresh(post).published_at is None


# --- Mentions and links ------------------------------------------------------------------------------------
def test_mentions_are_recorded_only_for_members_who_can_see_the_post(closed_world):
    w = closed_world
    body = f"Thanks @{w.viewer.username}, @{w.outsider.username}, @{w.editor.username} and @nobody-here"

    post = make_post(w, body)

    assert set(Mention.objects.filter(item=post.item).values_list("user__username", flat=True)) == {w.viewer.username}
    profile = reverse("members:profile", kwargs={"username": w.viewer.username})
    assert f'<a href="{profile}" rel="nofollow ugc noopener">@{w.viewer.username}</a>' in post.body_html
    assert "@nobody-here" in post.body_html and 'href="/members/nobody-here/"' not in post.body_html


def test_mentions_in_comments_and_answers_are_recorded_too(open_world):
    w = open_world
    post = make_post(w)
    question = services.question_ask(actor=w.editor, space=w.space, title="Which keys?", body="Ideas?")

    comment = services.comment_create(actor=w.editor, target=post.item, body=f"cc @{w.viewer.username}")
    answer = services.answer_post(actor=w.moderator, question=question, body=f"Ask @{w.admin.username}")
    services.answer_edit(actor=w.moderator, answer=answer, body=f"Ask @{w.viewer.username}")

    assert list(Mention.objects.filter(item=comment.item).values_list("user", flat=True)) == [w.viewer.pk]
    assert list(Mention.objects.filter(item=answer.item).values_list("user", flat=True)) == [w.viewer.pk]
    assert f">@{w.viewer.username}</a>" in comment.body_html


def test_members_mentioned_in_a_scheduled_post_are_recorded_when_it_goes_out(open_world, time_machine):
    w = open_world
    post = make_post(w, f"Hello @{w.viewer.username}", publish_at=later(hours=1))
    assert not Mention.objects.exists()

    time_machine.move_to(later(hours=2))
    post_services.posts_publish_due()

    assert list(Mention.objects.filter(item=post.item).values_list("user", flat=True)) == [w.viewer.pk]


def test_mentions_are_bounded(open_world):
    w = open_world
    people = [make_user(f"reader{n}") for n in range(25)]

    post = make_post(w, " ".join(f"@{p.username}" for p in people))

    assert Mention.objects.filter(item=post.item).count() == 20


def test_mentions_inside_code_and_links_and_e_mail_addresses_are_not_mentions(open_world):
    w = open_world
    handle = w.viewer.username

    post = make_post(w, f"`@{handle}` [@{handle}](https://example.org) write to {handle}@example.org")

    assert not Mention.objects.exists()
    assert "/members/" not in post.body_html


@pytest.mark.parametrize(
    "payload",
    [
        "@<script>alert(1)</script>",
        '@viewer"><script>alert(1)</script>',
        "@viewer<img src=x onerror=alert(1)>",
        "[@x](javascript:alert(1))",
        *CORPUS[:12],
    ],
)
def test_mentions_and_posts_render_inert(open_world, payload):
    w = open_world
    post = make_post(w, f"@{w.viewer.username} {payload} @{w.viewer.username}{payload}")

    for html in (
        listed(client_for(w.viewer), w),
        client_for(w.viewer).get(post_url("post-detail", post)).content.decode(),
        client_for(w.editor).get(post_url("post-edit", post)).content.decode(),
    ):
        assert_inert(main_of(html), payload)
    assert_inert(post.body_html, payload)
    assert "<script>alert" not in post.body_html


def main_of(html: str) -> str:
    """The page's <main>, where what members write is shown (the site's own header icons are not at stake)."""
    return html[html.index("<main") : html.index("</main>")]


def test_urls_in_posts_are_linked_but_bare_words_and_bad_schemes_are_not(open_world):
    w = open_world

    post = make_post(w, "Report: https://example.org/report?x=1 see settings.py or javascript:alert(1)")

    assert '<a href="https://example.org/report?x=1" rel="nofollow ugc noopener">' in post.body_html
    assert "settings.py" in post.body_html and "http://settings.py" not in post.body_html
    assert 'href="javascript' not in post.body_html


# --- Query counts ---------------------------------------------------------------------------------------------
FEW, MANY = 3, 30


def _fill(w, start: int, stop: int) -> None:
    likers = [w.viewer, w.moderator, w.admin]
    for n in range(start, stop):
        post = make_post(w, f"Post {n} for @{w.viewer.username}", by=[w.editor, w.moderator][n % 2])
        services.comment_create(actor=w.editor, target=post.item, body=f"Comment {n}")
        for liker in likers:
            if liker.pk != post.item.author_id:
                post_services.like_toggle(actor=liker, item=fresh(post).item)
        post_services.bookmark_toggle(actor=w.viewer, item=fresh(post).item)
        if n == 1:
            post_services.post_pin(actor=w.moderator, post=fresh(post))
        if n % 7 == 0:
            make_post(w, f"Scheduled {n}", by=w.editor, publish_at=later(days=1))


def test_post_list_query_count_is_the_same_for_3_and_30_posts(open_world):
    w = open_world
    browser = client_for(w.viewer)
    url = space_url("posts", w.space)

    _fill(w, 0, FEW)
    few = count_queries(browser, url)
    _fill(w, FEW, MANY)
    many = count_queries(browser, url)

    assert len(browser.get(url).context["posts"]) == 20
    assert 'aria-pressed="true"' in browser.get(url).content.decode()
    assert (few, many) == (7, 7)  # the header's counts come from the cache


def test_post_list_query_count_is_the_same_for_moderators_who_see_scheduled_posts(open_world):
    w = open_world
    browser = client_for(w.moderator)
    url = space_url("posts", w.space)

    _fill(w, 0, FEW)
    few = count_queries(browser, url)
    _fill(w, FEW, MANY)
    many = count_queries(browser, url)

    assert few == many


def test_post_page_query_count_is_the_same_for_3_and_30_comments_and_likes(open_world):
    w = open_world
    post = make_post(w, f"Discuss, @{w.viewer.username}", by=w.moderator)
    browser = client_for(w.viewer)
    url = post_url("post-detail", post)

    def add(start, stop):
        for n in range(start, stop):
            person = make_user(f"liker{n}")
            add_member(w.space, person, SpaceRole.EDITOR, by=w.staff)
            post_services.like_toggle(actor=person, item=fresh(post).item)
            comment = services.comment_create(actor=person, target=post.item, body=f"Comment {n}")
            post_services.like_toggle(actor=w.viewer, item=comment.item)
            if n % 2:
                services.comment_create(actor=w.editor, target=post.item, body=f"Reply {n}", parent=comment)

    add(0, FEW)
    few = count_queries(browser, url)
    add(FEW, MANY)
    many = count_queries(browser, url)

    assert fresh(post).item.like_count == MANY
    assert (few, many) == (9, 9)  # with the post_view INSERT
