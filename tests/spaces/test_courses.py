"""Courses (issue 9, item 3): progress, quizzes, completion, visibility of lessons and the activity log."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from analytics.models import ActivityEvent
from spaces.models import Enrolment, LessonCompletion, QuizAttempt, Visibility
from spaces.permissions_courses import visible_lessons
from spaces.selectors_courses import course_funnel, course_outline
from spaces.services import courses as course_services
from spaces.services import item_trash, page_set_restrictions
from spaces.services.moderation import item_hide
from tests.spaces.courses_helpers import MULTIPLE, SINGLE, make_course, option_ids


@pytest.fixture
def open_world(world_factory):
    return world_factory(Visibility.OPEN)


def lessons_of(course):
    return list(course.lessons.select_related("page__item").order_by("position"))


def test_progress_quiz_below_pass_mark_then_retry_completes_the_course(open_world):
    w = open_world
    course = make_course(w, lessons=3, quiz_on=1)
    first, second, third = lessons_of(course)
    enrolment = course_services.course_enrol(actor=w.viewer, course=course)

    assert course_services.lesson_mark_done(actor=w.viewer, lesson=first) is False
    failed = course_services.quiz_submit(actor=w.viewer, lesson=second, answers=option_ids(second, correct=False))
    course_services.lesson_mark_done(actor=w.viewer, lesson=third)

    assert (failed.score, failed.passed) == (0, False)
    assert not LessonCompletion.objects.filter(user=w.viewer, lesson=second).exists()
    assert [lesson.done for lesson in course_outline(w.viewer, course)] == [True, False, True]
    enrolment.refresh_from_db()
    assert enrolment.completed_at is None

    passed = course_services.quiz_submit(actor=w.viewer, lesson=second, answers=option_ids(second, correct=True))

    assert (passed.score, passed.passed) == (100, True)
    enrolment.refresh_from_db()
    assert enrolment.completed_at is not None
    assert QuizAttempt.objects.filter(user=w.viewer).count() == 2


def test_a_lesson_with_a_quiz_cannot_be_marked_done(open_world):
    w = open_world
    course = make_course(w, lessons=2, quiz_on=0)
    quizzed, _plain = lessons_of(course)
    course_services.course_enrol(actor=w.viewer, course=course)

    with pytest.raises(ValidationError, match="passing its quiz"):
        course_services.lesson_mark_done(actor=w.viewer, lesson=quizzed)
    assert not LessonCompletion.objects.exists()


def test_progress_needs_an_enrolment(open_world):
    w = open_world
    course = make_course(w, lessons=1, quiz_on=None)
    (lesson,) = lessons_of(course)

    with pytest.raises(ValidationError, match="Enrol"):
        course_services.lesson_mark_done(actor=w.viewer, lesson=lesson)
    assert not LessonCompletion.objects.exists()


def test_multiple_choice_needs_every_correct_option_and_no_wrong_one(open_world):
    w = open_world
    course = make_course(w, lessons=1, quiz_on=None)
    (lesson,) = lessons_of(course)
    course_services.quiz_set(actor=w.editor, lesson=lesson, pass_mark=50, questions=[SINGLE, MULTIPLE])
    course_services.course_enrol(actor=w.viewer, course=course)
    single, multiple = lesson.quiz.questions.order_by("position")
    right_single = single.options.get(is_correct=True).pk
    postcode, year, comment = (o.pk for o in multiple.options.order_by("position"))

    def score(choice):
        return course_services.quiz_submit(
            actor=w.viewer, lesson=lesson, answers={single.pk: [right_single], multiple.pk: choice}
        ).score

    assert score([postcode]) == 50  # one of two right options: the question is wrong
    assert score([postcode, year, comment]) == 50  # a wrong option too: wrong
    assert score([postcode, year]) == 100


def test_single_choice_question_takes_one_answer(open_world):
    w = open_world
    course = make_course(w, lessons=1, quiz_on=0)
    (lesson,) = lessons_of(course)
    course_services.course_enrol(actor=w.viewer, course=course)
    question = lesson.quiz.questions.get()

    with pytest.raises(ValidationError, match="one answer only"):
        course_services.quiz_submit(
            actor=w.viewer, lesson=lesson, answers={question.pk: [o.pk for o in question.options.all()]}
        )
    assert not QuizAttempt.objects.exists()


@pytest.mark.parametrize("how", ["restricted", "hidden", "trashed"])
def test_a_lesson_whose_page_is_taken_away_leaves_the_course_for_those_who_cannot_see_it(open_world, how):
    """Decision: a member's course is the lessons whose page they can see. A lesson that disappears for them is
    neither shown nor required; completing the others completes the course."""
    w = open_world
    course = make_course(w, lessons=3, quiz_on=None)
    first, second, third = lessons_of(course)
    course_services.course_enrol(actor=w.viewer, course=course)
    course_services.lesson_mark_done(actor=w.viewer, lesson=first)
    if how == "restricted":
        page_set_restrictions(actor=w.editor, page=second.page, restrict_view=True, restrict_edit=False)
    elif how == "hidden":
        item_hide(actor=w.moderator, item=second.page.item, reason="Out of date.")
    else:
        item_trash(actor=w.editor, item=second.page.item)

    assert [lesson.pk for lesson in course_outline(w.viewer, course)] == [first.pk, third.pk]
    assert not visible_lessons(w.viewer, course).filter(pk=second.pk).exists()
    with pytest.raises(PermissionDenied):
        course_services.lesson_mark_done(actor=w.viewer, lesson=second)

    course_services.lesson_mark_done(actor=w.viewer, lesson=third)

    assert Enrolment.objects.get(user=w.viewer, course=course).completed_at is not None


def test_a_restricted_lesson_still_counts_for_someone_named_on_it(open_world):
    w = open_world
    course = make_course(w, lessons=2, quiz_on=None)
    first, second = lessons_of(course)
    page_set_restrictions(actor=w.editor, page=second.page, viewers=[w.viewer], restrict_view=True, restrict_edit=False)
    course_services.course_enrol(actor=w.viewer, course=course)
    course_services.lesson_mark_done(actor=w.viewer, lesson=first)

    assert [lesson.pk for lesson in course_outline(w.viewer, course)] == [first.pk, second.pk]
    assert Enrolment.objects.get(user=w.viewer, course=course).completed_at is None


def test_a_completion_is_kept_when_a_lesson_is_added_later(open_world):
    w = open_world
    course = make_course(w, lessons=1, quiz_on=None)
    (lesson,) = lessons_of(course)
    course_services.course_enrol(actor=w.viewer, course=course)
    course_services.lesson_mark_done(actor=w.viewer, lesson=lesson)
    from spaces.services import page_create

    course_services.lesson_add(
        actor=w.editor, course=course, page=page_create(actor=w.editor, space=w.space, title="New", body="x")
    )

    assert Enrolment.objects.get(user=w.viewer, course=course).completed_at is not None


def test_leaving_keeps_completed_lessons_for_a_return(open_world):
    w = open_world
    course = make_course(w, lessons=2, quiz_on=None)
    first, second = lessons_of(course)
    course_services.course_enrol(actor=w.viewer, course=course)
    course_services.lesson_mark_done(actor=w.viewer, lesson=first)
    course_services.course_leave(actor=w.viewer, course=course)

    assert not Enrolment.objects.filter(user=w.viewer).exists()
    course_services.course_enrol(actor=w.viewer, course=course)
    assert [lesson.done for lesson in course_outline(w.viewer, course)] == [True, False]


def test_activity_log_records_enrolment_progress_attempts_and_completion(open_world):
    w = open_world
    course = make_course(w, lessons=2, quiz_on=1)
    first, second = lessons_of(course)
    course_services.course_enrol(actor=w.viewer, course=course)
    course_services.course_enrol(actor=w.viewer, course=course)  # a second click records nothing new
    course_services.lesson_mark_done(actor=w.viewer, lesson=first)
    failed = course_services.quiz_submit(actor=w.viewer, lesson=second, answers=option_ids(second, correct=False))
    passed = course_services.quiz_submit(actor=w.viewer, lesson=second, answers=option_ids(second, correct=True))

    events = list(
        ActivityEvent.objects.filter(member=w.viewer, space_id=w.space.pk)
        .exclude(kind__in=["space_join", "visit", "invite_accept"])
        .order_by("pk")
        .values_list("kind", "target_type", "target_id")
    )
    kinds = [kind for kind, _t, _id in events]
    assert kinds == [
        "course_enrol",
        "lesson_complete",
        "quiz_attempt",
        "quiz_attempt",
        "lesson_complete",
        "course_complete",
    ]
    attempts = [(t, pk) for kind, t, pk in events if kind == "quiz_attempt"]
    assert attempts == [("spaces.quizattempt", failed.pk), ("spaces.quizattempt", passed.pk)]
    assert [QuizAttempt.objects.get(pk=pk).passed for _t, pk in attempts] == [False, True]
    assert ActivityEvent.objects.get(kind="course_complete").community_id == w.community.pk


def test_course_funnel_counts_enrolments_and_completions(open_world):
    w = open_world
    course = make_course(w, lessons=1, quiz_on=None)
    (lesson,) = lessons_of(course)
    for member in (w.viewer, w.moderator, w.admin):
        course_services.course_enrol(actor=member, course=course)
    for member in (w.viewer, w.admin):
        course_services.lesson_mark_done(actor=member, lesson=lesson)

    (row,) = course_funnel([w.space.pk])

    assert (row["course_id"], row["enrolments"], row["completions"]) == (course.pk, 3, 2)
    assert row["completion_rate"] == pytest.approx(2 / 3)


def test_only_instructors_create_and_change_courses(open_world):
    w = open_world
    course = make_course(w, lessons=1, quiz_on=None)
    (lesson,) = lessons_of(course)

    with pytest.raises(PermissionDenied):
        course_services.course_create(actor=w.viewer, space=w.space, title="Mine")
    with pytest.raises(PermissionDenied):
        course_services.course_update(actor=w.viewer, course=course, title="X", description="", is_published=True)
    with pytest.raises(PermissionDenied):
        course_services.quiz_set(actor=w.viewer, lesson=lesson, pass_mark=50, questions=[SINGLE])
    with pytest.raises(PermissionDenied):
        course_services.lesson_remove(actor=w.viewer, lesson=lesson)
    course.refresh_from_db()
    assert course.title == "Linkage 101" and course.lessons.count() == 1


@pytest.mark.parametrize(
    "questions, pass_mark, message",
    [
        (
            [{**SINGLE, "options": [{"label": "A", "correct": False}, {"label": "B", "correct": False}]}],
            50,
            "no correct",
        ),
        ([SINGLE], 101, "between 0 and 100"),
        ([SINGLE], -1, "between 0 and 100"),
        ([], 50, "at least one question"),
        ([{**SINGLE, "options": [{"label": "A", "correct": True}]}], 50, "between 2 and"),
        ([{**MULTIPLE, "multiple": False}], 50, "single choice but has several"),
    ],
)
def test_bad_quizzes_are_refused_and_change_nothing(open_world, questions, pass_mark, message):
    w = open_world
    course = make_course(w, lessons=1, quiz_on=0)
    (lesson,) = lessons_of(course)
    before = [(q.text, q.options.count()) for q in lesson.quiz.questions.all()]

    with pytest.raises(ValidationError, match=message):
        course_services.quiz_set(actor=w.editor, lesson=lesson, pass_mark=pass_mark, questions=questions)

    lesson.quiz.refresh_from_db()
    assert lesson.quiz.pass_mark == 100
    assert [(q.text, q.options.count()) for q in lesson.quiz.questions.all()] == before


def test_a_page_of_another_space_cannot_be_a_lesson(open_world, world_factory):
    w = open_world
    other = world_factory(Visibility.CLOSED)
    from spaces.services import page_create

    foreign = page_create(actor=other.editor, space=other.space, title="Elsewhere", body="x")
    course = make_course(w, lessons=0, quiz_on=None)

    with pytest.raises(ValidationError, match="page of this space"):
        course_services.lesson_add(actor=w.editor, course=course, page=foreign)
    assert course.lessons.count() == 0


def test_empty_answers_are_refused_and_record_nothing(open_world):
    w = open_world
    course = make_course(w, lessons=1, quiz_on=0)
    (lesson,) = lessons_of(course)
    course_services.course_enrol(actor=w.viewer, course=course)

    with pytest.raises(ValidationError, match="Answer every question"):
        course_services.quiz_submit(actor=w.viewer, lesson=lesson, answers={})
    assert not QuizAttempt.objects.exists()
    assert not ActivityEvent.objects.filter(kind="quiz_attempt").exists()


def test_drafts_are_not_open_to_enrolment_and_published_count_follows(open_world):
    w = open_world
    course = make_course(w, lessons=1, published=False, quiz_on=None)
    w.space.refresh_from_db()
    assert w.space.published_course_count == 0
    with pytest.raises(PermissionDenied):
        course_services.course_enrol(actor=w.viewer, course=course)

    course_services.course_update(actor=w.editor, course=course, title=course.title, description="", is_published=True)
    w.space.refresh_from_db()
    assert w.space.published_course_count == 1


def test_a_lesson_whose_page_moves_to_another_space_leaves_the_course(open_world):
    from spaces.services import page_move
    from tests.factories import make_space

    w = open_world
    course = make_course(w, lessons=2, quiz_on=None)
    first, second = lessons_of(course)
    elsewhere = make_space(w.staff, w.community, Visibility.OPEN, slug="elsewhere")

    page_move(actor=w.staff, page=second.page, target=elsewhere)

    assert [lesson.pk for lesson in course_outline(w.viewer, course)] == [first.pk]
    assert [lesson.pk for lesson in course_outline(w.staff, course)] == [first.pk]
