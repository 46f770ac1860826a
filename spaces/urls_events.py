"""URL patterns for events (issue 4); included by spaces/urls.py."""

from django.urls import path

from spaces.views import events as event_views

SPACE = "c/<slug:community_slug>/s/<slug:space_slug>/"
EVENT = SPACE + "e/<str:event_slug>/"

urlpatterns: list = [
    path(SPACE + "events/", event_views.event_list, name="events"),
    path(SPACE + "events/new/", event_views.event_create, name="event-create"),
    path(EVENT, event_views.event_detail, name="event-detail"),
    path(EVENT + "edit/", event_views.event_edit, name="event-edit"),
    path(EVENT + "register/", event_views.event_register, name="event-register"),
    path(EVENT + "questions/", event_views.event_questions, name="event-questions"),
    path(EVENT + "registrants/", event_views.event_registrants, name="event-registrants"),
    path(EVENT + "registrants.csv", event_views.event_registrants_csv, name="event-registrants-csv"),
    path(EVENT + "attendance/", event_views.event_attendance, name="event-attendance"),
    path(EVENT + "event.ics", event_views.event_ics, name="event-ics"),
]
