"""Members: the user account (e-mail login) and the profile other members see."""

import functools
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class OrganisationType(models.TextChoices):
    NSO = "nso", _("National statistics office")
    GOVERNMENT = "government", _("Other government")
    DEV_PARTNER = "dev_partner", _("Development partner")
    NGO = "ngo", _("NGO")
    ACADEMIA = "academia", _("Academia")
    OTHER = "other", _("Other")


@functools.cache
def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class MemberManager(UserManager):
    def create_user(self, username=None, email=None, password=None, **extra_fields):  # type: ignore[override]
        email = self.normalize_email(email)
        if not username:
            username = username_from_email(email, self.model)
        return super().create_user(username, email, password, **extra_fields)

    def active(self) -> "models.QuerySet[User]":
        return self.filter(is_active=True, deleted_at__isnull=True)


def username_from_email(email: str, model: type["User"]) -> str:
    """A unique @handle derived from the e-mail's local part (used for mentions and invitations)."""
    import re

    base = re.sub(r"[^a-z0-9_]", "", (email or "member").split("@")[0].lower())[:20] or "member"
    candidate, n = base, 1
    while model.objects.filter(username__iexact=candidate).exists():
        n += 1
        candidate = f"{base}{n}"
    return candidate


class User(AbstractUser):
    """A person with an account. Logs in by e-mail; ``username`` is the public @handle."""

    email = models.EmailField(_("e-mail address"), unique=True)
    display_name = models.CharField(_("display name"), max_length=120, blank=True)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True, editable=False)

    objects = MemberManager()

    REQUIRED_FIELDS = ["email"]

    class Meta:
        ordering = ["display_name", "username"]
        permissions = [("view_analytics", "Can see every analytics dashboard (site analyst)")]
        # Staff are a handful among tens of thousands of members: the analytics figures, which leave them out,
        # find their ids here instead of reading every account (80 ms at 50,000 members).
        indexes = [models.Index(fields=["id"], condition=models.Q(is_staff=True), name="members_user_staff")]
        verbose_name = _("member")
        verbose_name_plural = _("members")

    def __str__(self) -> str:
        return self.public_name

    @property
    def public_name(self) -> str:
        if self.deleted_at:
            return str(_("former member"))
        return self.display_name or self.username

    def get_absolute_url(self) -> str:
        return reverse("members:profile", kwargs={"username": self.username})


def avatar_path(instance: "Profile", filename: str) -> str:
    return f"avatars/{instance.user_id}/{filename}"


class Expertise(models.Model):
    """An area of expertise, shared between profiles so members can find peers by it."""

    name = models.CharField(_("name"), max_length=80, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("area of expertise")
        verbose_name_plural = _("areas of expertise")

    def __str__(self) -> str:
        return self.name


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile", verbose_name=_("member")
    )
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    organisation_type = models.CharField(
        _("organisation type"), max_length=20, choices=OrganisationType.choices, blank=True
    )
    country = models.CharField(_("country"), max_length=80, blank=True)
    job_title = models.CharField(_("job title"), max_length=200, blank=True)
    bio = models.TextField(_("short bio"), max_length=2000, blank=True)
    expertise = models.ManyToManyField(
        Expertise, blank=True, related_name="profiles", verbose_name=_("areas of expertise")
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    preferred_language = models.CharField(
        _("preferred language"), max_length=10, choices=settings.LANGUAGES, default="en"
    )
    avatar = models.ImageField(_("avatar"), upload_to=avatar_path, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["country"]), models.Index(fields=["organisation_type"])]
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return f"Profile of {self.user_id}"


