"""Every rule about who may do what with courses (issue 9, item 3), in both forms: predicates for one object and
query filters for many, plus fetch helpers that answer 404 (may not see) or 403 (may see, may not act).

- A course is seen by exactly those who may read its space (closed: members; private: members; open: anyone);
  a draft only by the space's instructors.
- Instructors are the space's editors and above (community moderators and admins and site staff included).
  They edit courses while the space is not archived.
- A lesson is seen only by those who may see its page (``visible_items_q``): a restricted, hidden or trashed
  page takes its lesson, quiz and progress with it, for that viewer.
- Members who may read the space enrol themselves in a published course (not when banned or archived).
- A certificate is for its member and the course's instructors.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import F, Q
from django.http import Http404

from spaces import permissions
from spaces.models import Course, Enrolment, Item, Lesson, Space, SpaceRole


# --- Predicates ----------------------------------------------------------------------------------------------------
def is_instructor(user, space: Space) -> bool:
    """Editors and above of the space teach its courses: they see drafts and the progress of every member."""
    return permissions.has_space_role(user, space, SpaceRole.EDITOR)


def can_edit_courses(user, space: Space) -> bool:
    """Create and change courses, lessons and quizzes: instructors, while the space is not archived."""
    return permissions.can_contribute(user, space)


def show_courses_tab(user, space: Space) -> bool:
    """The "Courses" entry of the space's navigation: when it has published courses, or for its instructors.
    Answered from the space row and the cached roles: no query."""
    return permissions.can_read_space(user, space) and (space.published_course_count > 0 or is_instructor(user, space))


def can_enrol(user, course: Course) -> bool:
    space = course.space
    return (
        user.is_authenticated
        and user.is_active
        and course.is_published
        and not space.is_archived
        and not permissions.is_banned(user, space)
        and permissions.can_read_space(user, space)
    )


def can_see_progress(user, course: Course) -> bool:
    """The enrolment and progress table."""
    return is_instructor(user, course.space)


def can_see_certificate(user, enrolment: Enrolment) -> bool:
    if enrolment.completed_at is None:
        return False
    return (user.is_authenticated and enrolment.user_id == user.pk) or is_instructor(user, enrolment.course.space)


# --- Query filters -------------------------------------------------------------------------------------------------
def visible_courses_q(user) -> Q:
    """Courses of readable spaces; drafts only where the user holds at least the editor role."""
    readable = Q(space__in=Space.objects.filter(permissions.readable_spaces_q(user)).values("pk"))
    if permissions._everything(user):
        return readable
    published = Q(is_published=True)
    if user.is_authenticated:
        published |= permissions.role_holder_q(
            user, SpaceRole.EDITOR, space_ref="space_id", community_ref="space__community_id"
        )
    return readable & published


def visible_lessons_q(user, prefix: str = "") -> Q:
    """Lessons whose page the user may see (``visible_items_q``: restrictions, moderation, trash, context) and
    that is still in the course's space."""
    visible = Q(**{f"{prefix}page__item__in": Item.objects.visible_to(user).values("pk")})
    # a page moved to another space leaves the course: lessons are pages of the course's own space
    return visible & Q(**{f"{prefix}page__space_id": F(f"{prefix}course__space_id")})


def visible_lessons(user, course: Course):
    return Lesson.objects.filter(visible_lessons_q(user), course=course)


# --- Fetch helpers -------------------------------------------------------------------------------------------------
COURSE_ACTIONS = {
    "view": lambda user, course: True,
    "edit": lambda user, course: can_edit_courses(user, course.space),
    "progress": can_see_progress,
}


def get_course_for_user(user, community_slug: str, space_slug: str, course_slug: str, action: str = "view") -> Course:
    """404 when the user may not see the course (closed space, draft), 403 when they see it but may not act.

    People who see a private space but may not read it get 403, as for its other content."""
    space = permissions.get_space_for_user(user, community_slug, space_slug, action="read")
    course = Course.objects.visible_to(user).filter(space=space, slug=course_slug).first()
    if course is None:
        raise Http404
    course.space = space
    if not COURSE_ACTIONS[action](user, course):
        raise PermissionDenied
    return course


def get_lesson_for_user(user, course: Course, lesson_id: int, *, with_quiz: bool = True) -> Lesson:
    """The lesson if the user may see its page, else 404 exactly as if it did not exist."""
    lessons = visible_lessons(user, course).select_related("page__item", "page__last_edited_by")
    if with_quiz:
        lessons = lessons.select_related("quiz")
    lesson = lessons.filter(pk=lesson_id).first()
    if lesson is None:
        raise Http404
    lesson.course = course
    lesson.page.space = course.space
    return lesson
