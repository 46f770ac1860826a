"""Every write to communities: creating them, roles, focal points, guidelines and onboarding."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from analytics.recording import record_activity
from communities import permissions
from communities.models import (
    Community,
    CommunityBan,
    CommunityMembership,
    CommunityRole,
    IntroAnswer,
    IntroQuestion,
    Onboarding,
)
from copapp.signals import community_ban_lifting, community_ban_set

# Addresses under /c/ that a community slug must not shadow.
RESERVED_SLUGS = {"new"}


class OnboardingRequired(Exception):
    """Raised when a member must accept a community's guidelines and answer its questions first."""

    def __init__(self, community: Community):
        super().__init__(f"Onboarding required for {community.slug}")
        self.community = community


@transaction.atomic
def community_create(
    *,
    actor,
    name: str,
    slug: str,
    description: str = "",
    guidelines: str = "",
    time_zone: str = "UTC",
    intro_questions: list[str] | None = None,
) -> Community:
    """Site staff create communities; the creator does not become a member by creating it."""
    if not permissions.can_create_community(actor):
        raise PermissionDenied
    if slug.lower() in RESERVED_SLUGS:
        raise ValidationError({"slug": _("This short name is reserved; please choose another.")})
    if Community.objects.filter(slug__iexact=slug).exists():
        raise ValidationError({"slug": _("A community with this short name already exists.")})
    community = Community(
        name=name,
        slug=slug,
        description=description,
        guidelines=guidelines,
        time_zone=time_zone,
        created_by=actor,
    )
    community.full_clean()
    community.save()
    for position, text in enumerate(intro_questions or []):
        IntroQuestion.objects.create(community=community, text=text, position=position)
    return community


@transaction.atomic
def community_update(*, actor, community: Community, **fields) -> Community:
    if not permissions.can_administer_community(actor, community):
        raise PermissionDenied
    slug = fields.get("slug")
    if slug and slug.lower() in RESERVED_SLUGS:
        raise ValidationError({"slug": _("This short name is reserved; please choose another.")})
    if slug and Community.objects.filter(slug__iexact=slug).exclude(pk=community.pk).exists():
        raise ValidationError({"slug": _("A community with this short name already exists.")})
    for name, value in fields.items():
        setattr(community, name, value)
    community.full_clean()
    community.save(update_fields=[*fields.keys()])
    return community


@transaction.atomic
def intro_questions_set(*, actor, community: Community, questions: list[str]) -> None:
    """Replace the community's introductory questions (answers to removed questions go with them)."""
    if not permissions.can_administer_community(actor, community):
        raise PermissionDenied
    cleaned = [q.strip() for q in questions if q.strip()]
    existing = {q.text: q for q in community.intro_questions.all()}
    keep = []
    for position, text in enumerate(cleaned):
        question = existing.get(text) or IntroQuestion(community=community, text=text)
        question.position = position
        question.save()
        keep.append(question.pk)
    community.intro_questions.exclude(pk__in=keep).delete()


def community_membership_ensure(*, user, community: Community) -> CommunityMembership:
    """Joining any space makes you a member of its community (idempotent)."""
    membership, created = CommunityMembership.objects.get_or_create(community=community, user=user)
    if created:
        permissions.forget_community_roles(user)
        record_activity(actor=user, kind="community_join", community_id=community.pk, target=community)
    return membership


@transaction.atomic
def community_role_set(*, actor, community: Community, user, role: str) -> CommunityMembership:
    if not permissions.can_administer_community(actor, community):
        raise PermissionDenied
    if role not in CommunityRole.values:
        raise ValidationError(_("Unknown community role."))
    membership = community_membership_ensure(user=user, community=community)
    if membership.role == CommunityRole.ADMIN and role != CommunityRole.ADMIN:
        admins = community.memberships.filter(role=CommunityRole.ADMIN).count()
        if admins <= 1 and not actor.is_staff:
            raise ValidationError(_("A community keeps at least one admin."))
    membership.role = role
    membership.save(update_fields=["role"])
    _forget_all_roles(user)
    return membership


