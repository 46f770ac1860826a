from django.urls import path

from members import views, views_digests, views_exports, views_messages, views_notifications, views_tokens

app_name = "members"

urlpatterns = [
    path("members/", views.directory, name="directory"),
    path("members/<str:username>/", views.profile, name="profile"),
    path("profile/edit/", views.profile_edit, name="profile-edit"),
    path("profile/delete/", views.account_delete, name="account-delete"),
    # notifications (issue 5)
    path("me/notifications/", views_notifications.notification_list, name="notifications"),
    path("me/notifications/read-all/", views_notifications.notifications_read_all, name="notifications-read-all"),
    path(
        "me/notifications/settings/",
        views_notifications.notification_preferences,
        name="notification-preferences",
    ),
    path(
        "me/notifications/<int:notification_id>/",
        views_notifications.notification_open,
        name="notification-open",
    ),
    path(
        "me/notifications/<int:notification_id>/read/",
        views_notifications.notification_read,
        name="notification-read",
    ),
    path(
        "me/mute/c/<slug:community_slug>/s/<slug:space_slug>/",
        views_notifications.space_mute_toggle,
        name="space-mute",
    ),
    # Digests (issue 5): the preview (a member's own, or any member's for site staff) and one-click unsubscribe.
    path("me/digest/preview/", views_digests.digest_preview, name="digest-preview"),
    path("unsubscribe/<str:token>/", views_digests.digest_unsubscribe, name="digest-unsubscribe"),
    # A member's download of all their own data (issue 8).
    path("me/data/", views_exports.data_export_page, name="data-export"),
    path("me/data/export/", views_exports.data_export_request, name="data-export-request"),
    path("me/data/<int:export_id>/download/", views_exports.data_export_download, name="data-export-download"),
    # Direct messages between members (issue 9).
    path("me/messages/", views_messages.conversation_list, name="messages"),
    path("me/messages/new/", views_messages.conversation_new, name="conversation-new"),
    path("me/messages/<int:conversation_id>/", views_messages.conversation_detail, name="conversation"),
    path("me/messages/<int:conversation_id>/reply/", views_messages.message_reply, name="message-reply"),
    path("me/messages/<int:conversation_id>/mute/", views_messages.conversation_mute, name="conversation-mute"),
    path("me/messages/<int:conversation_id>/leave/", views_messages.conversation_leave, name="conversation-leave"),
    path("me/messages/<int:conversation_id>/add/", views_messages.conversation_add_people, name="conversation-add"),
    path(
        "me/messages/<int:conversation_id>/<int:message_id>/report/",
        views_messages.message_report,
        name="message-report",
    ),
    path(
        "me/messages/files/<int:attachment_id>/<str:filename>",
        views_messages.message_attachment,
        name="message-attachment",
    ),
    path("me/blocked/", views_messages.blocked_list, name="blocked"),
    path("me/blocked/<str:username>/block/", views_messages.member_block, name="member-block"),
    path("me/blocked/<str:username>/unblock/", views_messages.member_unblock, name="member-unblock"),
    # Following members (issue 9, item 2).
    path("me/following/", views.following_list, name="following"),
    path("me/following/<str:username>/follow/", views.member_follow, name="member-follow"),
    path("me/following/<str:username>/unfollow/", views.member_unfollow, name="member-unfollow"),
    # Personal access tokens for the REST API (issue 8).
    path("me/api-tokens/", views_tokens.token_list, name="api-tokens"),
    path("me/api-tokens/<int:token_id>/revoke/", views_tokens.token_revoke_view, name="api-token-revoke"),
]
