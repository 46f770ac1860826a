"""Every write to direct messages (issue 9, item 1): start a conversation, send, add people, read, mute, leave,
block, report.

Who may do what is decided in ``members.permissions_messages``. A new message notifies every other participant
who has not muted the conversation (kind ``message``, through ``members.notifications.notify``, so preferences
and the immediate e-mail cap apply as for every direct kind). Notifications and e-mails say who wrote, never
what: a message's text stays between the participants.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from copapp.markdown import render_markdown
from copapp.uploads import validate_file_upload
from members import permissions_messages as perms
from members.models import (
    MAX_PARTICIPANTS,
    MESSAGE_MAX_CHARS,
    Conversation,
    ConversationParticipant,
    MemberBlock,
    Message,
    MessageAttachment,
    Notification,
    NotificationKind,
)
from members.models_follow import Follow
from members.notifications import notify
from members.selectors_messages import forget_header_counts

User = get_user_model()

MAX_ATTACHMENTS = 5
MAX_SUBJECT = 200
REPORT_EXCERPT = 600


def blocked_message() -> str:
    return _("You cannot message this member.")


def _check_body(body: str, attachments: Sequence) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("Write a message before sending.")})
    if len(body) > MESSAGE_MAX_CHARS:
        raise ValidationError({"body": _("Please keep a message under %d characters.") % MESSAGE_MAX_CHARS})
    if len(attachments) > MAX_ATTACHMENTS:
        raise ValidationError({"attachments": _("Attach at most %d files to a message.") % MAX_ATTACHMENTS})
    return body


def _spam_check(actor, body: str) -> None:
    from spaces.services.moderation import spam_check_member

    spam_check_member(
        actor, body, sent_since=lambda since: Message.objects.filter(sender=actor, created_at__gte=since).count()
    )


def _checked_uploads(attachments: Sequence) -> list:
    """Each upload checked like the file repository's (type by content, size limit) before anything is stored."""
    checked = []
    for upload in attachments:
        try:
            checked.append((upload, validate_file_upload(upload, max_bytes=settings.FILE_MAX_BYTES)))
        except ValidationError as exc:
            raise ValidationError({"attachments": [f"{upload.name}: {message}" for message in exc.messages]}) from exc
    return checked


def _store(*, conversation: Conversation, actor, body: str, checked: list, now: datetime) -> Message:
    message = Message(conversation=conversation, sender=actor, body=body, body_html=render_markdown(body, linkify=True))
    message.full_clean(exclude=["conversation", "sender"])
    message.save()
    stored: list[MessageAttachment] = []
    try:
        for upload, info in checked:
            attachment = MessageAttachment(
                message=message,
                original_name=info.name,
                size=info.size,
                content_type=info.content_type,
                sha256=info.sha256,
            )
            upload.seek(0)
            attachment.file.save(info.name, upload, save=False)
            stored.append(attachment)
            attachment.save()
    except Exception:
        for attachment in stored:
            attachment.file.delete(save=False)
        raise
    conversation.last_message_at = now
    conversation.save(update_fields=["last_message_at"])
    # The sender has read their own message.
    ConversationParticipant.objects.filter(conversation=conversation, user=actor).update(last_read_at=now)
    forget_header_counts(conversation.participants.values_list("user_id", flat=True))
    return message


def _notify(*, conversation: Conversation, actor, message: Message) -> list[int]:
    """Every other participant who has not muted the conversation and has no unread notification about it yet."""
    name = actor.public_name

    def text() -> str:  # composed in each recipient's language
        return _("%(who)s sent you a message") % {"who": name}

    recipients = User.objects.filter(
        conversation_participations__conversation=conversation, conversation_participations__muted=False
    )
    return _notify_members(conversation=conversation, actor=actor, recipients=recipients, text=text)


def _notify_members(*, conversation: Conversation, actor, recipients, text) -> list[int]:
    """A ``message`` notification about ``conversation`` for each of ``recipients`` (a ``User`` queryset) who has
    no unread one about it yet, through ``notify`` (preferences and the immediate e-mail cap apply)."""
    url = conversation.get_absolute_url()
    unread = Notification.objects.filter(
        recipient_id=OuterRef("pk"), kind=NotificationKind.MESSAGE, url=url, read_at__isnull=True
    )
    return notify(
        kind=NotificationKind.MESSAGE,
        recipients=recipients.exclude(Exists(unread)),
        actor_id=actor.pk,
        text=text,
        url=url,
    )


