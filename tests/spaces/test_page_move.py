"""Moving or copying a page and its subpages to another space: history, files, comments, restrictions too.

ARCHITECTURE.md: moving content out of a closed or private space needs the moderator role there; the mover
must also be able to edit in the destination.
"""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from spaces import services
from spaces.models import Comment, FileAsset, FileVersion, Item, Page, SpaceRole, Visibility
from spaces.services import pages as pages_service
from tests.factories import add_member, make_space
from tests.spaces.helpers import client_for, messages_of, png_bytes, space_url
from tests.spaces.test_pages import edit_page, make_page, page_url


@pytest.fixture
def open_world(world_factory):
    return world_factory(Visibility.OPEN)


@pytest.fixture
def private_world(world_factory):
    return world_factory(Visibility.PRIVATE)


@pytest.fixture
def closed_world(world_factory):
    return world_factory(Visibility.CLOSED)


def destination(w, *, mover_role: int | None = SpaceRole.EDITOR, visibility: str = Visibility.OPEN):
    """An open knowledge space in the same community, where the source's moderator is an editor."""
    target = make_space(w.staff, w.community, visibility, slug=f"knowledge-{visibility}")
    if mover_role:
        add_member(target, w.moderator, mover_role, by=w.staff)
        add_member(target, w.editor, mover_role, by=w.staff)
    return target


def guideline_tree(w) -> dict:
    """Guidelines (3 versions, a file, comments) > Annex (restricted to the viewer, 2 versions) > Tables."""
    root = make_page(w, "Guidelines", "Draft one.")
    edit_page(root, w.editor, "Draft two.", summary="Second pass")
    edit_page(root, w.moderator, "Final text. See [the annex](/p/0/).", summary="Final")
    annex = make_page(w, "Annex", "Annex one.", parent=root)
    edit_page(annex, w.editor, "Annex two.")
    services.page_set_restrictions(
        actor=w.editor, page=annex, viewers=[w.viewer], restrict_view=True, restrict_edit=False
    )
    tables = make_page(w, "Tables", "| a | b |", parent=annex)
    upload = SimpleUploadedFile("chart.png", png_bytes(), content_type="image/png")
    asset = services.file_upload(actor=w.editor, space=w.space, upload=upload, page=root)
    comment = services.comment_create(actor=w.editor, target=root.item, body="Looks good")
    reply = services.comment_create(actor=w.moderator, target=root.item, body="Agreed", parent=comment)
    return {"root": root, "annex": annex, "tables": tables, "asset": asset, "comments": [comment, reply]}


def versions_of(*pages: Page) -> dict[str, list[tuple[int, str]]]:
    return {p.title: list(p.versions.order_by("version").values_list("version", "body")) for p in pages}


def fresh(page: Page) -> Page:
    return Page.objects.select_related("space__community", "item").get(pk=page.pk)


def move(w, user, page: Page, target, mode: str = "move"):
    return client_for(user).post(page_url("page-move", page), {"target": target.pk, "mode": mode})


# --- Moving -------------------------------------------------------------------------------------------------
def test_moderator_moves_a_page_with_subpages_and_full_history_out_of_a_closed_space(closed_world):
    w = closed_world
    target = destination(w)
    tree = guideline_tree(w)
    pages = [tree["root"], tree["annex"], tree["tables"]]
    history_before = versions_of(*pages)
    old_urls = [page_url("page-detail", p) for p in pages]

    response = move(w, w.moderator, tree["root"], target)

    moved = [fresh(p) for p in pages]
    assert response.status_code == 302
    assert response.url == page_url("page-detail", moved[0])
    assert messages_of(response) == [f"Page moved to {target.name}."]
    assert [p.space for p in moved] == [target] * 3
    assert [p.item.space for p in moved] == [target] * 3
    assert [(p.parent_id) for p in moved] == [None, moved[0].pk, moved[1].pk]
    assert versions_of(*moved) == history_before
    assert set(Page.history.filter(id__in=[p.pk for p in pages]).values_list("space_id", flat=True)) == {target.pk}
    assert [client_for(w.staff).get(url).status_code for url in old_urls] == [404] * 3
    assert not Page.objects.filter(space=w.space).exists()


