"""Events: list (upcoming, past), create and edit, registration with a waiting list, registration questions,
the organisers' registrant list with CSV and attendance, and the event's iCalendar file.

Permission checks happen in the fetch helper (404 unseen, 403 seen but not allowed); templates get booleans.
"""

import csv
import zoneinfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from spaces import permissions, selectors_events
from spaces.forms_events import (
    EventForm,
    QuestionFormSet,
    RegistrationForm,
    parse_attendance,
    question_initial,
)
from spaces.models import Event, Registration, RegistrationStatus
from spaces.services import events as event_services
from spaces.views.membership import _error_text, _form_errors, _space_context, onboarding_redirects
from spaces.views.tracking import record_item_view, record_space_visit

PAGE_SIZE = 20


def _event_url(name: str, event: Event) -> str:
    return reverse(
        f"spaces:{name}",
        kwargs={"community_slug": event.space.community.slug, "space_slug": event.space.slug, "event_slug": event.slug},
    )


def _event_context(request, event: Event) -> dict:
    context = _space_context(request, event.space)
    context.update(
        event=event,
        can_organise=permissions.can_organise_event(request.user, event),
        can_trash=permissions.can_trash_item(request.user, event.item),
        tab="events",
    )
    return context


def _detail_context(request, event: Event, form: RegistrationForm | None = None) -> dict:
    user = request.user
    registration = selectors_events.my_registration(event, user)
    questions = selectors_events.event_questions(event)
    context = _event_context(request, event)
    can_register = permissions.can_register(user, event)
    closed = selectors_events.registration_closed_reason(event)
    context.update(
        registration=registration,
        waitlist_position=selectors_events.waitlist_position(registration),
        can_register=can_register,
        registration_closed=closed,
        can_cancel=bool(
            can_register
            and registration is not None
            and registration.status != RegistrationStatus.NOT_GOING
            and event.ends_at > timezone.now()
        ),
        show_meeting_link=bool(event.online_url) and permissions.can_see_meeting_link(user, event, registration),
        places_left=max(event.capacity - event.going_count, 0) if event.capacity is not None else None,
        show_event_zone=event.timezone != timezone.get_current_timezone_name(),
        registration_form=form
        or (RegistrationForm(questions=questions, registration=registration) if can_register and not closed else None),
    )
    return context


