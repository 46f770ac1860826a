"""A space's pages as a ZIP of Markdown (issue 8, item 5): laid out by the page tree, with front matter and the
files attached to the pages; for the space's admins only, and only the pages they may see."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from spaces import services
from spaces.exports import space_pages_parts
from spaces.models import SpaceRole, Visibility
from spaces.permissions import can_export_space_pages
from tests.factories import add_member, make_community, make_space, make_user
from tests.spaces.helpers import client_for, space_url

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def unzip(response) -> dict[str, bytes]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/zip"
    body = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture
def wiki(staff):
    community = make_community(staff, slug="stats")
    space = make_space(staff, community, Visibility.CLOSED, slug="working-group")
    admin, editor, viewer, outsider = make_user("admin"), make_user("editor"), make_user("viewer"), make_user("out")
    add_member(space, admin, SpaceRole.ADMIN, by=staff)
    add_member(space, editor, SpaceRole.EDITOR, by=staff)
    add_member(space, viewer, SpaceRole.VIEWER, by=staff)
    handbook = services.page_create(actor=editor, space=space, title="Handbook", body="Start here.")
    chapter = services.page_create(actor=editor, space=space, title="Chapter one", body="Draft", parent=handbook)
    services.page_create(actor=editor, space=space, title="Section A", body="Deep.", parent=chapter)
    attachment = services.file_upload(
        actor=editor, space=space, page=chapter, upload=SimpleUploadedFile("slides.pdf", PDF)
    )
    library = services.file_upload(actor=editor, space=space, upload=SimpleUploadedFile("data.csv", b"a,b\n1,2\n"))
    chapter = services.page_update(
        actor=editor,
        page=chapter,
        title="Chapter one",
        body=(
            f"See [the slides](/files/{attachment.pk}/slides.pdf), [the data](/files/{library.pk}/data.csv) "
            f"and [the handbook](/p/{handbook.pk}/)."
        ),
        base_version=chapter.version,
        summary="Links",
    )
    secret = services.page_create(actor=editor, space=space, title="Budget", body="Only for a few.")
    services.page_set_restrictions(
        actor=editor, page=secret, viewers=[editor], editors=[], restrict_view=True, restrict_edit=False
    )
    gone = services.page_create(actor=editor, space=space, title="Old notes", body="Trashed.")
    services.item_trash(actor=editor, item=gone.item)
    return {
        "space": space,
        "admin": admin,
        "editor": editor,
        "viewer": viewer,
        "outsider": outsider,
        "handbook": handbook,
        "chapter": chapter,
        "attachment": attachment,
    }


def test_admin_downloads_the_pages_as_markdown_laid_out_by_the_tree(wiki):
    files = unzip(client_for(wiki["admin"]).get(space_url("export-pages", wiki["space"])))
    root = "stats-working-group-pages"
    assert f"{root}/index.md" in files
    assert f"{root}/handbook.md" in files
    assert f"{root}/handbook/chapter-one.md" in files
    assert f"{root}/handbook/chapter-one/section-a.md" in files
    assert not any("old-notes" in name for name in files), "pages in the trash stay out"

    chapter = files[f"{root}/handbook/chapter-one.md"].decode()
    front, body = chapter.split("---\n", 2)[1:]
    assert 'title: "Chapter one"' in front
    assert 'author: "Editor"' in front
    assert "updated: " in front and "version: 2" in front
    # Links to exported files and pages point inside the archive.
    assert "[the slides](chapter-one_files/slides.pdf)" in body
    assert "[the data](../_files/data.csv)" in body
    assert "[the handbook](../handbook.md)" in body
    assert files[f"{root}/handbook/chapter-one_files/slides.pdf"] == PDF
    assert files[f"{root}/_files/data.csv"] == b"a,b\n1,2\n"
    index = files[f"{root}/index.md"].decode()
    assert "- [Handbook](handbook.md)" in index and "    - [Section A](handbook/chapter-one/section-a.md)" in index


def test_restricted_pages_are_in_the_export_only_for_those_who_may_see_them(wiki, staff):
    root = "stats-working-group-pages"
    files = unzip(client_for(wiki["admin"]).get(space_url("export-pages", wiki["space"])))
    assert "restricted: true" in files[f"{root}/budget.md"].decode()
    # The set of pages is whatever the permission query gives: someone who may not see the restricted page
    # (here an editor, were the rule ever to let editors export) would not get it.
    names = {part.path for part in space_pages_parts(wiki["viewer"], wiki["space"])}
    assert f"{root}/handbook.md" in names and f"{root}/budget.md" not in names


@pytest.mark.parametrize("who", ["editor", "viewer"])
def test_members_below_admin_are_refused(wiki, who):
    assert not can_export_space_pages(wiki[who], wiki["space"])
    assert client_for(wiki[who]).get(space_url("export-pages", wiki["space"])).status_code == 403


def test_outsider_gets_404_for_a_closed_space(wiki):
    assert client_for(wiki["outsider"]).get(space_url("export-pages", wiki["space"])).status_code == 404


def test_anonymous_is_sent_to_sign_in(wiki, client):
    response = client.get(space_url("export-pages", wiki["space"]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_post_is_not_allowed(wiki):
    assert client_for(wiki["admin"]).post(space_url("export-pages", wiki["space"])).status_code == 405


def test_export_is_linked_from_the_settings_page(wiki):
    page = client_for(wiki["admin"]).get(space_url("settings", wiki["space"])).content.decode()
    assert space_url("export-pages", wiki["space"]) in page


def test_community_admins_and_staff_may_export_an_open_space(staff):
    from communities import services as community_services

    community = make_community(staff)
    space = make_space(staff, community, Visibility.OPEN)
    cadmin = make_user("cadmin")
    community_services.community_role_set(actor=staff, community=community, user=cadmin, role="admin")
    services.page_create(actor=staff, space=space, title="Welcome", body="Hello **world**")
    files = unzip(client_for(cadmin).get(space_url("export-pages", space)))
    (welcome,) = [name for name in files if name.endswith("/welcome.md")]
    assert files[welcome].decode().endswith("Hello **world**")
    assert client_for(staff).get(space_url("export-pages", space)).status_code == 200
