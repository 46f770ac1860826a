"""Wiki pages: who may open, create and edit them; templates, the page tree, query counts.

History, conflicts, restrictions, move/copy and XSS have their own files (``test_page_*.py``,
``test_xss.py``); they share the small helpers at the top of this one.
"""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from spaces import services
from spaces.models import Page, PageTemplate, Visibility
from tests.spaces.helpers import client_for, messages_of, space_url

LOGIN_URL = reverse("account_login")


# --- Helpers shared by the page tests -----------------------------------------------------------------------
@pytest.fixture
def open_world(world_factory):
    return world_factory(Visibility.OPEN)


@pytest.fixture
def private_world(world_factory):
    return world_factory(Visibility.PRIVATE)


@pytest.fixture
def closed_world(world_factory):
    return world_factory(Visibility.CLOSED)


def make_page(
    w,
    title: str = "Record linkage guide",
    body: str = "Match on name and date of birth.",
    *,
    by=None,
    parent=None,
    summary: str = "",
    space=None,
) -> Page:
    return services.page_create(
        actor=by or w.editor, space=space or w.space, title=title, body=body, parent=parent, summary=summary
    )


def edit_page(page: Page, by, body: str, *, title: str | None = None, summary: str = "") -> Page:
    """Save a new version the way the edit form does, starting from the page's current version."""
    return services.page_update(
        actor=by, page=page, title=title or page.title, body=body, base_version=page.version, summary=summary
    )


def page_url(name: str, page: Page, **kwargs) -> str:
    """``spaces:<name>`` for ``page`` at its current address, e.g. page_url("page-history", page)."""
    space = page.space
    return reverse(
        f"spaces:{name}",
        kwargs={
            "community_slug": space.community.slug,
            "space_slug": space.slug,
            "page_slug": page.slug,
            **kwargs,
        },
    )


def browser_for(user) -> Client:
    return client_for(user) if user.is_authenticated else Client()


def statuses(w, personas: list[str], method: str, url: str, data=None) -> dict[str, int]:
    """The status code each persona gets for one request (GETs, or POSTs that do not succeed)."""
    return {name: getattr(browser_for(getattr(w, name)), method)(url, data or {}).status_code for name in personas}


def page_urls(page: Page) -> dict[str, str]:
    """Every URL that shows something of ``page``."""
    return {
        "detail": page_url("page-detail", page),
        "edit": page_url("page-edit", page),
        "history": page_url("page-history", page),
        "version": page_url("page-version", page, version=1),
        "diff": page_url("page-diff", page) + "?from=1&to=2",
        "restrictions": page_url("page-restrictions", page),
        "move": page_url("page-move", page),
        "presence": page_url("page-presence", page),
        "permalink": reverse("spaces:page-permalink", kwargs={"page_id": page.pk}),
    }


def count_queries(browser: Client, url: str) -> int:
    """Queries of one GET, after a first visit has settled per-session state."""
    assert browser.get(url).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        response = browser.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


READERS = ["viewer", "editor", "moderator", "admin", "community_moderator", "community_admin", "staff"]
WRITERS = ["editor", "moderator", "admin", "community_moderator", "community_admin", "staff"]
NON_MEMBERS = ["outsider", "requester", "invited", "banned"]


# --- Who may open pages -------------------------------------------------------------------------------------
def test_outsiders_of_a_closed_space_get_404_on_every_page_url(closed_world):
    w = closed_world
    page = make_page(w)
    edit_page(page, w.editor, "Second version.")
    urls = {
        **page_urls(page),
        "list": space_url("pages", w.space),
        "create": space_url("page-create", w.space),
        "templates": space_url("page-templates", w.space),
    }

    for name in NON_MEMBERS:
        browser = client_for(getattr(w, name))
        got = {key: browser.get(url).status_code for key, url in urls.items()}
        assert got == dict.fromkeys(urls, 404), name


