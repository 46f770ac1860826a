"""A member's download of all their own data (issue 8, item 5).

The archive is composed app by app, as account deletion erases data app by app: each app contributes its part
through a ``member_data(user)`` function of its own ``exports`` module (``PROVIDERS``), and this module adds the
account, profile and notification data that members itself holds, a README and a manifest. What is in it and
what is left out is written in ``README`` below and in ``spaces/exports.py``.

The archive is built by a Celery task (``members.tasks.data_export_build_task``) into a temporary file and then
saved to private storage; the member is told in-app when it is ready, downloads it from their data page for
``DATA_EXPORT_VALID_DAYS`` days (no one else can: the download view answers 404 to anyone but its owner), and a
periodic task deletes the file after that. On the embedded default (eager Celery) it is built during the request.
"""

from __future__ import annotations

import json
import logging
import secrets
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from copapp.exports import FilePart, JsonPart, Part, TextPart, ZipReport, iso, safe_component, write_zip
from members.models import (
    DataExport,
    DataExportStatus,
    NotificationKind,
    NotificationPreferences,
    Profile,
    SpaceMute,
)
from members.permissions_messages import attachments_for, participations_for

logger = logging.getLogger(__name__)
User = get_user_model()

DATA_EXPORT_VALID_DAYS = 7
# A request made less than this long after the previous one gets the previous one (an archive can be large).
DATA_EXPORT_MIN_INTERVAL = timedelta(hours=1)
# An export still "pending" or "running" after this long lost its worker: it may be started again.
DATA_EXPORT_STALE = timedelta(hours=2)

# Each app's part of the archive, in this order.
PROVIDERS = (
    "members.exports.member_data",
    "communities.exports.member_data",
    "spaces.exports.member_data",
    "analytics.exports.member_data",
)

README = gettext_lazy(
    """Your data from %(site)s

Prepared on %(date)s for %(name)s (@%(username)s).

Each folder holds one part of your data, as JSON files (UTF-8; the records of a list one per line):

  members/      your account, profile, e-mail addresses, notification settings, muted spaces, your
                notifications, the names of your API tokens (never their secrets) and your avatar
  communities/  your community memberships, the guidelines you accepted, your answers to introductory
                questions, community bans
  spaces/       your space memberships, join requests, invitations, and everything you wrote: pages (and
                each version you saved), drafts, questions, answers, comments, posts, events, polls, papers and
                files (in spaces/files/ and spaces/papers/), with your registrations, votes, likes, bookmarks,
                watches, poll votes and flags
  analytics/    your rows of the activity log

What is included and what is not:
- Everything you wrote is yours and is included wherever it is now, also in spaces you have left or were
  removed from, and content that is restricted, hidden by moderators or in the trash (its state is given).
- For your actions on other people's content (an answer to someone's question, a comment on someone's page,
  a vote, a like, a bookmark), the other item's title is given only if you can still see it today; otherwise
  only its kind and number.
- Other people's content and personal data are never included: no comments or answers by others, no other
  member's e-mail address or profile.

manifest.json lists every file in this archive with its number of records or bytes.
"""
)


# === The members app's part ========================================================================================
def _notification_rows(user) -> Iterator[dict]:
    # Only notifications the member may still see (an item since hidden from them is not shown on the site either).
    from members.selectors_notifications import member_notifications, notification_message

    for notification in member_notifications(user).iterator(chunk_size=500):
        yield {
            "kind": notification.kind,
            "message": notification_message(notification),
            "created_at": iso(notification.created_at),
            "read_at": iso(notification.read_at),
        }


