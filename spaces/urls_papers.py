"""URL patterns for papers (issue 4); included by spaces/urls.py."""

SPACE = "c/<slug:community_slug>/s/<slug:space_slug>/"

urlpatterns: list = []
