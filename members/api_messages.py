"""One's own direct messages in the REST API (issue 9, item 1).

The same permission functions as the web pages (``members.permissions_messages``): a conversation the token's
owner does not take part in answers 404, exactly as one that does not exist.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema

from copapp.api_schemas import ID_MAX, ErrorOut, PageParams, Paginated, Text, UserRef, user_ref
from copapp.api_support import ApiError, member_only, paginate, web_url, writes
from members import permissions_messages as perms
from members import selectors_messages as selectors
from members import services_messages as services
from members.forms_messages import members_from_names
from members.models import MAX_PARTICIPANTS, MESSAGE_MAX_CHARS

router = Router(tags=["me"])
ERRORS = {code: ErrorOut for code in (401, 403, 404, 422, 429)}


class ConversationOut(Schema):
    id: int
    subject: str
    participants: list[UserRef]
    last_message_at: datetime
    unread: bool
    muted: bool
    url: str


class ConversationList(Paginated):
    results: list[ConversationOut]


class AttachmentOut(Schema):
    name: str
    size: int
    content_type: str
    url: str


class MessageOut(Schema):
    id: int
    sender: UserRef | None
    body: str
    body_html: str
    created_at: datetime
    attachments: list[AttachmentOut]


class MessageList(Paginated):
    results: list[MessageOut]


class MessageIn(Schema):
    body: Text = Field(..., min_length=1, max_length=MESSAGE_MAX_CHARS, description="Markdown.")


class ParticipantsIn(Schema):
    usernames: list[str] = Field(
        ...,
        min_length=1,
        max_length=MAX_PARTICIPANTS,
        description="The @handles of the members to add; they read the whole conversation, from its first message.",
    )


def _conversation(request: HttpRequest, row) -> dict:
    conversation = row.conversation
    return {
        "id": conversation.pk,
        "subject": conversation.subject,
        "participants": [user_ref(p.user) for p in conversation.participants.all()],
        "last_message_at": conversation.last_message_at,
        "unread": row.last_read_at is None or row.last_read_at < conversation.last_message_at,
        "muted": row.muted,
        "url": web_url(request, conversation.get_absolute_url()),
    }


def _message(request: HttpRequest, message) -> dict:
    return {
        "id": message.pk,
        "sender": user_ref(message.sender),
        "body": message.body,
        "body_html": message.body_html,
        "created_at": message.created_at,
        "attachments": [
            {
                "name": a.original_name,
                "size": a.size,
                "content_type": a.content_type,
                "url": web_url(request, a.get_absolute_url()),
            }
            for a in message.attachments.all()
        ],
    }


@router.get("/me/conversations", response={200: ConversationList, **ERRORS}, **member_only())
def conversation_list(request: HttpRequest, paging: Query[PageParams]):
    """Your conversations, newest activity first."""
    page = paginate(request, selectors.conversation_rows(request.user), paging)
    page["results"] = [_conversation(request, row) for row in page["results"]]
    return page


@router.get("/me/conversations/{conversation_id}/messages", response={200: MessageList, **ERRORS}, **member_only())
def message_list(request: HttpRequest, paging: Query[PageParams], conversation_id: int = Path(..., ge=1, le=ID_MAX)):
    """The messages of one of your conversations, oldest first."""
    perms.get_participation_for_user(request.user, conversation_id)
    page = paginate(request, selectors.conversation_messages(request.user, conversation_id), paging)
    page["results"] = [_message(request, message) for message in page["results"]]
    return page


@router.post("/me/conversations/{conversation_id}/messages", response={201: MessageOut, **ERRORS}, **writes())
def message_create(request: HttpRequest, payload: MessageIn, conversation_id: int = Path(..., ge=1, le=ID_MAX)):
    """Send a message into one of your conversations (Markdown; attachments only on the web)."""
    participation = perms.get_participation_for_user(request.user, conversation_id)
    try:
        message = services.message_send(actor=request.user, conversation=participation.conversation, body=payload.body)
    except PermissionDenied as exc:
        raise ApiError(403, "permission_denied", str(exc) or services.blocked_message()) from exc
    return 201, _message(request, selectors.conversation_messages(request.user, conversation_id).get(pk=message.pk))


@router.post("/me/conversations/{conversation_id}/participants", response={201: ConversationOut, **ERRORS}, **writes())
def participants_add(request: HttpRequest, payload: ParticipantsIn, conversation_id: int = Path(..., ge=1, le=ID_MAX)):
    """Add members to one of your conversations (the same rules as on the web); answers the conversation."""
    participation = perms.get_participation_for_user(request.user, conversation_id)
    handles = ", ".join(f"@{name.strip().removeprefix('@')}" for name in payload.usernames if name.strip())
    try:
        members = members_from_names(handles, actor=request.user, empty=_("Choose at least one member to add."))
        services.conversation_add_people(actor=request.user, conversation=participation.conversation, members=members)
    except PermissionDenied as exc:
        raise ApiError(403, "permission_denied", str(exc) or services.blocked_message()) from exc
    except ValidationError as exc:
        raise ValidationError({"usernames": exc.messages}) from exc
    row = selectors.conversation_rows(request.user).get(pk=participation.pk)
    return 201, _conversation(request, row)