def member_data(user) -> Iterator[Part]:
    """The members app's part of ``user``'s own data export."""
    profile = Profile.objects.filter(user=user).prefetch_related("expertise").first()

    def account():
        yield {
            "username": user.username,
            "email": user.email,
            "display_name": user.display_name,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "date_joined": iso(user.date_joined),
            "last_login": iso(user.last_login),
            "profile": {
                "organisation": profile.organisation,
                "organisation_type": profile.organisation_type,
                "country": profile.country,
                "job_title": profile.job_title,
                "bio": profile.bio,
                "expertise": [tag.name for tag in profile.expertise.all()],
                "time_zone": profile.time_zone,
                "preferred_language": profile.preferred_language,
                "avatar": _avatar_path(profile),
                "updated_at": iso(profile.updated_at),
            }
            if profile
            else None,
        }

    def email_addresses():
        from allauth.account.models import EmailAddress

        for address in EmailAddress.objects.filter(user=user).order_by("pk"):
            yield {"email": address.email, "verified": address.verified, "primary": address.primary}

    def notification_settings():
        prefs = NotificationPreferences.objects.filter(user=user).first()
        yield {
            "email_off": list(prefs.email_off) if prefs else [],
            "digest_frequency": prefs.digest_frequency if prefs else None,
            "digest_hour": prefs.digest_hour if prefs else None,
            "skip_digest_if_seen": prefs.skip_digest_if_seen if prefs else None,
            "last_digest_at": iso(prefs.last_digest_at) if prefs else None,
        }

    def muted_spaces():
        for mute in SpaceMute.objects.filter(user=user).select_related("space__community").order_by("pk"):
            yield {"space": {"id": mute.space_id, "name": mute.space.name}, "since": iso(mute.created_at)}

    def api_tokens():
        for token in user.api_tokens.order_by("pk") if hasattr(user, "api_tokens") else []:
            yield {
                "name": token.name,
                "scope": token.scope,
                "created_at": iso(token.created_at),
                "last_used_at": iso(token.last_used_at),
                "expires_at": iso(token.expires_at),
                "revoked_at": iso(token.revoked_at),
            }

    yield JsonPart("members/account.json", account, single=True)
    yield JsonPart("members/email_addresses.json", email_addresses)
    yield JsonPart("members/notification_settings.json", notification_settings, single=True)
    yield JsonPart("members/muted_spaces.json", muted_spaces)
    yield JsonPart("members/notifications.json", lambda: _notification_rows(user))
    yield JsonPart("members/api_tokens.json", api_tokens)
    yield JsonPart("members/conversations.json", lambda: _conversation_rows(user))
    yield JsonPart("members/blocked_members.json", lambda: _blocked_rows(user))
    if profile is not None and profile.avatar:
        yield FilePart(_avatar_path(profile), profile.avatar.storage, profile.avatar.name)
    for attachment in attachments_for(user).order_by("pk"):
        yield FilePart(_attachment_path(attachment), attachment.file.storage, attachment.file.name)


def _attachment_path(attachment) -> str:
    name = safe_component(attachment.original_name, fallback="file")
    return f"members/messages/{attachment.message_id}-{attachment.pk}-{name}"


def _conversation_rows(user) -> Iterator[dict]:
    """The conversations the member takes part in now, with every message in them (the permission filter is the
    same as on the web: ``members.permissions_messages``). Conversations they left are no longer theirs to read."""
    from django.db.models import Prefetch

    from members.models import ConversationParticipant, Message

    messages = Message.objects.select_related("sender").prefetch_related("attachments").order_by("created_at", "pk")
    participants = ConversationParticipant.objects.select_related("user").order_by("pk")
    rows = (
        participations_for(user)
        .select_related("conversation")
        .prefetch_related(
            Prefetch("conversation__participants", queryset=participants),
            Prefetch("conversation__messages", queryset=messages),
        )
        .order_by("conversation_id")
    )
    for row in rows:
        conversation = row.conversation
        yield {
            "id": conversation.pk,
            "subject": conversation.subject,
            "started_at": iso(conversation.created_at),
            "participants": [p.user.public_name for p in conversation.participants.all()],
            "muted": row.muted,
            "messages": [
                {
                    "id": message.pk,
                    "from": message.sender.public_name if message.sender is not None else None,
                    "mine": message.sender_id == user.pk,
                    "sent_at": iso(message.created_at),
                    "body": message.body,
                    "attachments": [_attachment_path(a) for a in message.attachments.all()],
                }
                for message in conversation.messages.all()
            ],
        }


