"""Courses: list, course page (outline, enrol, leave, add lessons), lesson page (mark as done), quiz (take, result,
edit), the instructors' progress table and the completion certificate. Permission checks happen in the fetch
helpers of ``spaces.permissions_courses`` (404 unseen, 403 seen but not allowed)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from spaces import permissions, selectors_courses
from spaces import permissions_courses as rules
from spaces.forms_courses import CourseForm, LessonAddForm, QuizForm, quiz_as_text
from spaces.models import Page, QuizAttempt
from spaces.services import courses as course_services
from spaces.views.membership import _error_text, _form_errors, _space_context, onboarding_redirects
from spaces.views.tracking import record_item_view, record_space_visit


def _lesson_url(lesson, name: str = "lesson-detail", **extra) -> str:
    course = lesson.course
    kwargs = {
        "community_slug": course.space.community.slug,
        "space_slug": course.space.slug,
        "course_slug": course.slug,
        "lesson_id": lesson.pk,
    }
    return reverse(f"spaces:{name}", kwargs={**kwargs, **extra})


def _course_context(request, course) -> dict:
    context = _space_context(request, course.space)
    context.update(
        course=course,
        tab="courses",
        is_instructor=rules.is_instructor(request.user, course.space),
        can_edit=rules.can_edit_courses(request.user, course.space),
    )
    return context


@require_GET
def course_list(request, community_slug, space_slug):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="read")
    context = _space_context(request, space)
    context.update(
        courses=list(selectors_courses.course_list(request.user, space)),
        can_create=rules.can_edit_courses(request.user, space),
        tab="courses",
    )
    record_space_visit(request, space)
    return render(request, "spaces/courses/course_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@onboarding_redirects
def course_create(request, community_slug, space_slug):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="read")
    if not rules.can_edit_courses(request.user, space):
        raise PermissionDenied
    form = CourseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            course = course_services.course_create(actor=request.user, space=space, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Course created. Add its lessons from the space's pages."))
            return redirect(course)
    context = _space_context(request, space)
    context.update(form=form, tab="courses", heading=_("New course"))
    return render(request, "spaces/courses/course_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def course_edit(request, community_slug, space_slug, course_slug):
    course = rules.get_course_for_user(request.user, community_slug, space_slug, course_slug, action="edit")
    initial = {"title": course.title, "description": course.description, "is_published": course.is_published}
    form = CourseForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            course_services.course_update(actor=request.user, course=course, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Course saved."))
            return redirect(course)
    context = _course_context(request, course)
    context.update(form=form, heading=_("Edit the course"))
    return render(request, "spaces/courses/course_form.html", context)


@login_required
@require_POST
def course_delete(request, community_slug, space_slug, course_slug):
    course = rules.get_course_for_user(request.user, community_slug, space_slug, course_slug, action="edit")
    space = course.space
    course_services.course_delete(actor=request.user, course=course)
    messages.success(request, _("Course deleted. Its pages are still in the space."))
    return redirect("spaces:courses", community_slug=space.community.slug, space_slug=space.slug)


@require_GET
def course_detail(request, community_slug, space_slug, course_slug):
    course = rules.get_course_for_user(request.user, community_slug, space_slug, course_slug)
    outline = selectors_courses.course_outline(request.user, course)
    enrolment = selectors_courses.my_enrolment(request.user, course)
    context = _course_context(request, course)
    context.update(
        lessons=outline,
        enrolment=enrolment,
        can_enrol=enrolment is None and rules.can_enrol(request.user, course),
        **selectors_courses.progress_summary(outline),
    )
    if context["can_edit"]:
        context["add_form"] = LessonAddForm(pages=selectors_courses.addable_pages(request.user, course))
    record_space_visit(request, course.space)
    return render(request, "spaces/courses/course_detail.html", context)


@login_required
@require_POST
@onboarding_redirects
def course_enrol(request, community_slug, space_slug, course_slug):
    course = rules.get_course_for_user(request.user, community_slug, space_slug, course_slug)
    course_services.course_enrol(actor=request.user, course=course)
    messages.success(request, _("You are enrolled. Start with the first lesson."))
    return redirect(course)


@login_required
@require_POST
def course_leave(request, community_slug, space_slug, course_slug):
    course = rules.get_course_for_user(request.user, community_slug, space_slug, course_slug)
    try:
        course_services.course_leave(actor=request.user, course=course)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("You have left the course. Your completed lessons are kept if you come back."))
    return redirect(course)


@login_required
@require_POST
def lesson_add(request, community_slug, space_slug, course_slug):
    course = rules.get_course_for_user(request.user, community_slug, space_slug, course_slug, action="edit")
    form = LessonAddForm(request.POST)
    page = Page.objects.filter(pk=form.cleaned_data["page"]).first() if form.is_valid() else None
    try:
        if page is None:
            raise ValidationError(_("Choose a page of this space."))
        course_services.lesson_add(actor=request.user, course=course, page=page)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Lesson added."))
    return redirect(course)


@login_required
@require_POST
def lesson_change(request, community_slug, space_slug, course_slug, lesson_id, change):
    """Move a lesson up or down, or take it out of the course (instructors)."""
    course = rules.get_course_for_user(request.user, community_slug, space_slug, course_slug, action="edit")
    lesson = rules.get_lesson_for_user(request.user, course, lesson_id, with_quiz=False)
    if change == "remove":
        course_services.lesson_remove(actor=request.user, lesson=lesson)
        messages.success(request, _("Lesson removed from the course. The page is still in the space."))
    else:
        course_services.lesson_move(actor=request.user, lesson=lesson, offset=-1 if change == "up" else 1)
    return redirect(course)


@require_GET
def lesson_detail(request, community_slug, space_slug, course_slug, lesson_id):
    course = rules.get_course_for_user(request.user, community_slug, space_slug, course_slug)
    lesson = rules.get_lesson_for_user(request.user, course, lesson_id)
    outline = selectors_courses.course_outline(request.user, course)
    index = next((i for i, row in enumerate(outline) if row.pk == lesson.pk), 0)
    quiz = getattr(lesson, "quiz", None)  # None when the lesson has no quiz (reverse one-to-one)
    context = _course_context(request, course)
    context.update(
        lesson=lesson,
        page=lesson.page,
        lessons=outline,
        number=index + 1,
        previous=outline[index - 1] if index > 0 else None,
        next=outline[index + 1] if index + 1 < len(outline) else None,
        is_done=outline[index].done if outline else False,
        quiz=quiz,
        quiz_history=selectors_courses.quiz_history(request.user, quiz) if quiz else None,
        enrolment=selectors_courses.my_enrolment(request.user, course),
        **selectors_courses.progress_summary(outline),
    )
    record_item_view(request, lesson.page, "page_view")
    return render(request, "spaces/courses/lesson_detail.html", context)


@login_required
@require_POST
def lesson_done(request, community_slug, space_slug, course_slug, lesson_id):
    course = rules.get_course_for_user(request.user, community_slug, space_slug, course_slug)
    lesson = rules.get_lesson_for_user(request.user, course, lesson_id)
    try:
        completed = course_services.lesson_mark_done(actor=request.user, lesson=lesson)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect(_lesson_url(lesson))
    if completed:
        messages.success(request, _("Well done: you have completed the course!"))
        return redirect(course)
    messages.success(request, _("Lesson marked as done."))
    return redirect(_lesson_url(lesson))


@login_required
@require_http_methods(["GET", "POST"])
def quiz_take(request, community_slug, space_slug, course_slug, lesson_id):
    course = rules.get_course_for_user(request.user, community_slug, space_slug, course_slug)
    lesson = rules.get_lesson_for_user(request.user, course, lesson_id)
    if not hasattr(lesson, "quiz"):
        raise Http404
    questions = selectors_courses.quiz_questions(lesson.quiz)
    error = ""
    if request.method == "POST":
        answers = {q.pk: request.POST.getlist(f"q{q.pk}") for q in questions}
        try:
            attempt = course_services.quiz_submit(actor=request.user, lesson=lesson, answers=answers)
        except ValidationError as exc:
            error = _error_text(exc)
        else:
            return redirect(_lesson_url(lesson, "quiz-result", attempt_id=attempt.pk))
    context = _course_context(request, course)
    context.update(
        lesson=lesson,
        quiz=lesson.quiz,
        questions=questions,
        error=error,
        enrolment=selectors_courses.my_enrolment(request.user, course),
        chosen={str(v) for key, values in request.POST.lists() if key.startswith("q") for v in values},
    )
    return render(request, "spaces/courses/quiz_take.html", context, status=400 if error else 200)


@login_required
@require_GET
def quiz_result(request, community_slug, space_slug, course_slug, lesson_id, attempt_id):
    """The member's own attempt: score, pass or not, and which questions were answered wrongly."""
    course = rules.get_course_for_user(request.user, community_slug, space_slug, course_slug)
    lesson = rules.get_lesson_for_user(request.user, course, lesson_id)
    attempt = QuizAttempt.objects.filter(pk=attempt_id, user=request.user, quiz__lesson=lesson).first()
    if attempt is None:
        raise Http404
    context = _course_context(request, course)
    context.update(
        lesson=lesson,
        attempt=attempt,
        quiz=attempt.quiz,
        review=selectors_courses.attempt_review(attempt),
        enrolment=selectors_courses.my_enrolment(request.user, course),
    )
    return render(request, "spaces/courses/quiz_result.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def quiz_edit(request, community_slug, space_slug, course_slug, lesson_id):
    course = rules.get_course_for_user(request.user, community_slug, space_slug, course_slug, action="edit")
    lesson = rules.get_lesson_for_user(request.user, course, lesson_id)
    quiz = getattr(lesson, "quiz", None)  # None when the lesson has no quiz (reverse one-to-one)
    initial = (
        {"pass_mark": quiz.pass_mark, "questions": quiz_as_text(selectors_courses.quiz_questions(quiz))} if quiz else {}
    )
    form = QuizForm(request.POST or None, initial=initial)
    if request.method == "POST" and request.POST.get("remove") and quiz:
        course_services.quiz_remove(actor=request.user, lesson=lesson)
        messages.success(request, _("Quiz removed: the lesson is now completed with “Mark as done”."))
        return redirect(_lesson_url(lesson))
    if request.method == "POST" and form.is_valid():
        try:
            course_services.quiz_set(actor=request.user, lesson=lesson, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Quiz saved."))
            return redirect(_lesson_url(lesson))
    context = _course_context(request, course)
    context.update(lesson=lesson, quiz=quiz, form=form)
    return render(request, "spaces/courses/quiz_form.html", context, status=400 if form.errors else 200)


@login_required
@require_GET
def course_progress(request, community_slug, space_slug, course_slug):
    course = rules.get_course_for_user(request.user, community_slug, space_slug, course_slug, action="progress")
    outline = selectors_courses.course_outline(request.user, course)
    rows = selectors_courses.progress_table(course)
    context = _course_context(request, course)
    context.update(
        rows=rows,
        lessons_total=len(outline),
        completed_count=sum(1 for row in rows if row.completed_at),
    )
    return render(request, "spaces/courses/course_progress.html", context)


@login_required
@require_GET
def course_certificate(request, community_slug, space_slug, course_slug, user_id=None):
    """The printable certificate of a member who completed the course: for them and the course's instructors;
    404 for everyone else, and when there is nothing to certify."""
    course = rules.get_course_for_user(request.user, community_slug, space_slug, course_slug)
    enrolment = selectors_courses.certificate_enrolment(course, user_id or request.user.pk)
    if enrolment is None:
        raise Http404
    enrolment.course = course
    if not rules.can_see_certificate(request.user, enrolment):
        raise Http404
    context = _course_context(request, course)
    context.update(enrolment=enrolment, member=enrolment.user)
    return render(request, "spaces/courses/certificate.html", context)