def test_old_versions_of_a_moved_page_open_at_its_new_address(closed_world):
    w = closed_world
    target = destination(w)
    tree = guideline_tree(w)
    move(w, w.moderator, tree["root"], target)
    root = fresh(tree["root"])

    old = Client().get(page_url("page-version", root, version=1))
    diff = Client().get(page_url("page-diff", root) + "?from=1&to=3")
    history = Client().get(page_url("page-history", root))

    assert old.status_code == 200 and "<p>Draft one.</p>" in old.content.decode()
    assert diff.status_code == 200 and b'<del class="diff-del">' in diff.content
    assert [v.version for v in history.context["history"]] == [3, 2, 1]
    assert "Second pass" in history.content.decode()


def test_files_and_comments_move_with_the_page(closed_world):
    w = closed_world
    target = destination(w)
    tree = guideline_tree(w)

    move(w, w.moderator, tree["root"], target)

    asset = FileAsset.objects.select_related("item").get(pk=tree["asset"].pk)
    assert (asset.page_id, asset.space, asset.item.space) == (tree["root"].pk, target, target)
    comments = Comment.objects.filter(target=tree["root"].item).select_related("item")
    assert [c.item.space for c in comments] == [target, target]
    assert not Item.objects.filter(space=w.space).exists()
    assert Client().get(reverse("spaces:file-detail", kwargs={"file_id": asset.pk})).status_code == 200


def test_restrictions_move_with_the_page(closed_world):
    w = closed_world
    target = destination(w)
    tree = guideline_tree(w)

    move(w, w.moderator, tree["root"], target)

    annex = fresh(tree["annex"])
    assert annex.item.is_restricted
    assert client_for(w.viewer).get(page_url("page-detail", annex)).status_code == 200
    assert client_for(w.moderator).get(page_url("page-detail", annex)).status_code == 404
    assert Client().get(page_url("page-detail", annex)).status_code == 404
    assert "Annex" not in Client().get(space_url("pages", target)).content.decode()
    assert client_for(w.editor).get(page_url("page-detail", annex)).status_code == 200


def test_permalink_of_a_moved_page_leads_to_its_new_address(closed_world):
    w = closed_world
    target = destination(w)
    tree = guideline_tree(w)
    permalink = reverse("spaces:page-permalink", kwargs={"page_id": tree["root"].pk})
    before = client_for(w.moderator).get(permalink)

    move(w, w.moderator, tree["root"], target)

    after = Client().get(permalink)
    assert (before.status_code, before.url) == (302, page_url("page-detail", tree["root"]))
    assert (after.status_code, after.url) == (302, page_url("page-detail", fresh(tree["root"])))
    assert after.url.startswith(space_url("home", target))


def test_moved_page_gets_a_free_address_in_the_destination(closed_world):
    w = closed_world
    target = destination(w)
    make_page(w, "Guidelines", "Already here.", space=target, by=w.staff)
    page = make_page(w, "Guidelines", "Ours.")

    move(w, w.moderator, page, target)

    assert fresh(page).slug == "guidelines-2"
    assert Client().get(page_url("page-detail", fresh(page))).context["page"].body == "Ours."


def test_page_moved_under_a_parent_in_the_destination(closed_world):
    w = closed_world
    target = destination(w)
    home = make_page(w, "Published work", space=target, by=w.staff)
    page = make_page(w, "Guidelines")

    services.page_move(actor=w.moderator, page=page, target=target, parent=home)

    assert (fresh(page).space, fresh(page).parent) == (target, home)


# --- Who may move -------------------------------------------------------------------------------------------
def test_editor_of_a_closed_space_cannot_move_a_page_out(closed_world):
    w = closed_world
    target = destination(w)
    page = make_page(w, "Guidelines")

    form = client_for(w.editor).get(page_url("page-move", page))
    refused = move(w, w.editor, page, target)
    copy_refused = move(w, w.editor, page, target, mode="copy")

    assert (form.status_code, refused.status_code, copy_refused.status_code) == (403, 403, 403)
    assert fresh(page).space == w.space
    assert not Page.objects.filter(space=target).exists()
    with pytest.raises(PermissionDenied):
        services.page_move(actor=w.editor, page=page, target=target)


