"""``MemberMonth`` and ``MemberEra`` as they must be: the fold of the member days (and of the months), worked out here
in Python, independently of the database triggers that keep the tables (migration 0004)."""

from __future__ import annotations

from collections import defaultdict

from analytics.models import MemberDay, MemberEra, MemberMonth

MONTH_FIELDS = (
    "days",
    "active_mask",
    "contribution_mask",
    "visit_mask",
    "points",
    "contributions",
    "referrals",
)


def months_of_days() -> dict[tuple, tuple]:
    """(member, community, space, month) -> the MONTH_FIELDS its member days make."""
    months: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(MONTH_FIELDS))
    for day in MemberDay.objects.all():
        row = months[(day.member_id, day.community_id, day.space_id, day.day.replace(day=1))]
        bit = 1 << (day.day.day - 1)
        row[0] += 1
        row[1] |= bit if day.events > 0 else 0
        row[2] |= bit if day.contributions > 0 else 0
        row[3] |= bit if day.visits > 0 else 0
        row[4] += day.points
        row[5] += day.contributions
        row[6] += int((day.kind_counts or {}).get("referral", 0))
    return {key: tuple(values) for key, values in months.items()}


def month_rows() -> dict[tuple, tuple]:
    """What the table holds, in the same shape."""
    return {
        (row[0], row[1], row[2], row[3]): tuple(row[4:])
        for row in MemberMonth.objects.values_list("member_id", "community_id", "space_id", "month", *MONTH_FIELDS)
    }


def eras_of_months() -> dict[tuple, tuple]:
    """(member, community, space, era) -> (months, active_months) its member months make."""
    eras: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for (member_id, community_id, space_id, month), values in month_rows().items():
        era, bit = MemberEra.of(month)
        row = eras[(member_id, community_id, space_id, era)]
        row[0] += 1
        row[1] |= (1 << bit) if values[1] else 0  # active_mask
    return {key: tuple(values) for key, values in eras.items()}


def era_rows() -> dict[tuple, tuple]:
    return {
        (row[0], row[1], row[2], row[3]): (row[4], row[5])
        for row in MemberEra.objects.values_list(
            "member_id", "community_id", "space_id", "era", "months", "active_months"
        )
    }


def assert_folds_agree() -> None:
    """The monthly and five-year roll-ups are exactly the fold of the member days."""
    assert month_rows() == months_of_days()
    assert era_rows() == eras_of_months()
