"""Site search, at /search/ (included from copapp/urls.py)."""

from django.urls import path

from spaces.views import search

app_name = "search"

urlpatterns = [
    path("", search.search_page, name="results"),
    path("suggest/", search.search_suggest, name="suggest"),
]
