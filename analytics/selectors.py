"""Engagement figures other apps show about one person (the member's profile), read from the roll-ups only.

The figures are those of ``analytics.metrics`` (``member_points``, ``member_referrals``, ``ambassador_level``)
answered for all of a member's communities at once: two queries whatever their number, where calling
``member_points`` per community would cost a few queries each. A test holds the two to agreement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, IntegerField, Q, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analytics import metrics
from analytics.models import MemberDay
from analytics.permissions import can_see_community_figures
from communities.models import Community, CommunityMembership

POINTS_WINDOWS = (30, 90)
BADGE_LABELS = {
    "bronze": _("Bronze ambassador"),
    "silver": _("Silver ambassador"),
    "gold": _("Gold ambassador"),
}


# What the profile shows beside the figures: the same definitions as the dashboards.
POINTS_DEFINITIONS = (metrics.DEFINITIONS["member_points"], metrics.DEFINITIONS["leaderboard"])


@dataclass(frozen=True)
class CommunityEngagement:
    community: Community
    # Points and rank, or None when the viewer may not see them (see ``can_see_member_points``).
    points: metrics.MemberPoints | None
    referrals: int  # invitations the member sent in this community that were accepted
    badge: str  # ambassador level for them: "", "bronze", "silver" or "gold"

    @property
    def badge_label(self) -> str:
        return str(BADGE_LABELS.get(self.badge, self.badge.title()))


def can_see_member_points(viewer, member, community: Community) -> bool:
    """A member's points and rank are theirs; the people who see the community's leaderboard (its admins, site
    analysts and staff) see them on profiles too. Everyone else sees only the ambassador badge."""
    if viewer is None or not viewer.is_authenticated:
        return False
    return viewer.pk == member.pk or can_see_community_figures(viewer, community)


def profile_engagement(
    member, viewer, *, memberships: Iterable[CommunityMembership] | None = None, end: date | None = None
) -> list[CommunityEngagement]:
    """Per community the member belongs to (by community name): their points over the last 30 and 90 days and
    all time up to ``end`` (default today, UTC) and their 30-day rank, as ``metrics.member_points`` defines
    them, where ``viewer`` may see them; and their ambassador badge, which everyone who sees the profile sees.

    ``memberships``: the member's community memberships with their communities, when the caller has them
    already. Two queries (one more without ``memberships``), besides the viewer's cached roles.
    """
    if memberships is None:
        memberships = CommunityMembership.objects.filter(user=member).select_related("community")
    memberships = sorted(memberships, key=lambda m: (m.community.name, m.community_id))
    if not memberships:
        return []
    end = end or timezone.now().date()
    communities = {m.community_id: m.community for m in memberships}
    own = _own_figures(member.pk, communities, end)
    shown = {pk for pk, community in communities.items() if can_see_member_points(viewer, member, community)}
    ranked = [pk for pk in shown if own.get(pk, {}).get("p30")]
    ranks = _ranks(member, {pk: own[pk]["p30"] for pk in ranked}, communities, end) if ranked else {}
    rows = []
    for membership in memberships:
        pk = membership.community_id
        figures = own.get(pk, {})
        points = None
        if pk in shown:
            points = metrics.MemberPoints(
                points_30=figures.get("p30") or 0,
                points_90=figures.get("p90") or 0,
                points_all=figures.get("p_all") or 0,
                rank_30=ranks.get(pk),
            )
        referrals = figures.get("referrals") or 0
        rows.append(
            CommunityEngagement(
                community=communities[pk],
                points=points,
                referrals=referrals,
                badge=metrics.ambassador_level(referrals),
            )
        )
    return rows


def _own_figures(member_id: int, communities: dict[int, Community], end: date) -> dict[int, dict]:
    """Community id -> the member's points over 30 and 90 days and all time, and accepted invitations."""
    windows = {f"p{days}": Sum("points", filter=Q(day__gt=end - timedelta(days=days))) for days in POINTS_WINDOWS}
    rows = (
        MemberDay.objects.filter(
            member_id=member_id,
            community_id__in=list(communities),
            space_id=MemberDay.WHOLE_COMMUNITY,
            day__lte=end,
        )
        .values("community_id")
        .annotate(
            **windows,
            p_all=Sum("points"),
            referrals=Sum(Cast(KT("kind_counts__referral"), IntegerField())),
        )
        .order_by()
    )
    return {row["community_id"]: row for row in rows}


def _ranks(member, points_30: dict[int, int], communities: dict[int, Community], end: date) -> dict[int, int]:
    """Community id -> the member's place on its 30-day leaderboard, in one query: the population members with
    more points (or as many and an older account, the leaderboard's order), plus one; no rank when the member
    is not in the population (staff, or joined after ``end``)."""
    zones = {pk: metrics._zone(communities[pk].time_zone) for pk in points_30}
    in_population = Q()
    ahead = Q()
    for pk, points in points_30.items():
        population = metrics._population(metrics.Scope(community_ids=(pk,)), zones, end)
        in_population |= Q(community_id=pk, member_id__in=population)
        ahead |= Q(community_id=pk) & (Q(total__gt=points) | Q(total=points, member_id__lt=member.pk))
    grouped = (
        MemberDay.objects.filter(
            in_population,
            space_id=MemberDay.WHOLE_COMMUNITY,
            day__gt=end - timedelta(days=30),
            day__lte=end,
        )
        .values("community_id", "member_id")
        .annotate(total=Sum("points"))
        .filter(ahead | Q(member_id=member.pk))
        .order_by()
    )
    counts = grouped.aggregate(
        **{f"ahead_{pk}": Count("member_id", filter=Q(community_id=pk) & ~Q(member_id=member.pk)) for pk in points_30},
        **{f"me_{pk}": Count("member_id", filter=Q(community_id=pk, member_id=member.pk)) for pk in points_30},
    )
    return {pk: counts[f"ahead_{pk}"] + 1 for pk in points_30 if counts[f"me_{pk}"]}
