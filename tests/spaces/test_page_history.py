"""Page history: every save is a version; old versions, word-level diffs, append-only restore, counts."""

import re
from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from spaces import selectors_pages, services
from spaces.models import Page, PageDraft, Visibility
from tests.factories import make_space
from tests.spaces.helpers import client_for, messages_of, png_bytes
from tests.spaces.test_pages import count_queries, edit_page, make_page, page_url


@pytest.fixture
def open_world(world_factory):
    return world_factory(Visibility.OPEN)


def history_rows(page: Page) -> list[dict]:
    """Every stored version of the page, oldest first, with every column."""
    return list(Page.history.filter(id=page.pk).order_by("history_id").values())


def three_versions(w) -> Page:
    page = make_page(w, body="The quick brown fox.", summary="First draft")
    edit_page(page, w.moderator, "The slow brown fox.", summary="Slower")
    edit_page(page, w.admin, "The slow brown fox jumps.", summary="Add the jump")
    return page


# --- Versions -----------------------------------------------------------------------------------------------
def test_every_save_is_a_version_with_its_author_time_and_summary(open_world, time_machine):
    w = open_world
    time_machine.move_to(datetime(2025, 3, 4, 9, 0, tzinfo=UTC), tick=False)
    page = make_page(w, body="One.", summary="First draft")
    time_machine.move_to(datetime(2025, 3, 5, 10, 30, tzinfo=UTC), tick=False)
    client_for(w.moderator).post(
        page_url("page-edit", page),
        {"title": page.title, "body": "Two.", "base_version": 1, "summary": "Typos"},
    )
    time_machine.move_to(datetime(2025, 3, 6, 11, 45, tzinfo=UTC), tick=False)
    client_for(w.admin).post(page_url("page-edit", page), {"title": "Renamed", "body": "Two.", "base_version": 2})

    rows = page.versions.order_by("version").values_list(
        "version", "title", "body", "history_user", "history_date", "history_change_reason"
    )
    assert [(v, t, b, u, d, r or "") for v, t, b, u, d, r in rows] == [
        (
            1,
            "Record linkage guide",
            "One.",
            w.editor.pk,
            datetime(2025, 3, 4, 9, 0, tzinfo=UTC),
            "First draft",
        ),
        (
            2,
            "Record linkage guide",
            "Two.",
            w.moderator.pk,
            datetime(2025, 3, 5, 10, 30, tzinfo=UTC),
            "Typos",
        ),
        (3, "Renamed", "Two.", w.admin.pk, datetime(2025, 3, 6, 11, 45, tzinfo=UTC), ""),
    ]


def test_saving_the_same_text_again_writes_no_version(open_world):
    w = open_world
    page = make_page(w)

    response = client_for(w.editor).post(
        page_url("page-edit", page),
        {"title": page.title, "body": page.body, "base_version": 1, "summary": "Nothing"},
    )

    assert response.status_code == 302
    assert page.versions.count() == 1


def test_history_lists_every_version_newest_first_with_author_and_summary(open_world):
    w = open_world
    page = three_versions(w)

    response = Client().get(page_url("page-history", page))

    assert response.status_code == 200
    assert [v.version for v in response.context["history"]] == [3, 2, 1]
    html = response.content.decode()
    rows = re.findall(r"<tr>.*?</tr>", html, flags=re.S)[1:]
    assert [("Admin" in r, "Moderator" in r, "Editor" in r) for r in rows] == [
        (True, False, False),
        (False, True, False),
        (False, False, True),
    ]
    assert [s for r in rows for s in ("Add the jump", "Slower", "First draft") if s in r] == [
        "Add the jump",
        "Slower",
        "First draft",
    ]


def test_history_offers_restore_to_editors_only(open_world):
    w = open_world
    page = three_versions(w)
    restore_1 = page_url("page-restore", page, version=1).encode()

    as_viewer = client_for(w.viewer).get(page_url("page-history", page)).content
    as_editor = client_for(w.editor).get(page_url("page-history", page)).content

    assert restore_1 not in as_viewer
    assert restore_1 in as_editor
    assert page_url("page-restore", page, version=3).encode() not in as_editor


def test_an_old_version_shows_its_own_text_and_who_saved_it(open_world):
    w = open_world
    page = three_versions(w)

    response = Client().get(page_url("page-version", page, version=1))

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["record"].version == 1
    assert "<p>The quick brown fox.</p>" in html
    assert "jumps" not in html
    assert "Saved by Editor" in html and "First draft" in html