def test_outsiders_of_a_closed_space_get_404_when_posting_to_a_page(closed_world):
    w = closed_world
    page = make_page(w)
    posts = {
        "edit": (page_url("page-edit", page), {"title": "Hacked", "body": "x", "base_version": 1}),
        "restore": (page_url("page-restore", page, version=1), {}),
        "draft": (page_url("page-draft", page), {"title": "t", "body": "b"}),
        "restrictions": (page_url("page-restrictions", page), {"restrict_view": "on"}),
        "up": (page_url("page-up", page), {}),
    }

    got = {key: client_for(w.outsider).post(url, data).status_code for key, (url, data) in posts.items()}

    assert got == dict.fromkeys(posts, 404)
    page.refresh_from_db()
    assert (page.title, page.version, page.item.is_restricted) == ("Record linkage guide", 1, False)


def test_anonymous_visitors_get_404_on_the_pages_of_a_closed_space(closed_world):
    w = closed_world
    page = make_page(w)
    edit_page(page, w.editor, "Second version.")
    urls = {
        key: url for key, url in page_urls(page).items() if key in {"detail", "history", "version", "diff", "permalink"}
    }
    urls["list"] = space_url("pages", w.space)

    got = {key: Client().get(url).status_code for key, url in urls.items()}

    assert got == dict.fromkeys(urls, 404)


def test_non_members_of_a_private_space_get_403_on_reading_its_pages(private_world):
    w = private_world
    page = make_page(w)
    edit_page(page, w.editor, "Second version.")
    urls = {key: url for key, url in page_urls(page).items() if key in {"detail", "history", "version", "diff"}}
    urls["list"] = space_url("pages", w.space)

    for name in ["anonymous", *NON_MEMBERS]:
        browser = browser_for(getattr(w, name))
        got = {key: browser.get(url).status_code for key, url in urls.items()}
        assert got == dict.fromkeys(urls, 403), name
    response = client_for(w.outsider).get(page_url("page-detail", page))
    assert b"Match on name" not in response.content


def test_members_of_a_private_space_read_its_pages_history_and_diffs(private_world):
    w = private_world
    page = make_page(w)
    edit_page(page, w.editor, "Second version.")
    urls = {key: url for key, url in page_urls(page).items() if key in {"detail", "history", "version", "diff"}}

    for name in READERS:
        browser = client_for(getattr(w, name))
        got = {key: browser.get(url).status_code for key, url in urls.items()}
        assert got == dict.fromkeys(urls, 200), name


def test_anonymous_visitors_read_pages_and_history_of_an_open_space(open_world):
    w = open_world
    page = make_page(w, body="Match on **name**.")
    edit_page(page, w.editor, "Match on **name** and date of birth.")
    browser = Client()

    detail = browser.get(page_url("page-detail", page))
    listing = browser.get(space_url("pages", w.space))
    history = browser.get(page_url("page-history", page))
    old = browser.get(page_url("page-version", page, version=1))
    diff = browser.get(page_url("page-diff", page) + "?from=1&to=2")
    permalink = browser.get(reverse("spaces:page-permalink", kwargs={"page_id": page.pk}))

    assert [r.status_code for r in (detail, listing, history, old, diff)] == [200] * 5
    assert b"Match on <strong>name</strong> and date of birth." in detail.content
    assert b"Record linkage guide" in listing.content
    assert b"Edit</a>" not in detail.content
    assert b"<strong>name</strong>." in old.content
    assert b'<ins class="diff-ins">' in diff.content
    assert (permalink.status_code, permalink.url) == (302, page_url("page-detail", page))


def test_anonymous_posts_to_pages_are_sent_to_log_in(open_world):
    w = open_world
    page = make_page(w)
    posts = {
        "create": (space_url("page-create", w.space), {"title": "New", "body": "x"}),
        "edit": (page_url("page-edit", page), {"title": "Hacked", "body": "x", "base_version": 1}),
        "restore": (page_url("page-restore", page, version=1), {}),
        "draft": (page_url("page-draft", page), {"title": "t", "body": "b"}),
        "restrictions": (page_url("page-restrictions", page), {"restrict_view": "on"}),
        "move": (page_url("page-move", page), {}),
        "up": (page_url("page-up", page), {}),
        "template": (space_url("page-templates", w.space), {"name": "Notes", "body": "x"}),
    }

    for key, (url, data) in posts.items():
        response = Client().post(url, data)
        assert response.status_code == 302, key
        assert response.url.startswith(LOGIN_URL), key
    page.refresh_from_db()
    assert (page.title, page.version, Page.objects.count(), PageTemplate.objects.count()) == (
        "Record linkage guide",
        1,
        1,
        0,
    )


