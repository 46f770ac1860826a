"""Template context for every page: the unread notification and message counts in the header."""

from functools import cache


def notifications(request) -> dict:
    """``unread_notification_count`` and ``unread_message_count`` for signed-in members: one query for both, run
    only when a template shows one of them (a full page does, in its header; htmx fragments usually do not)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from members.selectors_messages import header_counts

    # Templates call callables; ``cache`` makes every use in one render share one query.
    counts = cache(lambda: header_counts(user))
    return {"unread_notification_count": lambda: counts()[0], "unread_message_count": lambda: counts()[1]}
