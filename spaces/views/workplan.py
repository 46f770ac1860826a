"""The work plan of a space: the page (product, milestones), editing the product, milestones and their status.
Reading needs the right to read the space; the rules for writing are in permissions.py."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from spaces import permissions, selectors_workplan
from spaces.forms_workplan import MilestoneForm, MilestoneStatusForm, WorkPlanForm
from spaces.models import MilestoneStatus, Space, WorkPlan
from spaces.services import workplan as workplan_services
from spaces.views.membership import _error_text, _form_errors, _space_context


def _work_plan_url(space: Space) -> str:
    return reverse("spaces:work-plan", kwargs={"community_slug": space.community.slug, "space_slug": space.slug})


def _editable_space(request, community_slug, space_slug) -> Space:
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="read")
    if not permissions.can_edit_work_plan(request.user, space):
        raise PermissionDenied
    return space


@require_GET
def work_plan(request, community_slug, space_slug):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="read")
    context = _space_context(request, space)
    context.update(
        summary=selectors_workplan.work_plan_summary(space, request.user),
        milestones=selectors_workplan.milestones_for(request.user, space),
        statuses=MilestoneStatus.choices,
        tab="work-plan",
    )
    return render(request, "spaces/work_plan.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def work_plan_edit(request, community_slug, space_slug):
    space = _editable_space(request, community_slug, space_slug)
    plan = WorkPlan.objects.filter(space=space).first()
    initial = {"product": plan.product, "description": plan.description, "due_date": plan.due_date} if plan else {}
    form = WorkPlanForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            workplan_services.work_plan_update(actor=request.user, space=space, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Work plan saved."))
            return redirect(_work_plan_url(space))
    context = _space_context(request, space)
    context.update(form=form, tab="work-plan")
    return render(request, "spaces/work_plan_form.html", context)


def _milestone_form(request, space: Space, milestone=None) -> MilestoneForm:
    initial = {}
    if milestone is not None:
        initial = {
            "title": milestone.title,
            "due_date": milestone.due_date,
            "owner": milestone.owner_id,
            "status": milestone.status,
            "linked_items": list(
                milestone.linked_items.filter(
                    pk__in=selectors_workplan.visible_linkable_items(request.user, space).values("pk")
                ).values_list("pk", flat=True)
            ),
        }
    return MilestoneForm(
        request.POST or None,
        initial=initial,
        owners=selectors_workplan.space_member_choices(space, milestone.owner_id if milestone else None),
        linkable=selectors_workplan.visible_linkable_items(request.user, space),
    )


@login_required
@require_http_methods(["GET", "POST"])
def milestone_create(request, community_slug, space_slug):
    space = _editable_space(request, community_slug, space_slug)
    form = _milestone_form(request, space)
    if request.method == "POST" and form.is_valid():
        try:
            workplan_services.milestone_create(actor=request.user, space=space, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Milestone added."))
            return redirect(_work_plan_url(space))
    context = _space_context(request, space)
    context.update(form=form, creating=True, tab="work-plan")
    return render(request, "spaces/milestone_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def milestone_edit(request, community_slug, space_slug, milestone_id):
    space = _editable_space(request, community_slug, space_slug)
    milestone = selectors_workplan.get_milestone_for_user(request.user, space, milestone_id)
    form = _milestone_form(request, space, milestone)
    if request.method == "POST" and form.is_valid():
        try:
            workplan_services.milestone_edit(actor=request.user, milestone=milestone, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Milestone saved."))
            return redirect(_work_plan_url(space))
    context = _space_context(request, space)
    context.update(form=form, milestone=milestone, tab="work-plan")
    return render(request, "spaces/milestone_form.html", context)


@login_required
@require_POST
def milestone_delete(request, community_slug, space_slug, milestone_id):
    space = _editable_space(request, community_slug, space_slug)
    milestone = selectors_workplan.get_milestone_for_user(request.user, space, milestone_id)
    workplan_services.milestone_delete(actor=request.user, milestone=milestone)
    messages.success(request, _("Milestone “%s” deleted.") % milestone.title)
    return redirect(_work_plan_url(space))


@login_required
@require_POST
def milestone_status(request, community_slug, space_slug, milestone_id):
    """Moderators, and a milestone's owner, move it along (planned, in progress, done, dropped)."""
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="read")
    milestone = selectors_workplan.get_milestone_for_user(request.user, space, milestone_id)
    if not permissions.can_update_milestone(request.user, milestone):
        raise PermissionDenied
    form = MilestoneStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a status."))
        return redirect(_work_plan_url(space))
    try:
        workplan_services.milestone_set_status(
            actor=request.user, milestone=milestone, status=form.cleaned_data["status"]
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        status = milestone.get_status_display()
        messages.success(request, _("“%(title)s”: %(status)s.") % {"title": milestone.title, "status": status})
    return redirect(f"{_work_plan_url(space)}#milestone-{milestone.pk}")
