"""Every write to spaces and their membership. Each takes the acting member and checks permissions itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from analytics.recording import record_activity
from communities.models import Community, CommunityBan
from communities.services import community_membership_ensure, onboarding_ensure
from spaces import permissions
from spaces.models import (
    Invitation,
    InvitationStatus,
    JoinRequest,
    JoinRequestStatus,
    Space,
    SpaceBan,
    SpaceMembership,
    SpaceRole,
    SpaceUserObjectPermission,
    SpaceVisit,
    Visibility,
)
from spaces.models.space import GRANT_CODENAMES

User = get_user_model()


def _forget(*users) -> None:
    permissions.forget_access_context(*users)


def _admin_count(space: Space) -> int:
    return SpaceMembership.objects.filter(space=space, role=SpaceRole.ADMIN).count()


def _refresh_member_count(space: Space) -> None:
    space.member_count = SpaceMembership.objects.filter(space=space).count()
    Space.objects.filter(pk=space.pk).update(member_count=space.member_count)


def _add_member(*, space: Space, user, role: int) -> SpaceMembership:
    community_membership_ensure(user=user, community=space.community)
    membership, created = SpaceMembership.objects.get_or_create(space=space, user=user, defaults={"role": role})
    if not created and membership.role < role:
        membership.role = role
        membership.save(update_fields=["role"])
    JoinRequest.objects.filter(space=space, user=user, status=JoinRequestStatus.PENDING).update(
        status=JoinRequestStatus.APPROVED, decided_at=timezone.now()
    )
    _refresh_member_count(space)
    _forget(user)
    if created:
        record_activity(actor=user, kind="space_join", community_id=space.community_id, space_id=space.pk, target=space)
    return membership


# --- Spaces -------------------------------------------------------------------------------------------------------
@transaction.atomic
def space_create(
    *,
    actor,
    community: Community,
    name: str,
    slug: str,
    description: str = "",
    visibility: str = Visibility.OPEN,
    default_role: int = SpaceRole.EDITOR,
) -> Space:
    """Community admins (and site staff) create spaces; the creator becomes the space's first admin."""
    from communities.permissions import can_create_space

    if not can_create_space(actor, community):
        raise PermissionDenied
    if Space.objects.filter(community=community, slug__iexact=slug).exists():
        raise ValidationError({"slug": _("This community already has a space with this short name.")})
    space = Space(
        community=community,
        name=name,
        slug=slug,
        description=description,
        visibility=visibility,
        default_role=default_role,
        created_by=actor,
    )
    space.full_clean()
    space.save()
    _add_member(space=space, user=actor, role=SpaceRole.ADMIN)
    _copy_community_bans(space)
    return space


def _copy_community_bans(space: Space) -> None:
    """Members banned from the whole community are banned from its new spaces too (see ``CommunityBan``)."""
    bans = list(CommunityBan.objects.filter(community_id=space.community_id).select_related("user"))
    SpaceBan.objects.bulk_create(
        [SpaceBan(space=space, user=ban.user, banned_by=ban.banned_by, reason=ban.reason) for ban in bans]
    )
    if bans:
        _forget(*(ban.user for ban in bans))


SETTINGS_FIELDS = {"name", "slug", "description", "visibility", "default_role"}


@transaction.atomic
def space_update_settings(*, actor, space: Space, **fields) -> Space:
    if not permissions.can_administer_space(actor, space):
        raise PermissionDenied
    unknown = set(fields) - SETTINGS_FIELDS
    if unknown:
        raise ValidationError(_("These settings cannot be changed here: %s") % ", ".join(sorted(unknown)))
    slug = fields.get("slug")
    if slug and Space.objects.filter(community_id=space.community_id, slug__iexact=slug).exclude(pk=space.pk).exists():
        raise ValidationError({"slug": _("This community already has a space with this short name.")})
    before = {name: getattr(space, name) for name in fields}
    for name, value in fields.items():
        setattr(space, name, value)
    try:
        space.full_clean()
    except ValidationError:
        for name, value in before.items():
            setattr(space, name, value)
        raise
    space.save(update_fields=list(fields))
    return space


@transaction.atomic
def space_set_archived(*, actor, space: Space, archived: bool) -> Space:
    """An archived space is read-only for everyone and listed as archived."""
    if not permissions.can_administer_space(actor, space):
        raise PermissionDenied
    space.is_archived = archived
    space.archived_at = timezone.now() if archived else None
    space.save(update_fields=["is_archived", "archived_at"])
    return space


