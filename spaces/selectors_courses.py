"""Reads for courses. Every list is filtered in the query (``Course.objects.visible_to``, ``visible_lessons_q``) and
runs a fixed number of queries whatever the number of lessons, enrolments or attempts."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import BooleanField, Count, Exists, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from spaces import permissions_courses as rules
from spaces.models import (
    Course,
    Enrolment,
    Item,
    Lesson,
    LessonCompletion,
    Page,
    Quiz,
    QuizAttempt,
    QuizQuestion,
    Space,
)


def _count(queryset: QuerySet, field: str) -> Coalesce:
    """A correlated COUNT of ``queryset`` rows grouped by ``field`` (0 when there are none)."""
    counted = queryset.order_by().values(field).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def course_list(user, space: Space) -> QuerySet[Course]:
    """The space's courses the user may see, each with ``lesson_count`` (lessons the user may see),
    ``enrolment_count``, and the member's own ``is_enrolled`` / ``is_completed``: one query."""
    courses = Course.objects.visible_to(user).filter(space=space)
    lessons = Lesson.objects.filter(rules.visible_lessons_q(user), course=OuterRef("pk"))
    courses = courses.annotate(
        lesson_count=_count(lessons, "course"),
        enrolment_count=_count(Enrolment.objects.filter(course=OuterRef("pk")), "course"),
    )
    if user.is_authenticated:
        mine = Enrolment.objects.filter(course=OuterRef("pk"), user=user)
        courses = courses.annotate(
            is_enrolled=Exists(mine), is_completed=Exists(mine.filter(completed_at__isnull=False))
        )
    else:
        false = Value(False, output_field=BooleanField())
        courses = courses.annotate(is_enrolled=false, is_completed=false)
    return courses.order_by("-is_published", "title", "pk")


def course_outline(user, course: Course) -> list[Lesson]:
    """The lessons the user may see, in order, each with ``done`` (completed by the user) and ``has_quiz``.
    Pages come without their text (the outline shows titles only): one query."""
    lessons = rules.visible_lessons(user, course).select_related("page").defer("page__body", "page__body_html")
    done = (
        Exists(LessonCompletion.objects.filter(lesson=OuterRef("pk"), user=user))
        if user.is_authenticated
        else Value(False, output_field=BooleanField())
    )
    rows = list(
        lessons.annotate(done=done, has_quiz=Exists(Quiz.objects.filter(lesson=OuterRef("pk")))).order_by(
            "position", "pk"
        )
    )
    for number, lesson in enumerate(rows, start=1):
        lesson.number = number
        lesson.course = course
        lesson.page.space = course.space
    return rows


def my_enrolment(user, course: Course) -> Enrolment | None:
    if not user.is_authenticated:
        return None
    return Enrolment.objects.filter(course=course, user=user).first()


def progress_summary(outline: list[Lesson]) -> dict:
    total = len(outline)
    done = sum(1 for lesson in outline if lesson.done)
    return {"lessons_total": total, "lessons_done": done, "percent": round(100 * done / total) if total else 0}


def addable_pages(user, course: Course) -> QuerySet[Page]:
    """Pages of the course's space that the instructor may see and that are not yet lessons of the course."""
    return (
        Page.objects.filter(space_id=course.space_id, item__in=Item.objects.visible_to(user).values("pk"))
        .exclude(lessons__course=course)
        .only("pk", "title")
        .order_by("title", "pk")
    )


def quiz_questions(quiz: Quiz) -> list[QuizQuestion]:
    """Questions with their options (two queries)."""
    return list(quiz.questions.prefetch_related("options").order_by("position", "pk"))


def quiz_history(user, quiz: Quiz) -> dict:
    """The member's attempts at ``quiz``: how many and the best score (one query)."""
    if not user.is_authenticated:
        return {"attempts": 0, "best": None}
    return QuizAttempt.objects.filter(quiz=quiz, user=user).aggregate(attempts=Count("pk"), best=Max("score"))


def attempt_review(attempt: QuizAttempt) -> list[dict]:
    """Each question of the attempt with the member's choices and whether the question was answered right.
    The right options are not revealed: the member may try again."""
    rows = []
    for question in quiz_questions(attempt.quiz):
        chosen = set(attempt.answers.get(str(question.pk), []))
        options = list(question.options.all())
        right = {o.pk for o in options if o.is_correct}
        rows.append(
            {
                "question": question,
                "options": [{"option": o, "chosen": o.pk in chosen} for o in options],
                "is_right": chosen == right,
                "answered": bool(chosen),
            }
        )
    return rows


def progress_table(course: Course) -> list[Enrolment]:
    """Every enrolment with the member, ``lessons_done`` (completions of the course's lessons whose page is not
    trashed), ``attempts`` and ``passed_attempts`` of the course's quizzes: one query whatever the number of rows."""
    completions = LessonCompletion.objects.filter(
        user=OuterRef("user_id"), lesson__course=course, lesson__page__item__deleted_at__isnull=True
    )
    attempts = QuizAttempt.objects.filter(user=OuterRef("user_id"), quiz__lesson__course=course)
    return list(
        Enrolment.objects.filter(course=course)
        .select_related("user__profile")
        .annotate(
            lessons_done=_count(completions, "user"),
            attempts=_count(attempts, "user"),
            passed_attempts=_count(attempts.filter(passed=True), "user"),
        )
        .order_by("enrolled_at", "pk")
    )


def certificate_enrolment(course: Course, user_id: int) -> Enrolment | None:
    return (
        Enrolment.objects.filter(course=course, user_id=user_id, completed_at__isnull=False)
        .select_related("user")
        .first()
    )


def course_funnel(space_ids: Iterable[int]) -> list[dict]:
    """Enrolments and completions per course of the given spaces, for analytics (one query): a list of
    {"course_id", "space_id", "title", "is_published", "enrolments", "completions", "completion_rate"}, where
    ``completion_rate`` is completions / enrolments (None without enrolments)."""
    rows = (
        Course.objects.filter(space_id__in=list(space_ids))
        .annotate(
            enrolled=Count("enrolments"),
            completed=Count("enrolments", filter=Q(enrolments__completed_at__isnull=False)),
        )
        .order_by("space_id", "title", "pk")
        .values("pk", "space_id", "title", "is_published", "enrolled", "completed")
    )
    return [
        {
            "course_id": row["pk"],
            "space_id": row["space_id"],
            "title": row["title"],
            "is_published": row["is_published"],
            "enrolments": row["enrolled"],
            "completions": row["completed"],
            "completion_rate": row["completed"] / row["enrolled"] if row["enrolled"] else None,
        }
        for row in rows
    ]
