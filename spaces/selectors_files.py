"""Reads for the file repository. Every list starts from the permission filter ``visible_files_q``."""

from __future__ import annotations

from django.db.models import QuerySet
from django.db.models.functions import Lower

from spaces import permissions, selectors_content
from spaces.models import FileAsset, FileVersion, Page, Space


def space_files(space: Space, user) -> QuerySet[FileAsset]:
    """The space's files the user may see (library files and page attachments), by name."""
    return (
        FileAsset.objects.filter(space=space)
        .filter(permissions.visible_files_q(user))
        .select_related("item__author", "current_version__uploaded_by", "page")
        # a file's extracted text (a long PDF's, all of it) and the attached page's body: the library shows neither
        .defer(*selectors_content.JOINED_ITEM_TEXTS, "page__body", "page__body_html")
        .order_by(Lower("name"), "pk")
    )


def page_files(page: Page, user) -> QuerySet[FileAsset]:
    """A page's attachments the user may see, by name."""
    return (
        FileAsset.objects.filter(page=page)
        .filter(permissions.visible_files_q(user))
        .select_related("current_version__uploaded_by")
        .order_by(Lower("name"), "pk")
    )


def file_versions(asset: FileAsset) -> QuerySet[FileVersion]:
    """Every version of a file, newest first, with who uploaded it."""
    return asset.versions.select_related("uploaded_by").order_by("-number")


def file_version(asset: FileAsset, number: int) -> FileVersion | None:
    return asset.versions.filter(number=number).first()
