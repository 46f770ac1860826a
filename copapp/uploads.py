"""Checks on uploaded images and files: the real type is read from the content, not from the name."""

import codecs
import hashlib
import re
import unicodedata
import zipfile
from dataclasses import dataclass

import filetype
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, UnidentifiedImageError

ALLOWED_IMAGE_FORMATS = {"PNG": "png", "JPEG": "jpg", "GIF": "gif", "WEBP": "webp"}


def validate_image_upload(upload, *, max_bytes: int) -> str:
    """Reject files over ``max_bytes`` and anything that is not really a PNG, JPEG, GIF or WebP image."""
    if upload.size > max_bytes:
        raise ValidationError(
            _("This image is %(size)s; the limit is %(limit)s.")
            % {"size": filesizeformat(upload.size), "limit": filesizeformat(max_bytes)}
        )
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image_format = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(_("This file is not an image we can use (PNG, JPEG, GIF or WebP).")) from exc
    finally:
        upload.seek(0)
    if image_format not in ALLOWED_IMAGE_FORMATS:
        raise ValidationError(_("Please upload a PNG, JPEG, GIF or WebP image."))
    return ALLOWED_IMAGE_FORMATS[image_format]


# --- Files in the spaces' repositories ----------------------------------------------------------------------
# Allowed types are decided by what the bytes are; the name's extension must then agree with it. Everything a
# browser could run (HTML, SVG, XML, scripts, executables) is outside this list, and text is served as text.

TEXT_TYPES = {
    "txt": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "json": "application/json",
}
BINARY_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
}
# Different spellings of the same type.
EXTENSION_ALIASES = {"jpeg": "jpg", "jpe": "jpg", "markdown": "md", "text": "txt"}
# What `filetype` reports for the binary formats we accept (an animated PNG is still a PNG).
_SIGNATURES = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/apng": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
}
# Office files are zip archives; `filetype` only guesses from their first bytes, so the archive is opened.
_ZIP_GUESSES = {
    "application/zip",
    "application/epub+zip",
    *(BINARY_TYPES[ext] for ext in ("docx", "xlsx", "pptx", "odt", "ods", "odp")),
}
_OOXML_FOLDERS = {"word/": "docx", "xl/": "xlsx", "ppt/": "pptx"}
_ODF_MIMETYPES = {BINARY_TYPES[ext]: ext for ext in ("odt", "ods", "odp")}
IMAGE_EXTENSIONS = {"png", "jpg", "gif", "webp"}
FILE_TYPES_HELP = gettext_lazy(
    "PDF, Word, Excel, PowerPoint, OpenDocument, CSV, TSV, plain text, Markdown, JSON, PNG, JPEG, GIF, WebP"
)
_MARKUP = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*"
    rb"<(?:!doctype\s+html|html|svg|script|head|body|iframe)\b",
    re.IGNORECASE | re.DOTALL,
)
FILENAME_MAX_BYTES = 150
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class CheckedFile:
    """What an accepted upload really is."""

    name: str
    extension: str
    content_type: str
    size: int
    sha256: str

    @property
    def is_image(self) -> bool:
        return self.extension in IMAGE_EXTENSIONS


def split_filename(name: str) -> tuple[str, str]:
    """The last path component of ``name`` as (stem, lower-case extension), without trusting either."""
    base = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip().strip(".")
    stem, dot, extension = base.rpartition(".")
    if not dot:
        return base, ""
    return stem, extension.lower()


def sanitize_filename(name: str, *, extension: str) -> str:
    """A safe file name that keeps ``extension``: no path, no markup, no control characters, never empty."""
    stem, _ext = split_filename(name)
    try:
        stem = get_valid_filename(stem).strip("._-")
    except SuspiciousFileOperation:
        stem = ""
    stem = stem or "file"
    budget = FILENAME_MAX_BYTES - len(extension.encode()) - 1
    while len(stem.encode()) > budget:
        stem = stem[:-1]
    return f"{stem.rstrip('._-') or 'file'}.{extension}"


