"""URL patterns for papers, files attached to events, calendar feeds and upcoming events (issue 4, items 3-4);
included by spaces/urls.py."""

from django.urls import path

from spaces.views import calendars, papers

SPACE = "c/<slug:community_slug>/s/<slug:space_slug>/"
EVENT = SPACE + "e/<str:event_slug>/"
PAPER = EVENT + "papers/<int:paper_id>/"

urlpatterns: list = [
    # papers and abstracts; files only through the permission-checked download, never a media URL
    path(EVENT + "papers/", papers.paper_review, name="paper-review"),
    path(EVENT + "papers/submit/", papers.paper_submit, name="paper-submit"),
    path(EVENT + "papers/settings/", papers.paper_settings, name="paper-settings"),
    path(PAPER, papers.paper_detail, name="paper-detail"),
    path(PAPER + "edit/", papers.paper_edit, name="paper-edit"),
    path(PAPER + "withdraw/", papers.paper_withdraw, name="paper-withdraw"),
    path(PAPER + "decide/", papers.paper_decide, name="paper-decide"),
    path(PAPER + "file/<str:filename>", papers.paper_download, name="paper-download"),
    # agenda and presentations: FileAssets attached to the event, downloaded through spaces:file-download
    path(EVENT + "files/upload/", papers.event_file_upload, name="event-file-upload"),
    # calendars
    path(SPACE + "calendar.ics", calendars.space_calendar, name="space-calendar"),
    path("calendars/<str:token>.ics", calendars.token_calendar, name="space-calendar-token"),
    path("me/calendars/", calendars.my_calendar_feeds, name="my-calendar-feeds"),
    path("me/calendars/regenerate/", calendars.feed_token_regenerate, name="feed-token-regenerate"),
    path("me/calendars/revoke/", calendars.feed_token_revoke, name="feed-token-revoke"),
    path("events/upcoming/", calendars.upcoming_events, name="upcoming-events"),
]
