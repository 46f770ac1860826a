"""Upload hardening (issue 10, item 5), across every place a member can send a file.

- uploads are judged by their content, not their name: a ``.pdf`` that is really a web page is refused with a
  clear message and nothing is stored (``copapp.uploads``);
- uploaded files are kept outside the web root (``PRIVATE_MEDIA_ROOT``, private storage without URLs) and only
  come back through permission-checked views, as attachments with ``X-Content-Type-Options: nosniff``;
- size: a file over ``FILE_MAX_BYTES`` is a form error; a request over the body limits answers 413 with a page
  that says so (``copapp.limits``, ``copapp.views.bad_request``).

The file repository's own tests (tests/spaces/test_files.py) go through every type; this file checks the rules
hold on each surface.
"""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import Client
from django.urls import reverse

import copapp.settings as configured
from copapp.storage import PrivateFileStorage
from members.models import Conversation, MessageAttachment
from spaces import services
from spaces.models import FileAsset, Page, Visibility
from tests.spaces.helpers import client_for, space_url

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
HTML_AS_PDF = b"<!DOCTYPE html><html><body><script>fetch('/me/data/')</script></body></html>"
REFUSED = "This file's content is not a type we accept"
# Images shown to everyone (avatars, community logos): public by design, and checked to be real images.
PUBLIC_IMAGES = {("members", "profile", "avatar"), ("communities", "community", "logo")}


@pytest.fixture
def w(world_factory):
    return world_factory(Visibility.OPEN)


def is_inside(path: Path, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(Path(folder).resolve())


# --- Stored outside the web root ------------------------------------------------------------------------------------
def test_the_private_folder_is_outside_the_public_ones_as_configured():
    private = configured.PRIVATE_MEDIA_ROOT
    for public in (configured.MEDIA_ROOT, configured.STATIC_ROOT, *configured.STATICFILES_DIRS):
        assert not is_inside(private, public) and not is_inside(public, private)


def file_fields():
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.FileField):
                yield model, field


def test_every_uploaded_file_except_public_images_is_kept_in_private_storage(settings):
    checked = []
    for model, field in file_fields():
        key = (model._meta.app_label, model._meta.model_name, field.name)
        if key in PUBLIC_IMAGES:
            assert isinstance(field, models.ImageField), key
            continue
        storage = field.storage
        assert isinstance(storage, PrivateFileStorage), key
        assert is_inside(storage.location, settings.PRIVATE_MEDIA_ROOT), key
        with pytest.raises(ValueError, match="no public URL"):
            storage.url("anything.pdf")
        checked.append(key)
    # Space files, papers, message attachments, data exports: a new FileField is caught by the loop above.
    assert len(checked) >= 4


def test_an_uploaded_file_lands_in_the_private_folder_and_no_public_url_serves_it(w, settings):
    asset = services.file_upload(
        actor=w.editor, space=w.space, upload=SimpleUploadedFile("report.pdf", PDF, content_type="application/pdf")
    )
    stored = Path(asset.current_version.file.path)

    assert stored.read_bytes() == PDF
    assert is_inside(stored, settings.PRIVATE_MEDIA_ROOT)
    assert not is_inside(stored, settings.MEDIA_ROOT)
    relative = asset.current_version.file.name
    assert Client().get(f"{settings.MEDIA_URL}{relative}").status_code == 404
    assert client_for(w.editor).get(f"{settings.MEDIA_URL}{relative}").status_code == 404


# --- Checked by content -------------------------------------------------------------------------------------------
def test_a_pdf_that_is_really_a_web_page_is_refused_in_the_file_repository(w, settings):
    upload = SimpleUploadedFile("minutes.pdf", HTML_AS_PDF, content_type="application/pdf")
    response = client_for(w.editor).post(space_url("file-upload", w.space), {"file": upload})

    assert response.status_code == 400
    assert REFUSED in html.unescape(response.content.decode())
    assert not FileAsset.objects.exists()
    assert not any(p.is_file() for p in Path(settings.PRIVATE_MEDIA_ROOT).rglob("*"))


