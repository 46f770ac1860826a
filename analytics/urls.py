from django.urls import path

from analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.dashboard_index, name="index"),
    path("all/", views.overview_dashboard, name="overview"),
    path("c/<slug:community_slug>/", views.community_dashboard, name="community"),
    path("c/<slug:community_slug>/points/", views.points_policy, name="points-policy"),
]
