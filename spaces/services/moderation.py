"""Every write to moderation: flags and their weights, automatic hiding, the moderators' actions, the audit log,
community bans as they reach the spaces, and the limits on new accounts.

A flag is about an ``Item`` (any kind of content), a ``Paper`` or a member (their profile). Moderators resolve
flags by acting: dismissing marks them dismissed; hiding, removing, warning and banning mark them upheld. The
record of upheld and dismissed flags gives each member's next flags their weight (``flag_weight``).

Every moderator action appends a ``ModerationLogEntry`` in the same transaction (``log_write``); nothing edits
or deletes an entry afterwards.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from analytics.recording import record_activity
from copapp.markdown import mention_handles
from spaces import permissions
from spaces.models import (
    Flag,
    FlagReason,
    FlagStatus,
    Invitation,
    InvitationStatus,
    Item,
    JoinRequest,
    JoinRequestStatus,
    ModerationAction,
    ModerationLogEntry,
    ModerationState,
    Space,
    SpaceBan,
    SpaceMembership,
    SpaceRole,
    SpaceUserObjectPermission,
)
from spaces.selectors_content import item_label

from .membership import member_ban
from .trash import item_trash

MAX_NOTE = 1000
MAX_MESSAGE = 2000


# --- The audit log ------------------------------------------------------------------------------------------
def target_label(target) -> str:
    """A human name for a flag or log target: the item's title, the paper's title, the member's name."""
    if target is None:
        return ""
    kind = permissions.flag_target_kind(target)
    if kind == "item":
        return item_label(target)
    if kind == "paper":
        return target.title
    if kind == "message":
        return str(_("Direct message"))
    return target.public_name


def log_write(
    *,
    actor,
    action: str,
    target=None,
    space: Space | None = None,
    community=None,
    subject=None,
    reason: str = "",
    before: dict | None = None,
    after: dict | None = None,
) -> ModerationLogEntry:
    """Append one entry to the moderation audit log. ``actor`` None: an automatic action (auto-hide)."""
    if community is None and space is not None:
        community = space.community
    return ModerationLogEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=target.pk if target is not None else None,
        target_label=target_label(target)[:300],
        space=space,
        community=community,
        subject=subject,
        reason=(reason or "").strip(),
        before=before or {},
        after=after or {},
    )


def log_item_state_change(
    *, actor, item: Item, state: str, reason: str = "", before: dict | None = None, after: dict | None = None
) -> ModerationLogEntry:
    """Log hiding or showing ``item`` (call before changing ``moderation_state``: the current one is "before")."""
    action = ModerationAction.UNHIDE if state == ModerationState.VISIBLE else ModerationAction.HIDE
    return log_write(
        actor=actor,
        action=action,
        target=item,
        space=item.space,
        subject=item.author,
        reason=reason,
        before={"moderation_state": item.moderation_state, **(before or {})},
        after={"moderation_state": state, **(after or {})},
    )


EDIT_EXCERPT = 200


def _excerpt(value) -> str:
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return Truncator(" ".join(text.split())).chars(EDIT_EXCERPT)


def log_moderator_edit(*, actor, item: Item, before: dict, after: dict, reason: str = "") -> ModerationLogEntry | None:
    """Log an edit of someone else's content by a moderator of its space (or an admin above them): an ``EDIT``
    entry with excerpts of the fields that changed (``before``/``after``: field name to value, e.g. title and
    body) and the editor's summary as the reason. The author is told through the log entry, like every action.

    An author's own edit, and one by a member without moderator rights in the space (editors edit each other's
    wiki pages freely), is no moderation action: nothing is written. Edit services call this in their
    transaction, after the change is saved. Returns the entry, if any.
    """
    if not actor.is_authenticated or item.author_id == actor.pk:
        return None
    if not permissions.can_moderate_space(actor, item.space):
        return None
    changed = [key for key in after if before.get(key) != after[key]]
    if not changed:
        return None
    return log_write(
        actor=actor,
        action=ModerationAction.EDIT,
        target=item,
        space=item.space,
        subject=item.author,
        reason=reason,
        before={key: _excerpt(before.get(key)) for key in changed},
        after={key: _excerpt(after[key]) for key in changed},
    )