def _blocked_rows(user) -> Iterator[dict]:
    from members.models import MemberBlock

    for block in MemberBlock.objects.filter(blocker=user).select_related("blocked").order_by("pk"):
        yield {"member": block.blocked.username, "since": iso(block.created_at)}


def _avatar_path(profile: Profile) -> str | None:
    if not profile.avatar:
        return None
    return f"members/avatar/{safe_component(profile.avatar.name.rsplit('/', 1)[-1], fallback='avatar')}"


def export_parts(user, report: ZipReport) -> Iterator[Part]:
    """Every part of ``user``'s archive: the README, each app's part (``PROVIDERS``), then the manifest, which is
    written last from ``report`` (filled in as the parts are written)."""
    yield TextPart("README.txt", _readme(user))
    for path in PROVIDERS:
        yield from import_string(path)(user)

    def manifest() -> str:
        return json.dumps(
            {
                "member": user.username,
                "created_at": iso(timezone.now()),
                "records": report.rows,
                "files": report.files,
                "missing_files": report.missing,
            },
            indent=2,
            ensure_ascii=False,
        )

    yield TextPart("manifest.json", manifest)


def _readme(user) -> str:
    from django.conf import settings

    return str(README) % {
        "site": settings.SITE_NAME,
        "date": iso(timezone.now()),
        "name": user.public_name,
        "username": user.username,
    }


# === Services =======================================================================================================
def _in_progress_q(now: datetime) -> Q:
    return Q(status__in=[DataExportStatus.PENDING, DataExportStatus.RUNNING], created_at__gt=now - DATA_EXPORT_STALE)


@transaction.atomic
def data_export_request(*, actor) -> DataExport:
    """Ask for a new archive of ``actor``'s own data; built by a task after commit.

    An export still being prepared is returned instead of starting another; a new one is refused within
    ``DATA_EXPORT_MIN_INTERVAL`` of the last one that is ready to download. Expired files are cleaned up first.
    """
    if not actor.is_authenticated or not actor.is_active:
        raise PermissionDenied
    now = timezone.now()
    User.objects.select_for_update().filter(pk=actor.pk).first()  # one request at a time per member
    data_exports_purge(now=now, user=actor)
    running = DataExport.objects.filter(_in_progress_q(now), user=actor).first()
    if running is not None:
        return running
    if DataExport.objects.filter(
        user=actor, status=DataExportStatus.READY, created_at__gt=now - DATA_EXPORT_MIN_INTERVAL
    ).exists():
        raise ValidationError(
            _("You asked for an export less than an hour ago. Download that one, or try again later.")
        )
    export = DataExport.objects.create(user=actor)
    from members.tasks import data_export_build_task

    transaction.on_commit(lambda: data_export_build_task.delay(export.pk))
    return export


def _claim(export_id: int) -> DataExport | None:
    """Mark the export running, unless it is done or another worker is on it (the task is safe to run twice)."""
    with transaction.atomic():
        export = DataExport.objects.select_for_update().filter(pk=export_id).select_related("user").first()
        if export is None or export.status in (DataExportStatus.READY, DataExportStatus.EXPIRED):
            return None
        now = timezone.now()
        busy = export.status == DataExportStatus.RUNNING and export.started_at is not None
        if busy and export.started_at > now - DATA_EXPORT_STALE:
            return None
        export.status = DataExportStatus.RUNNING
        export.started_at = now
        export.error = ""
        export.save(update_fields=["status", "started_at", "error"])
        return export


