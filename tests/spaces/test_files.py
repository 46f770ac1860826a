"""The file repository: uploads by role, content checks, sanitised names, versions, trash, guarded downloads.

Files are written to a private storage under pytest's ``tmp_path``, never into the repository.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.template import RequestContext, Template
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analytics.models import ActivityEvent
from copapp.markdown import render_markdown
from copapp.uploads import sanitize_filename
from spaces import selectors_files, services
from spaces.models import FileAsset, FileVersion, Item, Page, SpaceRole, Visibility
from tests.factories import add_member, make_user
from tests.spaces.helpers import client_for, form_errors, messages_of, png_bytes, space_url, template_names

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"This program cannot be run"
CSV = "country,value\nFrance,1\nCôte d'Ivoire,2\n".encode()
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
ALLOWED = (
    "Allowed: PDF, Word, Excel, PowerPoint, OpenDocument, CSV, TSV, plain text, Markdown, JSON, PNG, JPEG, GIF, WebP."
)
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'


def office_zip(folder: str = "word/") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr(f"{folder}document.xml", "<document/>")
    return buffer.getvalue()


def odf_zip(mimetype: str = "application/vnd.oasis.opendocument.text") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.csv", "a,b\n1,2\n")
    return buffer.getvalue()


def upload(name: str = "report.pdf", content: bytes = PDF, content_type: str = "application/pdf"):
    """The browser's claimed type is whatever the sender says; the checks must not believe it."""
    return SimpleUploadedFile(name, content, content_type=content_type)


def add_file(actor, space, name: str = "report.pdf", content: bytes = PDF, page=None) -> FileAsset:
    return services.file_upload(actor=actor, space=space, upload=upload(name, content), page=page)


def detail_url(asset) -> str:
    return reverse("spaces:file-detail", kwargs={"file_id": asset.pk})


def download_url(asset) -> str:
    return reverse("spaces:file-download", kwargs={"file_id": asset.pk, "filename": asset.name})


def inline_url(asset) -> str:
    return reverse("spaces:file-inline", kwargs={"file_id": asset.pk, "filename": asset.name})


def version_url(asset, number: int) -> str:
    version = asset.versions.get(number=number)
    return reverse(
        "spaces:file-version-download",
        kwargs={"file_id": asset.pk, "number": number, "filename": version.original_name},
    )


def browser_for(user) -> Client:
    return Client() if not user.is_authenticated else client_for(user)


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def post_upload(browser, space, name="report.pdf", content=PDF, **extra):
    return browser.post(space_url("file-upload", space), {"file": upload(name, content), **extra})


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path, monkeypatch) -> Path:
    """Uploads go to a private directory under tmp_path (the field keeps the storage it was built with)."""
    location = tmp_path / "private"
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }
    monkeypatch.setattr(FileVersion._meta.get_field("file"), "storage", storages["private"])
    return location


@pytest.fixture
def open_world(world_factory):
    return world_factory(Visibility.OPEN)


@pytest.fixture
def private_world(world_factory):
    return world_factory(Visibility.PRIVATE)


@pytest.fixture
def closed_world(world_factory):
    return world_factory(Visibility.CLOSED)


@pytest.fixture
def worlds(world_factory):
    return {v: world_factory(v) for v in (Visibility.OPEN, Visibility.PRIVATE, Visibility.CLOSED)}


# --- Uploading ----------------------------------------------------------------------------------------
def test_editor_uploads_a_pdf_to_the_library(open_world, private_storage):
    w = open_world
    response = post_upload(client_for(w.editor), w.space, description="Census 2021 methods")

    assert response.status_code == 302
    assert response.url == space_url("files", w.space)
    assert messages_of(response) == ["“report.pdf” was uploaded."]
    asset = FileAsset.objects.select_related("item", "current_version").get(space=w.space)
    assert (asset.name, asset.description, asset.page, asset.version_count) == (
        "report.pdf",
        "Census 2021 methods",
        None,
        1,
    )
    assert (asset.item.kind, asset.item.space, asset.item.author, asset.item.title) == (
        "file",
        w.space,
        w.editor,
        "report.pdf",
    )
    version = asset.current_version
    assert (version.number, version.size, version.content_type, version.uploaded_by) == (
        1,
        len(PDF),
        "application/pdf",
        w.editor,
    )
    assert version.sha256 == hashlib.sha256(PDF).hexdigest()
    stored = private_storage / version.file.name
    assert stored.read_bytes() == PDF
    assert ActivityEvent.objects.filter(kind="file_upload", member=w.editor, space_id=w.space.pk).count() == 1


