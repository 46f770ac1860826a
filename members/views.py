from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from analytics.selectors import POINTS_DEFINITIONS, profile_engagement
from communities.models import CommunityMembership, IntroAnswer
from communities.permissions import can_see_onboarding_answers
from members import selectors, services
from members.forms import AccountDeleteForm, DirectoryFilterForm, ProfileForm
from members.language import LANGUAGE_SESSION_KEY
from members.middleware import TZ_SESSION_KEY
from members.models import OrganisationType, Profile
from spaces.models import Space

User = get_user_model()


@login_required
def directory(request):
    form = DirectoryFilterForm(request.GET or None)
    query = country = organisation_type = ""
    if form.is_valid():
        query, country = form.cleaned_data["q"], form.cleaned_data["country"]
    organisation_type = request.GET.get("organisation_type", "")
    if organisation_type not in OrganisationType.values:
        organisation_type = ""
    members = selectors.member_directory(query=query, country=country, organisation_type=organisation_type)
    page = Paginator(members, 24).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "organisation_types": OrganisationType.choices,
        "organisation_type": organisation_type,
        "filter_query": params.urlencode(),
    }
    template = "members/partials/directory_results.html" if request.htmx else "members/directory.html"
    return render(request, template, context)


@login_required
def profile(request, username):
    member = get_object_or_404(User.objects.select_related("profile"), username=username, deleted_at__isnull=True)
    communities = list(
        CommunityMembership.objects.filter(user=member).select_related("community").order_by("community__name")
    )
    answer_communities = [
        m.community_id for m in communities if can_see_onboarding_answers(request.user, m.community, member)
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
    }
    return render(request, "members/profile.html", context)


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