# --- Flags --------------------------------------------------------------------------------------------------
def flag_weight(flagger) -> Decimal:
    """How much a new flag by ``flagger`` weighs, from their earlier resolved flags (the numbers are settings).

    With at least ``FLAG_TRUSTED_MIN_FLAGS`` resolved flags: ``FLAG_TRUSTED_WEIGHT`` when at least
    ``FLAG_TRUSTED_RATIO`` of them were upheld, ``FLAG_DISTRUSTED_WEIGHT`` when fewer than
    ``FLAG_DISTRUSTED_RATIO`` were; 1 otherwise.
    """
    counts = Flag.objects.filter(flagger=flagger, status__in=[FlagStatus.UPHELD, FlagStatus.DISMISSED]).aggregate(
        total=Count("pk"), upheld=Count("pk", filter=Q(status=FlagStatus.UPHELD))
    )
    total, upheld = counts["total"], counts["upheld"]
    if total < settings.FLAG_TRUSTED_MIN_FLAGS:
        return Decimal(1)
    ratio = upheld / total
    if ratio >= settings.FLAG_TRUSTED_RATIO:
        return Decimal(str(settings.FLAG_TRUSTED_WEIGHT))
    if ratio < settings.FLAG_DISTRUSTED_RATIO:
        return Decimal(str(settings.FLAG_DISTRUSTED_WEIGHT))
    return Decimal(1)


def _target_space(target) -> Space | None:
    kind = permissions.flag_target_kind(target)
    if kind == "item":
        return target.space
    if kind == "paper":
        return target.event.space
    return None


def _open_flags(target):
    target_type = ContentType.objects.get_for_model(target)
    return Flag.objects.filter(target_type=target_type, target_id=target.pk, status=FlagStatus.OPEN)


ALREADY_FLAGGED = gettext_lazy("You have already flagged this; the moderators will review it. Thank you.")


@transaction.atomic
def flag_create(*, actor, target, reason: str, note: str = "") -> Flag:
    """Flag an item, a paper or a member's profile; one open flag per person and target.

    Content is hidden automatically, pending review, once its open flags weigh ``FLAG_AUTO_HIDE_WEIGHT`` and come
    from at least ``FLAG_AUTO_HIDE_MIN_FLAGGERS`` people (logged with no actor).
    """
    if not permissions.can_flag(actor, target):
        raise PermissionDenied
    if reason not in FlagReason.values:
        raise ValidationError({"reason": _("Choose why you are flagging this.")})
    note = (note or "").strip()
    if reason == FlagReason.OTHER and not note:
        raise ValidationError({"note": _("Tell the moderators what is wrong: a note is needed for “Something else”.")})
    if len(note) > MAX_NOTE:
        raise ValidationError({"note": _("Please keep your note under %d characters.") % MAX_NOTE})
    if _open_flags(target).filter(flagger=actor).exists():
        raise ValidationError(ALREADY_FLAGGED)
    space = _target_space(target)
    is_item = permissions.flag_target_kind(target) == "item"
    flag = Flag(
        target_type=ContentType.objects.get_for_model(target),
        target_id=target.pk,
        item=target if is_item else None,
        space=space,
        community=space.community if space is not None else None,
        flagger=actor,
        target_author=permissions.flag_target_author(target),
        reason=reason,
        note=note,
        weight=flag_weight(actor),
    )
    try:
        with transaction.atomic():
            flag.save()
    except IntegrityError as exc:  # two submissions at once: the constraint keeps one
        raise ValidationError(ALREADY_FLAGGED) from exc
    record_activity(
        actor=actor,
        kind="flagged",
        community_id=flag.community_id,
        space_id=flag.space_id,
        target=flag,
    )
    if is_item:
        _auto_hide(target)
    return flag


@transaction.atomic
def flag_create_private(*, actor, target, target_author, reason: str, note: str = "") -> Flag:
    """Flag something only site staff review, such as a direct message (``members`` calls this after checking,
    with its own permission rules, that ``actor`` may report ``target``). The flag has no space and no community,
    so it reaches the site-wide queue only; ``note`` is all that reviewers learn of the target's content, and
    the caller puts in it only what the reporter chose to share. One open flag per person and target."""
    if reason not in FlagReason.values:
        raise ValidationError({"reason": _("Choose why you are flagging this.")})
    note = (note or "").strip()
    if reason == FlagReason.OTHER and not note:
        raise ValidationError({"note": _("Tell the moderators what is wrong: a note is needed for “Something else”.")})
    if len(note) > MAX_NOTE:
        raise ValidationError({"note": _("Please keep your note under %d characters.") % MAX_NOTE})
    if _open_flags(target).filter(flagger=actor).exists():
        raise ValidationError(ALREADY_FLAGGED)
    flag = Flag(
        target_type=ContentType.objects.get_for_model(target),
        target_id=target.pk,
        flagger=actor,
        target_author=target_author,
        reason=reason,
        note=note,
        weight=flag_weight(actor),
    )
    try:
        with transaction.atomic():
            flag.save()
    except IntegrityError as exc:
        raise ValidationError(ALREADY_FLAGGED) from exc
    record_activity(actor=actor, kind="flagged", community_id=None, space_id=None, target=flag)
    return flag


