"""Registration for events: capacity and the waiting list, the deadline, registration questions and their
answers, the organisers' CSV and attendance, and a real two-connection race on PostgreSQL (issue 4, item 2)."""

import csv
import io
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from analytics.models import ActivityEvent
from spaces.models import Event, Registration, RegistrationQuestion, SpaceRole, Visibility
from spaces.services import events as event_services
from tests.factories import add_member, make_community, make_space, make_user
from tests.spaces.helpers import client_for, form_errors, messages_of
from tests.spaces.test_events import WINTER_END, WINTER_START, e_url, make_event, refreshed

User = get_user_model()


@pytest.fixture
def open_world(world_factory):
    return world_factory(Visibility.OPEN)


@pytest.fixture
def closed_world(world_factory):
    return world_factory(Visibility.CLOSED)


def participants(w, n: int, role=SpaceRole.VIEWER) -> list:
    people = []
    for i in range(n):
        user = make_user(f"participant{i}")
        add_member(w.space, user, role, by=w.staff)
        people.append(user)
    return people


def register(event, user, status="going", answers=None):
    return event_services.event_registration_set(actor=user, event=event, status=status, answers=answers)


def statuses(event) -> dict[str, str]:
    return dict(Registration.objects.filter(event=event).values_list("user__display_name", "status"))


def counters(event) -> tuple[int, int, int]:
    event = refreshed(event)
    return event.going_count, event.maybe_count, event.waitlist_count


# --- Capacity and the waiting list -----------------------------------------------------------------------------
def test_the_third_person_for_two_places_goes_on_the_waiting_list_and_moves_up_when_someone_cancels(open_world):
    w = open_world
    event = make_event(w, capacity=2)
    ana, ben, chloe = participants(w, 3)
    register(event, ana)
    register(event, ben)

    response = client_for(chloe).post(e_url("event-register", event), {"status": "going"})

    assert messages_of(response) == [
        "The event is full: you are on the waiting list and will move up by yourself if a place frees."
    ]
    assert Registration.objects.get(user=chloe).status == "waitlisted"
    assert counters(event) == (2, 0, 1)
    page = client_for(chloe).get(e_url("event-detail", event)).content.decode()
    assert "You are on the waiting list (number 1)." in page and "2 of 2 going · full" in page

    cancelled = client_for(ana).post(e_url("event-register", event), {"status": "not_going"})

    assert messages_of(cancelled) == ["Thank you for letting the organisers know you are not going."]
    assert statuses(event) == {ana.display_name: "not_going", ben.display_name: "going", chloe.display_name: "going"}
    assert counters(event) == (2, 0, 0)
    assert ActivityEvent.objects.filter(kind="event_waitlist_promoted", member=chloe, target_id=event.pk).count() == 1
    assert "You are going." in client_for(chloe).get(e_url("event-detail", event)).content.decode()


def test_the_member_who_moves_up_is_told_at_once(open_world, mailoutbox, django_capture_on_commit_callbacks):
    from members.models import Notification, NotificationKind

    w = open_world
    event = make_event(w, capacity=1)
    ana, ben = participants(w, 2)
    register(event, ana)
    register(event, ben)

    with django_capture_on_commit_callbacks(execute=True):
        client_for(ana).post(e_url("event-register", event), {"status": "not_going"})

    note = Notification.objects.get(kind=NotificationKind.EVENT_PLACE)
    assert note.recipient == ben and note.url == event.get_absolute_url()
    assert f"A place came free at “{event.title}”" in note.text
    assert f"A place came free at “{event.title}”" in client_for(ben).get("/me/notifications/").content.decode()
    assert [message.to for message in mailoutbox] == [[ben.email]]
    # Nobody else hears of it, and changing one's mind again does not repeat it.
    register(event, ben, "going")
    assert Notification.objects.filter(kind=NotificationKind.EVENT_PLACE).count() == 1


