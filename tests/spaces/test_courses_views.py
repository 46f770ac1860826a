"""Course pages as members, instructors and outsiders see them: access, forms, certificate, navigation, queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from spaces.models import Course, Lesson, Page, Quiz, QuizAttempt, Visibility
from spaces.services import courses as course_services
from spaces.services import page_create
from tests.factories import make_user, onboard
from tests.spaces.courses_helpers import course_url, lesson_url, make_course, option_ids
from tests.spaces.helpers import client_for, form_errors, messages_of, space_url

FEW, MANY = 3, 30


@pytest.fixture
def open_world(world_factory):
    return world_factory(Visibility.OPEN)


@pytest.fixture
def closed_world(world_factory):
    return world_factory(Visibility.CLOSED)


def completed_course(w):
    """A course with a quiz on lesson 2, completed by ``w.viewer``."""
    course = make_course(w, lessons=2, quiz_on=1)
    first, second = course.lessons.order_by("position")
    course_services.course_enrol(actor=w.viewer, course=course)
    course_services.lesson_mark_done(actor=w.viewer, lesson=first)
    course_services.quiz_submit(actor=w.viewer, lesson=second, answers=option_ids(second, correct=True))
    return course, first, second


def every_course_url(course, lesson, attempt):
    return {
        "list": space_url("courses", course.space),
        "course": course_url("course-detail", course),
        "edit": course_url("course-edit", course),
        "progress": course_url("course-progress", course),
        "certificate": course_url("course-certificate", course),
        "certificate-of": course_url("course-certificate-of", course, user_id=attempt.user_id),
        "lesson": lesson_url("lesson-detail", lesson),
        "quiz": lesson_url("quiz-take", lesson),
        "quiz-edit": lesson_url("quiz-edit", lesson),
        "quiz-result": lesson_url("quiz-result", lesson, attempt_id=attempt.pk),
    }


@pytest.mark.parametrize("who", ["outsider", "requester", "banned", "community_moderator_of_other"])
def test_closed_space_courses_are_404_for_outsiders_on_every_url(closed_world, who):
    w = closed_world
    course, _first, second = completed_course(w)
    attempt = QuizAttempt.objects.get(user=w.viewer)
    if who == "community_moderator_of_other":
        person = make_user("elsewhere")
    else:
        person = getattr(w, who)
    browser = client_for(person)

    for name, url in every_course_url(course, second, attempt).items():
        assert browser.get(url).status_code == 404, name
    for post in ("course-enrol", "course-leave", "course-delete", "lesson-add"):
        assert browser.post(course_url(post, course)).status_code == 404, post
    for post in ("lesson-done", "lesson-remove", "quiz-take"):
        assert browser.post(lesson_url(post, second)).status_code == 404, post
    assert not course.enrolments.filter(user=person).exists()


def test_anonymous_is_sent_to_sign_in_for_closed_space_course_actions_and_sees_nothing(closed_world):
    w = closed_world
    course, _first, _second = completed_course(w)
    from django.test import Client

    assert Client().get(course_url("course-detail", course)).status_code == 404
    assert Client().get(space_url("courses", w.space)).status_code == 404


def test_members_of_a_closed_space_see_its_course(closed_world):
    w = closed_world
    course, first, _second = completed_course(w)
    browser = client_for(w.viewer)

    assert browser.get(course_url("course-detail", course)).status_code == 200
    assert browser.get(lesson_url("lesson-detail", first)).status_code == 200
    assert browser.get(course_url("course-certificate", course)).status_code == 200


def test_drafts_are_hidden_from_everyone_but_instructors(open_world):
    w = open_world
    draft = make_course(w, lessons=1, published=False, quiz_on=None, title="Secret draft")
    (lesson,) = draft.lessons.all()

    for person in (w.viewer, w.outsider):
        browser = client_for(person)
        assert browser.get(course_url("course-detail", draft)).status_code == 404
        assert browser.get(lesson_url("lesson-detail", lesson)).status_code == 404
        assert "Secret draft" not in browser.get(space_url("courses", w.space)).content.decode()
    editor = client_for(w.editor)
    assert editor.get(course_url("course-detail", draft)).status_code == 200
    assert "Secret draft" in editor.get(space_url("courses", w.space)).content.decode()


def test_only_instructors_reach_the_editing_pages(open_world):
    w = open_world
    course = make_course(w, lessons=1, quiz_on=None)
    (lesson,) = course.lessons.all()
    viewer = client_for(w.viewer)

    assert viewer.get(space_url("course-create", w.space)).status_code == 403
    assert viewer.get(course_url("course-edit", course)).status_code == 403
    assert viewer.get(course_url("course-progress", course)).status_code == 403
    assert viewer.get(lesson_url("quiz-edit", lesson)).status_code == 403
    response = viewer.post(course_url("course-edit", course), {"title": "Hijacked", "is_published": "on"})
    assert response.status_code == 403
    assert viewer.post(lesson_url("lesson-remove", lesson)).status_code == 403
    assert Course.objects.get(pk=course.pk).title == "Linkage 101"
    assert Lesson.objects.filter(pk=lesson.pk).exists()


def test_instructor_creates_a_course_and_adds_a_lesson_through_the_pages(open_world):
    w = open_world
    page = page_create(actor=w.editor, space=w.space, title="Blocking", body="Blocking cuts comparisons.")
    editor = client_for(w.editor)

    response = editor.post(
        space_url("course-create", w.space), {"title": "Record linkage", "description": "**Basics**"}
    )
    course = Course.objects.get(title="Record linkage")
    assert response.status_code == 302 and not course.is_published
    assert "<strong>Basics</strong>" in course.description_html

    editor.post(course_url("lesson-add", course), {"page": page.pk})
    lesson = course.lessons.get()
    response = editor.post(
        lesson_url("quiz-edit", lesson),
        {"pass_mark": "60", "questions": "? Does blocking reduce comparisons?\n* Yes\n- No"},
    )
    assert response.status_code == 302
    assert Quiz.objects.get(lesson=lesson).pass_mark == 60
    assert lesson.quiz.questions.get().options.filter(is_correct=True).get().label == "Yes"

    response = editor.post(lesson_url("lesson-remove", lesson))
    assert response.status_code == 302
    assert not course.lessons.exists()
    assert Page.objects.filter(pk=page.pk).exists()  # the lesson leaves the course; its page stays in the space


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"pass_mark": "60", "questions": "? Which?\n- A\n- B"}, "questions", "no correct option"),
        ({"pass_mark": "150", "questions": "? Which?\n* A\n- B"}, "pass_mark", "between 0 and 100"),
        ({"pass_mark": "-5", "questions": "? Which?\n* A\n- B"}, "pass_mark", "between 0 and 100"),
        ({"pass_mark": "60", "questions": "* A\n- B"}, "questions", "before its options"),
    ],
)
def test_bad_quiz_input_shows_a_clear_message_and_changes_nothing(open_world, data, field, message):
    w = open_world
    course = make_course(w, lessons=1, quiz_on=None)
    (lesson,) = course.lessons.all()

    response = client_for(w.editor).post(lesson_url("quiz-edit", lesson), data)

    assert response.status_code == 400
    assert any(message in error for error in form_errors(response)[field])
    assert not Quiz.objects.exists()


def test_a_page_of_another_space_is_refused_with_a_message(open_world, world_factory):
    w = open_world
    other = world_factory(Visibility.CLOSED)
    foreign = page_create(actor=other.editor, space=other.space, title="Elsewhere", body="x")
    course = make_course(w, lessons=0, quiz_on=None)

    response = client_for(w.editor).post(course_url("lesson-add", course), {"page": foreign.pk})

    assert "Choose a page of this space." in messages_of(response)
    assert not course.lessons.exists()


def test_empty_quiz_answers_show_a_message_and_record_nothing(open_world):
    w = open_world
    course = make_course(w, lessons=1, quiz_on=0)
    (lesson,) = course.lessons.all()
    course_services.course_enrol(actor=w.viewer, course=course)

    response = client_for(w.viewer).post(lesson_url("quiz-take", lesson), {})

    assert response.status_code == 400
    assert "Answer every question before submitting." in response.content.decode()
    assert not QuizAttempt.objects.exists()


def test_quiz_result_shows_what_was_wrong_only_after_submission_and_allows_a_retry(open_world):
    w = open_world
    course = make_course(w, lessons=1, quiz_on=0)
    (lesson,) = course.lessons.all()
    course_services.course_enrol(actor=w.viewer, course=course)
    browser = client_for(w.viewer)

    before = browser.get(lesson_url("quiz-take", lesson)).content.decode()
    assert "Wrong" not in before
    response = browser.post(
        lesson_url("quiz-take", lesson), {f"q{k}": v for k, v in option_ids(lesson, correct=False).items()}
    )
    attempt = QuizAttempt.objects.get()
    assert response.url == lesson_url("quiz-result", lesson, attempt_id=attempt.pk)
    result = browser.get(response.url).content.decode()
    assert "Wrong" in result and "Try again" in result and "needed to pass" in result
    assert "A stable identifier" not in result  # the right option is not given away
    assert client_for(w.moderator).get(response.url).status_code == 404  # another member's attempt


def test_enrol_mark_done_and_leave_through_the_pages(open_world):
    w = open_world
    course = make_course(w, lessons=1, quiz_on=None)
    (lesson,) = course.lessons.all()
    browser = client_for(w.viewer)

    assert browser.get(course_url("course-enrol", course)).status_code == 405
    browser.post(course_url("course-enrol", course))
    response = browser.post(lesson_url("lesson-done", lesson))

    assert response.url == course.get_absolute_url()
    assert "Well done: you have completed the course!" in messages_of(response)
    assert course.enrolments.get(user=w.viewer).completed_at is not None
    browser.post(course_url("course-leave", course))
    assert not course.enrolments.exists()


def test_anonymous_reads_an_open_course_but_must_sign_in_to_enrol(open_world):
    from django.test import Client

    w = open_world
    course = make_course(w, lessons=1, quiz_on=None)
    browser = Client()

    assert browser.get(course_url("course-detail", course)).status_code == 200
    response = browser.post(course_url("course-enrol", course))
    assert response.status_code == 302 and "login" in response.url
    assert not course.enrolments.exists()


def test_certificate_only_for_the_member_and_instructors(open_world):
    w = open_world
    course, _first, _second = completed_course(w)
    mine = course_url("course-certificate", course)
    theirs = course_url("course-certificate-of", course, user_id=w.viewer.pk)

    response = client_for(w.viewer).get(mine)
    page = response.content.decode()
    assert response.status_code == 200
    for text in (w.viewer.public_name, course.title, w.space.name, w.community.name):
        assert text in page
    assert client_for(w.editor).get(theirs).status_code == 200
    assert client_for(w.moderator).get(theirs).status_code == 200
    assert client_for(w.outsider).get(theirs).status_code == 404
    onboard(w.outsider, w.community)
    assert client_for(w.outsider).get(mine).status_code == 404  # nothing to certify for them
    # a fellow member who has not completed, and a viewer peeking at someone else's
    course_services.course_enrol(actor=w.moderator, course=course)
    assert client_for(w.moderator).get(mine).status_code == 404


def test_instructors_see_the_progress_table(open_world):
    w = open_world
    course, _first, _second = completed_course(w)
    course_services.course_enrol(actor=w.moderator, course=course)

    response = client_for(w.editor).get(course_url("course-progress", course))

    rows = {row.user_id: row for row in response.context["rows"]}
    assert (rows[w.viewer.pk].lessons_done, rows[w.viewer.pk].attempts, rows[w.viewer.pk].passed_attempts) == (2, 1, 1)
    assert rows[w.viewer.pk].completed_at is not None
    assert (rows[w.moderator.pk].lessons_done, rows[w.moderator.pk].completed_at) == (0, None)


def test_courses_tab_shows_when_the_space_has_courses_or_for_instructors(open_world):
    w = open_world
    home = w.space.get_absolute_url()
    courses = space_url("courses", w.space)

    assert courses not in client_for(w.viewer).get(home).content.decode()
    assert courses in client_for(w.editor).get(home).content.decode()
    make_course(w, lessons=1, published=False, quiz_on=None)
    assert courses not in client_for(w.viewer).get(home).content.decode()
    make_course(w, lessons=1, published=True, quiz_on=None, title="Open course")
    assert courses in client_for(w.viewer).get(home).content.decode()


# --- Query counts ---------------------------------------------------------------------------------------------------
def count_queries(browser, url: str) -> int:
    assert browser.get(url).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        response = browser.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def grow(w, course, start: int, stop: int) -> None:
    """More lessons (pages), and more members enrolled with some progress."""
    for n in range(start, stop):
        page = page_create(actor=w.editor, space=w.space, title=f"Extra lesson {n}", body=f"Body {n}")
        lesson = course_services.lesson_add(actor=w.editor, course=course, page=page)
        person = make_user(f"learner{n}")
        onboard(person, w.community)
        course_services.course_enrol(actor=person, course=course)
        course_services.lesson_mark_done(actor=person, lesson=lesson)
        course_services.lesson_mark_done(actor=w.viewer, lesson=lesson)


@pytest.mark.parametrize("page", ["course-detail", "lesson-detail"])
def test_course_and_lesson_pages_query_count_is_constant(open_world, page):
    w = open_world
    course = make_course(w, lessons=1, quiz_on=0)
    first = course.lessons.get()
    course_services.course_enrol(actor=w.viewer, course=course)
    browser = client_for(w.viewer)
    url = course_url(page, course) if page == "course-detail" else lesson_url(page, first)

    grow(w, course, 0, FEW)
    few = count_queries(browser, url)
    grow(w, course, FEW, MANY)
    many = count_queries(browser, url)

    assert course.lessons.count() == MANY + 1
    # user, space, roles, course, outline, enrolment, unread notifications, + the watch button (course page) or
    # + the lesson, the member's quiz attempts and the page_view INSERT (lesson page)
    expected = {"course-detail": 7, "lesson-detail": 9}[page]  # header counts: cached
    assert (few, many) == (expected, expected)


def test_progress_table_query_count_is_constant(open_world):
    w = open_world
    course = make_course(w, lessons=1, quiz_on=None)
    course_services.course_enrol(actor=w.viewer, course=course)
    browser = client_for(w.editor)
    url = course_url("course-progress", course)

    grow(w, course, 0, FEW)
    few = count_queries(browser, url)
    grow(w, course, FEW, MANY)
    many = count_queries(browser, url)

    assert len(browser.get(url).context["rows"]) == MANY + 1
    assert (few, many) == (6, 6)  # the header's counts come from the cache


def test_instructor_pages_render(open_world):
    w = open_world
    course, first, second = completed_course(w)
    editor = client_for(w.editor)

    for url in (
        space_url("courses", w.space),
        space_url("course-create", w.space),
        course_url("course-detail", course),
        course_url("course-edit", course),
        course_url("course-progress", course),
        lesson_url("lesson-detail", first),
        lesson_url("lesson-detail", second),
        lesson_url("quiz-edit", second),
        lesson_url("quiz-take", second),
    ):
        assert editor.get(url).status_code == 200, url
    form = editor.get(lesson_url("quiz-edit", second)).context["form"]
    assert form.initial["questions"].startswith("? Which key links records deterministically?\n* A stable identifier")


def test_private_space_courses_are_for_its_members(world_factory):
    w = world_factory(Visibility.PRIVATE)
    course, first, _second = completed_course(w)

    for person in (w.outsider, w.requester):
        browser = client_for(person)
        assert browser.get(course_url("course-detail", course)).status_code == 403
        assert browser.get(lesson_url("lesson-detail", first)).status_code == 403
        assert browser.post(course_url("course-enrol", course)).status_code == 403
    assert not course.enrolments.filter(user__in=[w.outsider, w.requester]).exists()
    assert client_for(w.viewer).get(lesson_url("lesson-detail", first)).status_code == 200


def test_lesson_of_a_restricted_page_is_404_for_those_who_cannot_see_it(open_world):
    from spaces.services import page_set_restrictions

    w = open_world
    course, first, second = completed_course(w)
    page_set_restrictions(actor=w.editor, page=second.page, restrict_view=True, restrict_edit=False)

    viewer = client_for(w.viewer)
    assert viewer.get(lesson_url("lesson-detail", second)).status_code == 404
    assert viewer.get(lesson_url("quiz-take", second)).status_code == 404
    assert second.page.title not in viewer.get(course_url("course-detail", course)).content.decode()
    assert client_for(w.editor).get(lesson_url("lesson-detail", second)).status_code == 200
