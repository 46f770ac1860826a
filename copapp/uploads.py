"""Checks on uploaded images: the real type is read from the content, not from the name."""

from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
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
