"""Test data built through the real services, so tests exercise the same paths as users."""

import itertools

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from communities import services as community_services
from communities.models import Community
from spaces import services as space_services
from spaces.models import Space, SpaceRole, Visibility

User = get_user_model()
_counter = itertools.count(1)


def make_user(name: str | None = None, *, staff: bool = False, country: str = "", **profile) -> "User":
    n = next(_counter)
    name = name or f"member{n}"
    user = User.objects.create_user(
        email=f"{name}.{n}@example.org", password="test-pass-123", display_name=name.title(), is_staff=staff
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    if country or profile:
        for key, value in {"country": country, **profile}.items():
            setattr(user.profile, key, value)
        user.profile.save()
    return user


def make_community(staff, *, slug: str | None = None, questions: list[str] | None = None) -> Community:
    slug = slug or f"community-{next(_counter)}"
    return community_services.community_create(
        actor=staff,
        name=slug.replace("-", " ").title(),
        slug=slug,
        guidelines="Be kind. Share what you can.",
        intro_questions=questions if questions is not None else ["What do you want to get out of this community?"],
    )


def onboard(user, community: Community) -> None:
    answers = {q.pk: "To learn from peers." for q in community.intro_questions.all()}
    community_services.onboarding_submit(actor=user, community=community, accept_guidelines=True, answers=answers)


def make_space(
    actor, community: Community, visibility: str = Visibility.OPEN, *, slug: str | None = None, **kw
) -> Space:
    slug = slug or f"{visibility}-{next(_counter)}"
    return space_services.space_create(
        actor=actor,
        community=community,
        name=slug.replace("-", " ").title(),
        slug=slug,
        visibility=visibility,
        **kw,
    )


def add_member(space: Space, user, role: int = SpaceRole.VIEWER, *, by=None):
    """Bring ``user`` into ``space`` with ``role`` the way a moderator would: invitation, then role change."""
    admin = by or space.memberships.filter(role=SpaceRole.ADMIN).first().user
    onboard(user, space.community)
    invitation = space_services.invitation_create(actor=admin, space=space, recipient=user.email, role=SpaceRole.VIEWER)
    membership = space_services.invitation_accept(actor=user, token=invitation.token)
    if role != SpaceRole.VIEWER:
        membership = space_services.membership_change_role(actor=admin, membership=membership, role=role)
    return membership