# Outcome of POST spaces:file-upload with a valid PDF, for each visibility and persona.
UPLOAD_OUTCOMES = {
    Visibility.OPEN: {
        "anonymous": "login",
        "outsider": 403,
        "banned": 403,
        "viewer": 403,
        "editor": 302,
        "admin": 302,
    },
    Visibility.PRIVATE: {"anonymous": "login", "outsider": 403, "banned": 403, "viewer": 403, "editor": 302},
    Visibility.CLOSED: {
        "anonymous": "login",
        "outsider": 404,
        "banned": 404,
        "viewer": 403,
        "moderator": 302,
    },
}


@pytest.mark.parametrize(
    ("visibility", "persona", "expected"),
    [(v, p, e) for v, table in UPLOAD_OUTCOMES.items() for p, e in table.items()],
)
def test_who_may_upload(world_factory, visibility, persona, expected):
    w = world_factory(visibility)
    response = post_upload(browser_for(getattr(w, persona)), w.space)

    if expected == "login":
        assert response.status_code == 302 and response.url.startswith(reverse("account_login"))
    else:
        assert response.status_code == expected
    assert FileAsset.objects.filter(space=w.space).count() == (1 if expected == 302 else 0)


def test_viewer_is_refused_by_the_service_too(open_world):
    with pytest.raises(PermissionDenied):
        add_file(open_world.viewer, open_world.space)


def test_nobody_uploads_to_an_archived_space(open_world):
    w = open_world
    services.space_set_archived(actor=w.admin, space=w.space, archived=True)

    assert post_upload(client_for(w.admin), w.space).status_code == 403


def test_upload_and_downloads_answer_405_to_the_wrong_method(open_world):
    w = open_world
    asset = add_file(w.editor, w.space)
    browser = client_for(w.editor)

    assert browser.get(space_url("file-upload", w.space)).status_code == 405
    assert browser.post(download_url(asset)).status_code == 405
    assert browser.post(detail_url(asset)).status_code == 405
    assert browser.get(reverse("spaces:file-trash", kwargs={"file_id": asset.pk})).status_code == 405


def test_upload_still_checks_the_csrf_token(open_world):
    w = open_world
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(w.editor)

    response = post_upload(browser, w.space)

    assert response.status_code == 403
    assert not FileAsset.objects.exists()


# --- Content checks -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("paper.pdf", PDF, "application/pdf"),
        ("chart.png", png_bytes(), "image/png"),
        (
            "notes.docx",
            office_zip("word/"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "table.xlsx",
            office_zip("xl/"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            "slides.pptx",
            office_zip("ppt/"),
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        ("notes.odt", odf_zip(), "application/vnd.oasis.opendocument.text"),
        ("data.csv", CSV, "text/csv; charset=utf-8"),
        ("bmi.csv", b"BMI,weight\n22,70\n", "text/csv; charset=utf-8"),
        ("readme.md", b"# Title\n\nSome *text*.\n", "text/markdown; charset=utf-8"),
        ("series.json", b'{"a": [1, 2]}', "application/json"),
    ],
)
def test_allowed_types_are_recognised_by_content(open_world, name, content, content_type):
    asset = add_file(open_world.editor, open_world.space, name, content)

    assert asset.name == name
    assert asset.current_version.content_type == content_type


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("invoice.pdf", EXE, "This file's content is not a type we accept"),
        ("page.html", HTML, "Files of type “.html” cannot be uploaded"),
        ("logo.svg", SVG, "Files of type “.svg” cannot be uploaded"),
        ("page.txt", HTML, "This file's content is not a type we accept"),
        ("logo.md", SVG, "This file's content is not a type we accept"),
        ("chart.docx", png_bytes(), "This file is named “.docx” but its content is PNG"),
        ("archive.docx", plain_zip(), "This file's content is not a type we accept"),
        ("report.pdf", png_bytes(), "This file is named “.pdf” but its content is PNG"),
        ("latin1.csv", "Côte".encode("latin-1"), "This file's content is not a type we accept"),
        ("nul.txt", b"abc\x00def", "This file's content is not a type we accept"),
        ("setup.exe", EXE, "Files of type “.exe” cannot be uploaded"),
        ("broken.png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "This file's content is not a type we accept"),
    ],
)
def test_refused_content_gets_a_clear_message_and_stores_nothing(open_world, private_storage, name, content, message):
    w = open_world
    response = post_upload(client_for(w.editor), w.space, name, content)

    assert response.status_code == 400
    assert message in " ".join(form_errors(response)["__all__"])
    assert not FileAsset.objects.exists() and not Item.objects.filter(kind="file").exists()
    assert not private_storage.exists() or not any(p.is_file() for p in private_storage.rglob("*"))