# --- Creating pages -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("visibility", [Visibility.OPEN, Visibility.PRIVATE, Visibility.CLOSED])
def test_only_editors_and_above_may_open_the_new_page_form(world_factory, visibility):
    w = world_factory(visibility)
    url = space_url("page-create", w.space)
    outsiders = 404 if visibility == Visibility.CLOSED else 403

    got = statuses(w, ["viewer", *WRITERS, *NON_MEMBERS], "get", url)

    assert got == {"viewer": 403, **dict.fromkeys(WRITERS, 200), **dict.fromkeys(NON_MEMBERS, outsiders)}


def test_viewer_cannot_create_a_page(open_world):
    w = open_world

    response = client_for(w.viewer).post(space_url("page-create", w.space), {"title": "Mine", "body": "x"})

    assert response.status_code == 403
    assert not Page.objects.exists()


def test_editor_creates_a_page_under_a_parent_and_is_sent_to_it(open_world):
    w = open_world
    parent = make_page(w, "Guides")

    response = client_for(w.editor).post(
        space_url("page-create", w.space),
        {
            "title": "Record linkage",
            "body": "# Steps\n\n1. Clean names",
            "parent": parent.pk,
            "summary": "First draft",
        },
    )

    page = Page.objects.get(title="Record linkage")
    assert response.status_code == 302
    assert response.url == page_url("page-detail", page)
    assert messages_of(response) == ["Page created."]
    assert (page.parent, page.item.author, page.version, page.slug) == (parent, w.editor, 1, "record-linkage")
    assert "<h1>Steps</h1>" in page.body_html
    assert list(page.versions.values_list("version", "history_user", "history_change_reason")) == [
        (1, w.editor.pk, "First draft")
    ]


def test_new_page_form_links_a_new_subpage_to_its_parent(open_world):
    w = open_world
    parent = make_page(w, "Guides")

    response = client_for(w.editor).get(space_url("page-create", w.space) + f"?parent={parent.pk}")

    assert response.status_code == 200
    assert response.context["form"].initial["parent"] == str(parent.pk)


def test_page_without_a_title_is_not_created_and_the_form_says_why(open_world):
    w = open_world

    response = client_for(w.editor).post(space_url("page-create", w.space), {"title": "   ", "body": "Text"})

    assert response.status_code == 200
    assert "title" in response.context["form"].errors
    assert not Page.objects.exists()


def test_two_pages_with_the_same_title_get_different_addresses(open_world):
    w = open_world

    first, second = make_page(w, "Minutes"), make_page(w, "Minutes")

    assert (first.slug, second.slug) == ("minutes", "minutes-2")
    assert client_for(w.viewer).get(page_url("page-detail", second)).context["page"] == second


# --- Editing pages ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("visibility", [Visibility.OPEN, Visibility.PRIVATE, Visibility.CLOSED])
def test_only_editors_and_above_may_open_the_edit_form(world_factory, visibility):
    w = world_factory(visibility)
    page = make_page(w)
    outsiders = 404 if visibility == Visibility.CLOSED else 403

    got = statuses(w, ["anonymous", "viewer", *WRITERS, *NON_MEMBERS], "get", page_url("page-edit", page))

    assert got == {
        "anonymous": 302,
        "viewer": 403,
        **dict.fromkeys(WRITERS, 200),
        **dict.fromkeys(NON_MEMBERS, outsiders),
    }


def test_viewer_cannot_save_an_edit(open_world):
    w = open_world
    page = make_page(w)

    response = client_for(w.viewer).post(
        page_url("page-edit", page), {"title": "Vandalised", "body": "gone", "base_version": 1}
    )

    assert response.status_code == 403
    page.refresh_from_db()
    assert (page.title, page.version, page.versions.count()) == ("Record linkage guide", 1, 1)