def _read(upload) -> tuple[bytes, str, bool]:
    """The first bytes, the sha256 of everything, and whether everything is UTF-8 text without NUL bytes."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    head = b""
    is_text = True
    upload.seek(0)
    for chunk in upload.chunks(_CHUNK):
        digest.update(chunk)
        if len(head) < 8192:
            head += chunk[: 8192 - len(head)]
        if is_text:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                is_text = False
            is_text = is_text and b"\x00" not in chunk
    if is_text:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            is_text = False
    upload.seek(0)
    return head, digest.hexdigest(), is_text


def _zip_kind(upload) -> str | None:
    """docx/xlsx/pptx/odt/ods/odp by the archive's entries, or None. Only the directory is read."""
    try:
        upload.seek(0)
        with zipfile.ZipFile(upload) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                with archive.open("mimetype") as entry:
                    mimetype = entry.read(100).decode("ascii", "replace").strip()
                return _ODF_MIMETYPES.get(mimetype)
            if "[Content_Types].xml" in names:
                for folder, kind in _OOXML_FOLDERS.items():
                    if any(n.startswith(folder) for n in names):
                        return kind
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError):
        return None
    finally:
        upload.seek(0)
    return None


def _image_is_sound(upload) -> bool:
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False
    finally:
        upload.seek(0)
    return True


def _detect(upload, head: bytes, is_text: bool, extension: str) -> str | None:
    """The extension the content really has, among those we accept, or None."""
    looks_like_text = is_text and not _MARKUP.match(head)
    if extension in TEXT_TYPES:
        # Text has no signature (filetype calls anything starting "BM" a bitmap), so it is judged as text.
        return extension if looks_like_text else None
    guess = filetype.guess(head)
    mime = guess.mime if guess else ""
    if mime in _ZIP_GUESSES:
        return _zip_kind(upload)
    kind = _SIGNATURES.get(mime)
    if kind in IMAGE_EXTENSIONS and not _image_is_sound(upload):
        return None
    if kind is None and not extension and looks_like_text:
        return "txt"
    return kind


def validate_file_upload(upload, *, max_bytes: int) -> CheckedFile:
    """Accept ``upload`` only if it is small enough and really is one of the types we keep.

    The type comes from the content: binary formats by their signature (and, for Office files, the archive's
    entries), text only if it is UTF-8 without NUL bytes and is not HTML or SVG. A name's extension must agree
    with what the content is; a name without one gets the detected type's.
    """
    if upload.size > max_bytes:
        raise ValidationError(
            _("This file is %(size)s; the limit is %(limit)s.")
            % {"size": filesizeformat(upload.size), "limit": filesizeformat(max_bytes)},
            code="too_large",
        )
    if not upload.size:
        raise ValidationError(_("This file is empty."), code="empty")
    _stem, extension = split_filename(upload.name)
    extension = EXTENSION_ALIASES.get(extension, extension)
    if extension and extension not in TEXT_TYPES and extension not in BINARY_TYPES:
        raise ValidationError(
            _("Files of type “.%(extension)s” cannot be uploaded. Allowed: %(allowed)s.")
            % {"extension": extension, "allowed": FILE_TYPES_HELP},
            code="type_not_allowed",
        )
    head, sha256, is_text = _read(upload)
    detected = _detect(upload, head, is_text, extension)
    if detected is None:
        raise ValidationError(
            _("This file's content is not a type we accept (%(allowed)s).") % {"allowed": FILE_TYPES_HELP},
            code="content_not_allowed",
        )
    if extension and detected != extension:
        raise ValidationError(
            _(
                "This file is named “.%(extension)s” but its content is %(detected)s. "
                "Rename it or upload the right file."
            )
            % {"extension": extension, "detected": detected.upper()},
            code="type_mismatch",
        )
    content_type = TEXT_TYPES.get(detected) or BINARY_TYPES[detected]
    return CheckedFile(
        name=sanitize_filename(upload.name, extension=detected),
        extension=detected,
        content_type=content_type,
        size=upload.size,
        sha256=sha256,
    )
