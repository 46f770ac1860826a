from django.urls import path

from communities import views

app_name = "communities"

urlpatterns = [
    path("c/", views.community_list, name="list"),
    path("c/new/", views.community_create, name="create"),
    path("c/<slug:community_slug>/", views.community_detail, name="detail"),
    path("c/<slug:community_slug>/settings/", views.community_settings, name="settings"),
    path("c/<slug:community_slug>/welcome/", views.onboarding, name="onboarding"),
    path("c/<slug:community_slug>/members/", views.community_members, name="members"),
    path("c/<slug:community_slug>/members.csv", views.community_members_csv, name="members-csv"),
    path("c/<slug:community_slug>/members/<int:user_id>/role/", views.community_member_role, name="member-role"),
    path(
        "c/<slug:community_slug>/members/<int:user_id>/focal-point/",
        views.community_focal_point,
        name="focal-point",
    ),
]
