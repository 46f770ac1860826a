"""Template tags for the file repository.

{% load space_files %}
{% page_files page user %}     the page's attachments and, for those who may add them, an upload form
{{ asset.current_version.content_type|file_kind }}     "PDF", "Spreadsheet", ...
"""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

from copapp.uploads import BINARY_TYPES, TEXT_TYPES
from spaces import permissions, selectors_files
from spaces.forms_files import FileUploadForm
from spaces.models import Page

register = template.Library()

_KINDS = {
    BINARY_TYPES["pdf"]: _("PDF"),
    BINARY_TYPES["docx"]: _("Word document"),
    BINARY_TYPES["odt"]: _("Text document"),
    BINARY_TYPES["xlsx"]: _("Excel spreadsheet"),
    BINARY_TYPES["ods"]: _("Spreadsheet"),
    BINARY_TYPES["pptx"]: _("PowerPoint presentation"),
    BINARY_TYPES["odp"]: _("Presentation"),
    BINARY_TYPES["png"]: _("Image"),
    BINARY_TYPES["jpg"]: _("Image"),
    BINARY_TYPES["gif"]: _("Image"),
    BINARY_TYPES["webp"]: _("Image"),
    TEXT_TYPES["csv"]: _("CSV data"),
    TEXT_TYPES["tsv"]: _("TSV data"),
    TEXT_TYPES["json"]: _("JSON data"),
    TEXT_TYPES["md"]: _("Markdown"),
    TEXT_TYPES["txt"]: _("Text"),
}


@register.filter
def file_kind(content_type: str) -> str:
    """A reader's name for a stored content type."""
    return str(_KINDS.get(content_type, _("File")))


@register.inclusion_tag("spaces/partials/file_attachments.html", takes_context=True)
def page_files(context, page: Page, user) -> dict:
    """The page's attachments ``user`` may see, in a fixed number of queries however many there are."""
    request = context.get("request")
    space = page.space
    return {
        "page": page,
        "space": space,
        "community": space.community,
        "files": list(selectors_files.page_files(page, user)),
        "can_upload": permissions.can_add_file(user, space, page),
        "form": FileUploadForm(initial={"page": page.pk}, auto_id="attach_%s"),
        "next": request.get_full_path() if request is not None else page.get_absolute_url(),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
