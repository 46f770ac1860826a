"""URL patterns for posts, likes, bookmarks and the saved list (issue 4, item 5); included by spaces/urls.py."""

from django.urls import path

from spaces.views import posts

SPACE = "c/<slug:community_slug>/s/<slug:space_slug>/"
POST = SPACE + "posts/<int:post_id>/"

urlpatterns: list = [
    path(SPACE + "posts/", posts.post_list, name="posts"),
    path(SPACE + "posts/new/", posts.post_create, name="post-create"),
    path(POST, posts.post_detail, name="post-detail"),
    path(POST + "edit/", posts.post_edit, name="post-edit"),
    path(POST + "pin/", posts.post_pin, {"pinned": True}, name="post-pin"),
    path(POST + "unpin/", posts.post_pin, {"pinned": False}, name="post-unpin"),
    path(SPACE + "items/<int:item_id>/like/", posts.like, name="like"),
    path(SPACE + "items/<int:item_id>/bookmark/", posts.bookmark, name="bookmark"),
    path("me/saved/", posts.saved_list, name="saved"),
]
