"""URL patterns for flags, review queues, moderator actions and the audit log (issue 5); included by spaces/urls.py.

The log has read-only addresses only: nothing here edits or deletes an entry.
"""

from django.urls import path

from spaces.views import moderation

SPACE = "c/<slug:community_slug>/s/<slug:space_slug>/"
COMMUNITY = "c/<slug:community_slug>/moderation/"

urlpatterns: list = [
    path("flag/<str:target_kind>/<int:target_id>/", moderation.flag_create, name="flag"),
    path(SPACE + "moderation/", moderation.review_queue, name="review-queue"),
    path(SPACE + "moderation/log/", moderation.moderation_log, name="moderation-log"),
    path(COMMUNITY, moderation.community_review_queue, name="community-review-queue"),
    path(COMMUNITY + "log/", moderation.community_moderation_log, name="community-moderation-log"),
    path(COMMUNITY + "bans/<int:ban_id>/lift/", moderation.community_unban, name="community-unban"),
    path("moderation/", moderation.site_review_queue, name="site-review-queue"),
    path("moderation/act/<str:target_kind>/<int:target_id>/", moderation.moderation_act, name="moderation-act"),
]
