"""The one place actions are recorded, in the same transaction as the action. Imports nothing of ours.

``record_activity`` is called by every service; ``record_view`` by the detail views (it also counts the
member's visit to the community, once per calendar day of the community's time zone) and ``record_visit`` by
pages that show no single item (a space's home, a community's page).
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime

from django.core.cache import cache
from django.db.models import Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from analytics.kinds import VISIT
from analytics.models import ActivityEvent

VISIT_CACHE_SECONDS = 26 * 3600


def _is_member(actor) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


def _profile_value(actor, name: str):
    """The member's profile field, or (profile not loaded) a subquery the INSERT evaluates: views and visits are
    recorded on page loads, where a separate SELECT of the profile would cost a query each time."""
    field = actor._meta.get_field("profile")
    if field.is_cached(actor):
        return getattr(actor.profile, name, "") or ""
    profiles = field.related_model._default_manager.filter(user_id=actor.pk).values(name)[:1]
    return Coalesce(Subquery(profiles), Value(""))


def _event(
    actor, *, kind, community_id, space_id, target, occurred_at, visit_day=None, lazy_profile=False
) -> ActivityEvent:
    if lazy_profile:
        country, organisation_type = _profile_value(actor, "country"), _profile_value(actor, "organisation_type")
    else:
        profile = getattr(actor, "profile", None)
        country = getattr(profile, "country", "") or ""
        organisation_type = getattr(profile, "organisation_type", "") or ""
    return ActivityEvent(
        member=actor,
        community_id=community_id,
        space_id=space_id,
        kind=kind,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=target.pk if target is not None else None,
        country=country,
        organisation_type=organisation_type,
        occurred_at=occurred_at,
        visit_day=visit_day,
    )


def record_activity(
    *,
    actor,
    kind: str,
    community_id: int | None = None,
    space_id: int | None = None,
    target=None,
    occurred_at=None,
) -> ActivityEvent | None:
    if not _is_member(actor):
        return None
    event = _event(
        actor,
        kind=kind,
        community_id=community_id,
        space_id=space_id,
        target=target,
        occurred_at=occurred_at or timezone.now(),
    )
    event.save()
    return event


def local_day(moment: datetime, time_zone: str) -> date:
    """The calendar day ``moment`` falls on in ``time_zone`` (UTC when the zone is unknown)."""
    try:
        zone = zoneinfo.ZoneInfo(time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return moment.astimezone(zone).date()


def _visit_cache_key(member_id: int, community_id: int, day: date) -> str:
    return f"analytics:visit:{member_id}:{community_id}:{day.isoformat()}"


def _visit_row(actor, community, space_id, now) -> tuple[ActivityEvent | None, str | None]:
    """The visit row to insert, unless the cache already knows today's visit is recorded."""
    day = local_day(now, getattr(community, "time_zone", "UTC"))
    key = _visit_cache_key(actor.pk, community.pk, day)
    if cache.get(key):
        return None, None
    row = _event(
        actor,
        kind=VISIT,
        community_id=community.pk,
        space_id=space_id,
        target=None,
        occurred_at=now,
        visit_day=day,
        lazy_profile=True,
    )
    return row, key


def record_visit(*, actor, community, space_id: int | None = None, now: datetime | None = None) -> None:
    """Count the member's visit to ``community`` today (at most one per calendar day; repeat calls are free)."""
    if not _is_member(actor) or community is None:
        return
    row, key = _visit_row(actor, community, space_id, now or timezone.now())
    if row is None:
        return
    # The partial unique constraint turns a second visit the same day into a no-op, even under races.
    ActivityEvent.objects.bulk_create([row], ignore_conflicts=True)
    cache.set(key, True, VISIT_CACHE_SECONDS)


def record_view(*, actor, kind: str, community, space_id: int | None, target, now: datetime | None = None) -> None:
    """Record that the member opened ``target`` (and their visit today), in one INSERT."""
    if not _is_member(actor) or community is None:
        return
    now = now or timezone.now()
    view = _event(
        actor,
        kind=kind,
        community_id=community.pk,
        space_id=space_id,
        target=target,
        occurred_at=now,
        lazy_profile=True,
    )
    rows = [view]
    visit, key = _visit_row(actor, community, space_id, now)
    if visit is not None:
        rows.append(visit)
    ActivityEvent.objects.bulk_create(rows, ignore_conflicts=True)
    if key:
        cache.set(key, True, VISIT_CACHE_SECONDS)