@transaction.atomic
def space_delete(*, actor, space: Space, confirm_name: str) -> None:
    if not permissions.can_administer_space(actor, space):
        raise PermissionDenied
    if confirm_name.strip() != space.name:
        raise ValidationError({"confirm_name": _("Type the space's name exactly to confirm deletion.")})
    space.delete()


# --- Joining ---------------------------------------------------------------------------------------------------------
@transaction.atomic
def space_join(*, actor, space: Space) -> SpaceMembership:
    """One-click join of an open space, with the space's default role."""
    if not actor.is_authenticated:
        raise PermissionDenied
    if permissions.is_banned(actor, space):
        raise PermissionDenied(_("You have been banned from this space."))
    if permissions.space_role(actor, space) is not None:
        raise ValidationError(_("You are already a member of this space."))
    if space.is_archived:
        raise ValidationError(_("This space is archived and does not take new members."))
    if space.visibility != Visibility.OPEN:
        raise ValidationError(_("This space is not open: ask to join or wait for an invitation."))
    onboarding_ensure(user=actor, community=space.community)
    return _add_member(space=space, user=actor, role=space.default_role)


@transaction.atomic
def space_leave(*, actor, space: Space) -> None:
    membership = SpaceMembership.objects.filter(space=space, user=actor).first()
    if membership is None:
        raise ValidationError(_("You are not a member of this space."))
    if membership.role == SpaceRole.ADMIN and _admin_count(space) <= 1:
        raise ValidationError(_("You are the only admin of this space: make someone else admin before leaving."))
    membership.delete()
    _refresh_member_count(space)
    _forget(actor)


@transaction.atomic
def join_request_create(*, actor, space: Space, message: str = "") -> JoinRequest:
    if not actor.is_authenticated:
        raise PermissionDenied
    if permissions.is_banned(actor, space):
        raise PermissionDenied(_("You have been banned from this space."))
    if space.visibility != Visibility.PRIVATE:
        raise ValidationError(_("Join requests are only for private spaces."))
    if space.is_archived:
        raise ValidationError(_("This space is archived and does not take new members."))
    if permissions.space_role(actor, space) is not None:
        raise ValidationError(_("You are already a member of this space."))
    if JoinRequest.objects.filter(space=space, user=actor, status=JoinRequestStatus.PENDING).exists():
        raise ValidationError(_("You have already asked to join; the moderators will answer soon."))
    if len(message) > 2000:
        raise ValidationError({"message": _("Please keep your message under 2,000 characters.")})
    onboarding_ensure(user=actor, community=space.community)
    request = JoinRequest.objects.create(space=space, user=actor, message=message.strip())
    record_activity(
        actor=actor, kind="join_request", community_id=space.community_id, space_id=space.pk, target=request
    )
    return request


@transaction.atomic
def join_request_withdraw(*, actor, join_request: JoinRequest) -> JoinRequest:
    if join_request.user_id != actor.pk:
        raise PermissionDenied
    if join_request.status != JoinRequestStatus.PENDING:
        raise ValidationError(_("This request has already been answered."))
    join_request.status = JoinRequestStatus.WITHDRAWN
    join_request.decided_at = timezone.now()
    join_request.save(update_fields=["status", "decided_at"])
    return join_request


def _lock_pending_request(join_request: JoinRequest) -> JoinRequest:
    fresh = JoinRequest.objects.select_for_update().select_related("space__community", "user").get(pk=join_request.pk)
    if fresh.status != JoinRequestStatus.PENDING:
        raise ValidationError(_("This request has already been answered."))
    return fresh


@transaction.atomic
def join_request_approve(*, actor, join_request: JoinRequest, message: str = "") -> SpaceMembership:
    space = join_request.space
    if not permissions.can_moderate_space(actor, space):
        raise PermissionDenied
    join_request = _lock_pending_request(join_request)
    if space.is_archived:
        raise ValidationError(_("This space is archived and does not take new members."))
    if permissions.is_banned(join_request.user, space):
        raise ValidationError(_("This person is banned from the space; lift the ban first."))
    membership = _add_member(space=space, user=join_request.user, role=space.default_role)
    join_request.status = JoinRequestStatus.APPROVED
    join_request.response_message = message.strip()
    join_request.decided_by = actor
    join_request.decided_at = timezone.now()
    join_request.save(update_fields=["status", "response_message", "decided_by", "decided_at"])
    _notify_request_decision(join_request, actor=actor)
    return membership


