"""Open Graph and Twitter card tags (issue 8, item 2): public links to open content preview well when shared;
content that anonymous visitors may not read gives away none of its text in those tags."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.test import Client

from spaces import services
from spaces.models import Visibility
from spaces.services import moderation as moderation_services
from tests.feeds.content import shared_content
from tests.spaces.helpers import client_for


class _Head(HTMLParser):
    """The <meta> tags of a page's head, as (name or property, content) pairs."""

    def __init__(self):
        super().__init__()
        self.meta: dict[str, str] = {}
        self.in_head = True

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "body":
            self.in_head = False
        if tag == "meta" and self.in_head and (attrs.get("property") or attrs.get("name")):
            self.meta[attrs.get("property") or attrs.get("name")] = attrs.get("content", "")


def head_meta(response) -> dict[str, str]:
    assert response.status_code == 200
    parser = _Head()
    parser.feed(response.content.decode())
    return parser.meta


def social_tags(meta: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in meta.items() if k.startswith(("og:", "twitter:")) or k == "description"}


@pytest.fixture
def open_world(world_factory):
    return world_factory(Visibility.OPEN)


@pytest.mark.parametrize(
    "kind, title, excerpt",
    [
        ("page", "Linkage guide", "How we link records."),
        ("question", "Which keys?", "Names or dates?"),
        ("event", "Linkage workshop", "Bring your data."),
        ("post", "Slides are online", "Slides are online"),
    ],
)
def test_open_content_carries_open_graph_tags(open_world, kind, title, excerpt):
    w = open_world
    obj = getattr(shared_content(w), kind)

    for browser in (Client(), client_for(w.viewer)):
        meta = head_meta(browser.get(obj.get_absolute_url()))
        assert meta["og:title"] == title
        assert meta["og:description"] == excerpt  # plain text: no Markdown, no HTML
        assert meta["og:url"] == "http://testserver" + obj.get_absolute_url()
        assert meta["og:type"] == "article"
        assert meta["og:site_name"] == settings.SITE_NAME
        assert meta["twitter:card"] == "summary"


def test_space_home_and_community_page_carry_open_graph_tags(open_world):
    w = open_world
    w.space.description = "Where we share *linkage* practice."
    w.space.save(update_fields=["description"])

    meta = head_meta(Client().get(w.space.get_absolute_url()))
    assert meta["og:title"] == w.space.name
    assert meta["og:description"] == "Where we share *linkage* practice."
    assert meta["og:url"] == "http://testserver" + w.space.get_absolute_url()
    assert meta["og:type"] == "website"
    assert meta["twitter:card"] == "summary"

    meta = head_meta(Client().get(w.community.get_absolute_url()))
    assert meta["og:title"] == w.community.name
    assert meta["og:url"] == "http://testserver" + w.community.get_absolute_url()


def _assert_generic(meta: dict[str, str], *secrets: str) -> None:
    tags = social_tags(meta)
    assert tags == {
        "og:site_name": settings.SITE_NAME,
        "og:title": settings.SITE_NAME,
        "og:type": "website",
        "twitter:card": "summary",
    }
    for secret in secrets:
        assert all(secret.lower() not in value.lower() for value in meta.values())


@pytest.mark.parametrize("visibility", [Visibility.PRIVATE, Visibility.CLOSED])
def test_members_only_content_gets_only_the_generic_site_tags(world_factory, visibility):
    w = world_factory(visibility)
    content = shared_content(w)
    browser = client_for(w.viewer)

    for obj in (content.page, content.question, content.event, content.post):
        meta = head_meta(browser.get(obj.get_absolute_url()))
        _assert_generic(meta, "linkage", "keys", "slides", "records", "data")
        assert "og:url" not in meta  # the address carries words of the title
    _assert_generic(head_meta(browser.get(w.space.get_absolute_url())), w.space.name)


def test_restricted_hidden_and_scheduled_content_of_an_open_space_gets_only_the_generic_tags(open_world):
    w = open_world
    restricted = services.page_create(actor=w.editor, space=w.space, title="Budget lines", body="Salary figures.")
    services.page_set_restrictions(
        actor=w.editor, page=restricted, viewers=[w.viewer], restrict_view=True, restrict_edit=False
    )
    content = shared_content(w)
    moderation_services.item_hide(actor=w.moderator, item=content.post.item, reason="Spam")

    _assert_generic(head_meta(client_for(w.viewer).get(restricted.get_absolute_url())), "budget", "salary")
    _assert_generic(head_meta(client_for(w.moderator).get(content.post.get_absolute_url())), "slides")


def test_other_pages_keep_the_site_name_tag_only(open_world):
    meta = head_meta(Client().get("/c/"))
    assert social_tags(meta) == {"og:site_name": settings.SITE_NAME}
