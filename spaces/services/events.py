"""Every write to events: create and edit, registration with a capacity and a waiting list, registration
questions, attendance, and the trash.

Times. The organiser types wall-clock times in the event's own IANA zone; they are stored in UTC. A wall-clock
time that does not exist (the hour skipped when the clocks go forward) or that happens twice (the hour repeated
when they go back) is refused with a message naming the change, never guessed: "02:30 on the night Geneva
changes its clocks" does not name one instant, and a wrong guess would send everyone an hour early or late.

Places. Every registration change locks the event row (``select_for_update``) and counts under that lock, so
two people taking the last place at once cannot both get it: the second waits for the first to commit, then
finds the event full and goes on the waiting list. When a place frees (someone going cancels or changes to
maybe, the organiser raises the capacity), the longest-waiting people move up in the same transaction. The
counters on ``Event`` are written with ``QuerySet.update`` from a count made under the same lock.
"""

from __future__ import annotations

import functools
import zoneinfo
from datetime import UTC, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Count
from django.utils import formats, timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from analytics.recording import record_activity
from communities.services import onboarding_ensure
from copapp.markdown import render_markdown
from spaces import permissions
from spaces.models import (
    Event,
    Item,
    ItemKind,
    Registration,
    RegistrationQuestion,
    RegistrationQuestionKind,
    RegistrationStatus,
    Space,
)
from spaces.selectors_events import registration_closed_reason
from spaces.services.moderation import log_moderator_edit, spam_check, spam_check_edit

from .trash import item_trash

MAX_TITLE = 300
MAX_DESCRIPTION = 100_000
MAX_VENUE = 300
MAX_URL = 500
MAX_CAPACITY = 1_000_000
MAX_ANSWER = 1000
MAX_QUESTIONS = 20
MAX_QUESTION_LABEL = 200
MAX_CHOICES = 50
MAX_CHOICE_LENGTH = 200

GOING, MAYBE, NOT_GOING, WAITLISTED = (
    RegistrationStatus.GOING,
    RegistrationStatus.MAYBE,
    RegistrationStatus.NOT_GOING,
    RegistrationStatus.WAITLISTED,
)
REQUESTABLE = (GOING, MAYBE, NOT_GOING)
# Registration questions are asked of people who come (or may come); "not going" needs no answers.
ANSWERED_BY = (GOING, MAYBE)
EDITABLE = (
    "title",
    "description",
    "starts_at",
    "ends_at",
    "time_zone",
    "venue",
    "online_url",
    "capacity",
    "registration_deadline",
)


# --- Time zones ------------------------------------------------------------------------------------------------
@functools.cache
def zone_names() -> frozenset[str]:
    """The IANA zone names this machine knows (read from disk once)."""
    return frozenset(zoneinfo.available_timezones())


def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    return zoneinfo.ZoneInfo(name) if name in zone_names() else None


def local_to_utc(value: datetime, zone: zoneinfo.ZoneInfo, *, field: str) -> datetime:
    """``value`` read as a wall-clock time in ``zone``, as an aware datetime in UTC.

    An aware ``value`` already names an instant and is only converted. A naive one in a daylight-saving gap
    or overlap raises ValidationError on ``field``, with a message naming the change.
    """
    if timezone.is_aware(value):
        return value.astimezone(UTC)
    earlier, later = value.replace(tzinfo=zone, fold=0), value.replace(tzinfo=zone, fold=1)
    if earlier.utcoffset() != later.utcoffset():
        words = {
            "time": value.strftime("%H:%M"),
            "date": formats.date_format(value, "j F Y"),
            "zone": zone.key,
        }
        # In a gap, the time does not come back unchanged from a round trip through UTC; in an overlap it does.
        if earlier.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != value:
            message = _(
                "%(time)s on %(date)s does not exist in %(zone)s: the clocks go forward that night. "
                "Choose a time outside the change."
            )
        else:
            message = _(
                "%(time)s on %(date)s happens twice in %(zone)s: the clocks go back that night. "
                "Choose a time outside the change."
            )
        raise ValidationError({field: [message % words]})
    return earlier.astimezone(UTC)