def test_the_longest_waiting_person_moves_up_first(open_world, time_machine):
    time_machine.move_to(datetime(2029, 12, 1, 9, 0, tzinfo=UTC))
    w = open_world
    event = make_event(w, capacity=1)
    first, second, third, fourth = participants(w, 4)
    for minutes, user in enumerate([first, second, third, fourth]):
        time_machine.move_to(datetime(2029, 12, 1, 9, minutes, tzinfo=UTC))
        register(event, user)

    time_machine.move_to(datetime(2029, 12, 1, 10, 0, tzinfo=UTC))
    event_services.event_registration_cancel(actor=first, event=event)
    assert Registration.objects.get(status="going").user == second
    register(event, second, "maybe")  # going -> maybe frees the place too
    assert Registration.objects.get(status="going").user == third
    assert list(Registration.objects.filter(status="waitlisted").values_list("user", flat=True)) == [fourth.pk]
    assert counters(event) == (1, 1, 1)


def test_a_waitlisted_person_keeps_their_place_in_line_when_they_change_their_answers(open_world, time_machine):
    time_machine.move_to(datetime(2029, 12, 1, 9, 0, tzinfo=UTC))
    w = open_world
    event = make_event(w, capacity=1)
    holder, early, late = participants(w, 3)
    register(event, holder)
    register(event, early)
    time_machine.move_to(datetime(2029, 12, 1, 9, 5, tzinfo=UTC))
    register(event, late)
    time_machine.move_to(datetime(2029, 12, 1, 9, 10, tzinfo=UTC))
    register(event, early)  # says "going" again: still waiting, still first in line

    event_services.event_registration_cancel(actor=holder, event=event)

    assert Registration.objects.get(status="going").user == early


def test_raising_the_capacity_moves_people_up_and_lowering_it_takes_no_place_away(open_world):
    w = open_world
    event = make_event(w, capacity=1)
    people = participants(w, 4)
    for user in people:
        register(event, user)
    assert counters(event) == (1, 0, 3)

    event_services.event_edit(actor=w.editor, event=event, capacity=3)
    assert counters(event) == (3, 0, 1)
    event_services.event_edit(actor=w.editor, event=event, capacity=1)
    assert counters(event) == (3, 0, 1)
    event_services.event_registration_cancel(actor=people[0], event=event)
    assert counters(event) == (2, 0, 1)  # still over the new capacity: nobody moves up
    event_services.event_edit(actor=w.editor, event=event, capacity=None)
    assert counters(event) == (3, 0, 0)


def test_maybe_does_not_take_a_place(open_world):
    w = open_world
    event = make_event(w, capacity=1)
    unsure, sure = participants(w, 2)
    register(event, unsure, "maybe")
    register(event, sure, "going")
    assert statuses(event) == {unsure.display_name: "maybe", sure.display_name: "going"}
    assert counters(event) == (1, 1, 0)


def test_registering_records_activity_for_analytics(open_world):
    w = open_world
    event = make_event(w)
    register(event, w.viewer, "going")
    register(event, w.viewer, "not_going")
    kinds = list(
        ActivityEvent.objects.filter(member=w.viewer, target_type="spaces.event", target_id=event.pk).values_list(
            "kind", flat=True
        )
    )
    assert sorted(kinds) == ["event_not_going", "event_registered"]


def test_a_member_who_has_not_accepted_the_guidelines_is_sent_there_first(open_world):
    w = open_world
    event = make_event(w)
    newcomer = make_user("newcomer")
    from spaces import services

    services.space_grant_role(actor=w.staff, space=w.space, user=newcomer, role=SpaceRole.VIEWER)

    response = client_for(newcomer).post(e_url("event-register", event), {"status": "going"})

    assert response.status_code == 302 and "/welcome/" in response.url
    assert Registration.objects.count() == 0


