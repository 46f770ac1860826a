from django.dispatch import receiver

from communities.models import CommunityMembership, IntroAnswer, Onboarding
from copapp.signals import account_erasing


@receiver(account_erasing)
def erase_member_data(sender, user, **kwargs) -> None:
    IntroAnswer.objects.filter(user=user).delete()
    Onboarding.objects.filter(user=user).delete()
    CommunityMembership.objects.filter(user=user).delete()