# --- List, create, edit -----------------------------------------------------------------------------------------
@require_GET
def event_list(request, community_slug, space_slug):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="read")
    when = request.GET.get("when", "upcoming")
    if when not in selectors_events.WHEN:
        when = "upcoming"
    page = Paginator(selectors_events.event_list(request.user, space, when=when), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = _space_context(request, space)
    context.update(
        page_obj=page,
        events=selectors_events.attach_my_status(list(page.object_list), request.user, space),
        when=when,
        tabs=[("upcoming", _("Upcoming")), ("past", _("Past"))],
        can_create=permissions.can_create_event(request.user, space),
        tab="events",
    )
    record_space_visit(request, space)
    return render(request, "spaces/event_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@onboarding_redirects
def event_create(request, community_slug, space_slug):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="read")
    if not permissions.can_create_event(request.user, space):
        raise PermissionDenied
    form = EventForm(request.POST or None, initial={"time_zone": timezone.get_current_timezone_name()})
    if request.method == "POST" and form.is_valid():
        try:
            event = event_services.event_create(actor=request.user, space=space, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Event created. Add registration questions if you need answers."))
            return redirect(event)
    context = _space_context(request, space)
    context.update(form=form, creating=True, tab="events")
    return render(request, "spaces/event_form.html", context)


def _local(value, zone_name: str):
    """A stored UTC moment as the naive wall-clock time of the event's zone, for the edit form."""
    if value is None:
        return None
    return timezone.localtime(value, zoneinfo.ZoneInfo(zone_name)).replace(tzinfo=None)


@login_required
@require_http_methods(["GET", "POST"])
def event_edit(request, community_slug, space_slug, event_slug):
    event = selectors_events.get_event_for_user(request.user, community_slug, space_slug, event_slug, "organise")
    initial = {
        "title": event.title,
        "description": event.description,
        "starts_at": _local(event.starts_at, event.timezone),
        "ends_at": _local(event.ends_at, event.timezone),
        "time_zone": event.timezone,
        "venue": event.venue,
        "online_url": event.online_url,
        "capacity": event.capacity,
        "registration_deadline": _local(event.registration_deadline, event.timezone),
    }
    form = EventForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            event_services.event_edit(actor=request.user, event=event, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Event saved."))
            return redirect(event)
    context = _event_context(request, event)
    context.update(form=form)
    return render(request, "spaces/event_form.html", context)


# --- Detail, registration ----------------------------------------------------------------------------------------
@require_GET
def event_detail(request, community_slug, space_slug, event_slug):
    event = selectors_events.get_event_for_user(request.user, community_slug, space_slug, event_slug)
    context = _detail_context(request, event)
    record_item_view(request, event, "event_view")
    return render(request, "spaces/event_detail.html", context)


def _registered_message(registration: Registration) -> str:
    return {
        RegistrationStatus.GOING: _("You are registered as going."),
        RegistrationStatus.MAYBE: _("You are registered as maybe."),
        RegistrationStatus.WAITLISTED: _(
            "The event is full: you are on the waiting list and will move up by yourself if a place frees."
        ),
        RegistrationStatus.NOT_GOING: _("Thank you for letting the organisers know you are not going."),
    }[registration.status]


@login_required
@require_POST
@onboarding_redirects
def event_register(request, community_slug, space_slug, event_slug):
    """Going / maybe / not going with answers; ``status=not_going`` alone is the cancel button."""
    event = selectors_events.get_event_for_user(request.user, community_slug, space_slug, event_slug, "register")
    questions = selectors_events.event_questions(event)
    registration = selectors_events.my_registration(event, request.user)
    form = RegistrationForm(request.POST, questions=questions, registration=registration)
    if form.is_valid():
        try:
            registration = event_services.event_registration_set(
                actor=request.user, event=event, status=form.cleaned_data["status"], answers=form.answers()
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _registered_message(registration))
            return redirect(event)
    if form.non_field_errors():  # closed, or the event is over: nothing to correct in the form
        messages.error(request, " ".join(form.non_field_errors()))
        return redirect(event)
    messages.error(request, _("Your answer was not saved: check the form below."))
    return render(request, "spaces/event_detail.html", _detail_context(request, event, form), status=400)


# --- Organisers --------------------------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def event_questions(request, community_slug, space_slug, event_slug):
    event = selectors_events.get_event_for_user(request.user, community_slug, space_slug, event_slug, "organise")
    initial = question_initial(selectors_events.event_questions(event))
    formset = QuestionFormSet(request.POST or None, initial=initial, prefix="questions")
    error = ""
    if request.method == "POST" and formset.is_valid():
        try:
            event_services.event_questions_set(actor=request.user, event=event, questions=formset.questions())
        except ValidationError as exc:
            error = _error_text(exc)
        else:
            messages.success(request, _("Registration questions saved."))
            return redirect(event)
    context = _event_context(request, event)
    context.update(formset=formset, questions_error=error)
    return render(request, "spaces/event_questions.html", context, status=400 if error else 200)


@login_required
@require_GET
def event_registrants(request, community_slug, space_slug, event_slug):
    event = selectors_events.get_event_for_user(request.user, community_slug, space_slug, event_slug, "organise")
    questions = selectors_events.event_questions(event)
    context = _event_context(request, event)
    context.update(
        questions=questions,
        registrations=selectors_events.event_registrants(event, questions),
        can_mark_attendance=event.starts_at <= timezone.now(),
    )
    return render(request, "spaces/event_registrants.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
@require_GET
def event_registrants_csv(request, community_slug, space_slug, event_slug):
    event = selectors_events.get_event_for_user(request.user, community_slug, space_slug, event_slug, "organise")
    writer = csv.writer(_Echo())
    body = "".join(writer.writerow(row) for row in selectors_events.registrant_rows(event))
    response = HttpResponse("\ufeff" + body, content_type="text/csv; charset=utf-8")  # BOM: spreadsheets read UTF-8
    response["Content-Disposition"] = f'attachment; filename="registrants-{event.pk}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def event_attendance(request, community_slug, space_slug, event_slug):
    event = selectors_events.get_event_for_user(request.user, community_slug, space_slug, event_slug, "organise")
    try:
        changed = event_services.event_attendance_mark(
            actor=request.user, event=event, attended=parse_attendance(request.POST)
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Attendance saved.") if changed else _("Nothing changed."))
    return redirect(_event_url("event-registrants", event))


# --- Calendar ----------------------------------------------------------------------------------------------------
@require_GET
def event_ics(request, community_slug, space_slug, event_slug):
    event = selectors_events.get_event_for_user(request.user, community_slug, space_slug, event_slug)
    body = selectors_events.event_ics(
        event,
        url=request.build_absolute_uri(event.get_absolute_url()),
        include_meeting_link=bool(event.online_url) and permissions.can_see_meeting_link(request.user, event),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slugify(event.title)[:60] or "event"}.ics"'
    response["Cache-Control"] = "private, no-store"
    return response