# --- Deadline and end -------------------------------------------------------------------------------------------
def test_after_the_deadline_registration_is_refused_with_a_message_and_nothing_changes(open_world, time_machine):
    time_machine.move_to(datetime(2030, 1, 1, 12, 0, tzinfo=UTC))
    w = open_world
    event = make_event(w, registration_deadline=datetime(2030, 1, 10, 18, 0))  # Bangkok: 11:00 UTC
    early = participants(w, 1)[0]
    register(event, early, "maybe")
    time_machine.move_to(datetime(2030, 1, 10, 11, 1, tzinfo=UTC))

    late = client_for(w.viewer).post(e_url("event-register", event), {"status": "going"})
    change = client_for(early).post(e_url("event-register", event), {"status": "going"})

    closed = "Registration closed on 10 January 2030, 18:00 (Asia/Bangkok)."
    assert messages_of(late) == [closed] and messages_of(change) == [closed]
    assert statuses(event) == {early.display_name: "maybe"}
    assert counters(event) == (0, 1, 0)
    page = client_for(w.viewer).get(e_url("event-detail", event)).content.decode()
    assert closed in page and 'name="status" value="going"' not in page
    with pytest.raises(ValidationError, match="Registration closed"):
        register(event, w.viewer, "going")


def test_after_the_deadline_a_registered_member_may_still_say_they_are_not_going(open_world, time_machine):
    time_machine.move_to(datetime(2030, 1, 1, 12, 0, tzinfo=UTC))
    w = open_world
    event = make_event(w, capacity=1, registration_deadline=datetime(2030, 1, 10, 18, 0))
    holder, waiting = participants(w, 2)
    register(event, holder)
    register(event, waiting)
    time_machine.move_to(datetime(2030, 1, 12, 12, 0, tzinfo=UTC))

    page = client_for(holder).get(e_url("event-detail", event)).content.decode()
    response = client_for(holder).post(e_url("event-register", event), {"status": "not_going"})

    assert "I can no longer come" in page
    assert messages_of(response) == ["Thank you for letting the organisers know you are not going."]
    assert statuses(event) == {holder.display_name: "not_going", waiting.display_name: "going"}


def test_once_the_event_is_over_nothing_can_be_changed(open_world, time_machine):
    time_machine.move_to(datetime(2030, 1, 1, 12, 0, tzinfo=UTC))
    w = open_world
    event = make_event(w)
    register(event, w.viewer)
    time_machine.move_to(datetime(2030, 1, 16, 0, 0, tzinfo=UTC))

    with pytest.raises(ValidationError, match="This event is over: registration is closed."):
        event_services.event_registration_cancel(actor=w.viewer, event=event)
    assert statuses(event) == {w.viewer.display_name: "going"}


# --- Questions and answers ---------------------------------------------------------------------------------------
def set_questions(w, event) -> dict[str, RegistrationQuestion]:
    event_services.event_questions_set(
        actor=w.editor,
        event=event,
        questions=[
            {"label": "Organisation", "kind": "text", "required": True},
            {"label": "Lunch", "kind": "choice", "choices": "Vegetarian\nVegan\nAny\n\nAny", "required": True},
            {"label": "Need a visa letter?", "kind": "yes_no", "required": False},
        ],
    )
    return {q.label: q for q in event.registration_questions.all()}


def test_an_organiser_sets_questions_through_the_form(open_world):
    w = open_world
    event = make_event(w)
    data = {
        "questions-TOTAL_FORMS": "3",
        "questions-INITIAL_FORMS": "0",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "20",
        "questions-0-label": "Organisation",
        "questions-0-kind": "text",
        "questions-0-required": "on",
        "questions-1-label": "Lunch",
        "questions-1-kind": "choice",
        "questions-1-choices": "Vegetarian\r\nAny",
        "questions-2-label": "",
        "questions-2-kind": "text",
    }

    response = client_for(w.editor).post(e_url("event-questions", event), data)

    assert response.status_code == 302
    questions = list(event.registration_questions.values_list("label", "kind", "choices", "required", "position"))
    assert questions == [
        ("Organisation", "text", "", True, 1),
        ("Lunch", "choice", "Vegetarian\nAny", False, 2),
    ]
    form = client_for(w.viewer).get(e_url("event-detail", event)).content.decode()
    assert "Organisation (required)" in form and '<option value="Vegetarian">Vegetarian</option>' in form