def data_export_build(*, export_id: int) -> str:
    """Write the archive of the export's member into a temporary file, save it to private storage, mark it ready
    for ``DATA_EXPORT_VALID_DAYS`` days and tell the member. Returns the export's status."""
    export = _claim(export_id)
    if export is None:
        return DataExport.objects.filter(pk=export_id).values_list("status", flat=True).first() or "missing"
    user = export.user
    try:
        from members.language import language_of

        with tempfile.TemporaryFile() as temporary, translation.override(language_of(user)):
            report = ZipReport()
            write_zip(temporary, export_parts(user, report), report=report)
            size = temporary.tell()
            temporary.seek(0)
            stamp = timezone.now().strftime("%Y%m%d")
            name = f"{safe_component(user.username)}-data-{stamp}-{secrets.token_hex(8)}.zip"
            export.file.save(name, File(temporary, name=name), save=False)
    except Exception as exc:
        logger.exception("Data export %s failed", export_id)
        DataExport.objects.filter(pk=export.pk).update(
            status=DataExportStatus.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        return DataExportStatus.FAILED
    now = timezone.now()
    export.status = DataExportStatus.READY
    export.size = size
    export.finished_at = now
    export.expires_at = now + timedelta(days=DATA_EXPORT_VALID_DAYS)
    export.save(update_fields=["status", "file", "size", "finished_at", "expires_at"])
    _notify_ready(export)
    return export.status


def _notify_ready(export: DataExport) -> None:
    from members.language import language_of
    from members.notifications import notify

    with translation.override(language_of(export.user)):  # stored text: in the member's language
        text = _("Your data export is ready. Download it before %(date)s.") % {
            "date": date_format(timezone.localtime(export.expires_at), "DATETIME_FORMAT")
        }
    notify(
        kind=NotificationKind.DATA_EXPORT,
        recipients=User.objects.filter(pk=export.user_id),
        text=text,
        url=reverse("members:data-export"),
        dedupe_key=f"data-export-{export.pk}",
    )


def _delete_file(export: DataExport) -> None:
    if export.file:
        name, storage = export.file.name, export.file.storage
        transaction.on_commit(lambda: storage.delete(name))


def data_exports_purge(*, now: datetime | None = None, user=None) -> int:
    """Delete the files of exports past their time (and of failed or abandoned ones), keeping the rows as a
    record; returns how many were cleaned. Run hourly by beat, and for a member when they ask for a new one."""
    now = now or timezone.now()
    expired = Q(status=DataExportStatus.READY, expires_at__lte=now) | Q(
        status__in=[DataExportStatus.PENDING, DataExportStatus.RUNNING, DataExportStatus.FAILED],
        created_at__lte=now - DATA_EXPORT_STALE,
    )
    exports = DataExport.objects.filter(expired)
    if user is not None:
        exports = exports.filter(user=user)
    count = 0
    with transaction.atomic():
        for export in exports.select_for_update():
            _delete_file(export)
            if export.status == DataExportStatus.READY:
                export.status = DataExportStatus.EXPIRED
            elif export.status != DataExportStatus.FAILED:
                export.status = DataExportStatus.FAILED
                export.error = export.error or "Abandoned: not finished in time."
            export.file = ""
            export.save(update_fields=["status", "file", "error"])
            count += 1
    return count


def data_exports_delete_for(*, user) -> int:
    """Account deletion: the member's archives go with their personal data."""
    exports = list(DataExport.objects.filter(user=user))
    for export in exports:
        _delete_file(export)
    DataExport.objects.filter(user=user).delete()
    return len(exports)


# === Reads ==========================================================================================================
def member_data_exports(user):
    """The member's exports, newest first (the data page lists them)."""
    return DataExport.objects.filter(user=user).order_by("-created_at", "-pk")


def data_export_for_download(user, export_id: int) -> DataExport | None:
    """The export if ``user`` owns it and it can be downloaded now, else None (the view answers 404)."""
    if not user.is_authenticated:
        return None
    return (
        DataExport.objects.filter(pk=export_id, user=user, status=DataExportStatus.READY, expires_at__gt=timezone.now())
        .exclude(file="")
        .first()
    )
