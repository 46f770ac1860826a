"""The append-only activity log. Recording imports nothing of ours (ARCHITECTURE.md)."""

from django.conf import settings
from django.db import models


class ActivityEvent(models.Model):
    """One meaningful action. Country and organisation type are copied in so breakdowns need no join."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    community_id = models.BigIntegerField(null=True, db_index=True)
    space_id = models.BigIntegerField(null=True, db_index=True)
    kind = models.CharField(max_length=40)
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.BigIntegerField(null=True)
    country = models.CharField(max_length=80, blank=True)
    organisation_type = models.CharField(max_length=20, blank=True)
    occurred_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["community_id", "occurred_at"]),
            models.Index(fields=["member", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} by {self.member_id} at {self.occurred_at:%Y-%m-%d %H:%M}"
