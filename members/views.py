from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from analytics.selectors import POINTS_DEFINITIONS, profile_engagement
from communities.models import Community, CommunityMembership, IntroAnswer
from communities.permissions import can_see_onboarding_answers
from copapp.utils import safe_next
from members import selectors, services, services_follow
from members.forms import AccountDeleteForm, DirectoryFilterForm, ProfileForm
from members.language import LANGUAGE_SESSION_KEY
from members.middleware import TZ_SESSION_KEY
from members.models import OrganisationType, Profile
from members.permissions_follow import can_follow
from spaces.models import Space

User = get_user_model()


@login_required
def directory(request):
    form = DirectoryFilterForm(
        request.GET or None,
        expertise_choices=selectors.directory_expertise_choices(),
        community_choices=selectors.directory_community_choices(request.user),
    )
    filters = form.filters()
    organisation_type = request.GET.get("organisation_type", "")
    if organisation_type not in OrganisationType.values:
        organisation_type = ""
    members = selectors.member_directory(organisation_type=organisation_type, **filters)
    page = Paginator(members, 24).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "organisation_types": OrganisationType.choices,
        "organisation_type": organisation_type,
        "expertise_id": filters["expertise_id"],
        "community_slug": filters["community_slug"],
        "filter_query": params.urlencode(),
    }
    template = "members/partials/directory_results.html" if request.htmx else "members/directory.html"
    return render(request, template, context)


@login_required
def profile(request, username):
    member = selectors.profile_member(request.user, username)
    if member is None:
        raise Http404
    communities = list(
        CommunityMembership.objects.filter(user=member).select_related("community").order_by("community__name")
    )
    # Introductions are written at onboarding, before the member joins any space (and so before any membership).
    answer_communities = [
        community.pk
        for community in Community.objects.filter(onboardings__user=member).distinct()
        if can_see_onboarding_answers(request.user, community, member)
    ]
    answers = (
        IntroAnswer.objects.filter(user=member, question__community_id__in=answer_communities)
        .select_related("question__community")
        .order_by("question__community__name", "question__position")
    )
    spaces = Space.objects.visible_to(request.user).filter(memberships__user=member).select_related("community")
    engagement = [
        row for row in profile_engagement(member, request.user, memberships=communities) if row.points or row.badge
    ]
    context = {
        "engagement": engagement,
        "shows_points": any(row.points for row in engagement),
        "points_definitions": POINTS_DEFINITIONS,
        "member": member,
        "profile": getattr(member, "profile", None),
        "communities": communities,
        "answers": answers,
        "spaces": spaces,
        "is_me": member.pk == request.user.pk,
        "can_follow": can_follow(request.user, member, blocked=member.blocked_by_me or member.blocks_me),
    }
    return render(request, "members/profile.html", context)


# --- Following members (issue 9, item 2) ----------------------------------------------------------------------
def _follow_response(request, member, error: str = ""):
    """The follow button again for htmx (with the refusal, if any), else back where the member was."""
    if request.htmx:
        member = selectors.profile_member(request.user, member.username)
        context = {
            "member": member,
            "can_follow": can_follow(request.user, member, blocked=member.blocked_by_me or member.blocks_me),
            "next": safe_next(request, member.get_absolute_url()),
            "error": error,
        }
        return render(request, "members/partials/follow_button.html", context)
    if error:
        messages.error(request, error)
    return redirect(safe_next(request, member.get_absolute_url()))


@login_required
@require_POST
def member_follow(request, username):
    member = get_object_or_404(selectors.listed_members(), username=username)
    try:
        services_follow.follow_create(actor=request.user, member=member)
    except ValidationError as exc:
        return _follow_response(request, member, error=" ".join(exc.messages))
    if not request.htmx:
        messages.success(request, _("You follow %(name)s.") % {"name": member.public_name})
    return _follow_response(request, member)


@login_required
@require_POST
def member_unfollow(request, username):
    member = get_object_or_404(User.objects.filter(deleted_at__isnull=True), username=username)
    if services_follow.follow_delete(actor=request.user, member=member) and not request.htmx:
        messages.success(request, _("You no longer follow %(name)s.") % {"name": member.public_name})
    return _follow_response(request, member)


@login_required
@require_safe
def following_list(request):
    page = Paginator(selectors.following_of(request.user), 24).get_page(request.GET.get("page"))
    return render(request, "members/following.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request):
    profile_obj, _created = Profile.objects.get_or_create(user=request.user)
    form = ProfileForm(request.POST or None, request.FILES or None, instance=profile_obj)
    if request.method == "POST" and form.is_valid():
        services.profile_update(
            actor=request.user,
            user=request.user,
            display_name=form.cleaned_data["display_name"],
            expertise=form.expertise_list(),
            **form.profile_fields(),
        )
        request.session[TZ_SESSION_KEY] = form.cleaned_data["time_zone"]
        request.session[LANGUAGE_SESSION_KEY] = form.cleaned_data["preferred_language"]
        messages.success(request, _("Profile saved."))
        return redirect("members:profile", username=request.user.username)
    if request.method == "POST":
        profile_obj.refresh_from_db()
    return render(request, "members/profile_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request):
    form = AccountDeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = request.user
        try:
            services.account_delete(actor=user, user=user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return render(request, "members/account_delete.html", {"form": form})
        logout(request)
        messages.success(request, _("Your account was deleted. What you wrote stays, shown as by a former member."))
        return redirect("home")
    return render(request, "members/account_delete.html", {"form": form})
