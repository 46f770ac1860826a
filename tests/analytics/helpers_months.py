"""``MemberMonth``, ``MemberEra`` and ``MemberStanding`` as they must be: the fold of the member days (of the months,
and of the memberships), worked out here in Python, independently of the database triggers that keep the tables
(migrations 0004 and 0006)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from analytics.models import MemberDay, MemberEra, MemberMonth, MemberStanding
from communities.models import CommunityMembership

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
    """The monthly and five-year roll-ups are exactly the fold of the member days, and the standing rows that of
    the memberships and the months."""
    assert month_rows() == months_of_days()
    assert era_rows() == eras_of_months()
    assert standing_rows() == expected_standing()


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def expected_standing() -> dict[tuple[int, int], tuple]:
    """(member, community) -> (joined_at, last_month, mask0, mask1, mask2, active_months), worked out in Python from
    the memberships and the whole-community months."""
    masks: dict[tuple[int, int], dict[int, int]] = {}
    for row in MemberMonth.objects.filter(space_id=0, active_mask__gt=0):
        masks.setdefault((row.member_id, row.community_id), {})[month_index(row.month)] = row.active_mask
    joined = {(m.user_id, m.community_id): m.joined_at for m in CommunityMembership.objects.all()}
    rows = {}
    for key in set(masks) | set(joined):
        months = masks.get(key, {})
        last = max(months, default=None)
        if last is None:
            rows[key] = (joined.get(key), None, 0, 0, 0, 0)
            continue
        bits = sum(1 << (last - index) for index in months if last - index < MemberStanding.RECENT_MONTHS)
        rows[key] = (joined.get(key), last, *(months.get(last - back, 0) for back in range(3)), bits)
    return rows


def standing_rows() -> dict[tuple[int, int], tuple]:
    fields = ("joined_at", "last_month", "mask0", "mask1", "mask2", "active_months")
    rows = MemberStanding.objects.values_list("member_id", "community_id", *fields)
    return {(row[0], row[1]): row[2:] for row in rows}
