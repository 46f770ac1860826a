"""A member's page for downloading all their own data (issue 8, item 5)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from members import exports
from members.models import DataExportStatus

IN_PROGRESS = (DataExportStatus.PENDING, DataExportStatus.RUNNING)


def _context(request) -> dict:
    rows = list(exports.member_data_exports(request.user)[:10])
    return {
        "exports": rows,
        "in_progress": any(row.status in IN_PROGRESS for row in rows),
        "valid_days": exports.DATA_EXPORT_VALID_DAYS,
    }


@login_required
@require_GET
def data_export_page(request):
    """The member's exports; while one is being prepared, the list refreshes itself (htmx)."""
    template = "members/exports/partials/export_list.html" if request.htmx else "members/exports/data_export.html"
    return render(request, template, _context(request))


@login_required
@require_POST
def data_export_request(request):
    try:
        export = exports.data_export_request(actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        export.refresh_from_db()
        if export.status == DataExportStatus.READY:
            messages.success(request, _("Your data export is ready to download."))
        elif export.status == DataExportStatus.FAILED:
            messages.error(request, _("Your data export could not be prepared. Please try again later."))
        else:
            messages.success(
                request, _("We are preparing your data export. You will get a notification when it is ready.")
            )
    return redirect("members:data-export")


@login_required
@require_GET
def data_export_download(request, export_id):
    """Only for the member whose data it is, while it has not expired; 404 for everyone and everything else."""
    export = exports.data_export_for_download(request.user, export_id)
    if export is None:
        raise Http404
    try:
        handle = export.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    filename = f"{request.user.username}-data-{export.created_at:%Y%m%d}.zip"
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type="application/zip")
    response["Cache-Control"] = "private, no-store"
    return response