@transaction.atomic
def join_request_decline(*, actor, join_request: JoinRequest, message: str = "") -> JoinRequest:
    space = join_request.space
    if not permissions.can_moderate_space(actor, space):
        raise PermissionDenied
    join_request = _lock_pending_request(join_request)
    join_request.status = JoinRequestStatus.DECLINED
    join_request.response_message = message.strip()
    join_request.decided_by = actor
    join_request.decided_at = timezone.now()
    join_request.save(update_fields=["status", "response_message", "decided_by", "decided_at"])
    _notify_request_decision(join_request, actor=actor)
    return join_request


def _notify_request_decision(join_request: JoinRequest, *, actor) -> None:
    # The activity is what the requester's in-app notification subscribes to; the e-mail stays here: a decision
    # on access is sent like an invitation, never held back by the hourly cap of notification e-mails.
    space = join_request.space
    record_activity(
        actor=actor,
        kind=f"join_request_{join_request.status}",  # join_request_approved / join_request_declined
        community_id=space.community_id,
        space_id=space.pk,
        target=join_request,
    )
    from spaces.tasks import join_request_decided_email_task

    transaction.on_commit(lambda: join_request_decided_email_task.delay(join_request.pk))


# --- Invitations -------------------------------------------------------------------------------------------------
@transaction.atomic
def invitation_create(*, actor, space: Space, recipient: str, role: int, message: str = "") -> Invitation:
    """Invite by e-mail address or @username, with the role the invitee will get."""
    if not permissions.can_moderate_space(actor, space):
        raise PermissionDenied
    if space.is_archived:
        raise ValidationError(_("This space is archived and does not take new members."))
    if role not in permissions.assignable_roles(actor, space):
        raise ValidationError({"role": _("You cannot give that role.")})
    recipient = recipient.strip().lstrip("@")
    invitee = None
    if "@" in recipient:
        try:
            validate_email(recipient)
        except ValidationError as exc:
            raise ValidationError({"recipient": _("Enter a valid e-mail address or username.")}) from exc
        email = User.objects.normalize_email(recipient).lower()
        invitee = User.objects.filter(email__iexact=email, deleted_at__isnull=True).first()
    else:
        invitee = User.objects.filter(username__iexact=recipient, is_active=True, deleted_at__isnull=True).first()
        if invitee is None:
            raise ValidationError({"recipient": _("No member has the username “%s”.") % recipient})
        email = invitee.email.lower()
    if invitee is not None:
        if SpaceMembership.objects.filter(space=space, user=invitee).exists():
            raise ValidationError({"recipient": _("This person is already a member of the space.")})
        if SpaceBan.objects.filter(space=space, user=invitee).exists():
            raise ValidationError({"recipient": _("This person is banned from the space; lift the ban first.")})
    if Invitation.objects.filter(
        space=space, email__iexact=email, status=InvitationStatus.PENDING, expires_at__gt=timezone.now()
    ).exists():
        raise ValidationError({"recipient": _("This person already has a pending invitation to the space.")})
    invitation = Invitation.objects.create(
        space=space,
        email=email,
        invitee=invitee,
        role=role,
        message=message.strip(),
        invited_by=actor,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    record_activity(actor=actor, kind="invite", community_id=space.community_id, space_id=space.pk, target=invitation)
    from spaces.tasks import invitation_email_task

    transaction.on_commit(lambda: invitation_email_task.delay(invitation.pk))
    return invitation


def invitation_problem(invitation: Invitation, user=None) -> str | None:
    """Why this invitation cannot be accepted (by ``user``, if given), or None."""
    if invitation.status == InvitationStatus.ACCEPTED:
        return _("This invitation has already been used.")
    if invitation.status == InvitationStatus.REVOKED:
        return _("This invitation was withdrawn.")
    if invitation.status == InvitationStatus.EXPIRED or invitation.expires_at <= timezone.now():
        return _("This invitation has expired. Ask the person who invited you for a new one.")
    if invitation.space.is_archived:
        return _("This space is archived and does not take new members.")
    if user is not None and user.is_authenticated:
        matches = invitation.invitee_id == user.pk or invitation.email.lower() == (user.email or "").lower()
        if not matches:
            return _("This invitation was sent to %(email)s. Sign in with that address to accept it.") % {
                "email": invitation.email
            }
        if SpaceBan.objects.filter(space_id=invitation.space_id, user=user).exists():
            return _("You have been banned from this space.")
    return None


@transaction.atomic
def invitation_accept(*, actor, token: str) -> SpaceMembership:
    invitation = Invitation.objects.select_for_update().select_related("space__community").filter(token=token).first()
    if invitation is None:
        raise ValidationError(_("This invitation link is not valid."))
    problem = invitation_problem(invitation, actor)
    if problem:
        raise ValidationError(problem)
    space = invitation.space
    onboarding_ensure(user=actor, community=space.community)
    membership = _add_member(space=space, user=actor, role=invitation.role)
    invitation.status = InvitationStatus.ACCEPTED
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = actor
    invitation.save(update_fields=["status", "accepted_at", "accepted_by"])
    record_activity(
        actor=invitation.invited_by,
        kind="referral",
        community_id=space.community_id,
        space_id=space.pk,
        target=invitation,
    )
    return membership


@transaction.atomic
def invitation_revoke(*, actor, invitation: Invitation) -> Invitation:
    if not permissions.can_moderate_space(actor, invitation.space):
        raise PermissionDenied
    if invitation.status != InvitationStatus.PENDING:
        raise ValidationError(_("Only pending invitations can be withdrawn."))
    invitation.status = InvitationStatus.REVOKED
    invitation.save(update_fields=["status"])
    return invitation


def invitations_expire() -> int:
    """Mark pending invitations past their expiry as expired (safe to run any number of times)."""
    return Invitation.objects.filter(status=InvitationStatus.PENDING, expires_at__lte=timezone.now()).update(
        status=InvitationStatus.EXPIRED
    )


# --- Managing members ---------------------------------------------------------------------------------------------
@transaction.atomic
def membership_change_role(*, actor, membership: SpaceMembership, role: int) -> SpaceMembership:
    space = membership.space
    if role not in SpaceRole.values:
        raise ValidationError({"role": _("Unknown role.")})
    if membership.user_id == actor.pk and not permissions.can_administer_space(actor, space):
        raise PermissionDenied(_("You cannot change your own role."))
    if not permissions.can_manage_member(actor, space, membership.role) or role not in permissions.assignable_roles(
        actor, space
    ):
        raise PermissionDenied(_("You cannot give that role."))
    membership = SpaceMembership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == SpaceRole.ADMIN and role != SpaceRole.ADMIN and _admin_count(space) <= 1:
        raise ValidationError(_("A space always keeps at least one admin: make someone else admin first."))
    membership.role = role
    membership.save(update_fields=["role"])
    _forget(membership.user)
    return membership


@transaction.atomic
def membership_remove(*, actor, membership: SpaceMembership) -> None:
    space = membership.space
    if not permissions.can_manage_member(actor, space, membership.role):
        raise PermissionDenied
    if membership.role == SpaceRole.ADMIN and _admin_count(space) <= 1:
        raise ValidationError(_("A space always keeps at least one admin: make someone else admin first."))
    user = membership.user
    membership.delete()
    _revoke_grants(space, user)
    _refresh_member_count(space)
    _forget(user)


@transaction.atomic
def member_ban(*, actor, space: Space, user, reason: str = "") -> SpaceBan:
    """Ban someone: every role in the space goes at once; pending requests and invitations are closed."""
    if not permissions.can_ban(actor, space, user):
        raise PermissionDenied(_("You cannot ban this person."))
    membership = SpaceMembership.objects.filter(space=space, user=user).first()
    if membership and membership.role == SpaceRole.ADMIN and _admin_count(space) <= 1:
        raise ValidationError(_("A space always keeps at least one admin: make someone else admin first."))
    try:
        with transaction.atomic():
            ban = SpaceBan.objects.create(space=space, user=user, banned_by=actor, reason=reason.strip())
    except IntegrityError as exc:
        raise ValidationError(_("This person is already banned from the space.")) from exc
    if membership:
        membership.delete()
    _revoke_grants(space, user)
    JoinRequest.objects.filter(space=space, user=user, status=JoinRequestStatus.PENDING).update(
        status=JoinRequestStatus.DECLINED, decided_by=actor, decided_at=timezone.now()
    )
    Invitation.objects.filter(space=space, email__iexact=user.email, status=InvitationStatus.PENDING).update(
        status=InvitationStatus.REVOKED
    )
    _refresh_member_count(space)
    _forget(user)
    _log_ban(actor, space, user, reason=ban.reason, role=membership.role if membership else None, banned=True)
    return ban


def _log_ban(actor, space: Space, user, *, reason: str, role: int | None, banned: bool) -> None:
    """Bans and lifted bans go to the moderation audit log, wherever they were set from."""
    from spaces.models import ModerationAction

    from .moderation import log_write

    log_write(
        actor=actor,
        action=ModerationAction.BAN_SPACE if banned else ModerationAction.UNBAN,
        target=user,
        space=space,
        subject=user,
        reason=reason,
        before={"banned": not banned, **({"role": str(SpaceRole(role).label)} if role else {})},
        after={"banned": banned},
    )


@transaction.atomic
def member_unban(*, actor, ban: SpaceBan) -> None:
    if not permissions.can_moderate_space(actor, ban.space):
        raise PermissionDenied
    if CommunityBan.objects.filter(community_id=ban.space.community_id, user_id=ban.user_id).exists():
        raise ValidationError(
            _("This person is banned from the whole community: the community's moderators can lift that ban.")
        )
    user = ban.user
    ban.delete()
    _forget(user)
    _log_ban(actor, ban.space, user, reason="", role=None, banned=False)


# --- Individual grants (django-guardian) ----------------------------------------------------------------------------
def _revoke_grants(space: Space, user) -> None:
    SpaceUserObjectPermission.objects.filter(content_object=space, user=user).delete()


@transaction.atomic
def space_grant_role(*, actor, space: Space, user, role: int) -> None:
    """Give one person a role on this one space without community membership (e.g. an outside reviewer)."""
    if not permissions.can_administer_space(actor, space):
        raise PermissionDenied
    if SpaceBan.objects.filter(space=space, user=user).exists():
        raise ValidationError(_("This person is banned from the space; lift the ban first."))
    codename = {r: c for c, r in GRANT_CODENAMES.items()}.get(role)
    if codename is None:
        raise ValidationError({"role": _("Unknown role.")})
    _revoke_grants(space, user)
    assign_perm(f"spaces.{codename}", user, space)
    _forget(user)


@transaction.atomic
def space_revoke_grant(*, actor, space: Space, user) -> None:
    if not permissions.can_administer_space(actor, space):
        raise PermissionDenied
    for codename in GRANT_CODENAMES:
        remove_perm(f"spaces.{codename}", user, space)
    _forget(user)


# --- Visits: "new since your last visit" on the space stream (issue 5) ----------------------------------------
# Opening the space home again within this gap is the same visit (reading an item and coming back), so the
# "New" marks stay until the member comes back later.
VISIT_GAP = timedelta(minutes=30)


def space_visit_record(*, user, space: Space) -> datetime | None:
    """Note that ``user`` opened ``space`` now; returns the mark to compare the stream with (the end of the
    previous visit), or None on a first visit (nothing is marked new for a newcomer).

    One statement (an upsert that returns the row), on PostgreSQL and SQLite alike: it runs on every space home
    view. Two tabs opening the space at once both land on the one row. Not an activity: opening a page is not a
    meaningful action.
    """
    if not user.is_authenticated:
        return None
    now = timezone.now()
    table = connection.ops.quote_name(SpaceVisit._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    # The only name put into the SQL is the model's own table.
    sql = (  # noqa: S608, UP032  # nosec B608 # the model's own table only
        "INSERT INTO {t} (user_id, space_id, last_visit_at, previous_visit_at) VALUES (%s, %s, %s, NULL) "
        "ON CONFLICT (user_id, space_id) DO UPDATE SET previous_visit_at = CASE "
        "WHEN {t}.last_visit_at < %s THEN {t}.last_visit_at ELSE {t}.previous_visit_at END, "
        "last_visit_at = excluded.last_visit_at RETURNING previous_visit_at"
    ).format(t=table)
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, space.pk, adapt(now), adapt(now - VISIT_GAP)])
        (previous,) = cursor.fetchone()
    return _as_datetime(previous)


def _as_datetime(value) -> datetime | None:
    """A timestamp read by raw SQL: PostgreSQL returns an aware datetime, SQLite a naive one (or text) in UTC."""
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else parse_datetime(value)
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)
