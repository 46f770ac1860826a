"""Reads of direct messages (issue 9, item 1). Every query starts from ``members.permissions_messages``, which
filters by participant in the database: a list or a page never holds a conversation its reader is not in."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction
from django.db.models import F, IntegerField, Prefetch, Q, QuerySet, Subquery

from members import permissions_messages as perms
from members.models import ConversationParticipant, MemberBlock, Message, Notification


def _unread_q() -> Q:
    return Q(last_read_at__isnull=True) | Q(last_read_at__lt=F("conversation__last_message_at"))


def conversation_rows(user) -> QuerySet[ConversationParticipant]:
    """``user``'s conversations as their participation rows, newest activity first, each with its conversation
    and every participant's name (one query a page, plus one for the names)."""
    others = ConversationParticipant.objects.select_related("user").order_by("pk")
    return (
        perms.participations_for(user)
        .select_related("conversation")
        .prefetch_related(Prefetch("conversation__participants", queryset=others))
        .order_by("-conversation__last_message_at", "-conversation_id")
    )


def unread_conversations(user) -> QuerySet[ConversationParticipant]:
    return perms.participations_for(user).filter(_unread_q())


def unread_conversation_count(user) -> int:
    return unread_conversations(user).count()


HEADER_COUNT_CAP = 99  # the header shows "99+" beyond it


class _CappedCount(Subquery):
    """``(SELECT COUNT(*) FROM (<queryset> LIMIT cap + 1))``: stops reading after ``cap + 1`` rows, however many
    match. A member with thousands of unread notifications (each checked for visibility) costs no more than one
    with a hundred."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS capped)"
    output_field = IntegerField()

    def __init__(self, queryset, cap: int):
        super().__init__(queryset.order_by().values("pk")[: cap + 1], output_field=IntegerField())


# The header's counts are kept this long per member. Every change of the member's own notifications and
# conversations forgets them at once (``forget_header_counts``); a change of what they may see (a page restricted,
# an item hidden, a role taken away) shows in the count within this time, and in the lists themselves at once.
HEADER_COUNTS_SECONDS = 60


def _header_counts_key(user_id: int) -> str:
    return f"header-counts:{user_id}"


def header_counts(user) -> tuple[int, int]:
    """The two numbers in the header (unread notifications, conversations with unread messages), each counted up to
    ``HEADER_COUNT_CAP`` + 1 (shown as "99+"). From the cache when it has them; otherwise one query. Building that
    query (every kind of item checked for visibility) was a third of a page view's work (issue 7)."""
    key = _header_counts_key(user.pk)
    counts = cache.get(key)
    if counts is None:
        counts = _header_counts_query(user)
        cache.set(key, counts, HEADER_COUNTS_SECONDS)
    return counts


def forget_header_counts(user_ids: Iterable[int]) -> None:
    """Services call this when they change someone's notifications or conversations: now, and again once the
    transaction commits (a page computed in between would otherwise keep the old numbers)."""
    keys = [_header_counts_key(pk) for pk in set(user_ids) if pk is not None]
    if keys:
        cache.delete_many(keys)
        transaction.on_commit(lambda: cache.delete_many(keys))


def _header_counts_query(user) -> tuple[int, int]:
    from django.contrib.auth import get_user_model

    from members.selectors_notifications import unread_notifications

    row = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .values_list(
            _CappedCount(unread_notifications(user), HEADER_COUNT_CAP),
            _CappedCount(unread_conversations(user), HEADER_COUNT_CAP),
        )
        .first()
    )
    return tuple(row) if row is not None else (0, 0)


def conversation_messages(user, conversation_id: int) -> QuerySet[Message]:
    """The conversation's messages, oldest first, with their senders and attachments (two queries a page)."""
    return (
        perms.messages_for(user)
        .filter(conversation_id=conversation_id)
        .select_related("sender")
        .prefetch_related("attachments")
        .order_by("created_at", "pk")
    )


def conversation_participants(conversation_id: int, *, viewer) -> list[ConversationParticipant]:
    """The participants of a conversation ``viewer`` takes part in (the filter is in the query)."""
    return list(
        ConversationParticipant.objects.filter(conversation_id=conversation_id, conversation__participants__user=viewer)
        .select_related("user")
        .order_by("pk")
    )


def blocks_between(user, member_ids) -> tuple[set[int], bool]:
    """Which of ``member_ids`` ``user`` blocked, and whether any of them blocked ``user`` (one query)."""
    member_ids = list(member_ids)
    rows = MemberBlock.objects.filter(
        Q(blocker=user, blocked_id__in=member_ids) | Q(blocker_id__in=member_ids, blocked=user)
    ).values_list("blocker_id", "blocked_id")
    mine, blocked_me = set(), False
    for blocker_id, blocked_id in rows:
        if blocker_id == user.pk:
            mine.add(blocked_id)
        else:
            blocked_me = True
    return mine, blocked_me


def blocked_members(user) -> QuerySet[MemberBlock]:
    return MemberBlock.objects.filter(blocker=user).select_related("blocked").order_by("blocked__display_name", "pk")


def unread_message_notifications(user) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user, kind="message", read_at__isnull=True)
