"""The demo course: real lessons, a quiz, learners at every stage, and a second run that creates nothing."""

import pytest

from analytics.models import ActivityEvent
from spaces.management.commands._demo_courses import seed_demo_course
from spaces.models import Course, Enrolment, Lesson, LessonCompletion, Page, QuizAttempt, QuizQuestion, Visibility
from tests.factories import make_user, onboard


@pytest.fixture
def open_world(world_factory):
    return world_factory(Visibility.OPEN)


def counts() -> tuple:
    models = (Course, Lesson, Page, QuizQuestion, Enrolment, LessonCompletion, QuizAttempt, ActivityEvent)
    return tuple(model.objects.count() for model in models)


def test_seed_demo_course_builds_a_course_with_completions_and_is_idempotent(open_world):
    w = open_world
    learners = [w.viewer, w.moderator, w.admin]
    for n in range(2):
        person = make_user(f"learner{n}")
        onboard(person, w.community)
        learners.append(person)

    seed_demo_course(w.space, w.editor, learners)
    first = counts()
    seed_demo_course(w.space, w.editor, learners)

    assert counts() == first
    course = Course.objects.get(title="Data integration basics")
    assert course.is_published
    lessons = list(course.lessons.select_related("page").order_by("position"))
    assert len(lessons) == 3 and all("linkage" in lesson.page.body.lower() for lesson in lessons[1:])
    assert lessons[1].quiz.questions.count() == 3
    assert course.enrolments.count() == 5
    assert course.enrolments.filter(completed_at__isnull=False).count() == 2
    assert QuizAttempt.objects.filter(passed=False).exists()
