"""No lost edits: base versions and the conflict screen, drafts, presence. The real concurrency test (two
database connections racing, 200 trials on PostgreSQL) is tests/faults/test_concurrent_edits.py."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from spaces import services
from spaces.models import Page, PageDraft, PageEditPresence, SpaceRole, Visibility
from tests.factories import add_member, make_user
from tests.spaces.helpers import client_for, htmx, messages_of, space_url, template_names
from tests.spaces.test_pages import make_page, page_url


@pytest.fixture
def open_world(world_factory):
    return world_factory(Visibility.OPEN)


@pytest.fixture
def closed_world(world_factory):
    return world_factory(Visibility.CLOSED)


RESTORED = "We restored the text you had not saved yet."


def second_editor(w):
    user = make_user("Second")
    add_member(w.space, user, SpaceRole.EDITOR, by=w.staff)
    return user


def edit_form(page: Page, body: str, base_version, *, summary: str = "", title: str | None = None) -> dict:
    return {"title": title or page.title, "body": body, "base_version": base_version, "summary": summary}


# --- Conflicts through the edit form ------------------------------------------------------------------------
def test_edit_form_carries_the_version_it_started_from(open_world):
    w = open_world
    page = make_page(w)
    services.page_update(actor=w.editor, page=page, title=page.title, body="Two.", base_version=1)

    response = client_for(w.editor).get(page_url("page-edit", page))

    assert response.context["form"].initial["base_version"] == 2
    assert b'<input type="hidden" name="base_version" value="2"' in response.content


def test_second_editor_who_saves_from_an_old_version_gets_the_conflict_screen_and_loses_nothing(open_world):
    w = open_world
    page = make_page(w, body="Match on name.")
    other = second_editor(w)
    first, second = client_for(w.editor), client_for(other)
    start_a = first.get(page_url("page-edit", page)).context["form"].initial["base_version"]
    start_b = second.get(page_url("page-edit", page)).context["form"].initial["base_version"]

    saved = first.post(page_url("page-edit", page), edit_form(page, "Match on name and birth date.", start_a))
    conflict = second.post(
        page_url("page-edit", page), edit_form(page, "Match on surname.", start_b, summary="Surname")
    )

    assert (start_a, start_b, saved.status_code, conflict.status_code) == (1, 1, 302, 409)
    assert "spaces/page_conflict.html" in template_names(conflict)
    html = conflict.content.decode()
    assert "Match on surname.</textarea>" in html
    assert '<pre class="source">Match on name and birth date.</pre>' in html
    assert str(conflict.context["diff"]) == (
        'Match on <del class="diff-del">name and birth date</del><ins class="diff-ins">surname</ins>.'
    )
    assert conflict.context["form"].initial["base_version"] == 2
    assert conflict.context["form"].initial["summary"] == "Surname"
    draft = PageDraft.objects.get(page=page)
    assert (draft.user, draft.body, draft.base_version) == (other, "Match on surname.", 1)
    page.refresh_from_db()
    assert (page.version, page.body, page.versions.count()) == (2, "Match on name and birth date.", 2)


def test_after_a_conflict_the_merged_text_saves_against_the_current_version(open_world):
    w = open_world
    page = make_page(w, body="Match on name.")
    other = second_editor(w)
    first, second = client_for(w.editor), client_for(other)
    first.post(page_url("page-edit", page), edit_form(page, "Match on name and birth date.", 1))
    conflict = second.post(page_url("page-edit", page), edit_form(page, "Match on surname.", 1))
    merged_base = conflict.context["form"].initial["base_version"]

    merged = second.post(
        page_url("page-edit", page),
        edit_form(page, "Match on surname and birth date.", merged_base, summary="Merge"),
    )

    assert merged.status_code == 302
    assert messages_of(merged) == ["Page saved."]
    page.refresh_from_db()
    assert (page.version, page.body, page.last_edited_by) == (3, "Match on surname and birth date.", other)
    assert list(page.versions.order_by("version").values_list("version", "body", "history_user")) == [
        (1, "Match on name.", w.editor.pk),
        (2, "Match on name and birth date.", w.editor.pk),
        (3, "Match on surname and birth date.", other.pk),
    ]
    assert not PageDraft.objects.filter(user=other, page=page).exists()


def test_conflict_keeps_the_losers_text_as_a_draft_that_reopens_in_the_edit_form(open_world):
    w = open_world
    page = make_page(w, body="Match on name.")
    other = second_editor(w)
    client_for(w.editor).post(page_url("page-edit", page), edit_form(page, "Match on name and birth date.", 1))
    client_for(other).post(page_url("page-edit", page), edit_form(page, "Match on surname.", 1))

    later = client_for(other)  # a new browser: the draft is on the server, not in a session
    reopened = later.get(page_url("page-edit", page))
    again = later.post(page_url("page-edit", page), edit_form(page, "Match on surname.", 1))

    assert RESTORED in reopened.content.decode()
    assert reopened.context["form"].initial["body"] == "Match on surname."
    assert again.status_code == 409, "the restored draft still starts from version 1: merge, do not overwrite"
    page.refresh_from_db()
    assert page.body == "Match on name and birth date."


def test_a_conflict_in_the_service_keeps_the_text_and_raises(open_world):
    w = open_world
    page = make_page(w, body="One.")
    stale = Page.objects.get(pk=page.pk)
    services.page_update(actor=w.editor, page=page, title=page.title, body="Two.", base_version=1)

    with pytest.raises(services.EditConflict) as caught:
        services.page_update(actor=w.moderator, page=stale, title=stale.title, body="Mine.", base_version=1)

    assert (caught.value.body, caught.value.base_version, caught.value.page.version) == ("Mine.", 1, 2)
    assert PageDraft.objects.get(user=w.moderator, page=page).body == "Mine."
    assert Page.objects.get(pk=page.pk).body == "Two."


# --- Drafts -------------------------------------------------------------------------------------------------
def test_autosave_keeps_the_text_and_reopening_the_form_restores_it(open_world):
    w = open_world
    page = make_page(w, body="Saved text.")
    browser = client_for(w.editor)

    saved = htmx(
        browser,
        "post",
        page_url("page-draft", page),
        {"title": page.title, "body": "Half-typed text", "base_version": "1"},
    )
    reopened = browser.get(page_url("page-edit", page))

    assert (saved.status_code, saved.content, saved["Content-Type"]) == (200, b"Draft saved", "text/plain")
    draft = PageDraft.objects.get(user=w.editor, page=page)
    assert (draft.body, draft.base_version) == ("Half-typed text", 1)
    assert RESTORED in reopened.content.decode()
    assert "Half-typed text</textarea>" in reopened.content.decode()
    assert Page.objects.get(pk=page.pk).body == "Saved text."


def test_autosave_again_updates_the_one_draft(open_world):
    w = open_world
    page = make_page(w)
    browser = client_for(w.editor)

    for text in ["Half", "Half-typed", "Half-typed text"]:
        browser.post(page_url("page-draft", page), {"title": page.title, "body": text, "base_version": "1"})

    assert list(PageDraft.objects.values_list("body", flat=True)) == ["Half-typed text"]


def test_drafts_are_personal(open_world):
    w = open_world
    page = make_page(w, body="Saved text.")
    client_for(w.editor).post(page_url("page-draft", page), {"title": page.title, "body": "Mine", "base_version": "1"})

    response = client_for(w.moderator).get(page_url("page-edit", page))

    assert RESTORED not in response.content.decode()
    assert response.context["form"].initial["body"] == "Saved text."


def test_discarding_a_draft_reopens_the_saved_page(open_world):
    w = open_world
    page = make_page(w, body="Saved text.")
    browser = client_for(w.editor)
    browser.post(page_url("page-draft", page), {"title": page.title, "body": "Half-typed", "base_version": "1"})

    discarded = browser.post(page_url("page-draft-discard", page))
    reopened = browser.get(page_url("page-edit", page))

    assert (discarded.status_code, discarded.url) == (302, page_url("page-detail", page))
    assert messages_of(discarded) == ["Draft discarded."]
    assert not PageDraft.objects.exists()
    assert RESTORED not in reopened.content.decode()
    assert reopened.context["form"].initial["body"] == "Saved text."


def test_saving_the_page_clears_the_draft(open_world):
    w = open_world
    page = make_page(w)
    browser = client_for(w.editor)
    browser.post(page_url("page-draft", page), {"title": page.title, "body": "Half-typed", "base_version": "1"})

    browser.post(page_url("page-edit", page), edit_form(page, "Finished text.", 1))

    assert not PageDraft.objects.exists()


def test_saving_unchanged_text_clears_the_draft_too(open_world):
    w = open_world
    page = make_page(w, body="Saved text.")
    browser = client_for(w.editor)
    browser.post(page_url("page-draft", page), {"title": page.title, "body": "Saved text.", "base_version": "1"})

    saved = browser.post(page_url("page-edit", page), edit_form(page, "Saved text.", 1))
    reopened = browser.get(page_url("page-edit", page))

    assert saved.status_code == 302
    assert page.versions.count() == 1
    assert not PageDraft.objects.exists()
    assert RESTORED not in reopened.content.decode()


def test_a_draft_of_a_new_page_survives_logging_out_and_in(open_world):
    w = open_world
    browser = client_for(w.editor)
    browser.post(space_url("page-create-draft", w.space), {"title": "Meeting 12 May", "body": "Present: Ana"})
    browser.logout()

    after_login = client_for(w.editor).get(space_url("page-create", w.space))

    assert RESTORED in after_login.content.decode()
    assert after_login.context["form"].initial["title"] == "Meeting 12 May"
    assert "Present: Ana</textarea>" in after_login.content.decode()


def test_creating_the_page_clears_the_new_page_draft_and_discard_works_too(open_world):
    w = open_world
    browser = client_for(w.editor)
    browser.post(space_url("page-create-draft", w.space), {"title": "Meeting", "body": "Present: Ana"})
    browser.post(space_url("page-create", w.space), {"title": "Meeting", "body": "Present: Ana"})
    cleared_by_create = not PageDraft.objects.exists()
    browser.post(space_url("page-create-draft", w.space), {"title": "Another", "body": "Text"})

    discarded = browser.post(space_url("page-create-draft-discard", w.space))

    assert cleared_by_create
    assert (discarded.status_code, discarded.url) == (302, space_url("page-create", w.space))
    assert not PageDraft.objects.exists()


def test_only_those_who_may_edit_can_autosave(open_world, closed_world):
    page = make_page(open_world)
    closed_page = make_page(closed_world)
    data = {"title": "T", "body": "B"}

    assert client_for(open_world.viewer).post(page_url("page-draft", page), data).status_code == 403
    assert client_for(open_world.viewer).post(space_url("page-create-draft", open_world.space), data).status_code == 403
    assert client_for(closed_world.outsider).post(page_url("page-draft", closed_page), data).status_code == 404
    assert Client().post(page_url("page-draft", page), data).status_code == 302
    assert not PageDraft.objects.exists()


# --- Presence -----------------------------------------------------------------------------------------------
def test_second_editor_sees_who_else_opened_the_page_for_editing(open_world):
    w = open_world
    page = make_page(w)
    client_for(w.editor).get(page_url("page-edit", page))

    response = client_for(w.moderator).get(page_url("page-edit", page))

    assert response.context["others_editing"] == [w.editor]
    assert "Also editing in the last few minutes: Editor." in response.content.decode()


def test_first_editor_sees_the_second_through_the_presence_partial(open_world):
    w = open_world
    page = make_page(w)
    first = client_for(w.editor)
    first.get(page_url("page-edit", page))
    client_for(w.moderator).get(page_url("page-edit", page))

    response = htmx(first, "get", page_url("page-presence", page))

    assert response.status_code == 200
    assert template_names(response) == ["spaces/partials/page_presence.html"]
    assert "Also editing in the last few minutes: Moderator." in response.content.decode()
    assert b"<html" not in response.content


def test_presence_forgets_editors_after_a_few_minutes_and_after_they_save(open_world, time_machine):
    w = open_world
    page = make_page(w)
    client_for(w.editor).get(page_url("page-edit", page))
    client_for(w.admin).get(page_url("page-edit", page))
    client_for(w.admin).post(page_url("page-edit", page), edit_form(page, "Saved.", 1))
    time_machine.move_to(timezone.now() + timedelta(minutes=6))

    response = htmx(client_for(w.moderator), "get", page_url("page-presence", page))

    assert response.content.decode().strip() == ""
    assert set(PageEditPresence.objects.values_list("user", flat=True)) == {w.editor.pk, w.moderator.pk}


def test_presence_is_only_for_those_who_may_edit(open_world):
    w = open_world
    page = make_page(w)

    assert client_for(w.viewer).get(page_url("page-presence", page)).status_code == 403
    assert Client().get(page_url("page-presence", page)).status_code == 302
    assert not PageEditPresence.objects.exists()