def test_a_file_over_the_limit_is_refused_with_the_limit_named(open_world, settings):
    settings.FILE_MAX_BYTES = 1000
    w = open_world
    response = post_upload(client_for(w.editor), w.space, "big.csv", b"a,b\n" * 400)

    assert response.status_code == 400
    assert form_errors(response)["__all__"] == ["This file is 1.6\xa0KB; the limit is 1000\xa0bytes."]
    assert not FileAsset.objects.exists()


def test_a_request_body_over_the_limit_answers_413_before_it_is_read(open_world, settings):
    settings.FILE_MAX_BYTES = 1000
    w = open_world
    browser = client_for(w.editor)

    # Not even valid multipart: had the view parsed the body, this would not be a 413.
    response = browser.generic(
        "POST",
        space_url("file-upload", w.space),
        b"x" * 200_000,
        content_type="multipart/form-data; boundary=zz",
    )

    assert response.status_code == 413
    assert "Files can be up to 1000\xa0bytes" in response.content.decode()
    too_big = post_upload(browser, w.space, "big.csv", b"a,b\n" * 50_000)
    assert too_big.status_code == 413
    assert not FileAsset.objects.exists()


# --- Names --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "content", "stored"),
    [
        ("../../etc/passwd", b"root:x:0:0\n", "passwd.txt"),
        ("..\\..\\windows\\report.pdf", PDF, "report.pdf"),
        ("<img src=x onerror=alert(1)>.pdf", PDF, "img_srcx_onerroralert1.pdf"),
        ("<script>.pdf", PDF, "script.pdf"),
        ("Données été 2024.csv", CSV, "Données_été_2024.csv"),
        ("report\u202etxt.pdf", PDF, "reporttxt.pdf"),
        (".pdf", PDF, "pdf.pdf"),
        ("<>.pdf", PDF, "file.pdf"),
        ("REPORT.PDF", PDF, "REPORT.pdf"),
        ("photo.jpeg", None, "photo.jpg"),
    ],
)
def test_file_names_are_sanitised(open_world, private_storage, name, content, stored):
    if content is None:
        buffer = io.BytesIO()
        from PIL import Image

        Image.new("RGB", (4, 4), "red").save(buffer, format="JPEG")
        content = buffer.getvalue()
    asset = add_file(open_world.editor, open_world.space, name, content)

    assert asset.name == stored
    assert asset.current_version.original_name == stored
    blob = (private_storage / asset.current_version.file.name).resolve()
    assert blob.is_relative_to(private_storage.resolve())
    assert blob.name == stored


def test_long_names_are_cut_but_keep_their_extension():
    name = sanitize_filename("é" * 300 + ".xlsx", extension="xlsx")

    assert name.endswith("é.xlsx")
    assert len(name.encode()) <= 150


def test_file_names_render_escaped(open_world):
    w = open_world
    asset = add_file(w.editor, w.space, "x.pdf")
    FileAsset.objects.filter(pk=asset.pk).update(name="<img src=x onerror=alert(1)>.pdf")

    html = client_for(w.viewer).get(space_url("files", w.space)).content.decode()

    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in html


# --- Seeing and downloading ---------------------------------------------------------------------------
# Private spaces: their content is for members, and signed-in non-members (and anonymous visitors) are told so
# with 403, as on the space's other content pages; closed spaces do not exist for outsiders (404).
SEE_OUTCOMES = {
    Visibility.OPEN: {"anonymous": 200, "outsider": 200, "banned": 200, "viewer": 200},
    Visibility.PRIVATE: {"anonymous": 403, "outsider": 403, "requester": 403, "banned": 403, "viewer": 200},
    Visibility.CLOSED: {
        "anonymous": 404,
        "outsider": 404,
        "banned": 404,
        "viewer": 200,
        "community_moderator": 200,
    },
}


