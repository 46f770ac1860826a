"""Reads about members: the directory, profiles, peers to meet and the stream of the people a member follows."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Upper
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

import copapp.lookups  # noqa: F401  (registers the `in_ids` lookup)
from communities.models import Community
from members.models import Expertise, MemberBlock, Profile
from members.models_follow import Follow
from members.permissions_follow import blocked_ids_q
from spaces.models import Item, ItemKind, Space
from spaces.permissions import access_context, member_spaces_q

User = get_user_model()

SUGGESTION_LIMIT = 6
STREAM_LIMIT = 20
# What a followed member's stream shows: what they created, not comments or files (those live under a page).
FOLLOW_STREAM_KINDS = (ItemKind.PAGE, ItemKind.QUESTION, ItemKind.ANSWER, ItemKind.EVENT, ItemKind.POST)
TYPED = ("page", "question", "answer", "event", "post")


def listed_members() -> QuerySet:
    """Members whose profiles other signed-in members see (the directory's rule): active and not deleted."""
    return User.objects.filter(is_active=True, deleted_at__isnull=True)


def member_directory(
    *,
    query: str = "",
    country: str = "",
    organisation_type: str = "",
    expertise_id: int | None = None,
    community_slug: str = "",
) -> QuerySet:
    """Active members, searchable by name, organisation, country and expertise (signed-in users only), filtered
    by country, organisation type, one area of expertise and membership of one community, all in the query."""
    qs = listed_members().select_related("profile")
    for word in query.split()[:6]:
        qs = qs.filter(
            Q(display_name__icontains=word)
            | Q(username__icontains=word)
            | Q(profile__organisation__icontains=word)
            | Q(profile__country__icontains=word)
            | Q(profile__job_title__icontains=word)
            | Q(profile__expertise__name__icontains=word)
        )
    if country:
        qs = qs.filter(profile__country__iexact=country)
    if organisation_type:
        qs = qs.filter(profile__organisation_type=organisation_type)
    if expertise_id is not None:
        qs = qs.filter(profile__expertise__id=expertise_id)
    if community_slug:
        qs = qs.filter(community_memberships__community__slug=community_slug)
    return qs.distinct().prefetch_related("profile__expertise").order_by("display_name", "username")


def directory_expertise_choices() -> list[tuple[int, str]]:
    """(id, name) of every area of expertise held by at least one listed member, by name (one query)."""
    held = Profile.objects.filter(user__in=listed_members()).values("pk")
    return list(Expertise.objects.filter(profiles__in=held).distinct().order_by("name").values_list("pk", "name"))


def directory_community_choices(viewer) -> list[tuple[str, str]]:
    """(slug, name) of the communities ``viewer`` may filter the directory by: every community, since anyone may
    see a community's page and its member list (ARCHITECTURE.md, "Roles, settled"). One query."""
    return list(Community.objects.order_by("name").values_list("slug", "name"))


def profile_member(viewer, username: str) -> User | None:
    """The member behind a profile page, with what its buttons read, in the same query: ``follower_count``,
    ``followed_by_me``, ``blocked_by_me`` and ``blocks_me``. None when there is no such (undeleted) member."""
    followers = (
        Follow.objects.filter(followed_id=OuterRef("pk"), follower__is_active=True, follower__deleted_at__isnull=True)
        .order_by()
        .values("followed_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        User.objects.select_related("profile")
        .filter(username=username, deleted_at__isnull=True)
        .annotate(
            follower_count=Coalesce(Subquery(followers[:1], output_field=IntegerField()), Value(0)),
            followed_by_me=Exists(Follow.objects.filter(follower_id=viewer.pk, followed_id=OuterRef("pk"))),
            blocked_by_me=Exists(MemberBlock.objects.filter(blocker_id=viewer.pk, blocked_id=OuterRef("pk"))),
            blocks_me=Exists(MemberBlock.objects.filter(blocker_id=OuterRef("pk"), blocked_id=viewer.pk)),
        )
        .first()
    )


def following_of(viewer) -> QuerySet:
    """The listed members ``viewer`` follows, most recently followed first (blocked pairs left out)."""
    return (
        listed_members()
        .filter(followers__follower_id=viewer.pk)
        .exclude(blocked_ids_q(viewer))
        .select_related("profile")
        .order_by("-followers__created", "display_name")
    )


# --- People you may want to meet ------------------------------------------------------------------------------
@dataclass
class Suggestion:
    member: User
    shared_expertise: int
    same_country: bool
    answered: int
    reasons: list[str] = field(default_factory=list)


def _count(queryset: QuerySet, group: str, counted: str) -> Coalesce:
    """``COUNT(DISTINCT counted)`` of ``queryset``'s rows for the outer row, as a correlated subquery (so several
    counts on one list do not multiply each other's joins)."""
    rows = queryset.order_by().values(group).annotate(n=Count(counted, distinct=True)).values("n")
    return Coalesce(Subquery(rows[:1], output_field=IntegerField()), Value(0))


CANDIDATES_PER_REASON = 40


def _candidate_ids(viewer, my_spaces: QuerySet) -> set[int]:
    """The few members worth ranking (three short queries): the most shared areas of expertise, the same country
    (the most recently joined), the most answers in the viewer's spaces (counting only answers the viewer may see).
    Ranking every member with correlated counts took 14 s at 50,000 members."""
    through = Profile.expertise.through.objects
    mine = through.filter(profile__user_id=viewer.pk).values("expertise_id")
    by_expertise = (
        through.filter(expertise_id__in=mine)
        .exclude(profile__user_id=viewer.pk)
        .values("profile__user_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "profile__user_id")
        .values_list("profile__user_id", flat=True)
    )
    my_country = Profile.objects.filter(user_id=viewer.pk).exclude(country="").values("country")
    by_country = (
        listed_members()
        .annotate(country_key=Upper("profile__country"))
        .filter(country_key=Upper(Subquery(my_country[:1])))
        .exclude(pk=viewer.pk)
        .order_by("-date_joined", "-pk")
        .values_list("pk", flat=True)
    )
    by_answers = (
        Item.objects.visible_to(viewer)
        .filter(kind=ItemKind.ANSWER, space_id__in=my_spaces)
        .exclude(author_id=viewer.pk)
        .order_by()
        .values("author_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "author_id")
        .values_list("author_id", flat=True)
    )
    n = CANDIDATES_PER_REASON
    return {*by_expertise[:n], *by_country[:n], *by_answers[:n]}


PEERS_CACHE_SECONDS = 15 * 60
PEERS_KEPT = 4 * SUGGESTION_LIMIT  # ranked and cached: enough left after the viewer follows a few of them


def _peers_cache_key(viewer) -> str:
    """Per member and per set of roles: joining, leaving or being removed from a space ranks afresh at once."""
    ctx = access_context(viewer)
    roles = repr(
        (
            sorted(ctx.space_roles.items()),
            sorted(ctx.community_roles.items()),
            sorted(ctx.grant_roles.items()),
            sorted(ctx.banned_spaces),
        )
    )
    return f"peers:v1:{viewer.pk}:{hashlib.sha256(roles.encode()).hexdigest()[:16]}"


def _ranked_peers(viewer) -> list[tuple[int, int, bool, int]]:
    """``(member id, shared areas of expertise, same country, questions answered)``, best first (four queries)."""
    mine = Profile.expertise.through.objects.filter(profile__user_id=viewer.pk).values("expertise_id")
    shared = Profile.expertise.through.objects.filter(profile__user_id=OuterRef("pk"), expertise_id__in=mine)
    my_spaces = Space.objects.filter(member_spaces_q(viewer)).values("pk")
    answers = Item.objects.visible_to(viewer).filter(
        kind=ItemKind.ANSWER, author_id=OuterRef("pk"), space_id__in=my_spaces
    )
    same_country = Exists(
        Profile.objects.filter(user_id=viewer.pk, country__iexact=OuterRef("profile__country")).exclude(country="")
    )
    ids = _candidate_ids(viewer, my_spaces)
    if not ids:
        return []
    ranked = (
        listed_members()
        .filter(pk__in_ids=ids)
        .exclude(pk=viewer.pk)
        .annotate(
            shared_expertise=_count(shared, "profile__user_id", "expertise_id"),
            same_country=same_country,
            answered=_count(answers, "author_id", "answer__question_id"),
        )
        .filter(Q(shared_expertise__gt=0) | Q(same_country=True) | Q(answered__gt=0))
        .order_by("-shared_expertise", "-same_country", "-answered", "display_name", "username")
        .values_list("pk", "shared_expertise", "same_country", "answered")
    )
    return list(ranked[:PEERS_KEPT])


def people_to_meet(viewer, limit: int = SUGGESTION_LIMIT) -> list[Suggestion]:
    """Up to ``limit`` listed members ``viewer`` may want to meet, best first, each with why.

    Candidates: listed members (the directory's rule), not the viewer, not already followed, no block either way,
    with at least one reason. Ranked by the number of areas of expertise shared with the viewer, then living in
    the same country (there is no notion of region), then the number of questions they answered in the viewer's
    spaces. Answers are counted only among the items the viewer may see (``Item.objects.visible_to``) in spaces
    where the viewer holds a role, so a closed space's activity never leaks through a suggestion.

    The ranking is cached for ``PEERS_CACHE_SECONDS`` per member and set of roles (ranking takes about a second
    at 50,000 members); follows, blocks and accounts closed since are left out at every read (one query).
    """
    if not viewer.is_authenticated:
        return []
    key = _peers_cache_key(viewer)
    ranked = cache.get(key)
    if ranked is None:
        ranked = _ranked_peers(viewer)
        cache.set(key, ranked, PEERS_CACHE_SECONDS)
    if not ranked:
        return []
    members = (
        listed_members()
        .filter(pk__in_ids=[row[0] for row in ranked])
        .exclude(pk__in=Follow.objects.filter(follower_id=viewer.pk).values("followed_id"))
        .exclude(blocked_ids_q(viewer))
        .select_related("profile")
        .in_bulk()
    )
    suggestions = []
    for pk, shared_expertise, same_country, answered in ranked:
        member = members.get(pk)
        if member is None:
            continue
        suggestion = Suggestion(member, shared_expertise, same_country, answered)
        if shared_expertise:
            suggestion.reasons.append(
                ngettext("Shares %(n)d area of expertise", "Shares %(n)d areas of expertise", shared_expertise)
                % {"n": shared_expertise}
            )
        if same_country:
            suggestion.reasons.append(_("Also in %(country)s") % {"country": member.profile.country})
        if answered:
            suggestion.reasons.append(
                ngettext("Answered %(n)d question in your spaces", "Answered %(n)d questions in your spaces", answered)
                % {"n": answered}
            )
        suggestions.append(suggestion)
        if len(suggestions) == limit:
            break
    return suggestions


# --- The stream of the people a member follows ----------------------------------------------------------------
def following_stream(viewer, limit: int = STREAM_LIMIT) -> list[Item]:
    """The latest pages, questions, answers, events and posts by the members ``viewer`` follows, newest first.
    One query.

    Every row comes from ``Item.objects.visible_to(viewer)`` in the query: content of closed spaces the viewer is
    not in, restricted, hidden, scheduled and trashed items never show. Authors the viewer blocked or who blocked
    the viewer, and accounts no longer listed, are left out.
    """
    if not viewer.is_authenticated:
        return []
    followed = (
        Follow.objects.filter(follower_id=viewer.pk).exclude(blocked_ids_q(viewer, "followed_id")).values("followed_id")
    )
    items = list(
        Item.objects.visible_to(viewer)
        .filter(
            author_id__in=followed,
            kind__in=FOLLOW_STREAM_KINDS,
            author__is_active=True,
            author__deleted_at__isnull=True,
        )
        .select_related("author__profile", "space__community", *TYPED, "answer__question")
        .order_by("-publish_at", "-pk")[:limit]
    )
    for item in items:
        # Typed rows link through their space: hand them the item's (already loaded) instead of a query each.
        for name in TYPED:
            typed = getattr(item, name, None) if name in item._state.fields_cache else None
            if typed is not None:
                typed.space = item.space
                if name == "answer":
                    typed.question.space = item.space
    return items
