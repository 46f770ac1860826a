"""Page restrictions (django-guardian): who may restrict, and a restricted page vanishing for everyone else.

ARCHITECTURE.md: a restricted page is visible to the people named on it, its author, and the space's and
community's admins; not to moderators.
"""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from spaces import permissions, services
from spaces.models import Item, Page, PageDraft, SpaceRole, Visibility
from tests.factories import add_member, make_user
from tests.spaces.helpers import client_for, form_errors, messages_of, space_url
from tests.spaces.test_pages import browser_for, edit_page, make_page, page_url, page_urls


@pytest.fixture
def open_world(world_factory):
    return world_factory(Visibility.OPEN)


@pytest.fixture
def closed_world(world_factory):
    return world_factory(Visibility.CLOSED)


SECRET = "Confidential salary benchmark"
SEE_IT = ["viewer", "editor", "admin", "community_admin", "staff"]  # named viewer, author, admins, staff
HIDDEN_FROM = ["other_viewer", "other_editor", "moderator", "community_moderator", "outsider", "banned"]


def add_people(w) -> None:
    w.other_viewer = make_user("otherviewer")
    add_member(w.space, w.other_viewer, SpaceRole.VIEWER, by=w.staff)
    w.other_editor = make_user("othereditor")
    add_member(w.space, w.other_editor, SpaceRole.EDITOR, by=w.staff)


def restricted_page(w) -> tuple[Page, Page]:
    """A parent page, and under it a page by the editor restricted to the viewer (through the form)."""
    add_people(w)
    parent = make_page(w, "Guides")
    page = make_page(w, SECRET, "Figures per grade.", parent=parent)
    edit_page(page, w.editor, "Figures per grade and region.")
    response = client_for(w.editor).post(
        page_url("page-restrictions", page), {"restrict_view": "on", "viewers": w.viewer.username}
    )
    assert response.status_code == 302
    return parent, page


def surfaces(w, user, parent: Page, page: Page) -> dict[str, bool]:
    """Whether ``user`` finds the restricted page in each place that lists or shows it."""
    browser = browser_for(user)
    found = {
        "page tree": SECRET in browser.get(space_url("pages", w.space)).content.decode(),
        "subpages of parent": SECRET in browser.get(page_url("page-detail", parent)).content.decode(),
        "space home": SECRET in browser.get(w.space.get_absolute_url()).content.decode(),
        "recent changes": SECRET in browser.get(space_url("recent-changes", w.space)).content.decode(),
        "Item.visible_to": Item.objects.visible_to(user).filter(pk=page.item_id).exists(),
        "Page.visible_to": Page.objects.visible_to(user).filter(pk=page.pk).exists(),
        "can_see_item": permissions.can_see_item(user, Item.objects.get(pk=page.item_id)),
    }
    for key in ["detail", "history", "version", "diff", "permalink"]:
        found[key] = browser.get(page_urls(page)[key]).status_code in (200, 302)
    return found


# --- A restricted page disappears ---------------------------------------------------------------------------
@pytest.mark.parametrize("visibility", [Visibility.OPEN, Visibility.CLOSED])
def test_restricted_page_disappears_for_everyone_not_named_moderators_included(world_factory, visibility):
    w = world_factory(visibility)
    parent, page = restricted_page(w)
    people = HIDDEN_FROM + (["anonymous"] if visibility == Visibility.OPEN else [])

    for name in people:
        found = surfaces(w, getattr(w, name), parent, page)
        assert not any(found.values()), (name, found)


@pytest.mark.parametrize("visibility", [Visibility.OPEN, Visibility.CLOSED])
def test_restricted_page_stays_for_named_viewers_its_author_and_admins(world_factory, visibility):
    w = world_factory(visibility)
    parent, page = restricted_page(w)

    for name in SEE_IT:
        found = surfaces(w, getattr(w, name), parent, page)
        assert all(found.values()), (name, found)


def test_every_url_of_a_restricted_page_answers_404_to_those_not_allowed(open_world):
    w = open_world
    _parent, page = restricted_page(w)
    urls = page_urls(page)

    for name in ["other_viewer", "other_editor", "moderator", "community_moderator"]:
        browser = client_for(getattr(w, name))
        got = {key: browser.get(url).status_code for key, url in urls.items()}
        got["restore"] = browser.post(page_url("page-restore", page, version=1)).status_code
        got["edit (post)"] = browser.post(
            page_url("page-edit", page), {"title": "x", "body": "x", "base_version": 2}
        ).status_code
        got["draft"] = browser.post(page_url("page-draft", page), {"title": "x", "body": "x"}).status_code
        assert got == dict.fromkeys(got, 404), name
    got = {key: Client().get(urls[key]).status_code for key in ["detail", "history", "version", "diff", "permalink"]}
    assert got == dict.fromkeys(got, 404)
    page.refresh_from_db()
    assert (page.version, PageDraft.objects.count()) == (2, 0)