@transaction.atomic
def conversation_start(
    *, actor, recipients: Iterable, body: str, subject: str = "", attachments: Sequence = ()
) -> Conversation:
    """Start a conversation between ``actor`` and ``recipients`` (active members; at most ``MAX_PARTICIPANTS``
    people, the starter included) with a first message. Refused, with nothing stored, if any recipient blocked
    ``actor``, or for a new account over the spam limits."""
    if not perms.may_use_messages(actor):
        raise PermissionDenied
    people = {member.pk: member for member in recipients if member.pk != actor.pk}
    if not people:
        raise ValidationError({"recipients": _("Choose at least one member to write to.")})
    if len(people) + 1 > MAX_PARTICIPANTS:
        raise ValidationError(
            {"recipients": _("A conversation can have at most %(n)d people, you included.") % {"n": MAX_PARTICIPANTS}}
        )
    active = set(User.objects.active().filter(pk__in=list(people)).values_list("pk", flat=True))
    if active != set(people):
        raise ValidationError({"recipients": _("Some of these members cannot receive messages.")})
    subject = " ".join((subject or "").split())
    if len(subject) > MAX_SUBJECT:
        raise ValidationError({"subject": _("Please keep the subject under %d characters.") % MAX_SUBJECT})
    body = _check_body(body, attachments)
    if perms.blocked_by_any(actor, people):
        raise PermissionDenied(blocked_message())
    _spam_check(actor, body)
    checked = _checked_uploads(attachments)
    now = timezone.now()
    conversation = Conversation.objects.create(subject=subject, created_by=actor, last_message_at=now)
    ConversationParticipant.objects.bulk_create(
        [ConversationParticipant(conversation=conversation, user_id=pk) for pk in [actor.pk, *people]]
    )
    message = _store(conversation=conversation, actor=actor, body=body, checked=checked, now=now)
    _notify(conversation=conversation, actor=actor, message=message)
    return conversation


@transaction.atomic
def message_send(*, actor, conversation: Conversation, body: str, attachments: Sequence = ()) -> Message:
    """Post a message into a conversation ``actor`` takes part in. Refused, with nothing stored, if another
    participant blocked ``actor``, or for a new account over the spam limits."""
    participation = perms.participations_for(actor).filter(conversation=conversation).first()
    if not perms.can_post(actor, participation):
        raise PermissionDenied
    body = _check_body(body, attachments)
    others = conversation.participants.exclude(user=actor).values_list("user_id", flat=True)
    if perms.blocked_by_any(actor, others):
        raise PermissionDenied(blocked_message())
    _spam_check(actor, body)
    checked = _checked_uploads(attachments)
    message = _store(conversation=conversation, actor=actor, body=body, checked=checked, now=timezone.now())
    _notify(conversation=conversation, actor=actor, message=message)
    return message


@transaction.atomic
def conversation_add_people(*, actor, conversation: Conversation, members: Iterable) -> list:
    """Add ``members`` to a conversation ``actor`` takes part in; returns them. They read the whole conversation,
    from its first message (a member who left and is added again too), and are notified like the recipients of a
    new conversation. Refused, with nothing stored, for someone already in it, beyond ``MAX_PARTICIPANTS`` people,
    for an account that cannot receive messages, when one of them blocked ``actor`` or ``actor`` blocked them, or
    for a new account over the spam limits."""
    # Lock the conversation: two additions at the same moment cannot pass the limit together.
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    participation = perms.participations_for(actor).filter(conversation=conversation).first()
    if not perms.can_add_people(actor, participation):
        raise PermissionDenied
    people = {member.pk: member for member in members}
    if not people:
        raise ValidationError({"people": _("Choose at least one member to add.")})
    current = set(conversation.participants.values_list("user_id", flat=True))
    already = [member.public_name for pk, member in people.items() if pk in current]
    if already:
        raise ValidationError({"people": _("Already in this conversation: %(names)s.") % {"names": ", ".join(already)}})
    if len(current) + len(people) > MAX_PARTICIPANTS:
        raise ValidationError(
            {
                "people": _("A conversation can have at most %(n)d people; this one already has %(count)d.")
                % {"n": MAX_PARTICIPANTS, "count": len(current)}
            }
        )
    active = set(User.objects.active().filter(pk__in=list(people)).values_list("pk", flat=True))
    if active != set(people):
        raise ValidationError({"people": _("Some of these members cannot receive messages.")})
    # The rule of a new conversation: nobody who blocked the actor.
    if perms.blocked_by_any(actor, people):
        raise PermissionDenied(blocked_message())
    mine = perms.blocked_among(actor, people)
    if mine:
        names = ", ".join(people[pk].public_name for pk in people if pk in mine)
        raise ValidationError(
            {"people": _("You blocked %(names)s: unblock them before adding them.") % {"names": names}}
        )
    _spam_check(actor, "")
    ConversationParticipant.objects.bulk_create(
        [ConversationParticipant(conversation=conversation, user_id=pk) for pk in people]
    )
    forget_header_counts(people)
    name = actor.public_name

    def text() -> str:  # composed in each recipient's language
        return _("%(who)s added you to a conversation") % {"who": name}

    _notify_members(
        conversation=conversation, actor=actor, recipients=User.objects.filter(pk__in=list(people)), text=text
    )
    return list(people.values())


