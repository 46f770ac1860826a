"""Every rule about who may read or write direct messages (issue 9, item 1), and nothing else.

Only participants ever read a conversation, its messages or its attachments: not moderators, not staff, not site
admins. Every read starts from ``conversations_for`` / ``messages_for`` / ``attachments_for``, which filter by
participant in the database query; the fetch helpers answer 404 to everyone else, exactly as if the conversation
did not exist. A blocked member cannot start a conversation with the member who blocked them nor post into a
conversation that includes them (``blocked_by_any``).
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from members.models import Conversation, ConversationParticipant, MemberBlock, Message, MessageAttachment


def may_use_messages(user) -> bool:
    """Signed-in, active members with an account that is not deleted."""
    return bool(user.is_authenticated and user.is_active and getattr(user, "deleted_at", None) is None)


def conversations_for(user) -> QuerySet[Conversation]:
    """The conversations ``user`` takes part in (one row each: a member takes part once)."""
    if not may_use_messages(user):
        return Conversation.objects.none()
    return Conversation.objects.filter(participants__user=user)


def participations_for(user) -> QuerySet[ConversationParticipant]:
    """``user``'s own participation rows (their unread marker and mute state)."""
    if not may_use_messages(user):
        return ConversationParticipant.objects.none()
    return ConversationParticipant.objects.filter(user=user)


def messages_for(user) -> QuerySet[Message]:
    """The messages of every conversation ``user`` takes part in."""
    if not may_use_messages(user):
        return Message.objects.none()
    return Message.objects.filter(conversation__participants__user=user)


def attachments_for(user) -> QuerySet[MessageAttachment]:
    """The attachments of every conversation ``user`` takes part in."""
    if not may_use_messages(user):
        return MessageAttachment.objects.none()
    return MessageAttachment.objects.filter(message__conversation__participants__user=user)


def get_participation_for_user(user, conversation_id: int) -> ConversationParticipant:
    """``user``'s participation in the conversation, with the conversation; 404 for anyone else."""
    participation = (
        participations_for(user).select_related("conversation").filter(conversation_id=conversation_id).first()
    )
    if participation is None:
        raise Http404
    return participation


def get_message_for_user(user, conversation_id: int, message_id: int) -> Message:
    message = (
        messages_for(user)
        .select_related("sender", "conversation")
        .filter(conversation_id=conversation_id, pk=message_id)
        .first()
    )
    if message is None:
        raise Http404
    return message


def get_attachment_for_user(user, attachment_id: int) -> MessageAttachment:
    attachment = attachments_for(user).filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404
    return attachment


def blocked_by_any(sender, member_ids) -> bool:
    """Whether any of ``member_ids`` blocked ``sender`` (one query)."""
    return MemberBlock.objects.filter(blocker_id__in=list(member_ids), blocked_id=sender.pk).exists()


def blocked_among(user, member_ids) -> set[int]:
    """Which of ``member_ids`` ``user`` blocked (one query)."""
    return set(
        MemberBlock.objects.filter(blocker_id=user.pk, blocked_id__in=list(member_ids)).values_list(
            "blocked_id", flat=True
        )
    )


def can_add_people(user, participation: ConversationParticipant | None) -> bool:
    """Add members to a conversation: a current participant (the limit, blocks and who may be added are checked
    by the service, which says why)."""
    return may_use_messages(user) and participation is not None and participation.user_id == user.pk


def can_post(user, participation: ConversationParticipant | None) -> bool:
    """Post into a conversation: a participant (blocks are checked by the service, which says why)."""
    return may_use_messages(user) and participation is not None and participation.user_id == user.pk


def can_report_message(user, message: Message) -> bool:
    """Report a message to site staff: a participant (the caller fetched it through ``messages_for``), not about
    their own message."""
    return may_use_messages(user) and message.sender_id is not None and message.sender_id != user.pk
