from django.urls import path

from spaces import views

app_name = "spaces"

space = "c/<slug:community_slug>/s/<slug:space_slug>/"

urlpatterns = [
    path("c/<slug:community_slug>/spaces/new/", views.space_create, name="create"),
    path(space, views.space_home, name="home"),
    path(space + "members/", views.space_members, name="members"),
    path(space + "settings/", views.space_settings, name="settings"),
    path(space + "export/pages.zip", views.exports.space_pages_export, name="export-pages"),
    path(space + "archive/", views.space_archive, {"archived": True}, name="archive"),
    path(space + "unarchive/", views.space_archive, {"archived": False}, name="unarchive"),
    path(space + "delete/", views.space_delete, name="delete"),
    path(space + "join/", views.space_join, name="join"),
    path(space + "leave/", views.space_leave, name="leave"),
    path(space + "request/", views.join_request_create, name="request"),
    path(space + "request/withdraw/", views.join_request_withdraw, name="request-withdraw"),
    path(space + "requests/", views.join_requests, name="requests"),
    path(
        space + "requests/<int:request_id>/approve/",
        views.join_request_decide,
        {"decision": "approve"},
        name="request-approve",
    ),
    path(
        space + "requests/<int:request_id>/decline/",
        views.join_request_decide,
        {"decision": "decline"},
        name="request-decline",
    ),
    path(space + "invite/", views.invitation_create, name="invite"),
    path(space + "invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation-revoke"),
    path(space + "members/<int:user_id>/role/", views.member_change_role, name="member-role"),
    path(space + "members/<int:user_id>/remove/", views.member_remove, name="member-remove"),
    path(space + "members/<int:user_id>/ban/", views.member_ban, name="member-ban"),
    path(space + "bans/<int:ban_id>/lift/", views.member_unban, name="member-unban"),
    path("invitations/<str:token>/", views.invitation_detail, name="invitation"),
]

# pages
page = space + "p/<str:page_slug>/"
urlpatterns += [
    path(space + "pages/", views.pages.page_list, name="pages"),
    path(space + "pages/new/", views.pages.page_create, name="page-create"),
    path(space + "pages/new/draft/", views.pages.page_draft_save, name="page-create-draft"),
    path(space + "pages/new/draft/discard/", views.pages.page_draft_discard, name="page-create-draft-discard"),
    path(space + "templates/", views.pages.page_templates, name="page-templates"),
    path(space + "templates/<int:template_id>/", views.pages.page_templates, name="page-template-edit"),
    path(
        space + "templates/<int:template_id>/delete/",
        views.pages.page_template_delete,
        name="page-template-delete",
    ),
    path(page, views.pages.page_detail, name="page-detail"),
    path(page + "edit/", views.pages.page_edit, name="page-edit"),
    path(page + "draft/", views.pages.page_draft_save, name="page-draft"),
    path(page + "draft/discard/", views.pages.page_draft_discard, name="page-draft-discard"),
    path(page + "presence/", views.pages.page_presence, name="page-presence"),
    path(page + "history/", views.pages.page_history, name="page-history"),
    path(page + "history/<int:version>/", views.pages.page_version, name="page-version"),
    path(page + "history/<int:version>/restore/", views.pages.page_restore, name="page-restore"),
    path(page + "diff/", views.pages.page_diff, name="page-diff"),
    path(page + "restrictions/", views.pages.page_restrictions, name="page-restrictions"),
    path(page + "move/", views.pages.page_move, name="page-move"),
    path(page + "up/", views.pages.page_reorder, {"direction": "up"}, name="page-up"),
    path(page + "down/", views.pages.page_reorder, {"direction": "down"}, name="page-down"),
    path("p/<int:page_id>/", views.pages.page_permalink, name="page-permalink"),
]

