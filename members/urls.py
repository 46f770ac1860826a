from django.urls import path

from members import views

app_name = "members"

urlpatterns = [
    path("members/", views.directory, name="directory"),
    path("members/<str:username>/", views.profile, name="profile"),
    path("profile/edit/", views.profile_edit, name="profile-edit"),
    path("profile/delete/", views.account_delete, name="account-delete"),
]
