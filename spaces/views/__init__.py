"""Re-exports, so callers write `from spaces import views` and use `views.<name>`."""

from . import pages  # noqa: F401
from .membership import (  # noqa: F401
    onboarding_redirects,
    space_home,
    space_members,
    space_create,
    space_settings,
    space_archive,
    space_delete,
    space_join,
    space_leave,
    join_request_create,
    join_request_withdraw,
    join_requests,
    join_request_decide,
    invitation_create,
    invitation_revoke,
    invitation_detail,
    member_change_role,
    member_remove,
    member_ban,
    member_unban,
)
from .comments import comment_create, comment_delete, comment_edit, comment_moderate  # noqa: F401
from .trash import item_trash, trash_list, trash_restore  # noqa: F401
from .activity import recent_changes, watch_toggle  # noqa: F401
from .files import (  # noqa: F401
    file_library,
    file_detail,
    file_upload,
    file_version_upload,
    file_trash,
    file_download,
    file_version_download,
    file_inline,
)
