"""The space's trash: move an item there, list what is in it (admins), restore."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from spaces import permissions, selectors_content, services
from spaces.views.membership import _error_text, _space_context

TRASH_PAGE_SIZE = 50


def _trash_url(space) -> str:
    return reverse("spaces:trash", kwargs={"community_slug": space.community.slug, "space_slug": space.slug})


@login_required
@require_GET
def trash_list(request, community_slug, space_slug):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug)
    if not permissions.can_manage_trash(request.user, space):
        raise PermissionDenied
    page = Paginator(selectors_content.space_trash(space), TRASH_PAGE_SIZE).get_page(request.GET.get("page"))
    context = _space_context(request, space)
    context.update(
        page_obj=page,
        entries=selectors_content.trash_entries(page.object_list),
        retention_days=settings.TRASH_RETENTION_DAYS,
        tab="trash",
    )
    return render(request, "spaces/trash.html", context)


@login_required
@require_POST
def trash_restore(request, community_slug, space_slug, item_id):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug)
    if not permissions.can_manage_trash(request.user, space):
        raise PermissionDenied
    item = selectors_content.space_trash(space).filter(pk=item_id).first()
    if item is None:
        raise Http404
    item.space = space
    try:
        count = services.item_restore(actor=request.user, item=item)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        label = selectors_content.item_label(item)
        inside = count - 1
        if inside:
            text = ngettext(
                "“%(title)s” and %(n)d item inside it were restored.",
                "“%(title)s” and %(n)d items inside it were restored.",
                inside,
            ) % {"title": label, "n": inside}
        else:
            text = _("“%s” was restored.") % label
        messages.success(request, text)
    return redirect(_trash_url(space))


@login_required
@require_POST
def item_trash(request, community_slug, space_slug, item_id):
    """Move any item (page, file, comment ...) to the trash, then go back to the space."""
    space = permissions.get_space_for_user(request.user, community_slug, space_slug)
    item = permissions.get_visible_item(request.user, item_id)
    if item.space_id != space.pk:
        raise Http404
    item.space = space
    try:
        services.item_trash(actor=request.user, item=item)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect(selectors_content.item_url(item))
    label = selectors_content.item_label(item)
    if permissions.can_manage_trash(request.user, space):
        messages.success(request, _("“%s” was moved to the trash.") % label)
    else:
        messages.success(request, _("“%s” was deleted. A space admin can restore it for a while.") % label)
    return redirect(space)
