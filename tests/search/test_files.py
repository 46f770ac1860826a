"""The text inside uploaded PDF and Word files is found by search: read after the upload commits (a Celery task),
replaced when a new version is uploaded, never a reason for an upload to fail, and seen only by those who may
see the file."""

import io
import logging

import docx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from spaces import services
from spaces.models import Item, Visibility
from spaces.search_index import search_index_item
from tests.search.helpers import page, titles, total

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def pdf_bytes(text: str) -> bytes:
    """A real one-page PDF showing ``text`` in Helvetica (written out by hand, offsets and all)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def docx_bytes(*paragraphs: str, cell: str = "") -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if cell:
        document.add_table(rows=1, cols=1).rows[0].cells[0].text = cell
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def upload(actor, space, name, content, content_type, **kwargs):
    return services.file_upload(
        actor=actor, space=space, upload=SimpleUploadedFile(name, content, content_type=content_type), **kwargs
    )


@pytest.fixture
def w(world_factory):
    return world_factory(Visibility.OPEN)


def test_text_inside_a_pdf_is_found_after_the_upload(w, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        asset = upload(
            w.editor, w.space, "report.pdf", pdf_bytes("Quarterly tonnage of the harbour"), "application/pdf"
        )

    assert titles(w.viewer, "tonnage") == ["report.pdf"]
    assert titles(w.viewer, "quarterly harb") == ["report.pdf"]
    assert titles(w.viewer, "report") == ["report.pdf"]  # and by its name
    assert Item.objects.filter(pk=asset.item_id, extracted_text__contains="tonnage").exists()


def test_text_inside_a_word_file_is_found_paragraphs_and_tables(w, django_capture_on_commit_callbacks):
    content = docx_bytes("Minutes of the steering group.", "Decision: adopt the codelist.", cell="Annex rowlabel")
    with django_capture_on_commit_callbacks(execute=True):
        upload(w.editor, w.space, "minutes.docx", content, DOCX_TYPE, description="Signed copy")

    assert titles(w.viewer, "codelist") == ["minutes.docx"]
    assert titles(w.viewer, "rowlabel") == ["minutes.docx"]
    assert titles(w.viewer, "signed") == ["minutes.docx"]  # the description too


def test_a_new_version_replaces_the_old_text(w, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        asset = upload(w.editor, w.space, "plan.docx", docx_bytes("Draft with oldword."), DOCX_TYPE)
    with django_capture_on_commit_callbacks(execute=True):
        services.file_version_upload(
            actor=w.editor,
            asset=asset,
            upload=SimpleUploadedFile("plan.docx", docx_bytes("Final with newword."), content_type=DOCX_TYPE),
        )

    assert total(w.viewer, "oldword") == 0
    assert titles(w.viewer, "newword") == ["plan.docx"]


def test_a_damaged_pdf_is_uploaded_and_found_by_its_name_only(w, django_capture_on_commit_callbacks, caplog):
    damaged = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\nstream garbage tonnage\n%%EOF\n"
    with caplog.at_level(logging.WARNING, logger="spaces.search_index"):
        with django_capture_on_commit_callbacks(execute=True):
            asset = upload(w.editor, w.space, "broken-report.pdf", damaged, "application/pdf")

    assert asset.pk is not None and asset.current_version is not None
    assert titles(w.viewer, "broken") == ["broken-report.pdf"]
    assert total(w.viewer, "tonnage") == 0
    assert any("broken-report.pdf" in record.getMessage() for record in caplog.records)


def test_the_text_of_a_file_on_a_restricted_page_stays_with_the_page(w, django_capture_on_commit_callbacks):
    restricted = page(w.space, w.editor, "Board papers", "For the board.")
    services.page_set_restrictions(actor=w.editor, page=restricted, restrict_view=True, restrict_edit=False)
    with django_capture_on_commit_callbacks(execute=True):
        upload(
            w.editor, w.space, "board.pdf", pdf_bytes("Confidential salary scale"), "application/pdf", page=restricted
        )

    assert total(w.viewer, "salary") == 0
    assert titles(w.editor, "salary") == ["board.pdf"]


def test_reindexing_a_file_keeps_the_text_read_from_it(w, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        asset = upload(w.editor, w.space, "report.pdf", pdf_bytes("Tonnage by port"), "application/pdf")
    asset.description = "Edited description"
    asset.save(update_fields=["description"])  # a rename or description edit reindexes without reading the file
    search_index_item(asset.item)

    assert titles(w.viewer, "tonnage edited") == ["report.pdf"]
