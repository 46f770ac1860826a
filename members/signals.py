from django.db.models.signals import post_save
from django.dispatch import receiver

from members.models import Profile, User


@receiver(post_save, sender=User)
def ensure_profile(sender, instance: User, created: bool, raw: bool = False, **kwargs) -> None:
    """Every account has a profile, however it was created (sign-up, admin, createsuperuser, social login)."""
    if created and not raw:
        Profile.objects.get_or_create(user=instance)
