"""URL patterns for Atom feeds and outgoing webhooks (issue 8, items 2-3); included by spaces/urls.py."""

from django.urls import path

from spaces.views import feeds, webhooks

SPACE = "c/<slug:community_slug>/s/<slug:space_slug>/"
WEBHOOK = SPACE + "webhooks/<int:webhook_id>/"

urlpatterns: list = [
    # feeds
    path(SPACE + "feed.atom", feeds.space_feed, name="space-feed"),
    path("c/<slug:community_slug>/feed.atom", feeds.community_feed, name="community-feed"),
    path("feeds/<str:token>.atom", feeds.token_feed, name="feed-token"),
    path(SPACE + "feed/", feeds.space_feed_links, name="space-feed-links"),
    path(SPACE + "feed/reset/", feeds.space_feed_token_reset, name="space-feed-reset"),
    path(SPACE + "feed/revoke/", feeds.space_feed_token_revoke, name="space-feed-revoke"),
    # webhooks
    path(SPACE + "webhooks/", webhooks.webhook_list, name="webhooks"),
    path(SPACE + "webhooks/new/", webhooks.webhook_create, name="webhook-create"),
    path(WEBHOOK, webhooks.webhook_detail, name="webhook-detail"),
    path(WEBHOOK + "test/", webhooks.webhook_test, name="webhook-test"),
    path(WEBHOOK + "secret/", webhooks.webhook_secret, name="webhook-secret"),
    path(WEBHOOK + "delete/", webhooks.webhook_delete, name="webhook-delete"),
]
