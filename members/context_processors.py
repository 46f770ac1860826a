"""Template context for every page: the unread notification count in the header."""

from functools import cache


def notifications(request) -> dict:
    """``unread_notification_count`` for signed-in members: one query, run only when a template shows it (a full
    page does, in its header; htmx fragments usually do not)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from members.selectors_notifications import unread_notification_count

    # Templates call callables; ``cache`` makes every use in one render share one query.
    return {"unread_notification_count": cache(lambda: unread_notification_count(user))}
