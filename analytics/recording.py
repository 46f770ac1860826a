"""The one function every service calls to record a meaningful action, in the same transaction."""

from django.utils import timezone

from analytics.models import ActivityEvent


def record_activity(
    *,
    actor,
    kind: str,
    community_id: int | None = None,
    space_id: int | None = None,
    target=None,
    occurred_at=None,
) -> ActivityEvent | None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    profile = getattr(actor, "profile", None)
    return ActivityEvent.objects.create(
        member=actor,
        community_id=community_id,
        space_id=space_id,
        kind=kind,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=target.pk if target is not None else None,
        country=getattr(profile, "country", "") or "",
        organisation_type=getattr(profile, "organisation_type", "") or "",
        occurred_at=occurred_at or timezone.now(),
    )