def test_restricted_page_shows_a_badge_to_those_who_see_it(open_world):
    w = open_world
    _parent, page = restricted_page(w)

    response = client_for(w.viewer).get(page_url("page-detail", page))

    assert response.status_code == 200
    assert "Restricted</span>" in response.content.decode()


def test_breadcrumbs_of_a_subpage_do_not_name_a_restricted_parent(open_world):
    w = open_world
    _parent, page = restricted_page(w)
    child = make_page(w, "Method notes", "How we compare.", parent=page)

    response = client_for(w.other_viewer).get(page_url("page-detail", child))
    tree = client_for(w.other_viewer).get(space_url("pages", w.space))

    assert response.status_code == 200
    assert SECRET not in response.content.decode()
    assert "Method notes" in tree.content.decode() and SECRET not in tree.content.decode()


def test_editing_a_subpage_of_a_restricted_page_keeps_it_where_it_is(open_world):
    """The parent is not among the choices of someone who cannot see it; saving must not move the page."""
    w = open_world
    _parent, page = restricted_page(w)
    child = make_page(w, "Method notes", "How we compare.", parent=page)
    browser = client_for(w.other_editor)
    form = browser.get(page_url("page-edit", child)).context["form"]

    response = browser.post(
        page_url("page-edit", child),
        {"title": "Method notes", "body": "How we compare, step by step.", "base_version": 1, "parent": ""},
    )

    assert SECRET not in str(form["parent"])
    assert response.status_code == 302
    child.refresh_from_db()
    assert (child.body, child.parent) == ("How we compare, step by step.", page)


def test_lifting_the_restriction_brings_the_page_back_for_everyone(open_world):
    w = open_world
    parent, page = restricted_page(w)

    response = client_for(w.editor).post(page_url("page-restrictions", page), {"viewers": ""})

    assert response.status_code == 302
    assert messages_of(response) == ["Restrictions saved."]
    assert not page.item.user_grants.exists()
    for name in ["other_viewer", "moderator", "anonymous"]:
        found = surfaces(w, getattr(w, name), parent, page)
        assert all(found.values()), (name, found)


def test_restricting_a_page_writes_no_version(open_world):
    w = open_world
    _parent, page = restricted_page(w)

    assert page.versions.count() == 2
    assert Page.objects.get(pk=page.pk).version == 2


# --- Who may restrict ---------------------------------------------------------------------------------------
def test_only_the_author_and_admins_may_open_the_restrictions_form(open_world, closed_world):
    w = open_world
    page = make_page(w)
    add_people(w)
    url = page_url("page-restrictions", page)

    got = {
        name: client_for(getattr(w, name)).get(url).status_code
        for name in [
            "editor",
            "admin",
            "community_admin",
            "staff",
            "other_editor",
            "viewer",
            "moderator",
            "community_moderator",
            "outsider",
        ]
    }

    assert got == {
        "editor": 200,
        "admin": 200,
        "community_admin": 200,
        "staff": 200,
        "other_editor": 403,
        "viewer": 403,
        "moderator": 403,
        "community_moderator": 403,
        "outsider": 403,
    }
    assert Client().get(url).status_code == 302
    closed_page = make_page(closed_world)
    assert client_for(closed_world.outsider).get(page_url("page-restrictions", closed_page)).status_code == 404


def test_non_author_non_admin_cannot_restrict_a_page(open_world):
    w = open_world
    page = make_page(w)

    response = client_for(w.moderator).post(
        page_url("page-restrictions", page), {"restrict_view": "on", "viewers": w.moderator.username}
    )

    assert response.status_code == 403
    item = Item.objects.get(pk=page.item_id)
    assert (item.is_restricted, item.user_grants.count()) == (False, 0)


def test_space_admin_restricts_someone_elses_page(open_world):
    w = open_world
    page = make_page(w)

    response = client_for(w.admin).post(
        page_url("page-restrictions", page), {"restrict_view": "on", "viewers": w.viewer.username}
    )

    assert response.status_code == 302
    assert Item.objects.get(pk=page.item_id).is_restricted
    assert client_for(w.moderator).get(page_url("page-detail", page)).status_code == 404
    assert client_for(w.viewer).get(page_url("page-detail", page)).status_code == 200