def test_editor_of_a_private_space_cannot_move_a_page_out_but_a_moderator_can(private_world):
    w = private_world
    target = destination(w)
    page = make_page(w, "Guidelines")

    refused = move(w, w.editor, page, target)
    moved = move(w, w.moderator, page, target)

    assert (refused.status_code, moved.status_code) == (403, 302)
    assert fresh(page).space == target


def test_editor_of_an_open_space_moves_a_page_to_another_space_they_edit(open_world):
    w = open_world
    target = destination(w, visibility=Visibility.CLOSED)
    page = make_page(w, "Guidelines")

    response = move(w, w.editor, page, target)

    assert response.status_code == 302
    assert fresh(page).space == target


def test_page_cannot_go_to_a_space_where_the_mover_may_not_edit(closed_world):
    w = closed_world
    target = destination(w, mover_role=SpaceRole.VIEWER)
    page = make_page(w, "Guidelines")

    form = client_for(w.moderator).get(page_url("page-move", page))
    response = move(w, w.moderator, page, target)

    assert form.status_code == 200
    assert target.pk not in [pk for pk, _label in form.context["form"].fields["target"].choices]
    assert "You cannot add pages to any other space." in form.content.decode()
    assert response.status_code == 200
    assert "target" in response.context["form"].errors
    assert fresh(page).space == w.space
    with pytest.raises(PermissionDenied):
        services.page_move(actor=w.moderator, page=page, target=target)


def test_archived_spaces_are_not_offered_as_destinations(closed_world):
    w = closed_world
    target = destination(w)
    services.space_set_archived(actor=w.staff, space=target, archived=True)
    page = make_page(w, "Guidelines")

    response = move(w, w.moderator, page, target)

    assert response.status_code == 200
    assert fresh(page).space == w.space


def test_viewer_cannot_open_the_move_form(open_world):
    w = open_world
    page = make_page(w)

    assert client_for(w.viewer).get(page_url("page-move", page)).status_code == 403
    assert client_for(w.editor).get(page_url("page-move", page)).status_code == 200


# --- Copying ------------------------------------------------------------------------------------------------
def test_copy_leaves_the_original_and_creates_copies_with_the_same_history(closed_world):
    w = closed_world
    target = destination(w)
    tree = guideline_tree(w)
    originals = [tree["root"], tree["annex"], tree["tables"]]
    history_before = versions_of(*originals)

    response = move(w, w.moderator, tree["root"], target, mode="copy")

    copy_root = Page.objects.get(space=target, title="Guidelines")
    copies = [
        copy_root,
        Page.objects.get(space=target, title="Annex"),
        Page.objects.get(space=target, title="Tables"),
    ]
    assert response.status_code == 302 and response.url == page_url("page-detail", copy_root)
    assert messages_of(response) == [f"Page copied to {target.name}."]
    assert [fresh(p).space for p in originals] == [w.space] * 3
    assert versions_of(*originals) == history_before
    assert versions_of(*copies) == history_before
    assert [c.parent_id for c in copies] == [None, copy_root.pk, copies[1].pk]
    assert {c.pk for c in copies}.isdisjoint({p.pk for p in originals})
    assert copies[1].item.is_restricted
    assert client_for(w.viewer).get(page_url("page-detail", copies[1])).status_code == 200
    assert Client().get(page_url("page-detail", copies[1])).status_code == 404


def test_old_versions_of_a_copy_open_at_the_copys_address(closed_world):
    w = closed_world
    target = destination(w)
    tree = guideline_tree(w)

    copy = services.page_copy(actor=w.moderator, page=tree["root"], target=target)

    response = Client().get(page_url("page-version", copy, version=1))
    assert response.status_code == 200 and "<p>Draft one.</p>" in response.content.decode()
    assert client_for(w.moderator).get(page_url("page-version", tree["root"], version=1)).status_code == 200


# --- Files, trashed subpages and stored HTML ----------------------------------------------------------------
def png_upload(name: str = "chart.png", color: str = "teal") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(color=color), content_type="image/png")


def inline(asset) -> str:
    return reverse("spaces:file-inline", kwargs={"file_id": asset.pk, "filename": asset.name})


def blob(version: FileVersion) -> bytes:
    with version.file.open("rb") as stored:
        return stored.read()


