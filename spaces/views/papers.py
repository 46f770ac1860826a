"""Papers and abstracts submitted to events: submit, edit, withdraw, review, decide, download; and files attached
to an event by its organisers. Permission checks happen in the fetch helpers (404 unseen, 403 seen but not
allowed); deadlines in the services. Paper files leave the server only through ``paper_download``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from spaces import permissions, selectors_papers
from spaces.forms_papers import EventFileForm, PaperDecisionForm, PaperForm, PaperSettingsForm
from spaces.models import Event, Paper, PaperStatus
from spaces.services import papers as paper_services
from spaces.views.files import FILE_CSP, _refuse_oversized
from spaces.views.membership import _error_text, _form_errors, _space_context, onboarding_redirects


def _event_kwargs(event: Event) -> dict:
    return {"community_slug": event.space.community.slug, "space_slug": event.space.slug, "event_slug": event.slug}


def paper_url(paper: Paper, name: str = "paper-detail") -> str:
    return reverse(f"spaces:{name}", kwargs={**_event_kwargs(paper.event), "paper_id": paper.pk})


def _event_context(request, event: Event, **extra) -> dict:
    context = _space_context(request, event.space)
    context.update(event=event, tab="events", **extra)
    return context


def _paper_context(request, paper: Paper, **extra) -> dict:
    user, event = request.user, paper.event
    can_review = permissions.can_review_papers(user, event)
    return _event_context(
        request,
        event,
        paper=paper,
        is_author=user.is_authenticated and paper.author_id == user.pk,
        can_edit_paper=permissions.can_edit_paper(user, paper),
        can_review=can_review,
        can_decide=can_review and paper.status != PaperStatus.WITHDRAWN,
        decision_form=extra.pop("decision_form", None) or PaperDecisionForm(),
        **extra,
    )


# --- Submitting and editing (multipart: the size is checked before the body is read) ------------------------
@csrf_exempt
@login_required
@require_http_methods(["GET", "POST"])
def paper_submit(request, community_slug, space_slug, event_slug):
    return _refuse_oversized(request) or _paper_submit(request, community_slug, space_slug, event_slug)


@csrf_protect
@onboarding_redirects
def _paper_submit(request, community_slug, space_slug, event_slug):
    event = selectors_papers.get_event_for_user(request.user, community_slug, space_slug, event_slug)
    registration = selectors_papers.user_registration(event, request.user)
    if not permissions.can_submit_paper(request.user, event, registration or selectors_papers.no_registration(event)):
        raise PermissionDenied
    closed = paper_services.papers_closed_reason(event)
    if closed and request.method == "GET":
        messages.error(request, closed)
        return redirect(event)
    # After the deadline a POST is refused by the service and the form comes back with the text typed.
    form = PaperForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            paper = paper_services.paper_submit(
                actor=request.user, event=event, title=data["title"], abstract=data["abstract"], upload=data["file"]
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Your paper was submitted. The organisers will let you know their decision."))
            return redirect(paper_url(paper))
    status = 400 if request.method == "POST" else 200
    return render(request, "spaces/paper_form.html", _event_context(request, event, form=form), status=status)


@csrf_exempt
@login_required
@require_http_methods(["GET", "POST"])
def paper_edit(request, community_slug, space_slug, event_slug, paper_id):
    return _refuse_oversized(request) or _paper_edit(request, community_slug, space_slug, event_slug, paper_id)


@csrf_protect
def _paper_edit(request, community_slug, space_slug, event_slug, paper_id):
    event = selectors_papers.get_event_for_user(request.user, community_slug, space_slug, event_slug)
    paper = selectors_papers.get_paper_for_user(request.user, event, paper_id, action="edit")
    closed = paper_services.papers_closed_reason(event)
    if closed and request.method == "GET":
        messages.error(request, closed)
        return redirect(paper_url(paper))
    initial = {"title": paper.title, "abstract": paper.abstract}
    form = PaperForm(
        request.POST or None, request.FILES or None, initial=initial, editing=True, has_file=bool(paper.file)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            paper_services.paper_edit(
                actor=request.user,
                paper=paper,
                title=data["title"],
                abstract=data["abstract"],
                upload=data["file"],
                remove_file=data.get("remove_file", False),
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Your paper was saved."))
            return redirect(paper_url(paper))
    status = 400 if request.method == "POST" else 200
    context = _event_context(request, event, form=form, paper=paper)
    return render(request, "spaces/paper_form.html", context, status=status)


@login_required
@require_POST
def paper_withdraw(request, community_slug, space_slug, event_slug, paper_id):
    event = selectors_papers.get_event_for_user(request.user, community_slug, space_slug, event_slug)
    paper = selectors_papers.get_paper_for_user(request.user, event, paper_id, action="edit")
    paper_services.paper_withdraw(actor=request.user, paper=paper)
    messages.success(request, _("Your paper was withdrawn."))
    return redirect(paper_url(paper))


# --- Reading ------------------------------------------------------------------------------------------------
@require_safe
def paper_detail(request, community_slug, space_slug, event_slug, paper_id):
    event = selectors_papers.get_event_for_user(request.user, community_slug, space_slug, event_slug)
    paper = selectors_papers.get_paper_for_user(request.user, event, paper_id)
    return render(request, "spaces/paper_detail.html", _paper_context(request, paper))


@require_safe
def paper_download(request, community_slug, space_slug, event_slug, paper_id, filename):
    """The paper's file, as an attachment, for whoever may see the paper. The name in the URL is for people."""
    event = selectors_papers.get_event_for_user(request.user, community_slug, space_slug, event_slug)
    paper = selectors_papers.get_paper_for_user(request.user, event, paper_id)
    if not paper.file:
        raise Http404
    try:
        handle = paper.file.storage.open(paper.file.name, "rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, as_attachment=True, filename=paper.file_name, content_type=paper.file_content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-cache"
    return response


# --- Review -------------------------------------------------------------------------------------------------
@login_required
@require_safe
def paper_review(request, community_slug, space_slug, event_slug):
    """Every submission to the event, for its reviewers, filtered by status (awaiting review by default)."""
    event = selectors_papers.get_event_for_user(request.user, community_slug, space_slug, event_slug, action="review")
    status = request.GET.get("status", "submitted")
    if status not in selectors_papers.REVIEW_FILTERS:
        status = "submitted"
    counts = selectors_papers.review_counts(event)
    labels = {
        "submitted": _("Awaiting review"),
        "accepted": _("Accepted"),
        "declined": _("Declined"),
        "withdrawn": _("Withdrawn"),
        "all": _("All"),
    }
    context = _event_context(
        request,
        event,
        papers=selectors_papers.papers_for_review(event, status),
        status=status,
        filters=[(key, labels[key], counts[key]) for key in selectors_papers.REVIEW_FILTERS],
    )
    return render(request, "spaces/paper_review.html", context)


@login_required
@require_POST
def paper_decide(request, community_slug, space_slug, event_slug, paper_id):
    event = selectors_papers.get_event_for_user(request.user, community_slug, space_slug, event_slug)
    paper = selectors_papers.get_paper_for_user(request.user, event, paper_id, action="decide")
    form = PaperDecisionForm(request.POST)
    if form.is_valid():
        accept = form.cleaned_data["decision"] == "accept"
        try:
            paper_services.paper_decide(
                actor=request.user, paper=paper, accept=accept, message=form.cleaned_data["message"]
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Paper accepted.") if accept else _("Paper declined."))
            review = reverse("spaces:paper-review", kwargs=_event_kwargs(event))
            return redirect(review)
    context = _paper_context(request, paper, decision_form=form)
    return render(request, "spaces/paper_detail.html", context, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def paper_settings(request, community_slug, space_slug, event_slug):
    """Organisers open or close submissions and set the deadline (a wall-clock time in the event's zone)."""
    event = selectors_papers.get_event_for_user(request.user, community_slug, space_slug, event_slug, action="organise")
    deadline = event.papers_deadline
    if deadline is not None:
        deadline = timezone.localtime(deadline, paper_services.event_zone(event)).replace(tzinfo=None)
    form = PaperSettingsForm(
        request.POST or None, initial={"papers_open": event.papers_open, "papers_deadline": deadline}
    )
    if request.method == "POST" and form.is_valid():
        try:
            paper_services.event_papers_configure(actor=request.user, event=event, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(
                request, _("Paper submissions are open.") if event.papers_open else _("Paper submissions are closed.")
            )
            return redirect(f"{event.get_absolute_url()}#papers")
    status = 400 if request.method == "POST" else 200
    return render(request, "spaces/paper_settings.html", _event_context(request, event, form=form), status=status)


# --- Files attached to the event ------------------------------------------------------------------------------
@csrf_exempt
@login_required
@require_POST
def event_file_upload(request, community_slug, space_slug, event_slug):
    return _refuse_oversized(request) or _event_file_upload(request, community_slug, space_slug, event_slug)


@csrf_protect
@onboarding_redirects
def _event_file_upload(request, community_slug, space_slug, event_slug):
    event = selectors_papers.get_event_for_user(request.user, community_slug, space_slug, event_slug, action="organise")
    form = EventFileForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            asset = paper_services.event_file_attach(
                actor=request.user,
                event=event,
                upload=form.cleaned_data["file"],
                description=form.cleaned_data["description"],
            )
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, _("“%s” was attached to the event.") % asset.name)
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect(f"{event.get_absolute_url()}#event-files")