# --- Notifications, preferences and digests (issue 5) --------------------------------------------------------
class NotificationKind(models.TextChoices):
    REPLY = "reply", _("A reply or answer to my content")
    ACCEPTED = "accepted", _("My answer was accepted")
    MENTION = "mention", _("Someone mentioned me")
    PAGE_CHANGED = "page_changed", _("A page I watch changed")
    NEW_ITEM = "new_item", _("Something new in a space I watch")
    JOIN_REQUEST = "join_request", _("A request to join a space I moderate")
    REQUEST_DECIDED = "request_decided", _("My request to join was decided")
    INVITATION = "invitation", _("An invitation to a space")
    FLAG = "flag", _("A new flag in a space I moderate")
    MODERATION = "moderation", _("A moderator acted on my content or warned me")
    PAPER_DECIDED = "paper_decided", _("My paper was accepted or declined")
    EVENT_REMINDER = "event_reminder", _("A reminder of an event I registered for")
    EVENT_PLACE = "event_place", _("A place at an event came free for me on its waiting list")
    ANNOUNCEMENT = "announcement", _("An announcement in my spaces")
    DATA_EXPORT = "data_export", _("My data export is ready")
    MESSAGE = "message", _("A direct message to me")


# Direct things may be e-mailed at once (within the hourly cap); everything else waits for the digest.
IMMEDIATE_KINDS = frozenset(
    {
        NotificationKind.MENTION,
        NotificationKind.REPLY,
        NotificationKind.MODERATION,
        NotificationKind.REQUEST_DECIDED,
        NotificationKind.PAPER_DECIDED,
        NotificationKind.EVENT_REMINDER,
        NotificationKind.EVENT_PLACE,
        NotificationKind.MESSAGE,
    }
)


class EmailState(models.TextChoices):
    NONE = "none", _("In-app only")
    PENDING = "pending", _("Waiting to be e-mailed")
    SENT = "sent", _("E-mailed")
    DIGEST = "digest", _("Left for the digest")


class Notification(models.Model):
    """One thing a member should know. Its item is shown only while the member may still see it: lists and
    e-mails filter through ``Item.objects.visible_to`` at the moment they are read or sent."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("recipient")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("done by"),
    )
    item = models.ForeignKey(
        "spaces.Item",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("item"),
    )
    space = models.ForeignKey(
        "spaces.Space",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("space"),
    )
    text = models.TextField(_("text"), blank=True, help_text=_("For notifications without an item."))
    url = models.CharField(_("link"), max_length=500, blank=True)
    dedupe_key = models.CharField(_("deduplication key"), max_length=120, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    email_state = models.CharField(
        _("e-mail status"), max_length=8, choices=EmailState.choices, default=EmailState.NONE
    )
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            models.Index(fields=["recipient", "-created_at"]),
            models.Index(fields=["email_state", "recipient"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], condition=~models.Q(dedupe_key=""), name="one_notification_per_key"
            )
        ]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}"

    def get_kind_display(self) -> str:
        """Django's own rebuilds the choices' dictionary on every call: the notifications page shows one per row."""
        try:
            return NotificationKind(self.kind).label
        except ValueError:
            return self.kind


class DigestFrequency(models.TextChoices):
    OFF = "off", _("Never")
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly (Mondays)")


class NotificationPreferences(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs", verbose_name=_("member")
    )
    email_off = models.JSONField(
        _("kinds not sent by e-mail"),
        default=list,
        blank=True,
        help_text=_("Notification kinds the member does not want by e-mail."),
    )
    digest_frequency = models.CharField(
        _("digest"), max_length=8, choices=DigestFrequency.choices, default=DigestFrequency.WEEKLY
    )
    digest_hour = models.PositiveSmallIntegerField(
        _("digest hour"), default=8, help_text=_("Local hour (0-23) in your time zone.")
    )
    skip_digest_if_seen = models.BooleanField(
        _("skip the digest when I have already seen everything in it"), default=True
    )
    last_digest_at = models.DateTimeField(_("last digest"), null=True, blank=True)
    last_immediate_email_at = models.DateTimeField(_("last immediate e-mail"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification preferences")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return f"Notification preferences of {self.user_id}"


class SpaceMute(models.Model):
    """No notifications and no digest entries from this space for this member."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="space_mutes", verbose_name=_("member")
    )
    space = models.ForeignKey("spaces.Space", on_delete=models.CASCADE, related_name="mutes", verbose_name=_("space"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "space"], name="one_mute_per_space")]
        verbose_name = _("muted space")
        verbose_name_plural = _("muted spaces")

    def __str__(self) -> str:
        return f"{self.user_id} mutes {self.space_id}"