@pytest.mark.parametrize("editor", WRITERS)
def test_editors_and_above_save_a_new_version(open_world, editor):
    w = open_world
    page = make_page(w)
    user = getattr(w, editor)

    response = client_for(user).post(
        page_url("page-edit", page),
        {
            "title": "Record linkage guide",
            "body": "Match on name only.",
            "base_version": 1,
            "summary": "Simplify",
        },
    )

    assert response.status_code == 302
    assert messages_of(response) == ["Page saved."]
    page.refresh_from_db()
    assert (page.body, page.version, page.last_edited_by) == ("Match on name only.", 2, user)
    assert page.versions.count() == 2


def test_edit_form_answers_405_to_other_methods(open_world):
    w = open_world
    page = make_page(w)
    browser = client_for(w.editor)

    assert browser.put(page_url("page-edit", page)).status_code == 405
    assert browser.get(page_url("page-restore", page, version=1)).status_code == 405
    assert browser.get(page_url("page-draft", page)).status_code == 405
    assert browser.get(page_url("page-up", page)).status_code == 405


def test_nothing_can_be_written_in_an_archived_space(open_world):
    w = open_world
    parent = make_page(w, "Guides")
    page = make_page(w, parent=parent)
    edit_page(page, w.editor, "Second version.")
    services.space_set_archived(actor=w.admin, space=w.space, archived=True)
    attempts = {
        "create form": ("get", space_url("page-create", w.space), None),
        "create": ("post", space_url("page-create", w.space), {"title": "New", "body": "x"}),
        "edit form": ("get", page_url("page-edit", page), None),
        "edit": ("post", page_url("page-edit", page), {"title": "T", "body": "x", "base_version": 2}),
        "restore": ("post", page_url("page-restore", page, version=1), {}),
        "draft": ("post", page_url("page-draft", page), {"title": "T", "body": "x"}),
        "restrictions": ("get", page_url("page-restrictions", page), None),
        "move": ("get", page_url("page-move", page), None),
        "up": ("post", page_url("page-up", page), {}),
        "templates": ("post", space_url("page-templates", w.space), {"name": "Notes", "body": "x"}),
    }

    for name in ["editor", "admin", "staff"]:
        browser = client_for(getattr(w, name))
        got = {
            key: getattr(browser, method)(url, data or {}).status_code for key, (method, url, data) in attempts.items()
        }
        assert got == dict.fromkeys(attempts, 403), name
    page.refresh_from_db()
    assert (page.body, page.version, page.position, Page.objects.count(), PageTemplate.objects.count()) == (
        "Second version.",
        2,
        0,
        2,
        0,
    )
    detail = client_for(w.admin).get(page_url("page-detail", page))
    assert detail.status_code == 200
    assert not detail.context["can_edit_page"]
    assert b"Second version." in detail.content


def test_page_shows_who_edited_it_last_and_when(open_world, time_machine):
    w = open_world
    time_machine.move_to("2025-03-04 09:15:00+00:00", tick=False)
    page = make_page(w, by=w.editor)
    time_machine.move_to("2025-03-05 16:40:00+00:00", tick=False)
    edit_page(page, w.moderator, "Reviewed.")

    response = Client().get(page_url("page-detail", page))

    html = response.content.decode()
    assert "Version 2, last edited by Moderator" in html
    assert 'datetime="2025-03-05T16:40:00+00:00"' in html


# --- Page templates -----------------------------------------------------------------------------------------
def test_space_admin_creates_edits_and_deletes_a_page_template(open_world):
    w = open_world
    browser = client_for(w.admin)

    created = browser.post(
        space_url("page-templates", w.space),
        {"name": "Meeting notes", "description": "For every call", "body": "## Attendees\n\n## Decisions"},
    )
    template = PageTemplate.objects.get(space=w.space)
    edited = browser.post(
        space_url("page-template-edit", w.space, template_id=template.pk),
        {"name": "Meeting minutes", "body": "## Present"},
    )
    template.refresh_from_db()
    name_after_edit = template.name
    deleted = browser.post(space_url("page-template-delete", w.space, template_id=template.pk))

    assert [r.status_code for r in (created, edited, deleted)] == [302, 302, 302]
    assert name_after_edit == "Meeting minutes"
    assert not PageTemplate.objects.exists()


