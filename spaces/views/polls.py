"""Polls: list, create, the poll page (vote, results, comments), vote (htmx swaps the card) and close early.
Permission checks happen in the fetch helpers and the permission rules (404 unseen, 403 seen but not allowed)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from spaces import permissions, selectors_polls
from spaces.forms_polls import PollForm
from spaces.services import polls as poll_services
from spaces.views.membership import _error_text, _form_errors, _space_context, onboarding_redirects
from spaces.views.tracking import record_item_view, record_space_visit

PAGE_SIZE = 20


@require_GET
def poll_list(request, community_slug, space_slug):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="read")
    page = Paginator(selectors_polls.poll_list(request.user, space), PAGE_SIZE).get_page(request.GET.get("page"))
    context = _space_context(request, space)
    context.update(
        page_obj=page,
        polls=selectors_polls.decorate_poll_rows(request.user, list(page.object_list), space),
        can_create_poll=permissions.can_create_poll(request.user, space),
        tab="polls",
    )
    record_space_visit(request, space)
    return render(request, "spaces/poll_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@onboarding_redirects
def poll_create(request, community_slug, space_slug):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="read")
    if not permissions.can_create_poll(request.user, space):
        raise PermissionDenied
    form = PollForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            poll = poll_services.poll_create(actor=request.user, space=space, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Poll opened."))
            return redirect(poll)
    context = _space_context(request, space)
    context.update(form=form, tab="polls")
    return render(request, "spaces/poll_form.html", context)


@require_GET
def poll_detail(request, community_slug, space_slug, poll_id):
    poll = selectors_polls.get_poll_for_user(request.user, community_slug, space_slug, poll_id)
    context = _space_context(request, poll.space)
    context.update(
        selectors_polls.poll_card(poll, request.user),
        can_trash=permissions.can_trash_item(request.user, poll.item),
        tab="polls",
    )
    record_item_view(request, poll, "poll_view")
    return render(request, "spaces/poll_detail.html", context)


@login_required
@require_POST
def poll_vote(request, community_slug, space_slug, poll_id):
    """Cast or change one's vote (``option``, once or several times); htmx gets the card back."""
    poll = selectors_polls.get_poll_for_user(request.user, community_slug, space_slug, poll_id)
    error = ""
    try:
        poll_services.poll_vote(actor=request.user, poll=poll, option_ids=request.POST.getlist("option"))
    except ValidationError as exc:
        error = _error_text(exc)
    if request.htmx:
        return render(
            request, "spaces/partials/poll_card.html", selectors_polls.poll_card(poll, request.user, error=error)
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Your vote is recorded. You can change it until the poll closes."))
    return redirect(poll)


@login_required
@require_POST
def poll_close(request, community_slug, space_slug, poll_id):
    poll = selectors_polls.get_poll_for_user(request.user, community_slug, space_slug, poll_id, action="close")
    try:
        poll_services.poll_close(actor=request.user, poll=poll)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Poll closed. Everyone who can see it now sees the results."))
    return redirect(poll)
