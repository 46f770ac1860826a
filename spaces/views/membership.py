"""Thin views for spaces and their membership: fetch with a permission check, call a service, redirect."""

from functools import wraps
from urllib.parse import urlencode

from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from communities.permissions import can_create_space, get_community_for_user
from communities.services import OnboardingRequired
from copapp.utils import PeekPage
from copapp.utils import add_service_errors as _form_errors
from spaces import forms, permissions, selectors, selectors_events, selectors_stream, selectors_workplan, services
from spaces.models import Invitation, InvitationStatus, ItemKind, JoinRequest, SpaceBan, SpaceMembership, SpaceRole
from spaces.permissions_courses import show_courses_tab
from spaces.views.tracking import record_space_visit

User = get_user_model()


def _error_text(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


def onboarding_redirects(view):
    """A member who has not yet accepted a community's guidelines is sent there, then back."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except OnboardingRequired as exc:
            messages.info(request, _("Welcome! Please read the community's guidelines before you take part."))
            url = reverse("communities:onboarding", kwargs={"community_slug": exc.community.slug})
            # A POST cannot be replayed by a redirect: come back to the page the action was taken from.
            if request.method == "GET":
                back = request.get_full_path()
            elif "space_slug" in kwargs:
                back = reverse(
                    "spaces:home",
                    kwargs={"community_slug": kwargs["community_slug"], "space_slug": kwargs["space_slug"]},
                )
            else:
                back = request.path
            return redirect(f"{url}?{urlencode({'next': back})}")

    return wrapper


def _space_context(request, space) -> dict:
    user = request.user
    role = permissions.space_role(user, space)
    return {
        "space": space,
        "community": space.community,
        "role": role,
        "role_label": SpaceRole(role).label if role else "",
        "can_read": permissions.can_read_space(user, space),
        "can_join": permissions.can_join_space(user, space),
        "can_request": permissions.can_request_to_join(user, space),
        "can_leave": permissions.can_leave_space(user, space),
        "can_moderate": permissions.can_moderate_space(user, space),
        "can_administer": permissions.can_administer_space(user, space),
        "can_manage_trash": permissions.can_manage_trash(user, space),
        "is_banned": permissions.is_banned(user, space),
        "show_courses": show_courses_tab(user, space),
    }


STREAM_PAGE_SIZE = 20


# --- Space pages -------------------------------------------------------------------------------------------------
def space_home(request, community_slug, space_slug):
    space = permissions.get_space_for_user(
        request.user,
        community_slug,
        space_slug,
        with_watch=True,
        facts={"has_pinned": selectors_stream.has_pinned_posts()},
    )
    context = _space_context(request, space)
    if context["can_read"]:
        kind = request.GET.get("kind") if request.GET.get("kind") in selectors_stream.STREAM_KINDS else None
        # No total: counting every visible item of a busy space would cost more than the page itself.
        page = PeekPage(
            selectors_stream.space_stream(space, request.user, kind=kind), request.GET.get("page"), STREAM_PAGE_SIZE
        )
        context.update(
            stream_page=page,
            stream_items=selectors_stream.in_space(page.object_list, space),
            stream_kind=kind,
            stream_query=f"kind={kind}&" if kind else "",
            stream_kinds=[(k, ItemKind(k).label) for k in selectors_stream.STREAM_KINDS],
            pinned_items=(
                selectors_stream.in_space(selectors_stream.space_pinned_posts(space, request.user), space)
                if page.number == 1 and space.has_pinned
                else []
            ),
            now=timezone.now(),
            new_since=services.space_visit_record(user=request.user, space=space),
        )
        context["members"] = selectors.space_members_preview(space)
        context["work_plan_summary"] = selectors_workplan.work_plan_summary(space, request.user)
        context["upcoming_events"] = selectors_events.event_list(request.user, space).select_related(
            "space__community"
        )[:3]
        record_space_visit(request, space)
    if not permissions.is_space_member(request.user, space):  # members have no request pending
        context["pending_request"] = selectors.member_pending_request(space, request.user)
    if context["can_moderate"]:
        context["pending_request_count"] = selectors.space_pending_requests(space).count()
    return render(request, "spaces/space_home.html", context)


def space_members(request, community_slug, space_slug):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="read")
    context = _space_context(request, space)
    roles = permissions.assignable_roles(request.user, space)
    memberships = list(selectors.space_members(space))
    for membership in memberships:
        membership.can_manage = membership.user_id != request.user.pk and permissions.can_manage_member(
            request.user, space, membership.role
        )
    context.update(memberships=memberships, assignable_roles=roles, role_form=forms.RoleForm(roles=roles))
    if context["can_moderate"]:
        context["bans"] = SpaceBan.objects.filter(space=space).select_related("user", "banned_by")
        context["invitations"] = selectors.space_pending_invitations(space)
    return render(request, "spaces/space_members.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def space_create(request, community_slug):
    community = get_community_for_user(request.user, community_slug)
    if not can_create_space(request.user, community):
        raise PermissionDenied
    form = forms.SpaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            space = services.space_create(actor=request.user, community=community, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Space created. You are its admin."))
            return redirect(space)
    return render(request, "spaces/space_form.html", {"form": form, "community": community, "creating": True})


@login_required
@require_http_methods(["GET", "POST"])
def space_settings(request, community_slug, space_slug):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="administer")
    form = forms.SpaceForm(request.POST or None, instance=space)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.space_update_settings(actor=request.user, space=space, **form.cleaned_data)
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Settings saved."))
                return redirect(space)
        space.refresh_from_db()
    context = _space_context(request, space)
    context.update(
        form=form,
        delete_form=forms.DeleteSpaceForm(),
        can_export_pages=permissions.can_export_space_pages(request.user, space),
    )
    return render(request, "spaces/space_form.html", context)


@login_required
@require_POST
def space_archive(request, community_slug, space_slug, archived):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="administer")
    services.space_set_archived(actor=request.user, space=space, archived=archived)
    messages.success(request, _("Space archived: it is now read-only.") if archived else _("Space reopened."))
    return redirect(space)


@login_required
@require_POST
def space_delete(request, community_slug, space_slug):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="administer")
    form = forms.DeleteSpaceForm(request.POST)
    confirm = form.data.get("confirm_name", "")
    try:
        services.space_delete(actor=request.user, space=space, confirm_name=confirm)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("spaces:settings", community_slug=community_slug, space_slug=space_slug)
    messages.success(request, _("The space “%s” was deleted.") % space.name)
    return redirect(space.community)


# --- Joining and leaving ------------------------------------------------------------------------------------------
@login_required
@require_POST
@onboarding_redirects
def space_join(request, community_slug, space_slug):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug)
    try:
        services.space_join(actor=request.user, space=space)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Welcome to %s!") % space.name)
    return redirect(space)


@login_required
@require_POST
def space_leave(request, community_slug, space_slug):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug)
    try:
        services.space_leave(actor=request.user, space=space)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect(space)
    messages.success(request, _("You left %s.") % space.name)
    if permissions.can_see_space(request.user, space):
        return redirect(space)
    return redirect(space.community)


@login_required
@require_http_methods(["GET", "POST"])
@onboarding_redirects
def join_request_create(request, community_slug, space_slug):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug)
    if permissions.is_banned(request.user, space):
        raise PermissionDenied
    form = forms.JoinRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.join_request_create(actor=request.user, space=space, message=form.cleaned_data["message"])
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
            return redirect(space)
        messages.success(request, _("Your request was sent. You will get an e-mail when a moderator answers."))
        return redirect(space)
    return render(request, "spaces/join_request_form.html", {**_space_context(request, space), "form": form})


@login_required
@require_POST
def join_request_withdraw(request, community_slug, space_slug):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug)
    join_request = selectors.member_pending_request(space, request.user)
    if join_request is None:
        raise Http404
    services.join_request_withdraw(actor=request.user, join_request=join_request)
    messages.success(request, _("Your request was withdrawn."))
    return redirect(space)


@login_required
def join_requests(request, community_slug, space_slug):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="moderate")
    context = _space_context(request, space)
    context.update(requests=selectors.space_pending_requests(space), decision_form=forms.DecisionForm())
    return render(request, "spaces/join_requests.html", context)


@login_required
@require_POST
def join_request_decide(request, community_slug, space_slug, request_id, decision):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="moderate")
    join_request = get_object_or_404(
        JoinRequest.objects.select_related("user", "space__community"), pk=request_id, space=space
    )
    form = forms.DecisionForm(request.POST)
    message = form.cleaned_data["message"] if form.is_valid() else ""
    service = services.join_request_approve if decision == "approve" else services.join_request_decline
    try:
        service(actor=request.user, join_request=join_request, message=message)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        name = join_request.user.public_name
        messages.success(request, (_("%s is now a member.") if decision == "approve" else _("Declined %s.")) % name)
    if request.htmx:
        context = _space_context(request, space)
        context.update(requests=selectors.space_pending_requests(space), decision_form=forms.DecisionForm())
        return render(request, "spaces/partials/join_request_list.html", context)
    return redirect("spaces:requests", community_slug=community_slug, space_slug=space_slug)


# --- Invitations --------------------------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def invitation_create(request, community_slug, space_slug):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="moderate")
    form = forms.InvitationForm(request.POST or None, roles=permissions.assignable_roles(request.user, space))
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invitation_create(actor=request.user, space=space, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Invitation sent to %s.") % invitation.email)
            return redirect("spaces:members", community_slug=community_slug, space_slug=space_slug)
    context = _space_context(request, space)
    context.update(form=form, invitations=selectors.space_pending_invitations(space))
    return render(request, "spaces/invitation_form.html", context)


@login_required
@require_POST
def invitation_revoke(request, community_slug, space_slug, invitation_id):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="moderate")
    invitation = get_object_or_404(Invitation, pk=invitation_id, space=space)
    try:
        services.invitation_revoke(actor=request.user, invitation=invitation)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Invitation withdrawn."))
    return redirect("spaces:members", community_slug=community_slug, space_slug=space_slug)


@require_http_methods(["GET", "POST"])
@onboarding_redirects
def invitation_detail(request, token):
    """The link in an invitation e-mail. Anyone holding it sees the invitation; accepting needs an account."""
    invitation = Invitation.objects.select_related("space__community", "invited_by").filter(token=token).first()
    if invitation is None:
        raise Http404
    if not request.user.is_authenticated:
        request.session["invitation_token"] = token
        if not services.invitation_problem(invitation):
            # The link came to this address, so signing up with it needs no second verification e-mail.
            get_adapter(request).stash_verified_email(request, invitation.email)
        signup = reverse("account_signup") + f"?next={request.path}"
        login = reverse("account_login") + f"?next={request.path}"
        problem = services.invitation_problem(invitation)
        return render(
            request,
            "spaces/invitation_detail.html",
            {"invitation": invitation, "problem": problem, "signup_url": signup, "login_url": login},
        )
    if request.method == "POST":
        try:
            services.invitation_accept(actor=request.user, token=token)
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            request.session.pop("invitation_token", None)
            messages.success(request, _("Welcome to %s!") % invitation.space.name)
            return redirect(invitation.space)
    problem = services.invitation_problem(invitation, request.user)
    if invitation.status == InvitationStatus.ACCEPTED and invitation.accepted_by_id == request.user.pk:
        return redirect(invitation.space)
    return render(request, "spaces/invitation_detail.html", {"invitation": invitation, "problem": problem})


# --- Managing members ---------------------------------------------------------------------------------------------
def _membership(space, user_id) -> SpaceMembership:
    return get_object_or_404(
        SpaceMembership.objects.select_related("user", "space__community"), space=space, user_id=user_id
    )


def _back_to_members(space):
    return redirect("spaces:members", community_slug=space.community.slug, space_slug=space.slug)


@login_required
@require_POST
def member_change_role(request, community_slug, space_slug, user_id):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="moderate")
    membership = _membership(space, user_id)
    form = forms.RoleForm(request.POST, roles=permissions.assignable_roles(request.user, space))
    if not form.is_valid():
        messages.error(request, _("Choose one of the roles you may give."))
        return _back_to_members(space)
    try:
        services.membership_change_role(actor=request.user, membership=membership, role=form.cleaned_data["role"])
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("%s's role was changed.") % membership.user.public_name)
    return _back_to_members(space)


@login_required
@require_POST
def member_remove(request, community_slug, space_slug, user_id):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="moderate")
    membership = _membership(space, user_id)
    try:
        services.membership_remove(actor=request.user, membership=membership)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("%s was removed from the space.") % membership.user.public_name)
    return _back_to_members(space)


@login_required
@require_POST
def member_ban(request, community_slug, space_slug, user_id):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="moderate")
    target = get_object_or_404(User, pk=user_id)
    form = forms.BanForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.member_ban(actor=request.user, space=space, user=target, reason=reason)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("%s was banned from the space.") % target.public_name)
    return _back_to_members(space)


@login_required
@require_POST
def member_unban(request, community_slug, space_slug, ban_id):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="moderate")
    ban = get_object_or_404(SpaceBan.objects.select_related("user"), pk=ban_id, space=space)
    services.member_unban(actor=request.user, ban=ban)
    messages.success(request, _("The ban on %s was lifted.") % ban.user.public_name)
    return _back_to_members(space)
