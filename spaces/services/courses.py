"""Every write to courses: create and edit courses, lessons and quizzes (instructors); enrol, leave, mark a lesson
done and submit a quiz (members). Progress events go to the activity log in the same transaction.

Completion rule (the one a mature LMS follows for activities hidden from a learner): a member's course is the
lessons whose page *they* may see. A lesson whose page becomes restricted, hidden or trashed leaves the course for
those who can no longer see it, so it neither shows in their outline nor counts against their completion; for
those who still see it, it still counts. Completion is recorded once reached and is never taken back by a later
change to the course (a lesson added later does not void a certificate).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from analytics.recording import record_activity
from copapp.markdown import render_markdown
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
    QuizOption,
    QuizQuestion,
    Space,
)

MAX_TITLE = 200
MAX_DESCRIPTION = 20_000
MAX_QUESTIONS = 30
MAX_OPTIONS = 10
MAX_QUESTION = 500
MAX_OPTION = 300

# Activity kinds (analytics counts enrolments and completion rates from these).
COURSE_ENROL = "course_enrol"
COURSE_LEAVE = "course_leave"
LESSON_COMPLETE = "lesson_complete"
QUIZ_ATTEMPT = "quiz_attempt"  # the target is the QuizAttempt row, which says whether it passed
COURSE_COMPLETE = "course_complete"


def _record(actor, kind: str, course: Course, target) -> None:
    record_activity(
        actor=actor, kind=kind, community_id=course.space.community_id, space_id=course.space_id, target=target
    )


def _require_editor(actor, space: Space) -> None:
    if not rules.can_edit_courses(actor, space):
        raise PermissionDenied


def _validate_course(title: str, description: str) -> str:
    title = " ".join((title or "").split())
    errors: dict[str, list[str]] = {}
    if not title:
        errors["title"] = [_("Give the course a title.")]
    elif len(title) > MAX_TITLE:
        errors["title"] = [_("Keep the title under %d characters.") % MAX_TITLE]
    if len(description or "") > MAX_DESCRIPTION:
        errors["description"] = [_("Keep the description under %d characters.") % MAX_DESCRIPTION]
    if errors:
        raise ValidationError(errors)
    return title


def _unique_slug(space: Space, title: str) -> str:
    base = slugify(title, allow_unicode=True)[:70] or "course"
    taken = set(Course.objects.filter(space=space, slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _recount_published(space: Space) -> None:
    count = Course.objects.filter(space=space, is_published=True).count()
    Space.objects.filter(pk=space.pk).update(published_course_count=count)
    space.published_course_count = count


# --- Instructors: courses, lessons, quizzes ---------------------------------------------------------------------
@transaction.atomic
def course_create(*, actor, space: Space, title: str, description: str = "", is_published: bool = False) -> Course:
    """A new course in ``space`` (a draft unless ``is_published``); instructors only."""
    _require_editor(actor, space)
    title = _validate_course(title, description)
    course = Course(
        space=space,
        title=title,
        slug=_unique_slug(space, title),
        description=description or "",
        description_html=render_markdown(description or ""),
        is_published=bool(is_published),
        published_at=timezone.now() if is_published else None,
        created_by=actor,
    )
    course.full_clean()
    course.save()
    _recount_published(space)
    _record(actor, "course_create", course, course)
    return course


@transaction.atomic
def course_update(*, actor, course: Course, title: str, description: str, is_published: bool) -> Course:
    _require_editor(actor, course.space)
    title = _validate_course(title, description)
    fields = ["title", "description", "description_html", "is_published", "updated_at"]
    if is_published and not course.is_published and course.published_at is None:
        course.published_at = timezone.now()
        fields.append("published_at")
    course.title, course.description = title, description or ""
    course.description_html = render_markdown(course.description)
    course.is_published = bool(is_published)
    course.full_clean()
    course.save(update_fields=fields)
    _recount_published(course.space)
    _record(actor, "course_edit", course, course)
    return course


@transaction.atomic
def course_delete(*, actor, course: Course) -> None:
    """Delete the course with its lessons, quizzes and progress; the pages stay in the space."""
    _require_editor(actor, course.space)
    space = course.space
    _record(actor, "course_delete", course, course)
    course.delete()
    _recount_published(space)


@transaction.atomic
def lesson_add(*, actor, course: Course, page: Page) -> Lesson:
    """Add ``page`` (a page of the course's space that the instructor can see) as the last lesson."""
    _require_editor(actor, course.space)
    if page.space_id != course.space_id or not Item.objects.visible_to(actor).filter(pk=page.item_id).exists():
        raise ValidationError({"page": [_("Choose a page of this space.")]})
    if Lesson.objects.filter(course=course, page=page).exists():
        raise ValidationError({"page": [_("This page is already a lesson of the course.")]})
    last = Lesson.objects.filter(course=course).aggregate(last=Max("position"))["last"]
    lesson = Lesson.objects.create(course=course, page=page, position=0 if last is None else last + 1)
    _record(actor, "lesson_add", course, lesson)
    return lesson


@transaction.atomic
def lesson_remove(*, actor, lesson: Lesson) -> None:
    """Take the lesson out of the course (its quiz and completions go with it); the page stays."""
    _require_editor(actor, lesson.course.space)
    lesson.delete()


@transaction.atomic
def lesson_move(*, actor, lesson: Lesson, offset: int) -> None:
    """Swap the lesson with its neighbour (``offset`` -1: earlier, +1: later)."""
    _require_editor(actor, lesson.course.space)
    lessons = list(Lesson.objects.select_for_update().filter(course_id=lesson.course_id).order_by("position", "pk"))
    index = next(i for i, other in enumerate(lessons) if other.pk == lesson.pk)
    target = index + offset
    if not 0 <= target < len(lessons):
        return
    lessons[index], lessons[target] = lessons[target], lessons[index]
    for position, other in enumerate(lessons):
        if other.position != position:
            other.position = position
            other.save(update_fields=["position"])


def _clean_questions(questions: Iterable[Mapping]) -> list[dict]:
    """Trimmed questions, each with 2 to 10 options; single choice: exactly one right option, multiple: one or
    more. Raises ValidationError({"questions": ...}) with the first problem found."""
    cleaned: list[dict] = []
    for n, raw in enumerate(questions, start=1):
        text = " ".join(str(raw.get("text") or "").split())
        options = [
            {"label": " ".join(str(o.get("label") or "").split()), "correct": bool(o.get("correct"))}
            for o in raw.get("options") or []
        ]
        options = [o for o in options if o["label"]]
        right = sum(o["correct"] for o in options)
        problem = ""
        if not text:
            problem = _("Question %d has no text.") % n
        elif len(text) > MAX_QUESTION or any(len(o["label"]) > MAX_OPTION for o in options):
            problem = _("Question %d is too long.") % n
        elif not 2 <= len(options) <= MAX_OPTIONS:
            problem = _("Question %(n)d needs between 2 and %(max)d options.") % {"n": n, "max": MAX_OPTIONS}
        elif right == 0:
            problem = _("Question %d has no correct option: mark at least one.") % n
        elif not raw.get("multiple") and right > 1:
            problem = _("Question %d is single choice but has several correct options.") % n
        if problem:
            raise ValidationError({"questions": [problem]})
        cleaned.append({"text": text, "multiple": bool(raw.get("multiple")), "options": options})
    if not cleaned:
        raise ValidationError({"questions": [_("Write at least one question.")]})
    if len(cleaned) > MAX_QUESTIONS:
        raise ValidationError({"questions": [_("A quiz has at most %d questions.") % MAX_QUESTIONS]})
    return cleaned


@transaction.atomic
def quiz_set(*, actor, lesson: Lesson, pass_mark: int, questions: Iterable[Mapping]) -> Quiz:
    """Create or replace the lesson's quiz. ``questions``: [{"text", "multiple", "options": [{"label",
    "correct"}]}]. Completions already earned stay; earlier attempts stay in the log."""
    _require_editor(actor, lesson.course.space)
    errors: dict[str, list[str]] = {}
    if not isinstance(pass_mark, int) or isinstance(pass_mark, bool) or not 0 <= pass_mark <= 100:
        errors["pass_mark"] = [_("The pass mark is a percentage between 0 and 100.")]
    try:
        cleaned = _clean_questions(list(questions))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    quiz, _created = Quiz.objects.get_or_create(lesson=lesson, defaults={"pass_mark": pass_mark})
    if quiz.pass_mark != pass_mark:
        quiz.pass_mark = pass_mark
        quiz.save(update_fields=["pass_mark", "updated_at"])
    quiz.questions.all().delete()
    for position, question in enumerate(cleaned):
        row = QuizQuestion.objects.create(
            quiz=quiz, text=question["text"], multiple=question["multiple"], position=position
        )
        QuizOption.objects.bulk_create(
            QuizOption(question=row, label=o["label"], is_correct=o["correct"], position=i)
            for i, o in enumerate(question["options"])
        )
    _record(actor, "quiz_set", lesson.course, quiz)
    return quiz


@transaction.atomic
def quiz_remove(*, actor, lesson: Lesson) -> None:
    _require_editor(actor, lesson.course.space)
    Quiz.objects.filter(lesson=lesson).delete()


# --- Members: enrolment and progress ----------------------------------------------------------------------------
def _enrolment(actor, course: Course) -> Enrolment:
    enrolment = Enrolment.objects.filter(course=course, user=actor).first() if actor.is_authenticated else None
    if enrolment is None:
        raise ValidationError(_("Enrol in the course first."))
    return enrolment


def _check_completion(actor, course: Course, enrolment: Enrolment) -> bool:
    """Mark the course completed when every lesson the member can see is completed; True if it just was."""
    if enrolment.completed_at is not None:
        return False
    lessons = rules.visible_lessons(actor, course)
    if not lessons.exists() or lessons.exclude(completions__user=actor).exists():
        return False
    enrolment.completed_at = timezone.now()
    enrolment.save(update_fields=["completed_at"])
    _record(actor, COURSE_COMPLETE, course, enrolment)
    return True


@transaction.atomic
def course_enrol(*, actor, course: Course) -> Enrolment:
    """Enrol the member (a second call changes nothing). Progress kept from an earlier enrolment counts again."""
    if not rules.can_enrol(actor, course):
        raise PermissionDenied
    try:
        with transaction.atomic():
            enrolment, created = Enrolment.objects.get_or_create(course=course, user=actor)
    except IntegrityError:  # a double click: the other request enrolled them
        return Enrolment.objects.get(course=course, user=actor)
    if created:
        _record(actor, COURSE_ENROL, course, enrolment)
        _check_completion(actor, course, enrolment)
    return enrolment


@transaction.atomic
def course_leave(*, actor, course: Course) -> None:
    """Leave the course. Completed lessons are kept, so enrolling again picks up where the member left."""
    deleted, _rows = Enrolment.objects.filter(course=course, user=actor).delete()
    if not deleted:
        raise ValidationError(_("You are not enrolled in this course."))
    _record(actor, COURSE_LEAVE, course, course)


def _complete(actor, lesson: Lesson) -> bool:
    """Record the completion (once); True if it is new."""
    _row, created = LessonCompletion.objects.get_or_create(lesson=lesson, user=actor)
    if created:
        _record(actor, LESSON_COMPLETE, lesson.course, lesson)
    return created


@transaction.atomic
def lesson_mark_done(*, actor, lesson: Lesson) -> bool:
    """ "Mark as done" on a lesson without a quiz; returns True if this completed the course."""
    enrolment = _enrolment(actor, lesson.course)
    if not rules.visible_lessons(actor, lesson.course).filter(pk=lesson.pk).exists():
        raise PermissionDenied
    if Quiz.objects.filter(lesson=lesson).exists():
        raise ValidationError(_("This lesson is completed by passing its quiz."))
    _complete(actor, lesson)
    return _check_completion(actor, lesson.course, enrolment)


def _chosen(answers: Mapping, questions: list[QuizQuestion]) -> dict[int, set[int]]:
    """The option ids chosen for each question; every question answered, with options of that question only."""
    chosen: dict[int, set[int]] = {}
    for question in questions:
        raw = answers.get(question.pk) or answers.get(str(question.pk)) or []
        if isinstance(raw, (str, int)):
            raw = [raw]
        try:
            ids = {int(value) for value in raw if str(value).strip()}
        except (TypeError, ValueError) as exc:
            raise ValidationError(_("That answer is not part of this quiz.")) from exc
        if not ids:
            raise ValidationError(_("Answer every question before submitting."))
        if not question.multiple and len(ids) > 1:
            raise ValidationError(_("Choose one answer only for: “%s”.") % question.text)
        if not ids <= {option.pk for option in question.options.all()}:
            raise ValidationError(_("That answer is not part of this quiz."))
        chosen[question.pk] = ids
    return chosen


def score_quiz(questions: list[QuizQuestion], chosen: Mapping[int, set[int]]) -> int:
    """Percentage of questions answered exactly right (for multiple choice: all the right options, no other)."""
    if not questions:
        return 0
    right = sum(1 for q in questions if chosen.get(q.pk, set()) == {o.pk for o in q.options.all() if o.is_correct})
    return round(100 * right / len(questions))


@transaction.atomic
def quiz_submit(*, actor, lesson: Lesson, answers: Mapping) -> QuizAttempt:
    """Score the member's answers on the server. At or above the pass mark the lesson is completed (and perhaps
    the course); below it, nothing but the attempt is recorded and they may try again. An incomplete or foreign
    answer is refused with a message and records nothing."""
    enrolment = _enrolment(actor, lesson.course)
    if not rules.visible_lessons(actor, lesson.course).filter(pk=lesson.pk).exists():
        raise PermissionDenied
    quiz = Quiz.objects.filter(lesson=lesson).first()
    if quiz is None:
        raise ValidationError(_("This lesson has no quiz."))
    questions = list(quiz.questions.prefetch_related("options"))
    chosen = _chosen(answers, questions)
    score = score_quiz(questions, chosen)
    attempt = QuizAttempt.objects.create(
        quiz=quiz,
        user=actor,
        score=score,
        passed=score >= quiz.pass_mark,
        answers={str(pk): sorted(ids) for pk, ids in chosen.items()},
    )
    _record(actor, QUIZ_ATTEMPT, lesson.course, attempt)
    if attempt.passed:
        _complete(actor, lesson)
        _check_completion(actor, lesson.course, enrolment)
    return attempt
