from django.db.models import Count, Q, QuerySet

from communities.models import Community, CommunityMembership, CommunityRole


def communities_with_counts() -> QuerySet[Community]:
    """Every community (anyone may see them) with its member count; space counts exclude closed spaces."""
    return Community.objects.annotate(
        member_total=Count("memberships", distinct=True),
        public_space_total=Count("spaces", filter=~Q(spaces__visibility="closed"), distinct=True),
    ).order_by("name")


def community_leaders(community: Community) -> QuerySet[CommunityMembership]:
    return (
        CommunityMembership.objects.filter(
            community=community,
            role__in=[CommunityRole.ADMIN, CommunityRole.MODERATOR],
            user__deleted_at__isnull=True,
        )
        .select_related("user__profile")
        .order_by("role", "user__display_name")
    )


def community_members(community: Community) -> QuerySet[CommunityMembership]:
    return (
        CommunityMembership.objects.filter(community=community, user__deleted_at__isnull=True)
        .select_related("user__profile")
        .order_by("user__display_name", "user__username")
    )


def community_time_zones(community_ids) -> dict[int, str]:
    """Each community's time zone by id, in one query (analytics counts days in it). Unknown ids are left out."""
    return dict(Community.objects.filter(pk__in=list(community_ids)).values_list("pk", "time_zone"))
