from django.db.models import Q
from django.dispatch import receiver

from copapp.signals import account_erasing, community_ban_lifting, community_ban_set
from spaces import permissions
from spaces.models import Invitation, JoinRequest, PageDraft, PageEditPresence, Space, SpaceMembership, Watch


@receiver(account_erasing)
def erase_member_data(sender, user, **kwargs) -> None:
    """A deleted account leaves no personal data in spaces; what the member wrote stays, as by "former member"."""
    space_ids = list(SpaceMembership.objects.filter(user=user).values_list("space_id", flat=True))
    SpaceMembership.objects.filter(user=user).delete()
    for space in Space.objects.filter(pk__in=space_ids):
        Space.objects.filter(pk=space.pk).update(member_count=space.memberships.count())
    JoinRequest.objects.filter(user=user).delete()
    Invitation.objects.filter(Q(invitee=user) | Q(email__iexact=user.email)).delete()
    PageDraft.objects.filter(user=user).delete()
    PageEditPresence.objects.filter(user=user).delete()
    Watch.objects.filter(user=user).delete()
    user.feed_tokens.all().delete()  # secret calendar links stop at once
    permissions.forget_access_context(user)


# --- Community bans reach every space of the community (issue 5) ------------------------------------------------
@receiver(community_ban_set)
def apply_community_ban(sender, ban, actor, **kwargs) -> None:
    from spaces.services.moderation import community_ban_apply

    community_ban_apply(ban=ban, actor=actor)


@receiver(community_ban_lifting)
def lift_community_ban(sender, ban, actor, reason="", **kwargs) -> None:
    from spaces.services.moderation import community_ban_lift

    community_ban_lift(ban=ban, actor=actor, reason=reason)
