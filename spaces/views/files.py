"""The file repository: library, upload, versions, trash, and the only way file bytes ever leave the server.

Every download goes through ``get_file_for_user`` and is answered with ``FileResponse`` from the private
storage: never a public media URL. Downloads are attachments; images asked for through ``spaces:file-inline``
(the URL Markdown images use) are shown inline, still sandboxed and never sniffed.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST, require_safe

from copapp.uploads import BINARY_TYPES, IMAGE_EXTENSIONS
from spaces import permissions, selectors_files, services
from spaces.forms_files import FileUploadForm, FileVersionForm
from spaces.models import FileAsset, FileVersion, Page
from spaces.views.membership import (
    _form_errors,
    _space_context,
    onboarding_redirects,
)
from spaces.views.tracking import record_item_view

# Room for the multipart boundaries, the CSRF token and the short text fields around the file itself.
UPLOAD_OVERHEAD = 64 * 1024
INLINE_TYPES = {BINARY_TYPES[ext] for ext in IMAGE_EXTENSIONS}
# Nothing a downloaded file contains may run, frame or fetch anything in our origin.
FILE_CSP = "default-src 'none'; sandbox"


def _refuse_oversized(request) -> HttpResponse | None:
    """413 before the body is read, when the request announces more than one file of the allowed size."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= settings.FILE_MAX_BYTES + UPLOAD_OVERHEAD:
        return None
    back = request.META.get("HTTP_REFERER", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = reverse("home")
    context = {"limit": settings.FILE_MAX_BYTES, "back_url": back}
    return render(request, "spaces/file_too_large.html", context, status=413)


def _next_or(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


def _library_url(space) -> str:
    return reverse("spaces:files", kwargs={"community_slug": space.community.slug, "space_slug": space.slug})


def _library_context(request, space, form=None) -> dict:
    context = _space_context(request, space)
    context.update(
        tab="files",
        files=selectors_files.space_files(space, request.user),
        can_upload=permissions.can_add_file(request.user, space),
        form=form or FileUploadForm(),
        upload_limit=settings.FILE_MAX_BYTES,
    )
    return context


# --- Library and detail -------------------------------------------------------------------------------
@require_safe
def file_library(request, community_slug, space_slug):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="read")
    context = _library_context(request, space)
    if request.htmx:
        return render(request, "spaces/partials/file_list.html", context)
    return render(request, "spaces/file_library.html", context)


def _detail_context(request, asset: FileAsset, version_form=None) -> dict:
    user = request.user
    context = _space_context(request, asset.item.space)
    is_image = asset.current_version is not None and asset.current_version.content_type in INLINE_TYPES
    context.update(
        tab="files",
        asset=asset,
        versions=selectors_files.file_versions(asset),
        can_add_version=permissions.can_add_file_version(user, asset),
        can_trash=permissions.can_trash_file(user, asset),
        version_form=version_form or FileVersionForm(),
        inline_url=reverse("spaces:file-inline", kwargs={"file_id": asset.pk, "filename": asset.name})
        if is_image
        else "",
    )
    return context


def _record_file_view(request, asset: FileAsset) -> None:
    """Opening a file's page or downloading it is a view of the file (not an image shown inside a page)."""
    if asset.space_id == asset.item.space_id:
        asset.space = asset.item.space  # read with the permission check, its community too: no query
    record_item_view(request, asset, "file_view")


@require_safe
def file_detail(request, file_id):
    asset = permissions.get_file_for_user(request.user, file_id)
    _record_file_view(request, asset)
    return render(request, "spaces/file_detail.html", _detail_context(request, asset))


# --- Uploads ------------------------------------------------------------------------------------------
# The size is checked before anything reads the body. CSRF middleware would read it (request.POST), so these
# views are exempt from the middleware and run the same check themselves once the size is acceptable.
@csrf_exempt
@login_required
@require_POST
def file_upload(request, community_slug, space_slug):
    return _refuse_oversized(request) or _file_upload(request, community_slug, space_slug)


def _page_to_attach_to(request, space, page_id: int | None) -> Page | None:
    """The page named by the form, if it is in this space and the member can see it; else 404."""
    if not page_id:
        return None
    page = Page.objects.select_related("item__space", "space__community").filter(pk=page_id, space=space).first()
    if page is None or not permissions.can_see_item(request.user, page.item):
        raise Http404
    return page


@csrf_protect
@onboarding_redirects
def _file_upload(request, community_slug, space_slug):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="contribute")
    form = FileUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            asset = services.file_upload(
                actor=request.user,
                space=space,
                upload=form.cleaned_data["file"],
                page=_page_to_attach_to(request, space, form.cleaned_data["page"]),
                description=form.cleaned_data["description"],
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("“%s” was uploaded.") % asset.name)
            return redirect(_next_or(request, _library_url(space)))
    if request.POST.get("page"):
        # The form sits on the page it attaches to: go back there and say what was wrong.
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(_next_or(request, _library_url(space)))
    return render(request, "spaces/file_library.html", _library_context(request, space, form), status=400)


@csrf_exempt
@login_required
@require_POST
def file_version_upload(request, file_id):
    return _refuse_oversized(request) or _file_version_upload(request, file_id)


@csrf_protect
def _file_version_upload(request, file_id):
    asset = permissions.get_file_for_user(request.user, file_id, action="add_version")
    form = FileVersionForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            version = services.file_version_upload(
                actor=request.user,
                asset=asset,
                upload=form.cleaned_data["file"],
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Version %d uploaded.") % version.number)
            return redirect(asset)
    return render(request, "spaces/file_detail.html", _detail_context(request, asset, form), status=400)


@login_required
@require_POST
def file_trash(request, file_id):
    asset = permissions.get_file_for_user(request.user, file_id, action="trash")
    space = asset.item.space
    try:
        services.file_trash(actor=request.user, asset=asset)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(asset)
    messages.success(request, _("“%s” was moved to the trash.") % asset.name)
    return redirect(_library_url(space))


# --- Downloads ----------------------------------------------------------------------------------------
def _serve(version: FileVersion | None, *, inline: bool = False) -> FileResponse:
    if version is None:
        raise Http404
    try:
        handle = version.file.storage.open(version.file.name, "rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(
        handle, as_attachment=not inline, filename=version.original_name, content_type=version.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    # Files of private and closed spaces must not sit in shared caches; the member's browser may keep them.
    response["Cache-Control"] = "private, no-cache"
    return response


@require_safe
def file_download(request, file_id, filename):
    """The current version, as an attachment. The name in the URL is for people; the id decides."""
    asset = permissions.get_file_for_user(request.user, file_id)
    response = _serve(asset.current_version)
    _record_file_view(request, asset)  # only a download that is served counts
    return response


@require_safe
def file_version_download(request, file_id, number, filename):
    asset = permissions.get_file_for_user(request.user, file_id)
    response = _serve(selectors_files.file_version(asset, number))
    _record_file_view(request, asset)  # only a download that is served counts
    return response


@require_safe
def file_inline(request, file_id, filename):
    """An image shown in a page (Markdown ``![](/files/<id>/inline/<name>)``); anything else is not found."""
    asset = permissions.get_file_for_user(request.user, file_id)
    version = asset.current_version
    if version is None or version.content_type not in INLINE_TYPES:
        raise Http404
    return _serve(version, inline=True)
