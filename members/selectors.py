from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

User = get_user_model()


def member_directory(*, query: str = "", country: str = "", organisation_type: str = "") -> QuerySet:
    """Active members, searchable by name, organisation, country and expertise (signed-in users only)."""
    qs = User.objects.filter(is_active=True, deleted_at__isnull=True).select_related("profile")
    for word in query.split()[:6]:
        qs = qs.filter(
            Q(display_name__icontains=word)
            | Q(username__icontains=word)
            | Q(profile__organisation__icontains=word)
            | Q(profile__country__icontains=word)
            | Q(profile__job_title__icontains=word)
            | Q(profile__expertise__name__icontains=word)
        )
    if country:
        qs = qs.filter(profile__country__iexact=country)
    if organisation_type:
        qs = qs.filter(profile__organisation_type=organisation_type)
    return qs.distinct().prefetch_related("profile__expertise").order_by("display_name", "username")