# comments, trash, watches and recent changes (issue 3, items 8-10)
comment = space + "comments/<int:comment_id>/"
urlpatterns += [
    path(space + "items/<int:item_id>/comments/", views.comment_create, name="comment-create"),
    path(comment + "edit/", views.comment_edit, name="comment-edit"),
    path(comment + "delete/", views.comment_delete, name="comment-delete"),
    path(comment + "hide/", views.comment_moderate, {"hidden": True}, name="comment-hide"),
    path(comment + "show/", views.comment_moderate, {"hidden": False}, name="comment-unhide"),
    path(space + "items/<int:item_id>/trash/", views.item_trash, name="item-trash"),
    path(space + "trash/", views.trash_list, name="trash"),
    path(space + "trash/<int:item_id>/restore/", views.trash_restore, name="trash-restore"),
    path(space + "recent/", views.recent_changes, name="recent-changes"),
    path(space + "watch/", views.watch_toggle, name="watch-space"),
    path(space + "items/<int:item_id>/watch/", views.watch_toggle, name="watch-item"),
]

# files (issue 3, item 7): downloads only through these permission-checked views, never a media URL
urlpatterns += [
    path(space + "files/", views.file_library, name="files"),
    path(space + "files/upload/", views.file_upload, name="file-upload"),
    path("files/<int:file_id>/", views.file_detail, name="file-detail"),
    path("files/<int:file_id>/new-version/", views.file_version_upload, name="file-version-upload"),
    path("files/<int:file_id>/trash/", views.file_trash, name="file-trash"),
    path("files/<int:file_id>/inline/<str:filename>", views.file_inline, name="file-inline"),
    path(
        "files/<int:file_id>/v/<int:number>/<str:filename>",
        views.file_version_download,
        name="file-version-download",
    ),
    path("files/<int:file_id>/<str:filename>", views.file_download, name="file-download"),
]

# questions (issue 4, item 1)
question = space + "q/<str:question_slug>/"
answer = question + "answers/<int:answer_id>/"
urlpatterns += [
    path(space + "questions/", views.questions.question_list, name="questions"),
    path(space + "questions/ask/", views.questions.question_ask, name="question-ask"),
    path(space + "questions/similar/", views.questions.question_similar, name="question-similar"),
    path(space + "items/<int:item_id>/vote/", views.questions.vote, name="vote"),
    path(question, views.questions.question_detail, name="question-detail"),
    path(question + "edit/", views.questions.question_edit, name="question-edit"),
    path(question + "history/", views.questions.question_history, name="question-history"),
    path(question + "history/<int:version>/restore/", views.questions.question_restore, name="question-restore"),
    path(question + "diff/", views.questions.question_diff, name="question-diff"),
    path(question + "accept/", views.questions.answer_accept, name="answer-accept"),
    path(question + "answers/", views.questions.answer_post, name="answer-post"),
    path(answer + "edit/", views.questions.answer_edit, name="answer-edit"),
    path(answer + "history/", views.questions.answer_history, name="answer-history"),
    path(answer + "history/<int:version>/restore/", views.questions.answer_restore, name="answer-restore"),
    path(answer + "diff/", views.questions.answer_diff, name="answer-diff"),
]

# events, papers and calendars, posts, polls and the work plan (issue 4, items 2-7): one module each
from spaces import urls_events, urls_papers, urls_polls, urls_posts  # noqa: E402

urlpatterns += urls_events.urlpatterns + urls_papers.urlpatterns + urls_posts.urlpatterns + urls_polls.urlpatterns

# flags, review queues and the moderation log (issue 5, items 1-4)
from spaces import urls_moderation  # noqa: E402

urlpatterns += urls_moderation.urlpatterns

# Atom feeds and outgoing webhooks (issue 8, items 2-3)
from spaces import urls_webhooks  # noqa: E402

urlpatterns += urls_webhooks.urlpatterns

# courses (issue 9, item 3)
from spaces import urls_courses  # noqa: E402

urlpatterns += urls_courses.urlpatterns
