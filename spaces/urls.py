from django.urls import path

from spaces import views

app_name = "spaces"

space = "c/<slug:community_slug>/s/<slug:space_slug>/"

urlpatterns = [
    path("c/<slug:community_slug>/spaces/new/", views.space_create, name="create"),
    path(space, views.space_home, name="home"),
    path(space + "members/", views.space_members, name="members"),
    path(space + "settings/", views.space_settings, name="settings"),
    path(space + "archive/", views.space_archive, {"archived": True}, name="archive"),
    path(space + "unarchive/", views.space_archive, {"archived": False}, name="unarchive"),
    path(space + "delete/", views.space_delete, name="delete"),
    path(space + "join/", views.space_join, name="join"),
    path(space + "leave/", views.space_leave, name="leave"),
    path(space + "request/", views.join_request_create, name="request"),
    path(space + "request/withdraw/", views.join_request_withdraw, name="request-withdraw"),
    path(space + "requests/", views.join_requests, name="requests"),
    path(space + "requests/<int:request_id>/approve/", views.join_request_decide, {"decision": "approve"}, name="request-approve"),
    path(space + "requests/<int:request_id>/decline/", views.join_request_decide, {"decision": "decline"}, name="request-decline"),
    path(space + "invite/", views.invitation_create, name="invite"),
    path(space + "invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation-revoke"),
    path(space + "members/<int:user_id>/role/", views.member_change_role, name="member-role"),
    path(space + "members/<int:user_id>/remove/", views.member_remove, name="member-remove"),
    path(space + "members/<int:user_id>/ban/", views.member_ban, name="member-ban"),
    path(space + "bans/<int:ban_id>/lift/", views.member_unban, name="member-unban"),
    path("invitations/<str:token>/", views.invitation_detail, name="invitation"),
]