def _auto_hide(item: Item) -> bool:
    """Hide ``item`` pending review when its open flags weigh enough and come from enough people."""
    state = Item.objects.select_for_update().filter(pk=item.pk).values_list("moderation_state", flat=True).first()
    if state != ModerationState.VISIBLE:
        return False
    totals = Flag.objects.filter(item=item, status=FlagStatus.OPEN).aggregate(
        weight=Sum("weight"), people=Count("flagger", distinct=True)
    )
    weight, people = totals["weight"] or Decimal(0), totals["people"]
    if weight < Decimal(str(settings.FLAG_AUTO_HIDE_WEIGHT)) or people < settings.FLAG_AUTO_HIDE_MIN_FLAGGERS:
        return False
    log_write(
        actor=None,
        action=ModerationAction.AUTO_HIDE,
        target=item,
        space=item.space,
        subject=item.author,
        reason=_("Flagged by %(people)d members (weight %(weight)s).") % {"people": people, "weight": weight},
        before={"moderation_state": state},
        after={"moderation_state": ModerationState.PENDING, "flag_weight": str(weight), "flaggers": people},
    )
    item.moderation_state = ModerationState.PENDING
    item.save(update_fields=["moderation_state"])
    return True


def _resolve(target, *, actor, status: str) -> int:
    """Mark the target's open flags upheld or dismissed (this record feeds the flaggers' weights)."""
    return _open_flags(target).update(status=status, resolved_by=actor, resolved_at=timezone.now())


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _scope(target, community):
    """The space and community a moderator action on ``target`` belongs to (profiles: the acting community)."""
    space = _target_space(target)
    return space, (space.community if space is not None else community)


# --- Moderator actions --------------------------------------------------------------------------------------
@transaction.atomic
def flags_dismiss(*, actor, target, reason: str = "", community=None) -> int:
    """Dismiss the open flags on ``target``; content hidden automatically (pending review) is shown again."""
    _require(permissions.can_act_on_flagged(actor, target, community))
    open_count = _open_flags(target).count()
    is_pending = permissions.flag_target_kind(target) == "item" and target.moderation_state == ModerationState.PENDING
    if not open_count and not is_pending:
        raise ValidationError(_("There are no open flags on this."))
    before: dict = {"open_flags": open_count}
    after: dict = {"open_flags": 0}
    if is_pending:
        before["moderation_state"], after["moderation_state"] = target.moderation_state, ModerationState.VISIBLE
        target.moderation_state = ModerationState.VISIBLE
        target.save(update_fields=["moderation_state"])
    _resolve(target, actor=actor, status=FlagStatus.DISMISSED)
    space, community = _scope(target, community)
    log_write(
        actor=actor,
        action=ModerationAction.DISMISS,
        target=target,
        space=space,
        community=community,
        subject=permissions.flag_target_author(target),
        reason=reason,
        before=before,
        after=after,
    )
    return open_count


@transaction.atomic
def item_hide(*, actor, item: Item, reason: str = "") -> Item:
    """Hide content from everyone but its author (who sees the reason) and the space's moderators; reversible.

    The open flags on it are upheld.
    """
    return _set_moderation_state(actor, item, ModerationState.HIDDEN, FlagStatus.UPHELD, reason)


@transaction.atomic
def item_unhide(*, actor, item: Item, reason: str = "") -> Item:
    """Show hidden content again. Flags still open on it (content hidden automatically) are dismissed."""
    return _set_moderation_state(actor, item, ModerationState.VISIBLE, FlagStatus.DISMISSED, reason)