def test_a_choice_question_without_choices_is_refused_and_nothing_is_saved(open_world):
    w = open_world
    event = make_event(w)
    data = {
        "questions-TOTAL_FORMS": "1",
        "questions-INITIAL_FORMS": "0",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "20",
        "questions-0-label": "Lunch",
        "questions-0-kind": "choice",
        "questions-0-choices": "Any",
    }

    response = client_for(w.editor).post(e_url("event-questions", event), data)

    assert response.status_code == 400
    assert "Question 1: give at least two choices, one a line." in response.content.decode()
    assert RegistrationQuestion.objects.count() == 0


def test_editing_questions_keeps_the_answers_to_those_that_stay(open_world):
    w = open_world
    event = make_event(w)
    questions = set_questions(w, event)
    register(event, w.viewer, answers={questions["Organisation"].pk: "INE", questions["Lunch"].pk: "Vegan"})

    event_services.event_questions_set(
        actor=w.editor,
        event=event,
        questions=[{"id": questions["Organisation"].pk, "label": "Your organisation", "kind": "text"}],
    )

    assert list(event.registration_questions.values_list("label", flat=True)) == ["Your organisation"]
    rows = list(
        csv.reader(
            io.StringIO(client_for(w.editor).get(e_url("event-registrants-csv", event)).content.decode("utf-8-sig"))
        )
    )
    assert rows[0][-1] == "Your organisation" and rows[1][-1] == "INE"


def test_questions_of_another_event_cannot_be_taken_over(open_world):
    w = open_world
    event, other = make_event(w), make_event(w, title="Other")
    foreign = set_questions(w, other)["Organisation"]
    with pytest.raises(ValidationError, match="belongs to another event"):
        event_services.event_questions_set(
            actor=w.editor, event=event, questions=[{"id": foreign.pk, "label": "Mine", "kind": "text"}]
        )
    assert refreshed(foreign).label == "Organisation"


def test_a_missing_required_answer_is_refused_with_a_message_and_nothing_changes(open_world):
    w = open_world
    event = make_event(w, capacity=5)
    questions = set_questions(w, event)

    response = client_for(w.viewer).post(
        e_url("event-register", event), {"status": "going", f"question_{questions['Lunch'].pk}": "Vegan"}
    )

    assert response.status_code == 400
    assert form_errors(response, "registration_form")[f"question_{questions['Organisation'].pk}"] == [
        "Please answer “Organisation”."
    ]
    assert "Your answer was not saved: check the form below." in messages_of(response)
    assert Registration.objects.count() == 0 and counters(event) == (0, 0, 0)


@pytest.mark.parametrize(
    ("answer_for", "value", "message"),
    [
        ("Lunch", "Steak", "Choose one of the answers offered."),
        ("Need a visa letter?", "perhaps", "Answer yes or no."),
        ("Organisation", "x" * 1001, "Keep your answer under 1000 characters."),
        ("Organisation", ["a", "list"], "This answer is not valid."),
    ],
)
def test_malformed_answers_are_refused_and_nothing_changes(open_world, answer_for, value, message):
    w = open_world
    event = make_event(w)
    questions = set_questions(w, event)
    register(event, w.viewer, "maybe", {questions["Organisation"].pk: "INE", questions["Lunch"].pk: "Any"})
    answers = {questions["Organisation"].pk: "INSEE", questions["Lunch"].pk: "Vegan", questions[answer_for].pk: value}

    with pytest.raises(ValidationError) as caught:
        register(event, w.viewer, "going", answers)

    assert caught.value.message_dict == {f"question_{questions[answer_for].pk}": [message]}
    registration = Registration.objects.get()
    assert (registration.status, registration.answers) == (
        "maybe",
        {str(questions["Organisation"].pk): "INE", str(questions["Lunch"].pk): "Any"},
    )
    assert counters(event) == (0, 1, 0)


def test_saying_not_going_needs_no_answers(open_world):
    w = open_world
    event = make_event(w)
    set_questions(w, event)
    response = client_for(w.viewer).post(e_url("event-register", event), {"status": "not_going"})
    assert response.status_code == 302 and Registration.objects.get().status == "not_going"