class DigestStatus(models.TextChoices):
    PENDING = "pending", _("Recorded, not yet sent")
    SENDING = "sending", _("Handed to the mail server")
    SENT = "sent", _("Sent")
    UNCERTAIN = "uncertain", _("Outcome unknown (the worker stopped while sending); not resent")
    SKIPPED_EMPTY = "skipped_empty", _("Skipped: nothing new")
    SKIPPED_SEEN = "skipped_seen", _("Skipped: everything already seen")
    FAILED = "failed", _("Failed")


class DigestRecord(models.Model):
    """The transactional outbox of digests: one row per member and period, written before anything is sent."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digests", verbose_name=_("member")
    )
    frequency = models.CharField(_("frequency"), max_length=8, choices=DigestFrequency.choices)
    period_start = models.DateTimeField(_("period start"))
    period_end = models.DateTimeField(_("period end"))
    status = models.CharField(_("status"), max_length=14, choices=DigestStatus.choices, default=DigestStatus.PENDING)
    item_count = models.PositiveIntegerField(_("number of items"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sending_at = models.DateTimeField(_("sending started"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    detail = models.TextField(_("detail"), blank=True)

    class Meta:
        ordering = ["-period_end"]
        constraints = [
            models.UniqueConstraint(fields=["user", "frequency", "period_end"], name="one_digest_per_member_period")
        ]
        indexes = [models.Index(fields=["status", "period_end"])]
        verbose_name = _("digest")
        verbose_name_plural = _("digests")

    def __str__(self) -> str:
        return f"{self.frequency} digest of {self.user_id} to {self.period_end:%Y-%m-%d}"


# --- Personal access tokens for the REST API (issue 8) ----------------------------------------------------------
class TokenScope(models.TextChoices):
    READ = "read", _("Read only")
    READ_WRITE = "read_write", _("Read and write")


class PersonalAccessTokenQuerySet(models.QuerySet["PersonalAccessToken"]):
    def usable(self) -> "PersonalAccessTokenQuerySet":
        """Tokens that are neither revoked nor expired (their owner's state is checked when one is used)."""
        from django.utils import timezone

        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=timezone.now())
        )


class PersonalAccessToken(models.Model):
    """A member's key to the REST API. Only a SHA-256 hash of the secret is stored; the secret is shown once,
    when the token is created. ``prefix`` (the first characters) is kept to tell tokens apart in lists."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("member")
    )
    name = models.CharField(_("name"), max_length=100)
    scope = models.CharField(_("scope"), max_length=12, choices=TokenScope.choices, default=TokenScope.READ)
    prefix = models.CharField(_("prefix"), max_length=16, editable=False)
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = PersonalAccessTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "revoked_at"])]
        verbose_name = _("personal access token")
        verbose_name_plural = _("personal access tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def can_write(self) -> bool:
        return self.scope == TokenScope.READ_WRITE

    @property
    def is_expired(self) -> bool:
        from django.utils import timezone

        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired


# --- A member's download of their own data (issue 8, item 5) ------------------------------------------------------
class DataExportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to start")
    RUNNING = "running", _("Being prepared")
    READY = "ready", _("Ready to download")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


def data_export_storage():
    """Exports hold a member's private data: private storage, served only to their owner by a checked view."""
    from django.core.files.storage import storages

    return storages["private"]


def data_export_path(instance: "DataExport", filename: str) -> str:
    return f"exports/{instance.user_id}/{filename}"