def _clean_event(
    *,
    title: str,
    description: str,
    starts_at: datetime | None,
    ends_at: datetime | None,
    time_zone: str,
    venue: str,
    online_url: str,
    capacity: int | None,
    registration_deadline: datetime | None,
) -> dict:
    """The model's values for these inputs, or a ValidationError naming every field that is wrong."""
    errors: dict[str, list[str]] = {}

    def fail(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    title = " ".join((title or "").split())
    if not title:
        fail("title", _("Give the event a title."))
    elif len(title) > MAX_TITLE:
        fail("title", _("Keep the title under %d characters.") % MAX_TITLE)
    description = description or ""
    if len(description) > MAX_DESCRIPTION:
        fail("description", _("Keep the description under %d characters.") % MAX_DESCRIPTION)
    venue = " ".join((venue or "").split())
    if len(venue) > MAX_VENUE:
        fail("venue", _("Keep the venue under %d characters.") % MAX_VENUE)
    online_url = (online_url or "").strip()
    if online_url:
        try:
            URLValidator(schemes=["http", "https"])(online_url)
        except ValidationError:
            fail("online_url", _("Enter the full meeting address, starting with https://."))
        if len(online_url) > MAX_URL:
            fail("online_url", _("Keep the meeting address under %d characters.") % MAX_URL)
    if capacity is not None and not 1 <= capacity <= MAX_CAPACITY:
        fail("capacity", _("Give at least one place, or leave the capacity empty for no limit."))

    zone = _zone(time_zone or "")
    times: dict[str, datetime | None] = {"starts_at": None, "ends_at": None, "registration_deadline": None}
    if zone is None:
        fail("time_zone", _("Choose the time zone the event happens in."))
    else:
        given = {"starts_at": starts_at, "ends_at": ends_at, "registration_deadline": registration_deadline}
        for field, value in given.items():
            if value is None:
                continue
            try:
                times[field] = local_to_utc(value, zone, field=field)
            except ValidationError as exc:
                for message in exc.message_dict[field]:
                    fail(field, message)
    if starts_at is None:
        fail("starts_at", _("Give the date and time the event starts."))
    if ends_at is None:
        fail("ends_at", _("Give the date and time the event ends."))
    start, end, deadline = times["starts_at"], times["ends_at"], times["registration_deadline"]
    if start and end and end <= start:
        fail("ends_at", _("The event must end after it starts."))
    if deadline and end and deadline > end:
        fail("registration_deadline", _("The registration deadline must be before the event ends."))
    if errors:
        raise ValidationError(errors)
    return {
        "title": title,
        "description": description,
        "starts_at": start,
        "ends_at": end,
        "timezone": zone.key,  # type: ignore[union-attr]
        "venue": venue,
        "online_url": online_url,
        "capacity": capacity,
        "registration_deadline": deadline,
    }


def _unique_slug(space: Space, title: str) -> str:
    base = slugify(title, allow_unicode=True)[:70] or "event"
    existing = set(Event.objects.filter(space=space, slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 1
    while slug in existing:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _record(actor, kind: str, event: Event, **extra) -> None:
    record_activity(
        actor=actor, kind=kind, community_id=event.space.community_id, space_id=event.space_id, target=event, **extra
    )


# --- Events ----------------------------------------------------------------------------------------------------
@transaction.atomic
def event_create(
    *,
    actor,
    space: Space,
    title: str,
    starts_at: datetime | None,
    ends_at: datetime | None,
    time_zone: str,
    description: str = "",
    venue: str = "",
    online_url: str = "",
    capacity: int | None = None,
    registration_deadline: datetime | None = None,
) -> Event:
    """Create an event in ``space``. Naive ``starts_at``, ``ends_at`` and ``registration_deadline`` are
    wall-clock times in ``time_zone`` (an IANA name); aware ones are taken as the instants they name."""
    if not permissions.can_create_event(actor, space):
        raise PermissionDenied
    onboarding_ensure(user=actor, community=space.community)
    spam_check(actor, space, f"{title}\n{description}")
    values = _clean_event(
        title=title,
        description=description,
        starts_at=starts_at,
        ends_at=ends_at,
        time_zone=time_zone,
        venue=venue,
        online_url=online_url,
        capacity=capacity,
        registration_deadline=registration_deadline,
    )
    item = Item.objects.create(kind=ItemKind.EVENT, space=space, author=actor, title=values["title"])
    event = Event(
        item=item,
        space=space,
        slug=_unique_slug(space, values["title"]),
        description_html=render_markdown(values["description"]),
        last_edited_by=actor,
        last_edited_at=timezone.now(),
        **values,
    )
    event.full_clean(exclude=["item", "space"])
    event.save()
    _record(actor, "event_create", event)
    return event


@transaction.atomic
def event_edit(*, actor, event: Event, **changes) -> Event:
    """Change any of ``EDITABLE`` (names as in ``event_create``); what is not given keeps its value.

    Raising the capacity (or removing it) moves people up from the waiting list at once. Lowering it below
    the number already going takes no place away: nobody new gets in until enough people cancel.
    """
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"event_edit() got unexpected fields: {sorted(unknown)}")
    if not permissions.can_organise_event(actor, event):
        raise PermissionDenied
    locked = Event.objects.select_for_update().get(pk=event.pk)
    current = {
        "title": locked.title,
        "description": locked.description,
        "starts_at": locked.starts_at,
        "ends_at": locked.ends_at,
        "time_zone": locked.timezone,
        "venue": locked.venue,
        "online_url": locked.online_url,
        "capacity": locked.capacity,
        "registration_deadline": locked.registration_deadline,
    }
    values = _clean_event(**{**current, **changes})
    spam_check_edit(
        actor, event.space, f"{values['title']}\n{values['description']}", f"{locked.title}\n{locked.description}"
    )
    before = {field: getattr(locked, field) for field in values}
    now = timezone.now()
    for field, value in values.items():
        setattr(event, field, value)
    event.description_html = render_markdown(event.description)
    event.last_edited_by, event.last_edited_at = actor, now
    event.full_clean(exclude=["item", "space"], validate_unique=False)
    event.save(update_fields=[*values, "description_html", "last_edited_by", "last_edited_at"])
    Item.objects.filter(pk=event.item_id).update(title=event.title, updated_at=now)
    event.item.title = event.title
    log_moderator_edit(actor=actor, item=event.item, before=before, after=values)
    promoted = _fill_places(event, now)
    _recount(event)
    _record(actor, "event_edit", event)
    _record_promotions(event, promoted)
    return event


@transaction.atomic
def event_trash(*, actor, event: Event) -> int:
    """Move the event (and the comments on it) to the space's trash; space admins can restore it."""
    if not permissions.can_organise_event(actor, event):
        raise PermissionDenied
    return item_trash(actor=actor, item=event.item)


# --- Registration questions --------------------------------------------------------------------------------------
def _clean_choices(raw: str | list[str]) -> list[str]:
    lines = raw.splitlines() if isinstance(raw, str) else list(raw or [])
    seen: list[str] = []
    for line in lines:
        choice = " ".join(str(line).split())
        if choice and choice not in seen:
            seen.append(choice)
    return seen


@transaction.atomic
def event_questions_set(*, actor, event: Event, questions: list[dict]) -> list[RegistrationQuestion]:
    """Replace the event's registration questions with ``questions``, in that order.

    Each is a dict with ``label``, ``kind`` (text / choice / yes_no), ``choices`` (one a line, or a list; for
    "choice" only) and ``required``; an ``id`` keeps an existing question, so the answers already given to it
    stay attached. Questions left out are deleted. Answers already given are not re-checked: a question made
    required later is asked of people who register or change their answer from then on.
    """
    if not permissions.can_organise_event(actor, event):
        raise PermissionDenied
    existing = {q.pk: q for q in RegistrationQuestion.objects.filter(event=event)}
    errors: list[str] = []
    if len(questions) > MAX_QUESTIONS:
        errors.append(_("Ask at most %d questions.") % MAX_QUESTIONS)
    kinds = set(RegistrationQuestionKind.values)
    rows: list[RegistrationQuestion] = []
    for position, data in enumerate(questions[:MAX_QUESTIONS], start=1):
        label = " ".join(str(data.get("label") or "").split())
        kind = data.get("kind") or RegistrationQuestionKind.TEXT
        choices = _clean_choices(data.get("choices") or "") if kind == RegistrationQuestionKind.CHOICE else []
        prefix = _("Question %d:") % position
        if not label:
            errors.append(f"{prefix} {_('write the question.')}")
        elif len(label) > MAX_QUESTION_LABEL:
            errors.append(f"{prefix} {_('keep it under %d characters.') % MAX_QUESTION_LABEL}")
        if kind not in kinds:
            errors.append(f"{prefix} {_('choose what kind of answer it takes.')}")
        if kind == RegistrationQuestionKind.CHOICE:
            if len(choices) < 2:
                errors.append(f"{prefix} {_('give at least two choices, one a line.')}")
            elif len(choices) > MAX_CHOICES or any(len(c) > MAX_CHOICE_LENGTH for c in choices):
                errors.append(
                    f"{prefix} "
                    + _("give at most %(n)d choices of up to %(len)d characters each.")
                    % {"n": MAX_CHOICES, "len": MAX_CHOICE_LENGTH}
                )
        question_id = data.get("id")
        if question_id:
            question = existing.get(int(question_id))
            if question is None:
                errors.append(f"{prefix} {_('this question belongs to another event.')}")
                continue
        else:
            question = RegistrationQuestion(event=event)
        question.label, question.kind, question.choices = label, kind, "\n".join(choices)
        question.required, question.position = bool(data.get("required")), position
        rows.append(question)
    if errors:
        raise ValidationError(errors)
    kept = {q.pk for q in rows if q.pk}
    RegistrationQuestion.objects.filter(event=event).exclude(pk__in=kept).delete()
    for question in rows:
        question.save()
    _record(actor, "event_questions_set", event)
    return rows


# --- Registration ----------------------------------------------------------------------------------------------
def clean_answers(questions: list[RegistrationQuestion], answers: dict | None) -> dict[str, str]:
    """Answers keyed by question id (as text), checked against the questions; errors on ``question_<id>``.

    Yes/no answers are stored as "yes" / "no" (``True`` / ``False`` are accepted too). Answers to questions
    the event does not ask are dropped.
    """
    given = {str(key): value for key, value in (answers or {}).items()}
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, str] = {}
    for question in questions:
        field = f"question_{question.pk}"
        raw = given.get(str(question.pk))
        if isinstance(raw, bool):
            raw = "yes" if raw else "no"
        if raw is not None and not isinstance(raw, str):
            errors[field] = [_("This answer is not valid.")]
            continue
        value = " ".join((raw or "").split())
        if not value:
            if question.required:
                errors[field] = [_("Please answer “%s”.") % question.label]
            continue
        if question.kind == RegistrationQuestionKind.TEXT and len(value) > MAX_ANSWER:
            errors[field] = [_("Keep your answer under %d characters.") % MAX_ANSWER]
        elif question.kind == RegistrationQuestionKind.CHOICE and value not in question.choice_list:
            errors[field] = [_("Choose one of the answers offered.")]
        elif question.kind == RegistrationQuestionKind.YES_NO and value not in ("yes", "no"):
            errors[field] = [_("Answer yes or no.")]
        else:
            cleaned[str(question.pk)] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


def _requested_to_stored(event: Event, requested: str, previous: str | None, going: int) -> str:
    """The status a request ends in: "going" becomes "waitlisted" when the event is full."""
    if requested != GOING:
        return requested
    if previous in (GOING, WAITLISTED):
        return previous  # keep one's place, or one's position in the line
    if event.capacity is None or going < event.capacity:
        return GOING
    return WAITLISTED


def _fill_places(event: Event, now: datetime) -> list[Registration]:
    """Move the longest-waiting people up while there are free places; the event row is locked."""
    waiting = Registration.objects.filter(event=event, status=WAITLISTED).order_by("status_changed_at", "pk")
    if event.capacity is None:
        promoted = list(waiting.select_related("user__profile"))
    else:
        going = Registration.objects.filter(event=event, status=GOING).count()
        free = event.capacity - going
        promoted = list(waiting.select_related("user__profile")[:free]) if free > 0 else []
    if promoted:
        Registration.objects.filter(pk__in=[r.pk for r in promoted]).update(status=GOING, status_changed_at=now)
        for registration in promoted:
            registration.status, registration.status_changed_at = GOING, now
    return promoted


def _recount(event: Event) -> None:
    """Write the counters from a count of the rows (the event row is locked), and copy them onto ``event``."""
    rows = (
        Registration.objects.filter(event_id=event.pk)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    counts = dict(rows)
    values = {
        "going_count": counts.get(GOING, 0),
        "maybe_count": counts.get(MAYBE, 0),
        "waitlist_count": counts.get(WAITLISTED, 0),
    }
    Event.objects.filter(pk=event.pk).update(**values)
    for field, value in values.items():
        setattr(event, field, value)


def _record_promotions(event: Event, promoted: list[Registration]) -> None:
    # The member's own status changed without them acting: recorded so that notifications (which subscribe
    # to activity, ARCHITECTURE.md) can tell them they now have a place.
    for registration in promoted:
        _record(registration.user, "event_waitlist_promoted", event)


@transaction.atomic
def event_registration_set(*, actor, event: Event, status: str, answers: dict | None = None) -> Registration:
    """Register ``actor`` as going, maybe or not going, with answers to the registration questions.

    "Going" when the event is full puts them on the waiting list. Someone going who changes to maybe or not
    going frees a place, and the longest-waiting person moves up, in the same transaction. After the
    registration deadline (or once the event is over) nothing can be changed, except that people already
    registered may still say they are not going: that only frees a place for someone else.
    """
    if status not in REQUESTABLE:
        raise ValidationError({"status": [_("Choose going, maybe or not going.")]})
    if not permissions.can_register(actor, event):
        raise PermissionDenied
    onboarding_ensure(user=actor, community=event.space.community)
    locked = Event.objects.select_for_update().get(pk=event.pk)
    now = timezone.now()
    registration = Registration.objects.filter(event=locked, user=actor).first()
    previous = registration.status if registration is not None else None
    closed = registration_closed_reason(locked, now)
    cancelling = status == NOT_GOING and previous in (GOING, MAYBE, WAITLISTED)
    if closed and not (cancelling and locked.ends_at > now):
        raise ValidationError(closed)
    if status in ANSWERED_BY:
        answers = clean_answers(list(locked.registration_questions.all()), answers)
    else:
        answers = registration.answers if registration is not None else {}
    going = Registration.objects.filter(event=locked, status=GOING).count()
    stored = _requested_to_stored(locked, status, previous, going)
    if registration is None:
        registration = Registration(event=locked, user=actor, status=stored, answers=answers, status_changed_at=now)
        registration.full_clean(exclude=["event", "user"], validate_unique=False, validate_constraints=False)
        registration.save()
    else:
        if stored != previous:
            registration.status, registration.status_changed_at = stored, now
        registration.answers = answers
        registration.save(update_fields=["status", "status_changed_at", "answers"])
    promoted = _fill_places(locked, now) if previous == GOING and stored != GOING else []
    _recount(locked)
    for field in ("going_count", "maybe_count", "waitlist_count"):
        setattr(event, field, getattr(locked, field))
    registration.event = event
    _record(actor, "event_registered" if stored != NOT_GOING else "event_not_going", event)
    _record_promotions(event, promoted)
    return registration


def event_registration_cancel(*, actor, event: Event) -> Registration:
    """Say one is not going after all (a place frees for the waiting list)."""
    return event_registration_set(actor=actor, event=event, status=NOT_GOING)


# --- Attendance ---------------------------------------------------------------------------------------------------
@transaction.atomic
def event_attendance_mark(*, actor, event: Event, attended: dict[int, bool]) -> int:
    """Mark who came: registration id -> came or not. Returns how many marks changed.

    Recorded as the attendee's activity for analytics: ``event_attended`` when someone is marked present
    (dated at the start of the event, when they took part), ``event_attendance_withdrawn`` when an organiser
    takes a mark back, so the append-only log still adds up.
    """
    if not permissions.can_organise_event(actor, event):
        raise PermissionDenied
    if event.starts_at > timezone.now():
        raise ValidationError(_("Attendance can be marked once the event has started."))
    changed = 0
    registrations = Registration.objects.filter(event=event, pk__in=list(attended)).select_related("user__profile")
    for registration in registrations:
        value = bool(attended[registration.pk])
        if registration.attended is value:
            continue
        was_present = registration.attended is True
        registration.attended, registration.attendance_marked_by = value, actor
        registration.save(update_fields=["attended", "attendance_marked_by"])
        changed += 1
        if value:
            _record(registration.user, "event_attended", event, occurred_at=event.starts_at)
        elif was_present:
            _record(registration.user, "event_attendance_withdrawn", event)
    return changed