def test_an_unknown_status_is_refused(open_world):
    w = open_world
    event = make_event(w)
    with pytest.raises(ValidationError):
        register(event, w.viewer, "waitlisted")
    response = client_for(w.viewer).post(e_url("event-register", event), {"status": "vip"})
    assert response.status_code == 400 and Registration.objects.count() == 0


# --- CSV -------------------------------------------------------------------------------------------------------
def test_organisers_download_the_registrants_with_their_answers_as_csv(open_world):
    w = open_world
    event = make_event(w, capacity=1)
    questions = set_questions(w, event)
    ana, ben = participants(w, 2)
    ana.profile.organisation, ana.profile.country = "Statistics Norway", "Norway"
    ana.profile.save()
    register(
        event,
        ana,
        answers={
            questions["Organisation"].pk: "SSB",
            questions["Lunch"].pk: "Vegan",
            questions["Need a visa letter?"].pk: "yes",
        },
    )
    register(
        event, ben, answers={questions["Organisation"].pk: '=HYPERLINK("http://evil")', questions["Lunch"].pk: "Any"}
    )

    response = client_for(w.moderator).get(e_url("event-registrants-csv", event))

    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="registrants-{event.pk}.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "Name", "E-mail", "Organisation", "Country", "Status", "Registered (UTC)", "Status since (UTC)", "Attended",
        "Organisation", "Lunch", "Need a visa letter?",
    ]  # fmt: skip
    assert rows[1][:5] == [ana.display_name, ana.email, "Statistics Norway", "Norway", "Going"]
    assert rows[1][-3:] == ["SSB", "Vegan", "Yes"]
    assert rows[2][4] == "On the waiting list"
    assert rows[2][-3:] == ['\'=HYPERLINK("http://evil")', "Any", ""]  # a formula stays text in a spreadsheet


def test_the_csv_and_registrant_list_are_for_organisers_only(closed_world):
    w = closed_world
    event = make_event(w, by=w.editor)
    register(event, w.viewer)
    other = make_user("other-editor")
    add_member(w.space, other, SpaceRole.EDITOR, by=w.staff)

    assert client_for(w.outsider).get(e_url("event-registrants-csv", event)).status_code == 404
    for user in (w.viewer, other):
        assert client_for(user).get(e_url("event-registrants-csv", event)).status_code == 403
        assert client_for(user).get(e_url("event-registrants", event)).status_code == 403
    for user in (w.editor, w.moderator, w.admin, w.community_admin, w.staff):
        assert client_for(user).get(e_url("event-registrants-csv", event)).status_code == 200
    page = client_for(w.editor).get(e_url("event-registrants", event)).content.decode()
    assert w.viewer.display_name in page


# --- Attendance -----------------------------------------------------------------------------------------------
def test_attendance_is_marked_after_the_event_starts_and_recorded_for_analytics(open_world, time_machine):
    time_machine.move_to(datetime(2030, 1, 1, 12, 0, tzinfo=UTC))
    w = open_world
    event = make_event(w)
    came, missed = participants(w, 2)
    reg_came, reg_missed = register(event, came), register(event, missed, "maybe")
    organiser = client_for(w.editor)

    early = organiser.post(e_url("event-attendance", event), {"shown": [reg_came.pk], "present": [reg_came.pk]})
    assert messages_of(early) == ["Attendance can be marked once the event has started."]
    assert refreshed(reg_came).attended is None
    assert (
        "You can mark attendance once the event has started."
        in organiser.get(e_url("event-registrants", event)).content.decode()
    )

    time_machine.move_to(datetime(2030, 1, 15, 5, 0, tzinfo=UTC))
    response = organiser.post(
        e_url("event-attendance", event), {"shown": [reg_came.pk, reg_missed.pk], "present": [reg_came.pk]}
    )

    assert response.status_code == 302 and response.url == e_url("event-registrants", event)
    assert messages_of(response) == ["Attendance saved."]
    assert (refreshed(reg_came).attended, refreshed(reg_missed).attended) == (True, False)
    assert refreshed(reg_came).attendance_marked_by == w.editor
    attended = ActivityEvent.objects.get(kind="event_attended")
    assert (attended.member, attended.target_id, attended.space_id) == (came, event.pk, w.space.pk)
    assert attended.occurred_at == event.starts_at
    assert f'id="present-{reg_came.pk}" checked' in organiser.get(e_url("event-registrants", event)).content.decode()

    organiser.post(e_url("event-attendance", event), {"shown": [reg_came.pk, reg_missed.pk], "present": []})
    assert refreshed(reg_came).attended is False
    assert ActivityEvent.objects.filter(kind="event_attendance_withdrawn", member=came).count() == 1
    assert ActivityEvent.objects.filter(kind="event_attended").count() == 1