def _set_moderation_state(actor, item: Item, state: str, flag_status: str, reason: str) -> Item:
    """Hide or show ``item``, resolve its open flags as ``flag_status`` and log it, in the caller's transaction."""
    _require(permissions.can_hide_flagged(actor, item))
    if item.moderation_state == state:
        raise ValidationError(
            _("This is hidden already.") if state == ModerationState.HIDDEN else _("This is not hidden.")
        )
    resolved = _resolve(item, actor=actor, status=flag_status)
    key = "upheld_flags" if flag_status == FlagStatus.UPHELD else "dismissed_flags"
    log_item_state_change(
        actor=actor, item=item, state=state, reason=reason, before={"open_flags": resolved}, after={key: resolved}
    )
    item.moderation_state = state
    item.save(update_fields=["moderation_state"])
    return item


@transaction.atomic
def author_warn(*, actor, target, message: str, community=None) -> ModerationLogEntry:
    """Warn the author of flagged content (or a flagged member) with a message; the open flags are upheld.

    The log entry is the record: the notifications code turns WARN entries into a notification to ``subject``.
    """
    _require(permissions.can_warn(actor, target, community))
    message = (message or "").strip()
    if not message:
        raise ValidationError({"message": _("Write the message the author will receive.")})
    if len(message) > MAX_MESSAGE:
        raise ValidationError({"message": _("Please keep the message under %d characters.") % MAX_MESSAGE})
    upheld = _resolve(target, actor=actor, status=FlagStatus.UPHELD)
    space, community = _scope(target, community)
    return log_write(
        actor=actor,
        action=ModerationAction.WARN,
        target=target,
        space=space,
        community=community,
        subject=permissions.flag_target_author(target),
        reason=message,
        before={"open_flags": upheld},
        after={"upheld_flags": upheld, "message": message},
    )


@transaction.atomic
def item_remove(*, actor, item: Item, reason: str = "") -> int:
    """Move flagged content (and what lives inside it) to the space's trash; the open flags are upheld."""
    _require(permissions.can_act_on_flagged(actor, item))
    state = item.moderation_state
    upheld = _resolve(item, actor=actor, status=FlagStatus.UPHELD)
    count = item_trash(actor=actor, item=item)
    log_write(
        actor=actor,
        action=ModerationAction.REMOVE,
        target=item,
        space=item.space,
        subject=item.author,
        reason=reason,
        before={"deleted": False, "moderation_state": state, "open_flags": upheld},
        after={"deleted": True, "items_trashed": count, "upheld_flags": upheld},
    )
    return count


def _author_or_error(target):
    author = permissions.flag_target_author(target)
    if author is None or author.deleted_at is not None:
        raise ValidationError(_("The author's account no longer exists."))
    return author


@transaction.atomic
def author_ban_space(*, actor, target, reason: str = ""):
    """Ban the author of flagged content from its space (``member_ban``, which logs it); the flags are upheld."""
    _require(permissions.can_act_on_flagged(actor, target))
    space = _target_space(target)
    if space is None:
        raise ValidationError(_("A member's profile belongs to no space: ban them from a community instead."))
    ban = member_ban(actor=actor, space=space, user=_author_or_error(target), reason=reason)
    _resolve(target, actor=actor, status=FlagStatus.UPHELD)
    return ban


@transaction.atomic
def author_ban_community(*, actor, target, community=None, reason: str = ""):
    """Ban the author of flagged content (or a flagged member) from the whole community; the flags are upheld.

    ``community`` is the content's own for items and papers; for a profile it is the community queue acted from.
    """
    from communities.services import community_ban

    _require(permissions.can_act_on_flagged(actor, target, community))
    _space, community = _scope(target, community)
    if community is None:
        raise ValidationError(_("Choose the community to ban this member from."))
    ban = community_ban(actor=actor, community=community, user=_author_or_error(target), reason=reason)
    _resolve(target, actor=actor, status=FlagStatus.UPHELD)
    return ban


ITEM_ONLY_ACTIONS = {"hide", "unhide", "remove"}


def moderation_apply(*, actor, target, action: str, message: str = "", community=None):
    """One entry point for the review queue's buttons: run ``action`` on ``target`` with the moderator's message
    (the reason; for "warn", the message the author receives). Each action checks its own permission."""
    if action in ITEM_ONLY_ACTIONS and permissions.flag_target_kind(target) != "item":
        raise ValidationError(_("Only content in a space can be hidden, shown or removed."))
    if action == "dismiss":
        return flags_dismiss(actor=actor, target=target, reason=message, community=community)
    if action == "hide":
        return item_hide(actor=actor, item=target, reason=message)
    if action == "unhide":
        return item_unhide(actor=actor, item=target, reason=message)
    if action == "warn":
        return author_warn(actor=actor, target=target, message=message, community=community)
    if action == "remove":
        return item_remove(actor=actor, item=target, reason=message)
    if action == "ban_space":
        return author_ban_space(actor=actor, target=target, reason=message)
    if action == "ban_community":
        return author_ban_community(actor=actor, target=target, community=community, reason=message)
    raise ValidationError(_("Unknown moderation action."))