def illustrated_tree(w) -> dict:
    """Guidelines (a chart with 2 versions, shown in its text) > Annex (shows the chart too, has a table file)."""
    root = make_page(w, "Guidelines", "Draft.")
    annex = make_page(w, "Annex", "Annex.", parent=root)
    chart = services.file_upload(actor=w.editor, space=w.space, upload=png_upload(), page=root)
    services.file_version_upload(actor=w.moderator, asset=chart, upload=png_upload(color="red"), comment="Redder")
    table = services.file_upload(actor=w.moderator, space=w.space, upload=png_upload("table.png", "blue"), page=annex)
    edit_page(root, w.editor, f"See ![the chart]({inline(chart)}) and [download it](/files/{chart.pk}/chart.png).")
    edit_page(annex, w.editor, f"Both: ![chart]({inline(chart)}) ![table]({inline(table)})")
    return {"root": root, "annex": annex, "chart": chart, "table": table}


def test_copy_brings_the_attached_files_with_every_version_in_blobs_of_their_own(closed_world):
    w = closed_world
    target = destination(w)
    tree = illustrated_tree(w)

    copy = services.page_copy(actor=w.moderator, page=tree["root"], target=target)

    copy_annex = Page.objects.get(space=target, title="Annex")
    chart = FileAsset.objects.select_related("item", "current_version").get(space=target, name="chart.png")
    table = FileAsset.objects.select_related("item").get(space=target, name="table.png")
    assert (chart.page, table.page) == (copy, copy_annex)
    assert {chart.pk, table.pk}.isdisjoint({tree["chart"].pk, tree["table"].pk})
    assert (chart.item.kind, chart.item.space, chart.item.author) == ("file", target, w.editor)
    assert (chart.version_count, chart.current_version.number) == (2, 2)
    originals = list(tree["chart"].versions.order_by("number"))
    copies = list(chart.versions.order_by("number"))
    fields = ("number", "original_name", "size", "content_type", "sha256", "comment", "uploaded_by_id", "uploaded_at")
    assert [[getattr(v, f) for f in fields] for v in copies] == [[getattr(v, f) for f in fields] for v in originals]
    assert [blob(v) for v in copies] == [blob(v) for v in originals]
    assert {v.file.name for v in copies}.isdisjoint({v.file.name for v in originals})
    assert all(v.file.name.startswith(f"files/{target.pk}/{chart.pk}/") for v in copies)
    # The originals are untouched.
    assert FileAsset.objects.filter(space=w.space).count() == 2
    assert fresh(tree["root"]).body.count(f"/files/{tree['chart'].pk}/") == 2


def test_links_in_a_copy_point_at_the_copied_files_in_its_text_html_and_history(closed_world):
    w = closed_world
    target = destination(w)
    tree = illustrated_tree(w)

    copy = services.page_copy(actor=w.moderator, page=tree["root"], target=target)

    copy = fresh(copy)
    copy_annex = Page.objects.get(space=target, title="Annex")
    chart = FileAsset.objects.get(space=target, name="chart.png")
    table = FileAsset.objects.get(space=target, name="table.png")
    assert copy.body == f"See ![the chart]({inline(chart)}) and [download it](/files/{chart.pk}/chart.png)."
    assert copy_annex.body == f"Both: ![chart]({inline(chart)}) ![table]({inline(table)})"
    assert f'<img src="{inline(chart)}" alt="the chart">' in copy.body_html
    assert f'<img src="{inline(chart)}" alt="chart">' in copy_annex.body_html
    assert f'<img src="{inline(table)}" alt="table">' in copy_annex.body_html
    assert copy.versions.order_by("-history_id").first().body == copy.body
    assert copy.versions.count() == tree["root"].versions.count()
    html = client_for(w.moderator).get(page_url("page-detail", copy)).content.decode()
    assert f'src="{inline(chart)}"' in html and f"/files/{tree['chart'].pk}/" not in html
    assert client_for(w.moderator).get(inline(chart)).status_code == 200