def test_attendance_of_another_events_registrations_is_ignored(open_world, time_machine):
    time_machine.move_to(datetime(2030, 1, 1, 12, 0, tzinfo=UTC))
    w = open_world
    event = make_event(w, by=w.editor)
    other = make_event(w, title="Other", by=w.moderator)
    foreign = register(other, w.viewer)
    time_machine.move_to(datetime(2030, 1, 16, 0, 0, tzinfo=UTC))

    changed = event_services.event_attendance_mark(actor=w.editor, event=event, attended={foreign.pk: True})

    assert changed == 0 and refreshed(foreign).attended is None
    with pytest.raises(PermissionDenied):
        event_services.event_attendance_mark(actor=w.viewer, event=event, attended={})


# --- A real race on PostgreSQL -------------------------------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_people_registering_at_the_same_moment_never_exceed_the_capacity():
    """Four real database connections register at once for two places: the event row lock makes them queue."""
    staff = make_user("staff", staff=True)
    space = make_space(staff, make_community(staff, slug="race"), Visibility.OPEN, slug="race-space")
    organiser = make_user("organiser")
    add_member(space, organiser, SpaceRole.EDITOR, by=staff)
    event = event_services.event_create(
        actor=organiser,
        space=space,
        title="Popular workshop",
        starts_at=WINTER_START,
        ends_at=WINTER_END,
        time_zone="Asia/Bangkok",
        capacity=2,
    )
    people = [make_user(f"racer{n}") for n in range(4)]
    for user in people:
        add_member(space, user, SpaceRole.VIEWER, by=staff)
    barrier = threading.Barrier(len(people))
    outcomes: dict[int, str] = {}
    errors: list[BaseException] = []

    def take_a_place(user_pk: int) -> None:
        try:
            actor = User.objects.get(pk=user_pk)
            mine = Event.objects.select_related("item__space__community", "space__community").get(pk=event.pk)
            barrier.wait(timeout=10)
            outcomes[user_pk] = event_services.event_registration_set(actor=actor, event=mine, status="going").status
        except BaseException as exc:  # reported below: a thread's exception would otherwise vanish
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=take_a_place, args=(u.pk,)) for u in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(outcomes.values()) == ["going", "going", "waitlisted", "waitlisted"]
    assert Registration.objects.filter(event=event, status="going").count() == 2
    assert counters(event) == (2, 0, 2)
    # and a cancellation then moves exactly one of them up
    leaver = next(pk for pk, status in outcomes.items() if status == "going")
    event_services.event_registration_cancel(actor=User.objects.get(pk=leaver), event=refreshed(event))
    assert counters(event) == (2, 0, 1)


def test_a_deadline_in_the_past_at_creation_is_allowed_but_closes_registration(open_world, time_machine):
    time_machine.move_to(datetime(2030, 1, 12, 0, 0, tzinfo=UTC))
    w = open_world
    event = make_event(w, registration_deadline=datetime(2030, 1, 10, 18, 0))
    assert event.registration_deadline == datetime(2030, 1, 10, 11, 0, tzinfo=UTC)
    with pytest.raises(ValidationError):
        register(event, w.viewer)
    assert Registration.objects.count() == 0
    assert timedelta(0) < event.starts_at - datetime(2030, 1, 12, 0, 0, tzinfo=UTC)
