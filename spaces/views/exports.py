"""Exports of a space (issue 8, item 5): its pages as a ZIP of Markdown with their files, for its admins."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from copapp.exports import stream_zip
from spaces import permissions
from spaces.exports import space_pages_parts


@login_required
@require_GET
def space_pages_export(request, community_slug, space_slug):
    """Streamed as it is written: the page tree and file list are read first, each page's text and each file's
    bytes only when the archive reaches them, so a large wiki needs neither memory nor a temporary file."""
    space = permissions.get_space_for_user(request.user, community_slug, space_slug)
    if not permissions.can_export_space_pages(request.user, space):
        raise PermissionDenied
    parts = space_pages_parts(request.user, space)
    response = StreamingHttpResponse(stream_zip(parts), content_type="application/zip")
    name = f"{space.community.slug}-{space.slug}-pages-{timezone.now():%Y%m%d}.zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
