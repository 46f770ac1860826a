"""Builders shared by the course tests: everything through the services."""

from django.urls import reverse

from spaces.services import courses as course_services
from spaces.services import page_create

SINGLE = {
    "text": "Which key links records deterministically?",
    "multiple": False,
    "options": [
        {"label": "A stable identifier", "correct": True},
        {"label": "The first name", "correct": False},
    ],
}
MULTIPLE = {
    "text": "Which fields help blocking?",
    "multiple": True,
    "options": [
        {"label": "Postcode", "correct": True},
        {"label": "Year of birth", "correct": True},
        {"label": "Free-text comment", "correct": False},
    ],
}


def make_course(w, *, lessons: int = 3, published: bool = True, quiz_on: int | None = 1, title: str = "Linkage 101"):
    """A course by ``w.editor`` with ``lessons`` pages and (optionally) a single-choice quiz on lesson ``quiz_on``
    (0-based), pass mark 100."""
    course = course_services.course_create(
        actor=w.editor, space=w.space, title=title, description="Learn *linkage*.", is_published=published
    )
    for n in range(lessons):
        page = page_create(actor=w.editor, space=w.space, title=f"{title} lesson {n + 1}", body=f"Text {n + 1}")
        lesson = course_services.lesson_add(actor=w.editor, course=course, page=page)
        if quiz_on == n:
            course_services.quiz_set(actor=w.editor, lesson=lesson, pass_mark=100, questions=[SINGLE])
    return course


def option_ids(lesson, *, correct: bool) -> dict:
    """Answers choosing the right (or the wrong) options of every question of the lesson's quiz."""
    return {
        q.pk: [o.pk for o in q.options.all() if o.is_correct == correct][: None if q.multiple else 1]
        for q in lesson.quiz.questions.all()
    }


def course_url(name: str, course, **kwargs) -> str:
    return reverse(
        f"spaces:{name}",
        kwargs={
            "community_slug": course.space.community.slug,
            "space_slug": course.space.slug,
            "course_slug": course.slug,
            **kwargs,
        },
    )


def lesson_url(name: str, lesson, **kwargs) -> str:
    return course_url(name, lesson.course, lesson_id=lesson.pk, **kwargs)