def test_purging_the_original_leaves_the_copys_files_whole(closed_world, django_capture_on_commit_callbacks):
    w = closed_world
    target = destination(w)
    tree = illustrated_tree(w)
    services.page_copy(actor=w.moderator, page=tree["root"], target=target)
    original_blobs = [v.file.name for v in FileVersion.objects.filter(asset__space=w.space)]
    services.item_trash(actor=w.moderator, item=tree["root"].item)

    with django_capture_on_commit_callbacks(execute=True):
        purged = services.trash_purge(now=timezone.now() + timedelta(days=31))

    storage = FileVersion._meta.get_field("file").storage
    assert purged > 0 and not FileAsset.objects.filter(space=w.space).exists()
    assert not any(storage.exists(name) for name in original_blobs)
    copies = FileVersion.objects.filter(asset__space=target)
    assert copies.count() == 3
    assert all(storage.exists(v.file.name) for v in copies)
    chart = FileAsset.objects.get(space=target, name="chart.png")
    response = client_for(w.moderator).get(inline(chart))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == blob(chart.versions.get(number=2))


def stored_files(folder: str) -> set[str]:
    storage = FileVersion._meta.get_field("file").storage
    root = Path(storage.path(folder))
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def test_a_failed_copy_leaves_no_blobs_behind(closed_world, monkeypatch):
    w = closed_world
    target = destination(w)
    tree = illustrated_tree(w)
    before = stored_files(f"files/{w.space.pk}")
    copied = []

    def fail(text, file_map):
        copied.append(dict(file_map))
        raise RuntimeError("disk full")

    monkeypatch.setattr(pages_service, "_point_at_copies", fail)  # after every blob is written
    with pytest.raises(RuntimeError):
        services.page_copy(actor=w.moderator, page=tree["root"], target=target)

    assert len(copied[0]) == 2
    assert not Page.objects.filter(space=target).exists()
    assert stored_files(f"files/{target.pk}") == set()
    assert stored_files(f"files/{w.space.pk}") == before and len(before) == 3


def test_move_takes_trashed_subpages_along_and_a_restore_brings_them_back_under_their_parent(closed_world):
    w = closed_world
    target = destination(w)
    root = make_page(w, "Guidelines")
    annex = make_page(w, "Annex", parent=root)
    tables = make_page(w, "Tables", parent=annex)
    asset = services.file_upload(actor=w.editor, space=w.space, upload=png_upload(), page=annex)
    services.item_trash(actor=w.moderator, item=annex.item)
    stamp = Item.objects.get(pk=annex.item_id).deleted_at

    services.page_move(actor=w.moderator, page=root, target=target)

    moved = [fresh(p) for p in (root, annex, tables)]
    assert [p.space for p in moved] == [target] * 3
    assert [p.item.space for p in moved] == [target] * 3
    assert [p.item.deleted_at for p in moved] == [None, stamp, stamp]
    assert [p.parent_id for p in moved] == [None, root.pk, annex.pk]
    assert FileAsset.objects.select_related("item").get(pk=asset.pk).item.space == target
    assert not Item.objects.filter(space=w.space).exists()

    services.item_restore(actor=w.staff, item=Item.objects.select_related("space").get(pk=annex.item_id))

    assert client_for(w.moderator).get(page_url("page-detail", fresh(annex))).status_code == 200
    children = client_for(w.moderator).get(page_url("page-detail", fresh(root))).context["children"]
    assert [c.pk for c in children] == [annex.pk]
    assert Item.objects.get(pk=asset.item_id).deleted_at is None


def test_a_moved_page_shows_images_of_the_files_that_moved_with_it_and_only_those(closed_world):
    w = closed_world
    target = destination(w)
    library = services.file_upload(actor=w.editor, space=w.space, upload=png_upload("logo.png", "blue"))
    page = make_page(w, "Guidelines")
    chart = services.file_upload(actor=w.editor, space=w.space, upload=png_upload(), page=page)
    edit_page(page, w.editor, f"![chart]({inline(chart)}) ![logo]({inline(library)})")
    left = make_page(w, "Left behind", f"![chart]({inline(chart)}) ![logo]({inline(library)})")
    versions = page.versions.count()
    assert f'src="{inline(library)}"' in fresh(page).body_html
    assert f'src="{inline(chart)}"' in fresh(left).body_html

    services.page_move(actor=w.moderator, page=page, target=target)

    moved, stayed = fresh(page), fresh(left)
    assert f'<img src="{inline(chart)}" alt="chart">' in moved.body_html
    assert f'src="{inline(library)}"' not in moved.body_html
    assert f'src="{inline(chart)}"' not in stayed.body_html
    assert f'<img src="{inline(library)}" alt="logo">' in stayed.body_html
    assert moved.versions.count() == versions and stayed.versions.count() == 1