@pytest.mark.parametrize("visibility", [Visibility.OPEN, Visibility.CLOSED])
def test_only_space_admins_manage_page_templates(world_factory, visibility):
    w = world_factory(visibility)
    template = services.page_template_save(actor=w.admin, space=w.space, name="Meeting notes", body="## Attendees")
    outsiders = 404 if visibility == Visibility.CLOSED else 403
    managers = ["admin", "community_admin", "staff"]
    others = ["viewer", "editor", "moderator", "community_moderator"]
    urls = {
        "list": ("get", space_url("page-templates", w.space), None),
        "create": ("post", space_url("page-templates", w.space), {"name": "Case study", "body": "x"}),
        "edit": (
            "post",
            space_url("page-template-edit", w.space, template_id=template.pk),
            {"name": "Hacked"},
        ),
        "delete": ("post", space_url("page-template-delete", w.space, template_id=template.pk), None),
    }

    for name in [*others, *NON_MEMBERS]:
        browser = client_for(getattr(w, name))
        got = {key: getattr(browser, method)(url, data or {}).status_code for key, (method, url, data) in urls.items()}
        assert got == dict.fromkeys(urls, outsiders if name in NON_MEMBERS else 403), name
    assert list(PageTemplate.objects.values_list("name", flat=True)) == ["Meeting notes"]
    for name in managers:
        assert client_for(getattr(w, name)).get(urls["list"][1]).status_code == 200, name


def test_new_page_form_offers_the_space_templates_and_prefills_the_chosen_one(open_world):
    w = open_world
    notes = services.page_template_save(actor=w.admin, space=w.space, name="Meeting notes", body="## Attendees")
    services.page_template_save(actor=w.admin, space=w.space, name="Case study", body="## Context")
    browser = client_for(w.editor)

    offered = browser.get(space_url("page-create", w.space))
    chosen = browser.get(space_url("page-create", w.space) + f"?template={notes.pk}")

    assert [t.name for t in offered.context["templates"]] == ["Case study", "Meeting notes"]
    assert f'href="?template={notes.pk}"'.encode() in offered.content
    assert chosen.context["form"].initial["body"] == "## Attendees"
    assert b"## Attendees</textarea>" in chosen.content


def test_new_page_form_answers_404_for_a_template_of_another_space_or_a_bad_id(open_world, world_factory):
    w = open_world
    other = world_factory(Visibility.CLOSED)
    foreign = services.page_template_save(actor=other.admin, space=other.space, name="Secret", body="Secret body")
    url = space_url("page-create", w.space)

    assert client_for(w.editor).get(f"{url}?template={foreign.pk}").status_code == 404
    assert client_for(w.editor).get(f"{url}?template=abc").status_code == 404


def test_page_list_offers_new_page_to_contributors_and_templates_to_admins(open_world):
    w = open_world
    new_page = space_url("page-create", w.space).encode()
    templates = space_url("page-templates", w.space).encode()

    as_viewer = client_for(w.viewer).get(space_url("pages", w.space)).content
    as_editor = client_for(w.editor).get(space_url("pages", w.space)).content
    as_admin = client_for(w.admin).get(space_url("pages", w.space)).content

    assert (new_page in as_viewer, templates in as_viewer) == (False, False)
    assert (new_page in as_editor, templates in as_editor) == (True, False)
    assert (new_page in as_admin, templates in as_admin) == (True, True)