def conversation_mark_read(*, actor, participation: ConversationParticipant) -> None:
    """The member opened the conversation: everything in it up to now is read (and its notifications too)."""
    if participation.user_id != actor.pk:
        raise PermissionDenied
    conversation = participation.conversation
    if participation.last_read_at is not None and participation.last_read_at >= conversation.last_message_at:
        return
    now = timezone.now()
    with transaction.atomic():
        ConversationParticipant.objects.filter(pk=participation.pk).update(last_read_at=now)
        Notification.objects.filter(
            recipient=actor,
            kind=NotificationKind.MESSAGE,
            url=conversation.get_absolute_url(),
            read_at__isnull=True,
        ).update(read_at=now)
        forget_header_counts([actor.pk])
    participation.last_read_at = now


@transaction.atomic
def conversation_mute_set(*, actor, participation: ConversationParticipant, muted: bool) -> bool:
    """Mute (no notifications, no e-mails; still readable) or unmute a conversation. Returns the new state."""
    if participation.user_id != actor.pk:
        raise PermissionDenied
    participation.muted = muted
    participation.save(update_fields=["muted"])
    return muted


@transaction.atomic
def conversation_leave(*, actor, participation: ConversationParticipant) -> None:
    """Leave: the member is no longer a participant and sees nothing of it any more; the others go on."""
    if participation.user_id != actor.pk:
        raise PermissionDenied
    participation.delete()
    forget_header_counts([actor.pk])


@transaction.atomic
def member_block(*, actor, member) -> MemberBlock:
    """Block ``member`` site-wide: they can no longer start a conversation with ``actor`` nor post into one that
    includes ``actor``."""
    if not perms.may_use_messages(actor):
        raise PermissionDenied
    if member.pk == actor.pk:
        raise ValidationError(_("You cannot block yourself."))
    block, _created = MemberBlock.objects.get_or_create(blocker=actor, blocked=member)
    # A block ends following both ways: neither sees the other's contributions in their stream any more.
    Follow.objects.filter(Q(follower=actor, followed=member) | Q(follower=member, followed=actor)).delete()
    return block


@transaction.atomic
def member_unblock(*, actor, member) -> bool:
    """Lift a block. Returns whether there was one."""
    if not actor.is_authenticated:
        raise PermissionDenied
    deleted, _rows = MemberBlock.objects.filter(blocker=actor, blocked=member).delete()
    return bool(deleted)


def message_report(*, actor, message: Message, reason: str, note: str = "", share_text: bool = False):
    """Report a message to site staff (a flag in the site-wide review queue only). Staff learn of the message's
    text only if the reporter chose to share it: then an excerpt is put into the flag's note."""
    from spaces.services.moderation import MAX_NOTE, flag_create_private

    if not perms.can_report_message(actor, message):
        raise PermissionDenied
    note = (note or "").strip()
    if share_text:
        excerpt = Truncator(" ".join(message.body.split())).chars(REPORT_EXCERPT)
        shared = _("Reported message (shared by the reporter): “%(text)s”") % {"text": excerpt}
        note = f"{note}\n\n{shared}" if note else shared
        note = Truncator(note).chars(MAX_NOTE)
    return flag_create_private(actor=actor, target=message, target_author=message.sender, reason=reason, note=note)