def test_restricting_to_an_unknown_username_changes_nothing_and_says_why(open_world):
    w = open_world
    page = make_page(w)

    response = client_for(w.editor).post(
        page_url("page-restrictions", page),
        {"restrict_view": "on", "viewers": f"{w.viewer.username}, nobody-here"},
    )

    assert response.status_code == 200
    assert form_errors(response) == {"viewers": ["No member has the username: nobody-here"]}
    assert not Item.objects.get(pk=page.item_id).is_restricted


def test_restrictions_form_shows_the_current_named_people(open_world):
    w = open_world
    _parent, page = restricted_page(w)

    form = client_for(w.editor).get(page_url("page-restrictions", page)).context["form"]

    assert form.initial == {
        "restrict_view": True,
        "restrict_edit": False,
        "viewers": w.viewer.username,
        "editors": "",
    }


# --- Edit restriction ---------------------------------------------------------------------------------------
def edit_restricted_page(w) -> Page:
    add_people(w)
    page = make_page(w, "Agreed definitions", "Household: people sharing meals.")
    services.page_set_restrictions(
        actor=w.editor, page=page, editors=[w.other_editor], restrict_view=False, restrict_edit=True
    )
    return page


def test_edit_restricted_page_is_read_by_everyone_who_could_read_it(open_world):
    w = open_world
    page = edit_restricted_page(w)

    for name in ["anonymous", "outsider", "viewer", "moderator", "other_viewer"]:
        response = browser_for(getattr(w, name)).get(page_url("page-detail", page))
        assert response.status_code == 200, name
        assert "Household: people sharing meals." in response.content.decode(), name
        assert not response.context["can_edit_page"], name


def test_only_named_editors_the_author_and_admins_edit_an_edit_restricted_page(open_world):
    w = open_world
    page = edit_restricted_page(w)
    url = page_url("page-edit", page)
    may = ["editor", "other_editor", "admin", "community_admin", "staff"]
    may_not = ["moderator", "community_moderator", "viewer"]
    w.third_editor = make_user("thirdeditor")
    add_member(w.space, w.third_editor, SpaceRole.EDITOR, by=w.staff)

    got = {name: client_for(getattr(w, name)).get(url).status_code for name in [*may, *may_not, "third_editor"]}

    assert got == {**dict.fromkeys(may, 200), **dict.fromkeys([*may_not, "third_editor"], 403)}
    refused = client_for(w.moderator).post(url, {"title": page.title, "body": "Changed.", "base_version": 1})
    refused_restore = client_for(w.third_editor).post(page_url("page-restore", page, version=1))
    allowed = client_for(w.other_editor).post(url, {"title": page.title, "body": "Changed.", "base_version": 1})
    assert (refused.status_code, refused_restore.status_code, allowed.status_code) == (403, 403, 302)
    page.refresh_from_db()
    assert (page.body, page.version, page.last_edited_by) == ("Changed.", 2, w.other_editor)


def test_named_editors_of_a_view_restricted_page_also_see_it(open_world):
    w = open_world
    add_people(w)
    page = make_page(w, SECRET)

    services.page_set_restrictions(
        actor=w.admin,
        page=page,
        viewers=[w.viewer],
        editors=[w.other_editor],
        restrict_view=True,
        restrict_edit=True,
    )

    assert client_for(w.other_editor).get(page_url("page-edit", page)).status_code == 200
    assert client_for(w.viewer).get(page_url("page-detail", page)).status_code == 200
    assert client_for(w.viewer).get(page_url("page-edit", page)).status_code == 403
    assert client_for(w.moderator).get(page_url("page-detail", page)).status_code == 404


def test_restriction_service_refuses_people_who_may_not_restrict(open_world):
    w = open_world
    page = make_page(w)

    for user in [w.moderator, w.viewer, AnonymousUser()]:
        with pytest.raises(PermissionDenied):
            services.page_set_restrictions(actor=user, page=page, viewers=[], restrict_view=True, restrict_edit=False)
    assert not Item.objects.get(pk=page.item_id).is_restricted


def test_restricted_page_permalink_redirects_only_those_who_see_it(open_world):
    w = open_world
    _parent, page = restricted_page(w)
    url = reverse("spaces:page-permalink", kwargs={"page_id": page.pk})

    assert client_for(w.viewer).get(url).url == page_url("page-detail", page)
    assert client_for(w.moderator).get(url).status_code == 404
