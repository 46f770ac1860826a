"""What changed in a space, and watching a page or a space."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from spaces import permissions, selectors_content, services
from spaces.views.membership import _space_context

RECENT_PAGE_SIZE = 30


@require_GET
def recent_changes(request, community_slug, space_slug):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="read")
    page = Paginator(selectors_content.recent_changes(space, request.user), RECENT_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = _space_context(request, space)
    context.update(
        page_obj=page,
        changes=selectors_content.change_rows(page.object_list),
        can_manage_trash=permissions.can_manage_trash(request.user, space),
        tab="recent",
    )
    return render(request, "spaces/recent_changes.html", context)


def _back(request, fallback: str):
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect(fallback)


@login_required
@require_POST
def watch_toggle(request, community_slug, space_slug, item_id=None):
    """Watch or stop watching the space, or one of its items (``item_id``)."""
    space = permissions.get_space_for_user(request.user, community_slug, space_slug)
    item = None
    if item_id is not None:
        item = permissions.get_visible_item(request.user, item_id)
        if item.space_id != space.pk:
            raise Http404
        item.space = space
    watching = services.watch_toggle(actor=request.user, item=item, space=None if item else space)
    if request.htmx:
        context = selectors_content.watch_button_context(item or space, request.user, watching=watching)
        context["next"] = request.POST.get("next", "")
        return render(request, "spaces/partials/watch_button.html", context)
    return _back(request, selectors_content.item_url(item) if item else space.get_absolute_url())