@pytest.mark.parametrize(
    ("visibility", "persona", "expected"),
    [(v, p, e) for v, table in SEE_OUTCOMES.items() for p, e in table.items()],
)
def test_who_may_see_and_download_a_file(world_factory, visibility, persona, expected):
    w = world_factory(visibility)
    asset = add_file(w.editor, w.space, "chart.png", png_bytes())
    browser = browser_for(getattr(w, persona))

    assert browser.get(detail_url(asset)).status_code == expected
    assert browser.get(download_url(asset)).status_code == expected
    assert browser.get(version_url(asset, 1)).status_code == expected
    assert browser.get(inline_url(asset)).status_code == expected
    assert browser.get(space_url("files", w.space)).status_code == expected


def test_download_is_an_attachment_with_the_stored_type_and_nosniff(open_world):
    w = open_world
    asset = add_file(w.editor, w.space, "Données été.csv", CSV)

    response = Client().get(download_url(asset))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''Donn%C3%A9es_%C3%A9t%C3%A9.csv" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "private" in response["Cache-Control"]
    assert body_of(response) == CSV


def test_the_name_in_the_download_url_does_not_decide_what_is_served(open_world):
    w = open_world
    asset = add_file(w.editor, w.space)
    other = reverse("spaces:file-download", kwargs={"file_id": asset.pk, "filename": "evil.html"})

    response = Client().get(other)

    assert response["Content-Type"] == "application/pdf"
    assert 'filename="report.pdf"' in response["Content-Disposition"]


def test_images_are_served_inline_only_through_the_inline_url(open_world):
    w = open_world
    image = add_file(w.editor, w.space, "chart.png", png_bytes())
    pdf = add_file(w.editor, w.space, "paper.pdf")
    browser = client_for(w.viewer)

    response = browser.get(inline_url(image))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert browser.get(download_url(image))["Content-Disposition"].startswith("attachment;")
    assert browser.get(inline_url(pdf)).status_code == 404


def test_markdown_images_may_only_use_the_inline_url(open_world):
    w = open_world
    image = add_file(w.editor, w.space, "chart.png", png_bytes())

    html = render_markdown(f"![a]({inline_url(image)}) ![b]({download_url(image)}) ![c](https://evil.example/x.png)")

    assert f'<img src="{inline_url(image)}" alt="a">' in html
    assert html.count("src=") == 1


def test_pages_never_link_to_a_public_media_url(open_world):
    w = open_world
    asset = add_file(w.editor, w.space)
    browser = client_for(w.editor)

    for url in (space_url("files", w.space), detail_url(asset)):
        html = browser.get(url).content.decode()
        assert "/media/" not in html
        assert download_url(asset) in html


def test_library_htmx_request_gets_the_list_partial(open_world):
    w = open_world
    add_file(w.editor, w.space)

    response = client_for(w.viewer).get(space_url("files", w.space), headers={"HX-Request": "true"})

    assert template_names(response)[0] == "spaces/partials/file_list.html"
    assert "spaces/file_library.html" not in template_names(response)
    assert "report.pdf" in response.content.decode()


def test_viewer_sees_the_library_without_the_upload_form(open_world):
    w = open_world
    add_file(w.editor, w.space)

    viewer_html = client_for(w.viewer).get(space_url("files", w.space)).content.decode()
    editor_html = client_for(w.editor).get(space_url("files", w.space)).content.decode()

    assert "report.pdf" in viewer_html and 'enctype="multipart/form-data"' not in viewer_html
    assert 'enctype="multipart/form-data"' in editor_html