class DataExport(models.Model):
    """A ZIP of everything a member may take away (``members.exports``), built by a Celery task, downloadable by
    that member only until ``expires_at``; a periodic task deletes the file after that."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports", verbose_name=_("member")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=DataExportStatus.choices, default=DataExportStatus.PENDING
    )
    file = models.FileField(
        _("file"), upload_to=data_export_path, storage=data_export_storage, max_length=500, blank=True
    )
    size = models.PositiveBigIntegerField(_("size"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "expires_at"])]
        verbose_name = _("data export")
        verbose_name_plural = _("data exports")

    def __str__(self) -> str:
        return f"data export {self.pk} of {self.user_id} ({self.status})"


# --- Direct messages between members (issue 9, item 1) ------------------------------------------------------------
# Only participants ever read a conversation: every read goes through ``members.permissions_messages``, which
# filters by participant in the query. Nothing here is registered in the admin, indexed by search or exported
# with a community or a space.
MAX_PARTICIPANTS = 20
MESSAGE_MAX_CHARS = 10000


def message_attachment_storage():
    """Attachments are private: served only to the conversation's participants by a checked view."""
    from django.core.files.storage import storages

    return storages["private"]


def message_attachment_path(instance: "MessageAttachment", filename: str) -> str:
    return f"messages/{instance.message.conversation_id}/{instance.message_id}/{filename}"


class Conversation(models.Model):
    """A one-to-one or small-group conversation. Its participants are its ``ConversationParticipant`` rows."""

    subject = models.CharField(_("subject"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_message_at = models.DateTimeField(_("last message"), db_index=True)

    class Meta:
        ordering = ["-last_message_at", "-pk"]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")

    def __str__(self) -> str:
        return f"conversation {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("members:conversation", kwargs={"conversation_id": self.pk})


class ConversationParticipant(models.Model):
    """A member taking part in a conversation. Leaving deletes the row; muting keeps it readable, silently."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="participants", verbose_name=_("conversation")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="conversation_participations",
        verbose_name=_("member"),
    )
    joined_at = models.DateTimeField(_("joined"), auto_now_add=True)
    muted = models.BooleanField(_("muted"), default=False)
    last_read_at = models.DateTimeField(_("last read"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "user"], name="one_participation_per_conversation")
        ]
        indexes = [models.Index(fields=["user", "conversation"])]
        verbose_name = _("conversation participant")
        verbose_name_plural = _("conversation participants")

    def __str__(self) -> str:
        return f"{self.user_id} in conversation {self.conversation_id}"


class Message(models.Model):
    """One message. ``body_html`` is the sanitised rendering of ``body``, stored beside it."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages", verbose_name=_("conversation")
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("sender"),
    )
    body = models.TextField(_("message"), max_length=MESSAGE_MAX_CHARS)
    body_html = models.TextField(_("rendered message"), blank=True, editable=False)
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["conversation", "created_at"])]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return f"message {self.pk}"


class MessageAttachment(models.Model):
    """A file sent with a message, checked like the files of the repository (``copapp.uploads``)."""

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("message")
    )
    file = models.FileField(
        _("file"), upload_to=message_attachment_path, storage=message_attachment_storage, max_length=500
    )
    original_name = models.CharField(_("original name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.CharField(_("file type"), max_length=120)
    sha256 = models.CharField(_("SHA-256 checksum"), max_length=64)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("message attachment")
        verbose_name_plural = _("message attachments")

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("members:message-attachment", kwargs={"attachment_id": self.pk, "filename": self.original_name})


class MemberBlock(models.Model):
    """``blocker`` blocked ``blocked`` site-wide: the blocked member cannot message them."""

    blocker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="blocks_made",
        verbose_name=_("blocking member"),
    )
    blocked = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="blocks_received",
        verbose_name=_("blocked member"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["blocker", "blocked"], name="one_block_per_pair")]
        verbose_name = _("member block")
        verbose_name_plural = _("member blocks")

    def __str__(self) -> str:
        return f"{self.blocker_id} blocks {self.blocked_id}"


from members.models_follow import Follow  # noqa: E402,F401