# --- The page tree ------------------------------------------------------------------------------------------
def tree_titles(response) -> list[str]:
    """The titles in the page tree, in document order, indented by depth with dots."""
    html = response.content.decode()
    tree = html[html.index('<ul class="page-tree">') :]
    titles, depth = [], 0
    for token in re.finditer(r"<ul>|</ul>|<a href=\"[^\"]*/p/[^\"]*\">([^<]*)</a>", tree):
        if token.group(0) == "<ul>":
            depth += 1
        elif token.group(0) == "</ul>":
            if depth == 0:
                break
            depth -= 1
        else:
            titles.append("." * depth + token.group(1))
    return titles


def test_page_list_shows_the_tree_and_the_page_its_subpages(open_world):
    w = open_world
    guides = make_page(w, "Guides")
    make_page(w, "Linkage", parent=guides)
    make_page(w, "Coding", parent=guides)
    make_page(w, "About")

    listing = Client().get(space_url("pages", w.space))
    detail = Client().get(page_url("page-detail", guides))

    assert tree_titles(listing) == ["Guides", ".Linkage", ".Coding", "About"]
    assert [child.title for child in detail.context["children"]] == ["Linkage", "Coding"]


def test_editor_moves_a_page_up_in_the_tree_and_viewer_cannot(open_world):
    w = open_world
    make_page(w, "First")
    second = make_page(w, "Second")

    refused = client_for(w.viewer).post(page_url("page-up", second))
    moved = client_for(w.editor).post(page_url("page-up", second))

    assert refused.status_code == 403
    assert (moved.status_code, moved.url) == (302, space_url("pages", w.space))
    assert tree_titles(Client().get(space_url("pages", w.space))) == ["Second", "First"]


def test_editor_moves_a_page_under_another_from_the_edit_form(open_world):
    w = open_world
    guides = make_page(w, "Guides")
    page = make_page(w, "Linkage")

    response = client_for(w.editor).post(
        page_url("page-edit", page),
        {"title": "Linkage", "body": page.body, "base_version": 1, "parent": guides.pk},
    )

    assert response.status_code == 302
    assert tree_titles(Client().get(space_url("pages", w.space))) == ["Guides", ".Linkage"]


def test_page_cannot_be_placed_under_its_own_subpage(open_world):
    w = open_world
    guides = make_page(w, "Guides")
    child = make_page(w, "Linkage", parent=guides)

    response = client_for(w.editor).post(
        page_url("page-edit", guides),
        {"title": "Guides", "body": guides.body, "base_version": 1, "parent": child.pk},
    )

    assert response.status_code == 200
    assert "parent" in response.context["form"].errors
    guides.refresh_from_db()
    assert guides.parent is None


# --- Query counts -------------------------------------------------------------------------------------------
PAGE_VIEW_QUERIES = 9  # includes the watch button, attachments and comments sections (the header's counts: cached)
# and the page_view INSERT (the visit is recorded once a day)
PAGE_LIST_QUERIES = 5  # the header's counts come from the cache


def test_page_view_runs_the_same_queries_with_3_and_30_versions(open_world):
    w = open_world
    page = make_page(w, parent=make_page(w, "Guides"))
    for n in range(2, 4):
        edit_page(page, w.editor, f"Version {n}.")
    browser = client_for(w.viewer)

    few = count_queries(browser, page_url("page-detail", page))
    for n in range(4, 31):
        edit_page(page, w.editor if n % 2 else w.moderator, f"Version {n}.")
    many = count_queries(browser, page_url("page-detail", page))

    assert page.versions.count() == 30
    assert (few, many) == (PAGE_VIEW_QUERIES, PAGE_VIEW_QUERIES)


def test_page_list_runs_the_same_queries_with_3_and_30_pages(open_world):
    w = open_world
    top = make_page(w, "Top")
    for n in range(2):
        make_page(w, f"Page {n}", parent=top)
    browser = client_for(w.editor)

    few = count_queries(browser, space_url("pages", w.space))
    for n in range(2, 29):
        make_page(w, f"Page {n}", parent=top if n % 2 else None)
    many = count_queries(browser, space_url("pages", w.space))

    assert Page.objects.count() == 30
    assert (few, many) == (PAGE_LIST_QUERIES, PAGE_LIST_QUERIES)