# --- Community bans, as they reach the spaces (receivers of copapp.signals) ---------------------------------
def _refresh_member_counts(space_ids) -> None:
    for space_id in space_ids:
        Space.objects.filter(pk=space_id).update(member_count=SpaceMembership.objects.filter(space_id=space_id).count())


def community_ban_apply(*, ban, actor) -> int:
    """A community ban reaches every space of the community: a ``SpaceBan`` where there is none yet, every role,
    grant, pending request and invitation there gone; and the audit-log entry. Returns the bans written.

    Refused (the whole ban rolls back) when the member is the only admin of one of the spaces.
    """
    user, community = ban.user, ban.community
    spaces = list(Space.objects.filter(community=community))
    memberships = list(SpaceMembership.objects.filter(space__community=community, user=user).select_related("space"))
    for membership in memberships:
        if (
            membership.role == SpaceRole.ADMIN
            and membership.space.memberships.filter(role=SpaceRole.ADMIN).count() <= 1
        ):
            raise ValidationError(
                _("%(name)s is the only admin of “%(space)s”: make someone else admin there first.")
                % {"name": user.public_name, "space": membership.space.name}
            )
    already = set(SpaceBan.objects.filter(space__community=community, user=user).values_list("space_id", flat=True))
    new_bans = [
        SpaceBan(space=space, user=user, banned_by=actor, reason=ban.reason)
        for space in spaces
        if space.pk not in already
    ]
    SpaceBan.objects.bulk_create(new_bans)
    space_ids = [space.pk for space in spaces]
    SpaceMembership.objects.filter(pk__in=[m.pk for m in memberships]).delete()
    SpaceUserObjectPermission.objects.filter(content_object_id__in=space_ids, user=user).delete()
    JoinRequest.objects.filter(space_id__in=space_ids, user=user, status=JoinRequestStatus.PENDING).update(
        status=JoinRequestStatus.DECLINED, decided_by=actor, decided_at=timezone.now()
    )
    Invitation.objects.filter(space_id__in=space_ids, email__iexact=user.email, status=InvitationStatus.PENDING).update(
        status=InvitationStatus.REVOKED
    )
    _refresh_member_counts({m.space_id for m in memberships})
    permissions.forget_access_context(user)
    log_write(
        actor=actor,
        action=ModerationAction.BAN_COMMUNITY,
        target=user,
        community=community,
        subject=user,
        reason=ban.reason,
        before={"space_roles": {m.space.slug: str(SpaceRole(m.role).label) for m in memberships}},
        after={"banned_from_spaces": len(spaces)},
    )
    return len(new_bans)


def community_ban_lift(*, ban, actor, reason: str = "") -> int:
    """Lifting a community ban lifts the space bans it wrote (those from its time on); earlier bans stay."""
    deleted, _per_model = SpaceBan.objects.filter(
        space__community_id=ban.community_id, user_id=ban.user_id, created_at__gte=ban.created_at
    ).delete()
    permissions.forget_access_context(ban.user)
    log_write(
        actor=actor,
        action=ModerationAction.UNBAN,
        target=ban.user,
        community=ban.community,
        subject=ban.user,
        reason=reason,
        before={"banned_from_community": True},
        after={"banned_from_community": False, "space_bans_lifted": deleted},
    )
    return deleted


# --- Limits for new accounts --------------------------------------------------------------------------------
# Written-out URLs and bare "www." hosts; the same URL twice counts once (a Markdown link often repeats it).
LINK = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>()\[\]\"']+")


def _spam_limits_apply(actor, space: Space) -> bool:
    """Whether ``actor`` is still a new account held to the limits in ``space`` (staff and moderators never are)."""
    hours = settings.NEW_ACCOUNT_HOURS
    if hours <= 0 or not actor.is_authenticated or actor.is_staff:
        return False
    if actor.date_joined <= timezone.now() - timedelta(hours=hours):
        return False
    return not permissions.can_moderate_space(actor, space)