def test_a_version_that_does_not_exist_answers_404(open_world):
    w = open_world
    page = three_versions(w)

    assert Client().get(page_url("page-version", page, version=4)).status_code == 404
    assert Client().get(page_url("page-diff", page) + "?from=1&to=9").status_code == 404
    assert Client().get(page_url("page-diff", page) + "?from=x&to=2").status_code == 404


# --- Diffs --------------------------------------------------------------------------------------------------
def test_diff_marks_the_words_added_and_removed(open_world):
    w = open_world
    page = three_versions(w)

    response = Client().get(page_url("page-diff", page) + "?from=1&to=3")

    assert response.status_code == 200
    assert str(response.context["body_diff"]) == (
        'The <del class="diff-del">quick</del><ins class="diff-ins">slow</ins> brown fox'
        '<ins class="diff-ins"> jumps</ins>.'
    )
    assert b'<del class="diff-del">quick</del>' in response.content


def test_diff_compares_any_two_versions_in_either_direction(open_world):
    w = open_world
    page = three_versions(w)

    backwards = Client().get(page_url("page-diff", page) + "?from=3&to=1")
    adjacent = Client().get(page_url("page-diff", page) + "?from=2&to=3")

    assert str(backwards.context["body_diff"]) == (
        'The <del class="diff-del">slow</del><ins class="diff-ins">quick</ins> brown fox'
        '<del class="diff-del"> jumps</del>.'
    )
    assert str(adjacent.context["body_diff"]) == 'The slow brown fox<ins class="diff-ins"> jumps</ins>.'


def test_diff_without_a_choice_compares_the_last_two_versions(open_world):
    w = open_world
    page = three_versions(w)

    response = Client().get(page_url("page-diff", page))

    assert (response.context["old"].version, response.context["new"].version) == (2, 3)


def test_diff_of_a_page_with_one_version_shows_it_unchanged(open_world):
    w = open_world
    page = make_page(w)

    response = Client().get(page_url("page-diff", page))

    assert response.status_code == 200
    assert b"These two versions are identical." in response.content


def test_diff_shows_title_changes(open_world):
    w = open_world
    page = make_page(w, "Linkage guide")
    edit_page(page, w.editor, page.body, title="Record linkage guide")

    response = Client().get(page_url("page-diff", page) + "?from=1&to=2")

    assert str(response.context["title_diff"]) == (
        '<del class="diff-del">Linkage</del><ins class="diff-ins">Record linkage</ins> guide'
    )


def test_diff_escapes_the_text_it_marks(open_world):
    w = open_world
    page = make_page(w, body="Use <b>bold</b> & more")
    edit_page(page, w.editor, "Use <i>italic</i> & more")

    response = Client().get(page_url("page-diff", page) + "?from=1&to=2")

    diff = str(response.context["body_diff"])
    assert diff == (
        'Use &lt;<del class="diff-del">b</del><ins class="diff-ins">i</ins>&gt;'
        '<del class="diff-del">bold</del><ins class="diff-ins">italic</ins>&lt;/'
        '<del class="diff-del">b</del><ins class="diff-ins">i</ins>&gt; &amp; more'
    )
    assert b"<b>bold</b>" not in response.content and b"<i>italic</i>" not in response.content


# --- Restore ------------------------------------------------------------------------------------------------
def test_restoring_version_n_writes_a_new_version_identical_to_n(open_world):
    w = open_world
    page = three_versions(w)

    response = client_for(w.editor).post(page_url("page-restore", page, version=1))

    page.refresh_from_db()
    assert response.status_code == 302 and response.url == page_url("page-detail", page)
    assert messages_of(response) == ["Version 1 restored as a new version."]
    assert (page.version, page.body, page.last_edited_by) == (4, "The quick brown fox.", w.editor)
    newest = page.versions.order_by("-history_id").first()
    assert (newest.version, newest.history_user, newest.history_change_reason) == (
        4,
        w.editor,
        "Restored from version 1",
    )
    diff = Client().get(page_url("page-diff", page) + "?from=1&to=4")
    assert diff.context["same"] is True
    assert b"These two versions are identical." in diff.content
    assert "The quick brown fox." in Client().get(page_url("page-detail", page)).content.decode()


def test_restoring_leaves_every_earlier_version_untouched(open_world):
    w = open_world
    page = three_versions(w)
    before = history_rows(page)

    client_for(w.editor).post(page_url("page-restore", page, version=2))
    client_for(w.admin).post(page_url("page-restore", page, version=1))

    after = history_rows(page)
    assert after[: len(before)] == before
    assert [row["version"] for row in after] == [1, 2, 3, 4, 5]
    assert [row["history_change_reason"] for row in after[3:]] == [
        "Restored from version 2",
        "Restored from version 1",
    ]


