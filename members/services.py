"""Every write to members: profiles and account deletion."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import Expertise, Profile

User = get_user_model()

PROFILE_FIELDS = {
    "organisation",
    "organisation_type",
    "country",
    "job_title",
    "bio",
    "time_zone",
    "preferred_language",
    "avatar",
}


def parse_expertise(text: str) -> list[str]:
    """'Record linkage, census;  SDG indicators' -> ['Record linkage', 'census', 'SDG indicators']"""
    seen: dict[str, str] = {}
    for part in text.replace(";", ",").split(","):
        name = " ".join(part.split())[:80]
        if name and name.lower() not in seen:
            seen[name.lower()] = name
    return list(seen.values())


@transaction.atomic
def profile_update(
    *, actor, user, display_name: str | None = None, expertise: list[str] | None = None, **fields
) -> Profile:
    if actor.pk != user.pk and not actor.is_staff:
        raise PermissionDenied
    unknown = set(fields) - PROFILE_FIELDS
    if unknown:
        raise ValidationError(_("Unknown profile fields: %s") % ", ".join(sorted(unknown)))
    profile, _created = Profile.objects.get_or_create(user=user)
    if display_name is not None:
        user.display_name = display_name.strip()
        user.full_clean(exclude=["password"])
        user.save(update_fields=["display_name"])
    for name, value in fields.items():
        setattr(profile, name, value)
    profile.full_clean()
    profile.save()
    if expertise is not None:
        tags = []
        for name in expertise[:30]:
            tag = Expertise.objects.filter(name__iexact=name).first() or Expertise.objects.create(name=name)
            tags.append(tag)
        profile.expertise.set(tags)
    return profile


@transaction.atomic
def account_delete(*, actor, user) -> None:
    """Remove personal data; content stays, shown as by "former member". The row stays for foreign keys.

    Refused while the member is the only admin of a space, so no space is left that nobody can run.
    """
    if actor.pk != user.pk and not actor.is_superuser:
        raise PermissionDenied
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from allauth.socialaccount.models import SocialAccount

    from copapp.signals import account_erasing
    from spaces.selectors import spaces_where_sole_admin

    sole = list(spaces_where_sole_admin(user))
    if sole:
        raise ValidationError(
            _("You are the only admin of %(spaces)s. Make someone else admin there first.")
            % {"spaces": ", ".join(f"“{space.name}”" for space in sole)}
        )
    account_erasing.send(sender=User, user=user)
    profile = Profile.objects.filter(user=user).first()
    if profile is not None:
        if profile.avatar:
            profile.avatar.delete(save=False)
        profile.delete()
    EmailAddress.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    SocialAccount.objects.filter(user=user).delete()
    # Direct messages: they leave every conversation (what they wrote stays, by "former member") and their blocks go.
    from members.models import ConversationParticipant, MemberBlock

    ConversationParticipant.objects.filter(user=user).delete()
    MemberBlock.objects.filter(Q(blocker=user) | Q(blocked=user)).delete()
    user.email = f"deleted-{user.pk}@invalid.invalid"
    user.username = f"former-member-{user.pk}"
    user.first_name = user.last_name = user.display_name = ""
    user.is_active = False
    user.is_staff = user.is_superuser = False
    user.deleted_at = timezone.now()
    user.set_unusable_password()
    user.save()


@transaction.atomic
def profile_language_set(*, actor, user, language: str) -> Profile:
    """Store ``user``'s interface language (a code from ``settings.LANGUAGES``), chosen in the language switcher."""
    from django.conf import settings

    if actor.pk != user.pk and not actor.is_staff:
        raise PermissionDenied
    if language not in dict(settings.LANGUAGES):
        raise ValidationError(_("Unknown language: %s") % language)
    profile, _created = Profile.objects.get_or_create(user=user)
    if profile.preferred_language != language:
        profile.preferred_language = language
        profile.save(update_fields=["preferred_language", "updated_at"])
    return profile