def _check_links_and_mentions(text: str, previous: str | None = None) -> None:
    """Refuse ``text`` with more distinct links or @mentions than a new account may use. With ``previous`` (an
    edit), only an edit that adds a link (or mention) to a text already over the cap is refused: fixing a typo
    in a page others filled with links stays possible, bringing in one more link does not."""
    hours = settings.NEW_ACCOUNT_HOURS
    text = text or ""
    links = set(LINK.findall(text))
    max_links = settings.NEW_ACCOUNT_MAX_LINKS
    if len(links) > max_links and (previous is None or links - set(LINK.findall(previous))):
        raise ValidationError(
            ngettext(
                "New accounts can include at most %(n)d link in a post during their first %(hours)d hours. "
                "Please remove some links.",
                "New accounts can include at most %(n)d links in a post during their first %(hours)d hours. "
                "Please remove some links.",
                max_links,
            )
            % {"n": max_links, "hours": hours}
        )
    mentions = set(mention_handles(text))
    max_mentions = settings.NEW_ACCOUNT_MAX_MENTIONS
    if len(mentions) > max_mentions and (previous is None or mentions - set(mention_handles(previous))):
        raise ValidationError(
            ngettext(
                "New accounts can mention at most %(n)d person in a post during their first %(hours)d hours. "
                "Please mention fewer people.",
                "New accounts can mention at most %(n)d people in a post during their first %(hours)d hours. "
                "Please mention fewer people.",
                max_mentions,
            )
            % {"n": max_mentions, "hours": hours}
        )


def spam_check(actor, space: Space, text: str) -> None:
    """Refuse a new post from an account younger than ``NEW_ACCOUNT_HOURS`` that goes over the limits: posts (items
    of any kind) in the last hour, distinct links and distinct @mentions in ``text``. Site staff and the space's
    moderators are exempt. Services call this before they store anything; ``ValidationError`` says what to do.
    Edits call ``spam_check_edit`` instead.
    """
    if not _spam_limits_apply(actor, space):
        return
    _check_links_and_mentions(text)
    hours = settings.NEW_ACCOUNT_HOURS
    max_posts = settings.NEW_ACCOUNT_MAX_POSTS_PER_HOUR
    since = timezone.now() - timedelta(hours=1)
    if Item.objects.filter(author=actor, created_at__gte=since).count() >= max_posts:
        raise ValidationError(
            ngettext(
                "New accounts can post %(n)d time an hour during their first %(hours)d hours. "
                "Please wait a while before posting again.",
                "New accounts can post %(n)d times an hour during their first %(hours)d hours. "
                "Please wait a while before posting again.",
                max_posts,
            )
            % {"n": max_posts, "hours": hours}
        )


def spam_check_edit(actor, space: Space, text: str, previous: str) -> None:
    """The limits on links and @mentions for an edit by a new account (``previous``: the text before it), so
    they cannot be brought in by editing what passed when it was posted. An edit is not a new post: the cap on
    posts per hour does not apply. Edit services call this before they store anything."""
    if _spam_limits_apply(actor, space):
        _check_links_and_mentions(text, previous or "")


def _member_spam_limits_apply(actor) -> bool:
    """``_spam_limits_apply`` where there is no space (direct messages): new accounts other than site staff."""
    hours = settings.NEW_ACCOUNT_HOURS
    if hours <= 0 or not actor.is_authenticated or actor.is_staff:
        return False
    return actor.date_joined > timezone.now() - timedelta(hours=hours)


def spam_check_member(actor, text: str, *, sent_since) -> None:
    """``spam_check`` for writing outside any space (direct messages): the same limits on links, @mentions and
    posts per hour for accounts younger than ``NEW_ACCOUNT_HOURS``; site staff are exempt. ``sent_since(moment)``
    counts what ``actor`` sent since then (called only for a new account)."""
    if not _member_spam_limits_apply(actor):
        return
    _check_links_and_mentions(text)
    hours = settings.NEW_ACCOUNT_HOURS
    max_posts = settings.NEW_ACCOUNT_MAX_POSTS_PER_HOUR
    if sent_since(timezone.now() - timedelta(hours=1)) >= max_posts:
        raise ValidationError(
            ngettext(
                "New accounts can post %(n)d time an hour during their first %(hours)d hours. "
                "Please wait a while before posting again.",
                "New accounts can post %(n)d times an hour during their first %(hours)d hours. "
                "Please wait a while before posting again.",
                max_posts,
            )
            % {"n": max_posts, "hours": hours}
        )
