"""The analytics app's part of a member's own data export (issue 8, item 5): their rows of the activity log.

Only the member's own rows, as recorded: what they did, when, where (community and space ids) and the country and
organisation type copied onto each row. Roll-ups (member days, months, buckets) are derived from these rows and
from other members' activity, so they are not part of a personal export.
"""

from __future__ import annotations

from collections.abc import Iterator

from analytics.models import ActivityEvent
from copapp.exports import JsonPart, Part, iso

BATCH = 2000


def member_data(user) -> Iterator[Part]:
    def rows():
        events = ActivityEvent.objects.filter(member=user).order_by("pk")
        for event in events.iterator(chunk_size=BATCH):
            yield {
                "id": event.pk,
                "kind": event.kind,
                "occurred_at": iso(event.occurred_at),
                "recorded_at": iso(event.recorded_at),
                "community_id": event.community_id,
                "space_id": event.space_id,
                "target_type": event.target_type,
                "target_id": event.target_id,
                "country": event.country,
                "organisation_type": event.organisation_type,
                "visit_day": event.visit_day.isoformat() if event.visit_day else None,
            }

    yield JsonPart("analytics/activity_log.json", rows)
