"""Re-exports, so callers write `from spaces import views` and use `views.<name>`."""

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
