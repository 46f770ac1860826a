"""Re-exports, so callers write `from spaces import views` and use `views.<name>`."""

from . import exports, pages, questions  # noqa: F401
from .activity import recent_changes, watch_toggle  # noqa: F401
from .comments import comment_create, comment_delete, comment_edit, comment_moderate  # noqa: F401
from .files import (  # noqa: F401
    file_detail,
    file_download,
    file_inline,
    file_library,
    file_trash,
    file_upload,
    file_version_download,
    file_version_upload,
)
from .membership import (  # noqa: F401
    invitation_create,
    invitation_detail,
    invitation_revoke,
    join_request_create,
    join_request_decide,
    join_request_withdraw,
    join_requests,
    member_ban,
    member_change_role,
    member_remove,
    member_unban,
    onboarding_redirects,
    space_archive,
    space_create,
    space_delete,
    space_home,
    space_join,
    space_leave,
    space_members,
    space_settings,
)
from .trash import item_trash, trash_list, trash_restore  # noqa: F401