# --- Versions -----------------------------------------------------------------------------------------
def test_a_new_version_keeps_the_old_ones(open_world):
    w = open_world
    asset = add_file(w.editor, w.space, "methods.pdf", PDF)
    v2 = PDF.replace(b"1.4", b"1.7")
    browser = client_for(w.moderator)

    response = browser.post(
        reverse("spaces:file-version-upload", kwargs={"file_id": asset.pk}),
        {"file": upload("methods-v2.pdf", v2), "comment": "Reviewed by the task force"},
    )

    assert response.status_code == 302 and response.url == detail_url(asset)
    assert messages_of(response) == ["Version 2 uploaded."]
    asset.refresh_from_db()
    assert (asset.version_count, asset.current_version.number, asset.name) == (2, 2, "methods-v2.pdf")
    assert Item.objects.get(pk=asset.item_id).title == "methods-v2.pdf"
    assert list(asset.versions.values_list("number", "uploaded_by", "comment")) == [
        (2, w.moderator.pk, "Reviewed by the task force"),
        (1, w.editor.pk, ""),
    ]
    assert body_of(browser.get(download_url(asset))) == v2
    assert body_of(browser.get(version_url(asset, 1))) == PDF
    assert body_of(browser.get(version_url(asset, 2))) == v2
    detail = browser.get(detail_url(asset)).content.decode()
    assert version_url(asset, 1) in detail and version_url(asset, 2) in detail
    assert w.editor.public_name in detail and w.moderator.public_name in detail
    assert ActivityEvent.objects.filter(kind="file_upload", target_id=asset.pk).count() == 2


def test_viewer_cannot_upload_a_new_version(open_world):
    w = open_world
    asset = add_file(w.editor, w.space)

    response = client_for(w.viewer).post(
        reverse("spaces:file-version-upload", kwargs={"file_id": asset.pk}), {"file": upload()}
    )

    assert response.status_code == 403
    assert FileVersion.objects.filter(asset=asset).count() == 1


def test_the_same_file_again_is_not_a_new_version(open_world):
    w = open_world
    asset = add_file(w.editor, w.space)

    with pytest.raises(ValidationError, match="same file as the current version"):
        services.file_version_upload(actor=w.editor, asset=asset, upload=upload())


def test_a_missing_version_answers_404(open_world):
    w = open_world
    asset = add_file(w.editor, w.space)
    url = reverse("spaces:file-version-download", kwargs={"file_id": asset.pk, "number": 7, "filename": "x.pdf"})

    assert client_for(w.editor).get(url).status_code == 404


# --- Trash --------------------------------------------------------------------------------------------
def test_author_moves_a_file_to_the_trash_and_it_is_gone_for_everyone(open_world):
    w = open_world
    asset = add_file(w.editor, w.space)

    response = client_for(w.editor).post(reverse("spaces:file-trash", kwargs={"file_id": asset.pk}))

    assert response.status_code == 302 and response.url == space_url("files", w.space)
    item = Item.objects.get(pk=asset.item_id)
    assert item.deleted_at is not None and item.deleted_by == w.editor
    for user in (w.admin, w.editor, w.staff):
        browser = client_for(user)
        assert browser.get(detail_url(asset)).status_code == 404
        assert browser.get(download_url(asset)).status_code == 404
        assert browser.get(version_url(asset, 1)).status_code == 404
        assert "report.pdf" not in browser.get(space_url("files", w.space)).content.decode()


@pytest.mark.parametrize(("persona", "expected"), [("viewer", 403), ("other_editor", 403), ("moderator", 302)])
def test_who_may_trash_someone_elses_file(open_world, persona, expected):
    w = open_world
    w.other_editor = make_user("other")
    add_member(w.space, w.other_editor, SpaceRole.EDITOR, by=w.staff)
    asset = add_file(w.editor, w.space)

    response = client_for(getattr(w, persona)).post(reverse("spaces:file-trash", kwargs={"file_id": asset.pk}))

    assert response.status_code == expected
    assert (Item.objects.get(pk=asset.item_id).deleted_at is not None) == (expected == 302)


# --- Attachments to pages -----------------------------------------------------------------------------
def make_page(author, space, title="Methods") -> Page:
    return services.page_create(actor=author, space=space, title=title, body="Text")


def render_page_files(page, user) -> str:
    request = RequestFactory().get("/somewhere/")
    request.user = user
    fresh = Page.objects.select_related("space__community", "item__space").get(pk=page.pk)
    return Template("{% load space_files %}{% page_files page user %}").render(
        RequestContext(request, {"page": fresh, "user": user})
    )