def test_restoring_a_restored_version_keeps_history_append_only(open_world):
    w = open_world
    page = three_versions(w)
    services.page_restore_version(actor=w.editor, page=page, version=1)
    before = history_rows(page)

    services.page_restore_version(actor=w.editor, page=page, version=3)

    after = history_rows(page)
    assert after[:4] == before and len(after) == 5
    assert Client().get(page_url("page-diff", page) + "?from=3&to=5").context["same"] is True


def test_restoring_a_version_with_the_current_text_writes_nothing_and_says_so(open_world):
    w = open_world
    page = three_versions(w)
    services.page_restore_version(actor=w.editor, page=page, version=1)
    before = history_rows(page)

    response = client_for(w.editor).post(page_url("page-restore", page, version=1))

    assert response.status_code == 302
    assert messages_of(response) == ["Version 1 has the same text as the current page."]
    assert history_rows(page) == before


def test_viewer_cannot_restore_a_version(open_world):
    w = open_world
    page = three_versions(w)
    before = history_rows(page)

    response = client_for(w.viewer).post(page_url("page-restore", page, version=1))

    assert response.status_code == 403
    assert history_rows(page) == before


def test_restoring_a_version_that_does_not_exist_says_so_and_changes_nothing(open_world):
    w = open_world
    page = three_versions(w)
    before = history_rows(page)

    response = client_for(w.editor).post(page_url("page-restore", page, version=9))

    assert response.status_code == 302
    assert messages_of(response) == ["There is no version 9 of this page."]
    assert history_rows(page) == before


def test_restoring_when_someone_saved_meanwhile_says_so_and_changes_nothing(open_world, monkeypatch):
    w = open_world
    page = three_versions(w)
    real = selectors_pages.get_page_for_user

    def read_then_someone_saves(*args, **kwargs):
        seen = real(*args, **kwargs)
        edit_page(Page.objects.get(pk=page.pk), w.admin, "Saved by the admin just now.")
        return seen

    monkeypatch.setattr(selectors_pages, "get_page_for_user", read_then_someone_saves)
    response = client_for(w.editor).post(page_url("page-restore", page, version=1))

    page.refresh_from_db()
    assert response.status_code == 302 and response.url == page_url("page-detail", page)
    assert messages_of(response) == ["Someone saved this page just now; look at the latest version and restore again."]
    assert (page.version, page.body, page.last_edited_by) == (4, "Saved by the admin just now.", w.admin)
    assert not PageDraft.objects.filter(user=w.editor).exists()


def test_an_old_version_shows_images_of_the_spaces_files_only(open_world):
    w = open_world
    elsewhere = make_space(w.staff, w.community, Visibility.OPEN, slug="elsewhere")

    def image(space, name):
        upload = SimpleUploadedFile(name, png_bytes(), content_type="image/png")
        asset = services.file_upload(actor=w.staff, space=space, upload=upload)
        return reverse("spaces:file-inline", kwargs={"file_id": asset.pk, "filename": asset.name})

    ours, theirs = image(w.space, "ours.png"), image(elsewhere, "theirs.png")
    page = make_page(w, body=f"![ours]({ours}) ![theirs]({theirs})")
    edit_page(page, w.editor, "No pictures now.")

    html = Client().get(page_url("page-version", page, version=1)).content.decode()

    assert f'<img src="{ours}" alt="ours">' in html
    assert theirs not in html


# --- Query counts -------------------------------------------------------------------------------------------
HISTORY_QUERIES = 5  # the header's counts come from the cache
VERSION_QUERIES = 6  # with the space's file ids, the allow-list of images


def test_history_page_runs_the_same_queries_with_3_and_30_versions(open_world):
    w = open_world
    page = three_versions(w)
    browser = client_for(w.editor)

    few = count_queries(browser, page_url("page-history", page))
    for n in range(4, 31):
        edit_page(page, [w.editor, w.moderator, w.admin][n % 3], f"Version {n}.", summary=f"Change {n}")
    many = count_queries(browser, page_url("page-history", page))

    assert page.versions.count() == 30
    assert (few, many) == (HISTORY_QUERIES, HISTORY_QUERIES)


def test_old_version_page_runs_the_same_queries_with_3_and_30_versions(open_world):
    w = open_world
    page = three_versions(w)
    browser = client_for(w.viewer)

    few = count_queries(browser, page_url("page-version", page, version=2))
    for n in range(4, 31):
        edit_page(page, w.editor, f"Version {n}.")
    many = count_queries(browser, page_url("page-version", page, version=2))

    assert (few, many) == (VERSION_QUERIES, VERSION_QUERIES)
