"""Courses (issue 9, item 3): an ordered set of lessons, each a page of the space, with optional quizzes.

A course is a structure over pages, not content of its own: it has no ``Item`` row, so it never appears in
streams, search or feeds. What members read are the pages, which keep their own versions and their own
visibility rules (restricted, hidden and trashed pages drop out of the course for those who may not see them).
Who sees a course is decided in ``spaces.permissions_courses``.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .pages import Page
from .space import Space


class CourseQuerySet(models.QuerySet["Course"]):
    def visible_to(self, user) -> "CourseQuerySet":
        """Courses of spaces the user may read; drafts only for the space's instructors."""
        from spaces.permissions_courses import visible_courses_q

        return self.filter(visible_courses_q(user))


class Course(models.Model):
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="courses", verbose_name=_("space"))
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("short name in addresses"), max_length=80, allow_unicode=True)
    description = models.TextField(_("description"), blank=True)
    description_html = models.TextField(_("rendered description"), blank=True, editable=False)
    is_published = models.BooleanField(_("published"), default=False)
    published_at = models.DateTimeField(_("published on"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CourseQuerySet.as_manager()

    class Meta:
        ordering = ["title", "pk"]
        constraints = [models.UniqueConstraint(fields=["space", "slug"], name="course_slug_unique_in_space")]
        verbose_name = _("course")
        verbose_name_plural = _("courses")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse(
            "spaces:course-detail",
            kwargs={
                "community_slug": self.space.community.slug,
                "space_slug": self.space.slug,
                "course_slug": self.slug,
            },
        )


class Lesson(models.Model):
    """One step of a course: a page of the course's space, at a position."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lessons", verbose_name=_("course"))
    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="lessons", verbose_name=_("lesson page"))
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [models.UniqueConstraint(fields=["course", "page"], name="one_lesson_per_course_and_page")]
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")

    def __str__(self) -> str:
        return f"{self.course_id}: {self.page_id}"


class Quiz(models.Model):
    lesson = models.OneToOneField(Lesson, on_delete=models.CASCADE, related_name="quiz", verbose_name=_("lesson"))
    pass_mark = models.PositiveSmallIntegerField(_("pass mark (%)"), default=70, validators=[MaxValueValidator(100)])
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("quiz")
        verbose_name_plural = _("quizzes")

    def __str__(self) -> str:
        return f"Quiz of lesson {self.lesson_id}"


class QuizQuestion(models.Model):
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions", verbose_name=_("quiz"))
    text = models.CharField(_("question"), max_length=500)
    multiple = models.BooleanField(_("several answers may be right"), default=False)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("quiz question")
        verbose_name_plural = _("quiz questions")

    def __str__(self) -> str:
        return self.text


class QuizOption(models.Model):
    question = models.ForeignKey(
        QuizQuestion, on_delete=models.CASCADE, related_name="options", verbose_name=_("question")
    )
    label = models.CharField(_("option"), max_length=300)
    is_correct = models.BooleanField(_("right answer"), default=False)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("quiz option")
        verbose_name_plural = _("quiz options")

    def __str__(self) -> str:
        return self.label


class Enrolment(models.Model):
    """A member taking a course. ``completed_at`` is set once every lesson they can see is completed, and kept:
    a course changed later does not take a certificate away."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrolments", verbose_name=_("course"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="course_enrolments", verbose_name=_("member")
    )
    enrolled_at = models.DateTimeField(_("enrolled"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        ordering = ["enrolled_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["course", "user"], name="one_enrolment_per_member_and_course")]
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")

    def __str__(self) -> str:
        return f"{self.user_id} in course {self.course_id}"


class LessonCompletion(models.Model):
    """Kept when a member leaves a course, so progress comes back if they enrol again."""

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="completions", verbose_name=_("lesson"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lesson_completions", verbose_name=_("member")
    )
    completed_at = models.DateTimeField(_("completed"), default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lesson", "user"], name="one_completion_per_member_and_lesson")]
        verbose_name = _("lesson completion")
        verbose_name_plural = _("lesson completions")

    def __str__(self) -> str:
        return f"{self.user_id} completed lesson {self.lesson_id}"


class QuizAttempt(models.Model):
    """One scored submission. ``answers`` maps question id (as text) to the chosen option ids."""

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="attempts", verbose_name=_("quiz"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts", verbose_name=_("member")
    )
    score = models.PositiveSmallIntegerField(_("score (%)"), default=0)
    passed = models.BooleanField(_("passed"), default=False)
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["quiz", "user"])]
        verbose_name = _("quiz attempt")
        verbose_name_plural = _("quiz attempts")

    def __str__(self) -> str:
        return f"{self.user_id} scored {self.score}% on quiz {self.quiz_id}"