def test_editor_attaches_a_file_to_a_page_and_returns_to_it(open_world):
    w = open_world
    page = make_page(w.editor, w.space)

    response = post_upload(client_for(w.editor), w.space, "annex.pdf", page=page.pk, next="/p/back/")

    assert response.status_code == 302 and response.url == "/p/back/"
    asset = FileAsset.objects.get(name="annex.pdf")
    assert asset.page == page
    html = render_page_files(page, w.viewer)
    assert "annex.pdf" in html and download_url(asset) in html
    assert 'enctype="multipart/form-data"' not in html
    assert 'enctype="multipart/form-data"' in render_page_files(page, w.editor)


def test_a_refused_attachment_returns_to_the_page_with_the_reason(open_world):
    w = open_world
    page = make_page(w.editor, w.space)

    response = post_upload(client_for(w.editor), w.space, "page.html", HTML, page=page.pk, next="/p/back/")

    assert response.status_code == 302 and response.url == "/p/back/"
    assert messages_of(response) == ["Files of type “.html” cannot be uploaded. " + ALLOWED]
    assert not FileAsset.objects.exists()


def test_only_named_editors_attach_files_to_an_edit_restricted_page(open_world):
    w = open_world
    page = make_page(w.admin, w.space)
    services.page_set_restrictions(
        actor=w.admin, page=page, viewers=[], editors=[w.moderator], restrict_view=False, restrict_edit=True
    )

    assert post_upload(client_for(w.editor), w.space, page=page.pk).status_code == 403
    assert post_upload(client_for(w.moderator), w.space, page=page.pk).status_code == 302
    assert list(FileAsset.objects.values_list("page", "item__author")) == [(page.pk, w.moderator.pk)]


def test_an_unsafe_next_is_ignored(open_world):
    w = open_world
    response = post_upload(client_for(w.editor), w.space, next="https://evil.example/")

    assert response.url == space_url("files", w.space)


def test_attaching_to_a_page_of_another_space_answers_404(worlds):
    w, other = worlds[Visibility.OPEN], worlds[Visibility.CLOSED]
    page = make_page(other.editor, other.space)

    response = post_upload(client_for(w.editor), w.space, page=page.pk)

    assert response.status_code == 404
    assert not FileAsset.objects.exists()


def test_files_of_a_restricted_page_are_hidden_everywhere_from_those_not_named(open_world):
    w = open_world
    page = make_page(w.admin, w.space)
    services.page_set_restrictions(
        actor=w.admin, page=page, viewers=[w.viewer], editors=[], restrict_view=True, restrict_edit=False
    )
    asset = add_file(w.admin, w.space, "secret.pdf", page=page)
    library_file = add_file(w.editor, w.space, "public.pdf")

    for user in (w.editor, w.moderator, w.outsider, w.anonymous):
        browser = browser_for(user)
        assert browser.get(detail_url(asset)).status_code == 404
        assert browser.get(download_url(asset)).status_code == 404
        assert browser.get(version_url(asset, 1)).status_code == 404
        library = browser.get(space_url("files", w.space)).content.decode()
        assert "secret.pdf" not in library and "public.pdf" in library
        items = Item.objects.visible_to(user)
        assert asset.item_id not in set(items.values_list("pk", flat=True))
    assert client_for(w.viewer).get(download_url(asset)).status_code == 200
    assert "secret.pdf" in render_page_files(page, w.viewer)
    assert list(selectors_files.space_files(w.space, w.editor)) == [library_file]


def test_files_of_a_trashed_page_are_gone_too(open_world):
    w = open_world
    page = make_page(w.editor, w.space)
    asset = add_file(w.editor, w.space, "annex.pdf", page=page)
    services.item_trash(actor=w.editor, item=page.item)

    assert client_for(w.admin).get(download_url(asset)).status_code == 404
    assert not selectors_files.space_files(w.space, w.admin).exists()


def test_viewer_cannot_attach_files_to_a_page(open_world):
    w = open_world
    page = make_page(w.editor, w.space)

    assert post_upload(client_for(w.viewer), w.space, page=page.pk).status_code == 403
    assert not FileAsset.objects.exists()


# --- Query counts -------------------------------------------------------------------------------------
def _queries(run) -> int:
    with CaptureQueriesContext(connection) as captured:
        run()
    return len(captured.captured_queries)


