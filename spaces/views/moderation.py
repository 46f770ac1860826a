"""Flags, review queues, moderator actions and the audit log (issue 5, items 1, 2 and 4).

A flag is raised from the small form under the flag button (htmx swaps in a thank-you) or from a plain page.
Reviewers act from their queue: one form per flagged target, one button per action, each answered by a service
in spaces/services/moderation.py. The log pages only read: there is no address that edits or deletes an entry.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from communities.models import Community, CommunityBan
from communities.permissions import get_community_for_user
from communities.services import community_unban as community_unban_service
from copapp.utils import add_service_errors, safe_next
from spaces import permissions, selectors_moderation
from spaces.forms_moderation import FlagForm, ModerationActionForm
from spaces.selectors_content import item_url
from spaces.services import moderation as moderation_services
from spaces.views.membership import _error_text, _space_context

LOG_PAGE_SIZE = 50

DONE = {
    "dismiss": gettext_lazy("Flags dismissed."),
    "hide": gettext_lazy("Hidden. Its author sees why; everyone else without the moderator role no longer sees it."),
    "unhide": gettext_lazy("Shown again."),
    "warn": gettext_lazy("Warning recorded; the author will be told."),
    "remove": gettext_lazy("Moved to the space's trash."),
    "ban_space": gettext_lazy("The author is banned from the space."),
    "ban_community": gettext_lazy("The author is banned from the community and every space in it."),
}


def _target_url(target) -> str:
    kind = permissions.flag_target_kind(target)
    if kind == "item":
        return item_url(target)
    if kind == "paper":
        return target.event.get_absolute_url()
    return target.get_absolute_url()


# --- Flagging -------------------------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def flag_create(request, target_kind, target_id):
    target = permissions.get_flag_target_for_user(request.user, target_kind, target_id)
    form = FlagForm(request.POST or None)
    context = {
        "form": form,
        "target": target,
        "target_kind": target_kind,
        "label": moderation_services.target_label(target),
        "next": safe_next(request, ""),
        "form_id": f"flag-{target_kind}-{target.pk}",
    }
    if request.method == "POST" and form.is_valid():
        try:
            moderation_services.flag_create(actor=request.user, target=target, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _flagged(request, target, context)
    template = "spaces/partials/flag_form.html" if request.htmx else "spaces/moderation_flag.html"
    return render(request, template, context)


def _flagged(request, target, context):
    """Thank the member; content now hidden pending review is no longer theirs to see, so go to its space."""
    done = _("Thank you. The moderators will review what you flagged.")
    still_visible = permissions.flag_target_kind(target) != "item" or permissions.can_see_item(request.user, target)
    if request.htmx:
        return render(request, "spaces/partials/flag_done.html", {**context, "status": done})
    messages.success(request, done)
    if not still_visible:
        return redirect(target.space)
    return redirect(safe_next(request, _target_url(target)))


# --- Review queues -------------------------------------------------------------------------------------------
@login_required
@require_GET
def review_queue(request, community_slug, space_slug):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="moderate")
    entries = selectors_moderation.review_queue(request.user, space=space)
    context = _space_context(request, space)
    context.update(
        entries=entries,
        review_count=len(entries),
        scope="space",
        tab="moderation",
        log_url=reverse("spaces:moderation-log", kwargs={"community_slug": community_slug, "space_slug": space_slug}),
    )
    return render(request, "spaces/moderation_queue.html", context)


def _community_for_reviewer(user, community_slug: str) -> Community:
    community = get_community_for_user(user, community_slug)
    if not permissions.can_review_community_flags(user, community):
        raise PermissionDenied
    return community


@login_required
@require_GET
def community_review_queue(request, community_slug):
    community = _community_for_reviewer(request.user, community_slug)
    context = {
        "community": community,
        "entries": selectors_moderation.review_queue(request.user, community=community),
        "bans": selectors_moderation.community_bans(community),
        "scope": "community",
        "log_url": reverse("spaces:community-moderation-log", kwargs={"community_slug": community_slug}),
    }
    return render(request, "spaces/moderation_queue.html", context)


@login_required
@require_GET
def site_review_queue(request):
    if not permissions.can_review_site_flags(request.user):
        raise PermissionDenied
    context = {"entries": selectors_moderation.review_queue(request.user), "scope": "site"}
    return render(request, "spaces/moderation_queue.html", context)


@login_required
@require_POST
def moderation_act(request, target_kind, target_id):
    form = ModerationActionForm(request.POST)
    if not form.is_valid():
        raise BadRequest("Unknown moderation action.")
    data = form.cleaned_data
    community = get_object_or_404(Community, slug=data["community"]) if data["community"] else None
    target = permissions.get_flag_target_for_user(
        request.user, target_kind, target_id, action="moderate", community=community
    )
    try:
        moderation_services.moderation_apply(
            actor=request.user, target=target, action=data["action"], message=data["message"], community=community
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, DONE[data["action"]])
    return redirect(safe_next(request, _queue_url(target, community)))


def _queue_url(target, community) -> str:
    kind = permissions.flag_target_kind(target)
    space = target.space if kind == "item" else target.event.space if kind == "paper" else None
    if space is not None:
        return reverse("spaces:review-queue", kwargs={"community_slug": space.community.slug, "space_slug": space.slug})
    if community is not None:
        return reverse("spaces:community-review-queue", kwargs={"community_slug": community.slug})
    return reverse("spaces:site-review-queue")


@login_required
@require_POST
def community_unban(request, community_slug, ban_id):
    community = _community_for_reviewer(request.user, community_slug)
    ban = get_object_or_404(CommunityBan.objects.select_related("user", "community"), pk=ban_id, community=community)
    community_unban_service(actor=request.user, ban=ban, reason=request.POST.get("message", ""))
    messages.success(request, _("Ban lifted: %(name)s may take part again.") % {"name": ban.user.public_name})
    return redirect("spaces:community-review-queue", community_slug=community_slug)


# --- The audit log -------------------------------------------------------------------------------------------
@login_required
@require_GET
def moderation_log(request, community_slug, space_slug):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="moderate")
    if not permissions.can_see_space_moderation_log(request.user, space):
        raise PermissionDenied
    page = Paginator(selectors_moderation.moderation_log(request.user, space=space), LOG_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = _space_context(request, space)
    context.update(page_obj=page, entries=page.object_list, scope="space", tab="moderation")
    return render(request, "spaces/moderation_log.html", context)


@login_required
@require_GET
def community_moderation_log(request, community_slug):
    community = get_community_for_user(request.user, community_slug)
    if not permissions.can_see_community_moderation_log(request.user, community):
        raise PermissionDenied
    page = Paginator(selectors_moderation.moderation_log(request.user, community=community), LOG_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {"community": community, "page_obj": page, "entries": page.object_list, "scope": "community"}
    return render(request, "spaces/moderation_log.html", context)