@transaction.atomic
def focal_point_set(*, actor, community: Community, user, is_focal_point: bool) -> CommunityMembership:
    """Community admins mark a member as their country's focal point."""
    if not permissions.can_administer_community(actor, community):
        raise PermissionDenied
    membership = CommunityMembership.objects.filter(community=community, user=user).first()
    if membership is None:
        raise ValidationError(_("Only members of the community can be its focal points."))
    membership.is_focal_point = is_focal_point
    membership.save(update_fields=["is_focal_point"])
    return membership


def onboarding_complete(*, user, community: Community) -> bool:
    """Guidelines accepted and every required introductory question answered."""
    if not user.is_authenticated:
        return False
    if not Onboarding.objects.filter(community=community, user=user).exists():
        return False
    required = community.intro_questions.filter(required=True).exclude(answers__user=user)
    return not required.exists()


def onboarding_ensure(*, user, community: Community) -> None:
    """Services call this before a member's first join or post in the community."""
    if user.is_staff:
        return
    if not onboarding_complete(user=user, community=community):
        raise OnboardingRequired(community)


@transaction.atomic
def onboarding_submit(*, actor, community: Community, accept_guidelines: bool, answers: dict[int, str]) -> Onboarding:
    """Record acceptance of the guidelines (with the accepted text) and the answers to the questions."""
    if not actor.is_authenticated:
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    if not accept_guidelines:
        errors["accept_guidelines"] = [_("Please accept the community guidelines to continue.")]
    questions = list(community.intro_questions.all())
    for question in questions:
        text = (answers.get(question.pk) or "").strip()
        if question.required and not text:
            errors[f"question_{question.pk}"] = [_("Please answer this question.")]
        if len(text) > 2000:
            errors[f"question_{question.pk}"] = [_("Please keep your answer under 2,000 characters.")]
    if errors:
        raise ValidationError(errors)
    onboarding, _created = Onboarding.objects.update_or_create(
        community=community, user=actor, defaults={"guidelines_accepted": community.guidelines}
    )
    for question in questions:
        text = (answers.get(question.pk) or "").strip()
        if text:
            IntroAnswer.objects.update_or_create(question=question, user=actor, defaults={"text": text})
    return onboarding


def _forget_all_roles(user) -> None:
    """Community roles reach into spaces, so both caches of the member's roles are dropped."""
    # Bumping the shared generation also invalidates the spaces app's copy of this member's roles.
    permissions.forget_community_roles(user)


# --- Community bans (issue 5) ----------------------------------------------------------------------------------
@transaction.atomic
def community_ban(*, actor, community: Community, user, reason: str = "") -> CommunityBan:
    """Ban ``user`` from the whole community: no role in any of its spaces, present or future.

    The spaces app answers ``community_ban_set`` in this transaction: a ``SpaceBan`` in every space of the
    community (new spaces copy the community's bans when they are created) and the moderation log entry.
    """
    if not permissions.can_ban_from_community(actor, community, user):
        raise PermissionDenied(_("You cannot ban this person from the community."))
    try:
        with transaction.atomic():
            ban = CommunityBan.objects.create(community=community, user=user, banned_by=actor, reason=reason.strip())
    except IntegrityError as exc:
        raise ValidationError(_("This person is already banned from the community.")) from exc
    community_ban_set.send(sender=CommunityBan, ban=ban, actor=actor)
    _forget_all_roles(user)
    return ban


@transaction.atomic
def community_unban(*, actor, ban: CommunityBan, reason: str = "") -> None:
    """Lift a community ban, and with it the space bans it wrote (bans set earlier in single spaces stay)."""
    if not permissions.can_lift_community_ban(actor, ban.community):
        raise PermissionDenied
    community_ban_lifting.send(sender=CommunityBan, ban=ban, actor=actor, reason=reason.strip())
    user = ban.user
    ban.delete()
    _forget_all_roles(user)
