"""Thin Celery tasks for the analytics roll-ups (analytics.rollup). Each is safe to run twice: the roll-up counts
only events past its watermark, under a row lock; the purge and the points recomputation are idempotent."""

from celery import shared_task

from analytics import rollup


@shared_task
def rollup_task() -> int:
    """Every 5 minutes: count the events recorded since the last run into the roll-ups."""
    return rollup.rollup_new_events()


@shared_task
def purge_task() -> int:
    """Daily: delete raw activity older than ANALYTICS_RAW_RETENTION_MONTHS (the roll-ups stay)."""
    return rollup.raw_activity_purge()


@shared_task
def points_recompute_task(community_id: int) -> int:
    """After a community's points policy changed: re-derive its members' daily points."""
    return rollup.points_recompute(community_id=community_id)
