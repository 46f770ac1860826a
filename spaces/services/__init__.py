"""Re-exports, so callers write `from spaces import services` and use `services.<name>`."""

from .comments import (  # noqa: F401
    comment_create,
    comment_delete,
    comment_edit,
    comment_hide,
    comment_set_hidden,
    comment_unhide,
)
from .files import file_trash, file_upload, file_version_upload  # noqa: F401
from .membership import (  # noqa: F401
    SETTINGS_FIELDS,
    invitation_accept,
    invitation_create,
    invitation_problem,
    invitation_revoke,
    invitations_expire,
    join_request_approve,
    join_request_create,
    join_request_decline,
    join_request_withdraw,
    member_ban,
    member_unban,
    membership_change_role,
    membership_remove,
    space_create,
    space_delete,
    space_grant_role,
    space_join,
    space_leave,
    space_revoke_grant,
    space_set_archived,
    space_update_settings,
    space_visit_record,
)
from .pages import (  # noqa: F401
    EditConflict,
    draft_discard,
    draft_save,
    page_copy,
    page_create,
    page_move,
    page_reorder,
    page_restore_version,
    page_set_restrictions,
    page_template_delete,
    page_template_save,
    page_update,
    presence_touch,
)
from .questions import (  # noqa: F401
    answer_accept,
    answer_edit,
    answer_post,
    answer_restore_version,
    question_ask,
    question_edit,
    question_recount,
    question_restore_version,
    vote_cast,
    vote_toggle,
    vote_withdraw,
)
from .trash import item_restore, item_trash, trash_purge  # noqa: F401
from .watches import watch_toggle  # noqa: F401