def test_file_library_query_count_does_not_grow_with_files(open_world):
    w = open_world
    page = make_page(w.editor, w.space)
    for n in range(3):
        add_file(w.editor, w.space, f"file-{n}.pdf", PDF + str(n).encode(), page=page if n == 0 else None)
    browser = client_for(w.viewer)
    url = space_url("files", w.space)

    def load():
        assert browser.get(url).status_code == 200

    load()  # the first request of a session also stores the member's time zone in it
    with_three = _queries(load)
    for n in range(3, 30):
        add_file(w.editor, w.space, f"file-{n}.pdf", PDF + str(n).encode(), page=page if n < 6 else None)
    with_thirty = _queries(load)

    # session, user, space, the member's roles (4), watch button, files
    assert with_three == with_thirty == 5  # the header's counts come from the cache
    assert browser.get(url).content.decode().count('" download>') == 30


def test_page_files_tag_query_count_does_not_grow_with_files(open_world):
    w = open_world
    page = make_page(w.editor, w.space)
    for n in range(3):
        add_file(w.editor, w.space, f"a-{n}.pdf", PDF + str(n).encode(), page=page)
    fresh_user = type(w.editor).objects.get(pk=w.editor.pk)
    with_three = _queries(lambda: render_page_files(page, fresh_user))
    for n in range(3, 30):
        add_file(w.editor, w.space, f"a-{n}.pdf", PDF + str(n).encode(), page=page)
    fresh_user = type(w.editor).objects.get(pk=w.editor.pk)
    with_thirty = _queries(lambda: render_page_files(page, fresh_user))

    assert with_three == with_thirty


# --- Pages that show a space's images -----------------------------------------------------------------------
def page_with(w, body: str, title: str = "Figures") -> Page:
    return services.page_create(actor=w.editor, space=w.space, title=title, body=body)


def test_an_image_linked_before_its_file_was_uploaded_shows_once_it_is(open_world):
    w = open_world
    probe = add_file(w.editor, w.space, "probe.pdf")
    next_id = probe.pk + 1  # the id the next upload gets
    src = reverse("spaces:file-inline", kwargs={"file_id": next_id, "filename": "chart.png"})
    page = page_with(w, f"Soon: ![chart]({src})")
    plain = page_with(w, "No pictures.", title="Plain")
    assert "src=" not in page.body_html  # not a file of this space (yet): the image is stripped

    asset = add_file(w.editor, w.space, "chart.png", png_bytes())

    assert asset.pk == next_id
    page.refresh_from_db()
    assert f'<img src="{src}" alt="chart">' in page.body_html
    assert page.versions.count() == 1  # re-rendering is not an edit
    assert f'<img src="{src}"' in client_for(w.viewer).get(page.get_absolute_url()).content.decode()
    assert Page.objects.get(pk=plain.pk).body_html == plain.body_html


def test_a_new_file_version_refreshes_pages_that_show_the_file_and_only_those(open_world):
    w = open_world
    asset = add_file(w.editor, w.space, "chart.png", png_bytes())
    page = page_with(w, f"![chart]({inline_url(asset)})")
    other = page_with(w, "Text only.", title="Other")
    elsewhere = page_with(w, "![other](/files/999999/inline/x.png)", title="Elsewhere")
    Page.objects.filter(pk__in=[page.pk, other.pk, elsewhere.pk]).update(body_html="<p>stale</p>")

    services.file_version_upload(actor=w.editor, asset=asset, upload=upload("chart.png", png_bytes(color="red")))

    html = dict(Page.objects.values_list("title", "body_html"))
    assert f'<img src="{inline_url(asset)}" alt="chart">' in html["Figures"]
    assert html["Other"] == html["Elsewhere"] == "<p>stale</p>"
    assert page.versions.count() == 1


def test_pages_of_a_space_rerender_against_its_files_only(open_world, world_factory):
    w = open_world
    other = world_factory(Visibility.CLOSED)
    ours = add_file(w.editor, w.space, "ours.png", png_bytes())
    theirs = add_file(other.editor, other.space, "theirs.png", png_bytes())
    page = page_with(w, f"![a]({inline_url(ours)}) ![b]({inline_url(theirs)})")
    Page.objects.filter(pk=page.pk).update(body_html="")

    assert services.pages.pages_rerender_for_space(w.space) == 1
    assert services.pages.pages_rerender_for_space(w.space) == 0  # nothing changed: nothing written

    html = Page.objects.get(pk=page.pk).body_html
    assert f'<img src="{inline_url(ours)}" alt="a">' in html
    assert "theirs.png" not in html
