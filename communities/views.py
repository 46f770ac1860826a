import csv
from itertools import chain

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from analytics.recording import record_visit
from communities import permissions, selectors, services
from communities.forms import CommunityForm, CommunityRoleForm, OnboardingForm
from communities.models import CommunityMembership
from copapp.utils import add_service_errors as _form_errors
from copapp.utils import safe_next

User = get_user_model()


def community_list(request):
    return render(
        request,
        "communities/community_list.html",
        {
            "communities": selectors.communities_with_counts(),
            "can_create": permissions.can_create_community(request.user),
        },
    )


def community_detail(request, community_slug):
    from spaces.selectors import spaces_listed_for

    community = permissions.get_community_for_user(request.user, community_slug)
    context = {
        "community": community,
        "spaces": spaces_listed_for(request.user, community),
        "leaders": selectors.community_leaders(community),
        "can_create_space": permissions.can_create_space(request.user, community),
        "can_administer": permissions.can_administer_community(request.user, community),
        "can_moderate": permissions.can_moderate_community(request.user, community),
        "is_member": permissions.community_role(request.user, community) is not None,
        "onboarded": services.onboarding_complete(user=request.user, community=community),
    }
    if request.method == "GET" and not request.htmx:
        record_visit(actor=request.user, community=community)
    return render(request, "communities/community_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def community_create(request):
    if not permissions.can_create_community(request.user):
        raise PermissionDenied
    form = CommunityForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k not in ("intro_questions", "logo")}
        try:
            community = services.community_create(actor=request.user, intro_questions=form.question_list(), **data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            if form.cleaned_data.get("logo"):
                services.community_update(actor=request.user, community=community, logo=form.cleaned_data["logo"])
            messages.success(request, _("Community created."))
            return redirect(community)
    return render(request, "communities/community_form.html", {"form": form, "creating": True})


@login_required
@require_http_methods(["GET", "POST"])
def community_settings(request, community_slug):
    community = permissions.get_community_for_user(request.user, community_slug, action="administer")
    form = CommunityForm(request.POST or None, request.FILES or None, instance=community)
    if request.method == "POST":
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "intro_questions" and k in form.changed_data}
            try:
                if data:
                    services.community_update(actor=request.user, community=community, **data)
                services.intro_questions_set(actor=request.user, community=community, questions=form.question_list())
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Community settings saved."))
                return redirect(community)
        community.refresh_from_db()
    return render(request, "communities/community_form.html", {"form": form, "community": community})


@login_required
@require_http_methods(["GET", "POST"])
def onboarding(request, community_slug):
    community = permissions.get_community_for_user(request.user, community_slug)
    questions = community.intro_questions.all()
    form = OnboardingForm(request.POST or None, questions=questions)
    if request.method == "POST" and form.is_valid():
        try:
            services.onboarding_submit(
                actor=request.user,
                community=community,
                accept_guidelines=form.cleaned_data["accept_guidelines"],
                answers=form.answers(),
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Thank you! You can now take part in %s.") % community.name)
            return redirect(safe_next(request, community.get_absolute_url()))
    context = {"community": community, "form": form, "next": safe_next(request, "")}
    return render(request, "communities/onboarding.html", context)


@login_required
def community_members(request, community_slug):
    community = permissions.get_community_for_user(request.user, community_slug, action="moderate")
    context = {
        "community": community,
        "memberships": selectors.community_members(community),
        "can_administer": permissions.can_administer_community(request.user, community),
        "can_export": permissions.can_export_member_list(request.user, community),
        "role_form": CommunityRoleForm(),
    }
    return render(request, "communities/community_members.html", context)


@login_required
@require_GET
def community_members_csv(request, community_slug):
    """The member list with profile fields and onboarding answers (issue 8), streamed row by row."""
    from communities.exports import member_list_rows
    from copapp.exports import Echo

    community = permissions.get_community_for_user(request.user, community_slug)
    if not permissions.can_export_member_list(request.user, community):
        raise PermissionDenied
    writer = csv.writer(Echo())
    rows = (writer.writerow(row) for row in member_list_rows(community))
    # A BOM first: spreadsheets then read the file as UTF-8.
    response = StreamingHttpResponse(chain(["\ufeff"], rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{community.slug}-members.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def community_member_role(request, community_slug, user_id):
    community = permissions.get_community_for_user(request.user, community_slug, action="administer")
    member = get_object_or_404(CommunityMembership.objects.select_related("user"), community=community, user_id=user_id)
    form = CommunityRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a community role."))
    else:
        try:
            services.community_role_set(
                actor=request.user, community=community, user=member.user, role=form.cleaned_data["role"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("%s's community role was changed.") % member.user.public_name)
    return redirect("communities:members", community_slug=community.slug)


@login_required
@require_POST
def community_focal_point(request, community_slug, user_id):
    community = permissions.get_community_for_user(request.user, community_slug, action="administer")
    member = get_object_or_404(User, pk=user_id)
    flag = request.POST.get("is_focal_point") == "1"
    try:
        services.focal_point_set(actor=request.user, community=community, user=member, is_focal_point=flag)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Focal point updated."))
    return redirect("communities:members", community_slug=community.slug)
