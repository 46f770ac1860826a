"""URL patterns for courses (issue 9, item 3); included by spaces/urls.py."""

from django.urls import path

from spaces.views import courses

SPACE = "c/<slug:community_slug>/s/<slug:space_slug>/"
COURSE = SPACE + "courses/<str:course_slug>/"
LESSON = COURSE + "lessons/<int:lesson_id>/"

urlpatterns: list = [
    path(SPACE + "courses/", courses.course_list, name="courses"),
    path(SPACE + "courses/new/", courses.course_create, name="course-create"),
    path(COURSE, courses.course_detail, name="course-detail"),
    path(COURSE + "edit/", courses.course_edit, name="course-edit"),
    path(COURSE + "delete/", courses.course_delete, name="course-delete"),
    path(COURSE + "enrol/", courses.course_enrol, name="course-enrol"),
    path(COURSE + "leave/", courses.course_leave, name="course-leave"),
    path(COURSE + "progress/", courses.course_progress, name="course-progress"),
    path(COURSE + "certificate/", courses.course_certificate, name="course-certificate"),
    path(COURSE + "certificate/<int:user_id>/", courses.course_certificate, name="course-certificate-of"),
    path(COURSE + "lessons/add/", courses.lesson_add, name="lesson-add"),
    path(LESSON, courses.lesson_detail, name="lesson-detail"),
    path(LESSON + "done/", courses.lesson_done, name="lesson-done"),
    path(LESSON + "up/", courses.lesson_change, {"change": "up"}, name="lesson-up"),
    path(LESSON + "down/", courses.lesson_change, {"change": "down"}, name="lesson-down"),
    path(LESSON + "remove/", courses.lesson_change, {"change": "remove"}, name="lesson-remove"),
    path(LESSON + "quiz/", courses.quiz_take, name="quiz-take"),
    path(LESSON + "quiz/edit/", courses.quiz_edit, name="quiz-edit"),
    path(LESSON + "quiz/attempts/<int:attempt_id>/", courses.quiz_result, name="quiz-result"),
]
