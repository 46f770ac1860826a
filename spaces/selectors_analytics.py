"""Content reads for the knowledge-health figures of the analytics dashboards (``analytics.metrics``).

The caller has already checked that the viewer may see figures for these spaces, so these reads take space and
community ids rather than a user. Of those spaces' content, only what every reader of the space sees counts:
items in the trash, hidden by moderation (pending review or hidden), restricted to named people or scheduled for
later are left out, and so is an answer whose question is left out. Each function runs one query, whatever the
number of rows.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce

from spaces.models import Answer, Event, ModerationState, Page, Question, RegistrationStatus

# (label, smallest age, largest age exclusive); the labels are the keys of KnowledgeHealth.unanswered_by_age.
AGE_BUCKETS: tuple[tuple[str, timedelta, timedelta | None], ...] = (
    ("< 7 days", timedelta(0), timedelta(days=7)),
    ("7-30 days", timedelta(days=7), timedelta(days=30)),
    ("30-90 days", timedelta(days=30), timedelta(days=90)),
    ("> 90 days", timedelta(days=90), None),
)
FEW_REGISTRATIONS = 3


def shown_item_q(now: datetime, prefix: str = "item__") -> Q:
    """Items every reader of their space sees: not trashed, not hidden, not restricted, already published."""
    return Q(
        **{
            f"{prefix}deleted_at__isnull": True,
            f"{prefix}moderation_state": ModerationState.VISIBLE,
            f"{prefix}is_restricted": False,
            f"{prefix}publish_at__lte": now,
        }
    )


def _in_spaces(community_ids: tuple[int, ...], space_ids: tuple[int, ...] | None) -> Q:
    q = Q(space__community_id__in=community_ids)
    if space_ids is not None:
        q &= Q(space_id__in=space_ids)
    return q


def _questions(community_ids, space_ids, now: datetime) -> QuerySet[Question]:
    return Question.objects.filter(_in_spaces(community_ids, space_ids), shown_item_q(now), created_at__lte=now)


def _answers(now: datetime) -> QuerySet[Answer]:
    return Answer.objects.filter(shown_item_q(now), created_at__lte=now)


def unanswered_questions_by_age(
    *, community_ids: tuple[int, ...], space_ids: tuple[int, ...] | None, now: datetime
) -> dict[str, int]:
    """Questions with no shown answer at ``now``, counted by age (``now`` minus the time asked)."""
    answered = Exists(_answers(now).filter(question=OuterRef("pk")))
    counts = {}
    for i, (_label, low, high) in enumerate(AGE_BUCKETS):
        q = Q(created_at__lte=now - low)
        if high is not None:
            q &= Q(created_at__gt=now - high)
        counts[f"age{i}"] = Count("pk", filter=q)
    row = _questions(community_ids, space_ids, now).filter(~answered).aggregate(**counts)
    return {label: row[f"age{i}"] or 0 for i, (label, _low, _high) in enumerate(AGE_BUCKETS)}


def first_answer_delays(
    *, community_ids: tuple[int, ...], space_ids: tuple[int, ...] | None, asked: Q, now: datetime
) -> list[timedelta]:
    """For each question asked in the window ``asked`` (a condition on ``created_at`` and the space's
    community, built by the caller from its time zones) that has a shown answer, the time to its first one."""
    rows = (
        _questions(community_ids, space_ids, now)
        .filter(asked)
        .annotate(
            first=Min(
                "answers__created_at",
                filter=shown_item_q(now, "answers__item__") & Q(answers__created_at__lte=now),
            )
        )
        .filter(first__isnull=False)
        .values_list("created_at", "first")
    )
    return [first - created for created, first in rows]


def pages_not_edited_since(
    *, community_ids: tuple[int, ...], space_ids: tuple[int, ...] | None, cutoff: datetime, now: datetime
) -> int:
    """Shown pages whose last saved version (or creation, when never edited) is older than ``cutoff``."""
    return (
        Page.objects.filter(_in_spaces(community_ids, space_ids), shown_item_q(now))
        .annotate(last_saved=Coalesce(F("last_edited_at"), F("item__created_at")))
        .filter(last_saved__lt=cutoff)
        .count()
    )


def events_with_few_registrations(
    *,
    community_ids: tuple[int, ...],
    space_ids: tuple[int, ...] | None,
    now: datetime,
    below: int = FEW_REGISTRATIONS,
) -> list[tuple[int, str, int]]:
    """Shown events that have not started yet with fewer than ``below`` registrations marked "going" (the
    waiting list, "maybe" and "not going" do not count), soonest first: (event item id, title, going)."""
    rows = (
        Event.objects.filter(_in_spaces(community_ids, space_ids), shown_item_q(now), starts_at__gt=now)
        .annotate(going=Count("registrations", filter=Q(registrations__status=RegistrationStatus.GOING)))
        .filter(going__lt=below)
        .order_by("starts_at", "pk")
        .values_list("item_id", "title", "going")
    )
    return [(item_id, title, going) for item_id, title, going in rows]