def test_a_pdf_that_is_really_a_web_page_is_refused_as_a_message_attachment(w, settings):
    upload = SimpleUploadedFile("minutes.pdf", HTML_AS_PDF, content_type="application/pdf")
    data = {"recipients": f"@{w.editor.username}", "body": "The minutes", "attachments": upload}
    response = client_for(w.viewer).post(reverse("members:conversation-new"), data)

    assert response.status_code == 400
    assert f"minutes.pdf: {REFUSED}" in html.unescape(response.content.decode())
    assert not Conversation.objects.exists() and not MessageAttachment.objects.exists()
    assert not any(p.is_file() for p in Path(settings.PRIVATE_MEDIA_ROOT).rglob("*"))


def test_an_avatar_that_is_not_an_image_is_refused(w):
    from members.forms import ProfileForm  # the form the profile page posts to

    upload = SimpleUploadedFile("me.png", HTML_AS_PDF, content_type="image/png")
    form = ProfileForm(data={}, files={"avatar": upload}, instance=w.viewer.profile)

    assert not form.is_valid()
    assert "Upload a valid image" in " ".join(form.errors["avatar"])


# --- Served as attachments, never sniffed ---------------------------------------------------------------------------
def test_downloads_are_attachments_that_browsers_must_not_sniff(w):
    asset = services.file_upload(
        actor=w.editor, space=w.space, upload=SimpleUploadedFile("data.csv", b"a,b\n1,2\n", content_type="text/html")
    )
    from members import services_messages

    conversation = services_messages.conversation_start(
        actor=w.viewer,
        recipients=[w.editor],
        body="Attached",
        attachments=[SimpleUploadedFile("notes.txt", b"hello\n", content_type="text/html")],
    )
    attachment = MessageAttachment.objects.get(message__conversation=conversation)
    downloads = {
        "space file": reverse("spaces:file-download", kwargs={"file_id": asset.pk, "filename": asset.name}),
        "message attachment": attachment.get_absolute_url(),
    }

    for surface, url in downloads.items():
        response = client_for(w.editor).get(url)
        assert response.status_code == 200, surface
        assert response["Content-Disposition"].startswith("attachment;"), surface
        assert response["X-Content-Type-Options"] == "nosniff", surface
        # The type the sender claimed (text/html) is never what the file is served as.
        assert "html" not in response["Content-Type"], surface


# --- Size limits ------------------------------------------------------------------------------------------------------
def test_a_file_over_the_size_limit_is_a_form_error(w, settings):
    settings.FILE_MAX_BYTES = 1000
    upload = SimpleUploadedFile("big.csv", b"a,b\n" * 400, content_type="text/csv")
    data = {"recipients": f"@{w.editor.username}", "body": "Big", "attachments": upload}
    response = client_for(w.viewer).post(reverse("members:conversation-new"), data)

    assert response.status_code == 400
    assert "big.csv: This file is 1.6\xa0KB; the limit is 1000\xa0bytes." in response.content.decode()
    assert not Conversation.objects.exists()


def test_form_fields_over_the_body_limit_answer_413_with_a_page(w, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client_for(w.editor).post(space_url("page-create", w.space), {"title": "Big", "body": "x" * 5000})

    assert response.status_code == 413
    page = response.content.decode()
    assert "What you sent is too large" in page
    assert "This site accepts up to 1000\xa0bytes in one request. Nothing was saved" in page
    assert not Page.objects.filter(item__title="Big").exists()


def test_a_request_announcing_more_than_the_limit_is_refused_before_it_is_read(w, settings):
    settings.REQUEST_MAX_BYTES = 10_000
    # Not even a valid body: had anything parsed it, the answer would not be a 413.
    response = client_for(w.viewer).generic(
        "POST", reverse("members:conversation-new"), b"x" * 20_000, content_type="multipart/form-data; boundary=zz"
    )

    assert response.status_code == 413
    assert "This site accepts up to 9.8\xa0KB in one request" in response.content.decode()
    assert not Conversation.objects.exists()


def test_requests_under_the_limit_go_through(w, settings):
    settings.REQUEST_MAX_BYTES = 10_000
    upload = SimpleUploadedFile("notes.txt", b"hello\n", content_type="text/plain")
    data = {"recipients": f"@{w.editor.username}", "body": "Small", "attachments": upload}

    response = client_for(w.viewer).post(reverse("members:conversation-new"), data)

    assert response.status_code == 302
    assert MessageAttachment.objects.count() == 1
