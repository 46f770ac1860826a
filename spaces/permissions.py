"""Every rule about who may do what in spaces, and nothing else.

Two forms of each rule, kept side by side so they cannot drift apart:
- predicates for one object (``can_moderate_space(user, space)``), answered from the member's roles, which
  are loaded once per request (``access_context``);
- query filters for many objects (``listed_spaces_q(user)``), so lists are filtered in the database.

Roles are settled in ARCHITECTURE.md: space roles viewer < editor < moderator < admin; community moderators
and admins hold that role in every space of their community; site staff act as admins everywhere; an
individual can be granted a role on one space with django-guardian. A ban takes away every role in the space.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast
from django.http import Http404
from django.utils import timezone

import copapp.lookups  # noqa: F401  (registers the `in_ids` lookup that _ids_q uses)
from communities.models import CommunityMembership, CommunityRole
from copapp import rolecache
from spaces.models import (
    Comment,
    FileAsset,
    Item,
    ItemUserObjectPermission,
    Space,
    SpaceBan,
    SpaceMembership,
    SpaceRole,
    SpaceUserObjectPermission,
    Visibility,
    Watch,
)
from spaces.models.space import GRANT_CODENAMES
from spaces.permissions_sql import ItemRule, ReaderRule

COMMUNITY_ROLE_IN_SPACES = {
    CommunityRole.MODERATOR: SpaceRole.MODERATOR,
    CommunityRole.ADMIN: SpaceRole.ADMIN,
}


# --- Roles of one member, loaded once per request ------------------------------------------------------------
@dataclass
class AccessContext:
    space_roles: dict[int, int] = field(default_factory=dict)
    grant_roles: dict[int, int] = field(default_factory=dict)
    community_roles: dict[int, str] = field(default_factory=dict)
    banned_spaces: set[int] = field(default_factory=set)
    restricted_items: set[int] = field(default_factory=set)  # restricted items the member is named on
    open_spaces: set[int] = field(default_factory=set)  # every open space of the site, read with the roles
    community_spaces: dict[int, set[int]] = field(default_factory=dict)  # spaces of the communities they have a role in
    generation: int = 0
    # filters built from these roles, kept for the request (``_memoised``): compiling them is most of a page's cost
    filters: dict = field(default_factory=dict, compare=False, repr=False)


_CONTEXT_ATTR = "_copapp_access_context"


def _roles_of(user):
    """(source, id, value) rows of every role the user holds: memberships, community roles, bans, space grants and
    the restricted items they are named on.

    One UNION ALL query: this runs on every signed-in request, so four round trips would cost more than the rows."""
    text = CharField()
    memberships = (
        SpaceMembership.objects.filter(user=user)
        .order_by()
        .values_list(Value("space", output_field=text), "space_id", Cast("role", output_field=text))
    )
    community = CommunityMembership.objects.filter(user=user).values_list(
        Value("community", output_field=text), "community_id", Cast("role", output_field=text)
    )
    bans = SpaceBan.objects.filter(user=user).values_list(
        Value("ban", output_field=text), "space_id", Value("", output_field=text)
    )
    grants = SpaceUserObjectPermission.objects.filter(user=user).values_list(
        Value("grant", output_field=text), "content_object_id", "permission__codename"
    )
    named = ItemUserObjectPermission.objects.filter(user=user, permission__codename="view_restricted_item").values_list(
        Value("named", output_field=text), "content_object_id", "permission__codename"
    )
    # For the item rule's SQL (``reader_rule``): as literal id lists the planner knows how many rows they select.
    open_spaces = Space.objects.filter(visibility=Visibility.OPEN).values_list(
        Value("open", output_field=text), "id", Value("", output_field=text)
    )
    community_spaces = Space.objects.filter(
        community__memberships__user=user, community__memberships__role__in=list(COMMUNITY_ROLE_IN_SPACES)
    ).values_list(Value("community space", output_field=text), "id", Cast("community_id", output_field=text))
    return memberships.union(
        community.order_by(),
        bans.order_by(),
        grants.order_by(),
        named.order_by(),
        open_spaces.order_by(),
        community_spaces.order_by(),
        all=True,
    )


# Anyone's id as a stand-in while the roles query is compiled: no account has a negative id.
_ANYONE = -7_340_033
_roles_sql: dict[str, tuple[str, tuple]] = {}  # database vendor -> SQL of ``_roles_of`` and its parameters


def _roles_rows(user) -> list[tuple]:
    """``_roles_of(user)``'s rows. Its SQL is compiled once per process, for a stand-in id that is then swapped for
    the member's: building the seven-part union cost Django 2-3 ms on every signed-in request."""
    vendor = connection.vendor
    if vendor not in _roles_sql:
        query = _roles_of(get_user_model()(pk=_ANYONE)).query
        _roles_sql[vendor] = query.get_compiler(connection=connection).as_sql()
    sql, params = _roles_sql[vendor]
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk if value == _ANYONE else value for value in params])
        return cursor.fetchall()


def access_context(user) -> AccessContext:
    """The member's roles, fetched in one query and kept on the user object for the request."""
    if not user.is_authenticated:
        return AccessContext()
    cached = getattr(user, _CONTEXT_ATTR, None)
    if cached is not None and cached.generation == rolecache.current():
        return cached
    ctx = AccessContext(generation=rolecache.current())
    for source, target_id, value in _roles_rows(user):
        if source == "space":
            ctx.space_roles[target_id] = int(value)
        elif source == "community":
            ctx.community_roles[target_id] = value
        elif source == "ban":
            ctx.banned_spaces.add(target_id)
        elif source == "named":
            ctx.restricted_items.add(target_id)
        elif source == "open":
            ctx.open_spaces.add(target_id)
        elif source == "community space":
            ctx.community_spaces.setdefault(int(value), set()).add(target_id)
        else:
            role = GRANT_CODENAMES.get(value)
            if role and role > ctx.grant_roles.get(target_id, 0):
                ctx.grant_roles[target_id] = role
    setattr(user, _CONTEXT_ATTR, ctx)
    return ctx


def forget_access_context(*users) -> None:
    """Services call this after changing someone's roles so the next check sees the change."""
    rolecache.bump()
    for user in users:
        if user is not None and hasattr(user, _CONTEXT_ATTR):
            delattr(user, _CONTEXT_ATTR)


# --- Predicates for one space --------------------------------------------------------------------------------
def space_role(user, space: Space) -> int | None:
    """The effective role of ``user`` in ``space`` (a SpaceRole value), or None for no role."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_staff:
        return SpaceRole.ADMIN
    ctx = access_context(user)
    if space.pk in ctx.banned_spaces:
        return None
    candidates = [
        ctx.space_roles.get(space.pk, 0),
        ctx.grant_roles.get(space.pk, 0),
        COMMUNITY_ROLE_IN_SPACES.get(ctx.community_roles.get(space.community_id, ""), 0),
    ]
    best = max(candidates)
    return best or None


def is_banned(user, space: Space) -> bool:
    return user.is_authenticated and not user.is_staff and space.pk in access_context(user).banned_spaces


def is_space_member(user, space: Space) -> bool:
    """Holds a membership row (not only a role through the community or a grant)."""
    return user.is_authenticated and space.pk in access_context(user).space_roles


def has_space_role(user, space: Space, role: int) -> bool:
    current = space_role(user, space)
    return current is not None and current >= role


def can_see_space(user, space: Space) -> bool:
    """Listed and openable: closed spaces exist only for people who hold a role there."""
    return space.visibility != Visibility.CLOSED or space_role(user, space) is not None


def can_read_space(user, space: Space) -> bool:
    return space.visibility == Visibility.OPEN or space_role(user, space) is not None


def can_join_space(user, space: Space) -> bool:
    """One-click join of an open space, for signed-in people who hold no role there yet (community moderators
    and admins, site staff and grant holders already take part)."""
    return (
        user.is_authenticated
        and space.visibility == Visibility.OPEN
        and not space.is_archived
        and not is_banned(user, space)
        and space_role(user, space) is None
    )


def can_request_to_join(user, space: Space) -> bool:
    return (
        user.is_authenticated
        and space.visibility == Visibility.PRIVATE
        and not space.is_archived
        and not is_banned(user, space)
        and space_role(user, space) is None
    )


def can_leave_space(user, space: Space) -> bool:
    return is_space_member(user, space)


def can_moderate_space(user, space: Space) -> bool:
    """Handle join requests, invite, manage members up to editor (and, later, hide content and flags)."""
    return has_space_role(user, space, SpaceRole.MODERATOR)


def can_administer_space(user, space: Space) -> bool:
    """Settings, visibility, every role, archive and delete."""
    return has_space_role(user, space, SpaceRole.ADMIN)


def can_contribute(user, space: Space) -> bool:
    """Create and edit content: editors and above, and never in an archived space."""
    return not space.is_archived and has_space_role(user, space, SpaceRole.EDITOR)


def assignable_roles(user, space: Space) -> list[int]:
    """Roles this person may give others (when inviting or changing a role)."""
    if can_administer_space(user, space):
        return [SpaceRole.VIEWER, SpaceRole.EDITOR, SpaceRole.MODERATOR, SpaceRole.ADMIN]
    if can_moderate_space(user, space):
        return [SpaceRole.VIEWER, SpaceRole.EDITOR]
    return []


def can_manage_member(actor, space: Space, target_role: int | None) -> bool:
    """Change the role of, remove or ban someone who currently holds ``target_role`` (None: no role)."""
    if can_administer_space(actor, space):
        return True
    return can_moderate_space(actor, space) and (target_role is None or target_role <= SpaceRole.EDITOR)


def can_ban(actor, space: Space, target) -> bool:
    """Site staff and community moderators/admins cannot be banned from a space of that community."""
    if _never_banned(actor, target):  # settled without the two queries
        return False
    community_role = (
        CommunityMembership.objects.filter(community_id=space.community_id, user=target)
        .values_list("role", flat=True)
        .first()
    )
    target_role = SpaceMembership.objects.filter(space=space, user=target).values_list("role", flat=True).first()
    return can_ban_with_roles(actor, space, target, space_role=target_role, community_role=community_role)


# --- Query filters for many spaces and items --------------------------------------------------------------------
def _role_holder_q(user, min_role: int, space_ref: str = "pk", community_ref: str = "community_id") -> Q:
    """Rows whose space the user holds at least ``min_role`` in, by membership, community role or grant.

    Read from the member's roles (``access_context``: one query a request, shared with every predicate), written
    into the SQL as id sets: a page builds this filter several times, and id sets cost far less to compile and to
    plan than correlated subqueries over the membership tables. Each set is one array parameter (``in_ids``,
    copapp/lookups.py), so a member of hundreds of spaces costs no more SQL than a member of one.
    """
    ctx = access_context(user)
    space_ids = {space for space, role in ctx.space_roles.items() if role >= min_role}
    space_ids |= {space for space, role in ctx.grant_roles.items() if role >= min_role}
    community_roles = [c for c, r in COMMUNITY_ROLE_IN_SPACES.items() if r >= min_role]
    community_ids = {community for community, role in ctx.community_roles.items() if role in community_roles}
    held = _ids_q(space_ref, space_ids) | _ids_q(community_ref, community_ids)
    if not ctx.banned_spaces:
        return held
    return held & ~_ids_q(space_ref, ctx.banned_spaces)


def role_holder_q(user, min_role: int, *, space_ref: str = "pk", community_ref: str = "community_id") -> Q:
    """On rows with a space (``space_ref``, and its community at ``community_ref``): those whose space the user holds
    at least ``min_role`` in, by membership, community role or grant, never where banned. The one definition other
    apps filter by (analytics' dashboards, courses' drafts)."""
    return _role_holder_q(user, min_role, space_ref, community_ref)


def _ids_q(field: str, ids) -> Q:
    """``field`` is one of ``ids``; an empty set stays ``__in=[]`` so Django drops the branch from the SQL."""
    if not ids:
        return Q(**{f"{field}__in": []})
    return Q(**{f"{field}__in_ids": ids})


def _everything(user) -> bool:
    return user.is_authenticated and user.is_active and user.is_staff


def listed_spaces_q(user) -> Q:
    """Spaces that show in lists and open for the user."""
    if _everything(user):
        return Q()
    public = ~Q(visibility=Visibility.CLOSED)
    if not user.is_authenticated:
        return public
    return public | _role_holder_q(user, SpaceRole.VIEWER)


def readable_spaces_q(user) -> Q:
    """Spaces whose content the user may read."""
    if _everything(user):
        return Q()
    public = Q(visibility=Visibility.OPEN)
    if not user.is_authenticated:
        return public
    return public | _role_holder_q(user, SpaceRole.VIEWER)


def visible_items_q(user, kinds: tuple[str, ...] | None = None) -> Q:
    """Items the user may see: the item's own rules, and the item it lives on (context).

    A file attached to a page and a comment on anything are seen only where that page or target is seen
    too, so a restricted, hidden or trashed page takes its attachments and comments with it on every surface
    (lists, streams, search, feeds, digests) without each surface having to remember it.

    ``kinds`` narrows the rows to those kinds (``Item.objects.visible_to(user, kinds=...)``), and the filter then
    carries only the context checks those kinds need: pages, questions, events, posts and polls live on nothing,
    so a list of them is one plain predicate.

    The rule is written as SQL by ``permissions_sql`` from ``reader_rule(user)`` (the rules themselves are there,
    in ``ReaderRule.own`` and the ``_*_context`` functions). ``visible_items_for`` (end of this module) is the
    set-based form for a batch of members: change both together.
    """
    if kinds is None:
        return _memoised(user, "visible_items", lambda: Q(ItemRule(reader_rule(user))))
    kinds = tuple(sorted(set(kinds)))
    return _memoised(
        user, "visible_items:" + ",".join(kinds), lambda: Q(kind__in=kinds) & Q(ItemRule(reader_rule(user), kinds))
    )


def own_rules_q(user) -> Q:
    """On ``Item``: items whose own rules let ``user`` see them, their context (a file's page, an answer's question,
    a comment's target) *not* checked. Never shown as such: only for choosing candidates cheaply (search ranks
    the most recent few hundred of 100,000 matches) that a ``visible_items_q`` filter then checks in full. Checking
    the context of every row walked costs three to four times the row's own rules."""
    return _memoised(user, "own_rules", lambda: Q(ItemRule(reader_rule(user), context=False)))


def _held_spaces(user, min_role: int) -> frozenset[int]:
    """``_role_holder_q`` as one set of space ids, for the SQL form of the item rules: spaces held by membership,
    grant or community role, less those the member is banned from."""
    ctx = access_context(user)
    community_roles = [c for c, r in COMMUNITY_ROLE_IN_SPACES.items() if r >= min_role]
    held = {space for space, role in ctx.space_roles.items() if role >= min_role}
    held |= {space for space, role in ctx.grant_roles.items() if role >= min_role}
    for community, role in ctx.community_roles.items():
        if role in community_roles:
            held |= ctx.community_spaces.get(community, set())
    return frozenset(held - ctx.banned_spaces)


def reader_rule(user) -> ReaderRule:
    """An item's own rules for ``user``. Restricted items: named people, the author, space and community admins.

    Items in the trash are never "visible": the trash has its own list, for space admins. A scheduled item
    (``publish_at`` in the future; for everything else it is the creation time) is seen by its author and the
    space's moderators until its time comes. Site staff see everything not trashed.
    """
    now = _end_of_this_second()
    if _everything(user):
        return ReaderRule("staff", now)
    if not user.is_authenticated:
        return ReaderRule("anonymous", now)
    return ReaderRule(
        "member",
        now,
        member_id=user.pk,
        readable=frozenset(access_context(user).open_spaces) | _held_spaces(user, SpaceRole.VIEWER),
        moderated=_held_spaces(user, SpaceRole.MODERATOR),
        administered=_held_spaces(user, SpaceRole.ADMIN),
        named=frozenset(access_context(user).restricted_items),
    )


# An anonymous visitor's filters are the same for everyone: kept for the process, keyed by the second they hold for.
_ANONYMOUS_FILTERS: dict[tuple[str, bool], tuple[int, Q]] = {}


def _end_of_this_second():
    """The time a visibility filter compares ``publish_at`` with: the end of the current second, so a filter kept for
    that second (``_memoised``) still shows what is published later in it (a page saved a moment after the filter
    was built). A scheduled item may show up to a second early."""
    return timezone.now().replace(microsecond=0) + timedelta(seconds=1)


def _memoised(user, name: str, build) -> Q:
    """The filter ``build()`` makes for ``user``, built once per request and second.

    A page asks for the visibility filter several times (the item, its files, comments, ancestors, the header's
    notifications); built once, its SQL is rendered once per table alias too (``permissions_sql.ItemRule``). It is
    kept on the member's ``AccessContext``, which a role change replaces, for the second it was built in: the
    filter holds the current time (scheduled items appear when it comes), so it is never older than a second.
    A ``Q`` is never changed by the queries that use it, so one object serves them all.
    """
    second = int(timezone.now().timestamp())
    store = access_context(user).filters if user.is_authenticated else _ANONYMOUS_FILTERS
    key = (name, _everything(user))  # site staff see everything: a staff flag set mid-request counts at once
    held = store.get(key)
    if held is not None and held[0] == second:
        return held[1]
    built = build()
    store[key] = (second, built)
    return built


def row_is(field: str, outer: str) -> Q:
    """``field = OuterRef(outer)`` for a correlated EXISTS that must be checked row by row: one index lookup per
    row, never a hashed subplan over the whole site (``copapp.lookups.RowIs`` says why it is not a plain ``=``)."""
    return Q(**{f"{field}__row_is": OuterRef(outer)})


# --- Fetch helpers: 404 when the user may not see it at all, 403 when they may see it but not act ----------------
SPACE_ACTIONS = {
    "view": can_see_space,
    "read": can_read_space,
    "contribute": can_contribute,
    "moderate": can_moderate_space,
    "administer": can_administer_space,
}


def get_space_for_user(
    user,
    community_slug: str,
    space_slug: str,
    action: str = "view",
    *,
    with_watch: bool = False,
    facts: dict | None = None,
) -> Space:
    """The space for ``action``: 404 when the user may not see it at all, 403 when they may see it but not act.

    ``with_watch`` reads whether the user watches the space in the same query (``space.watched_by_me``); ``facts``
    (name: expression on the space row) reads other facts a page needs about the space in it too.
    """
    spaces = Space.objects.select_related("community")
    if with_watch and user.is_authenticated:
        spaces = spaces.annotate(watched_by_me=Exists(Watch.objects.filter(user=user, space_id=OuterRef("pk"))))
    if facts:
        spaces = spaces.annotate(**facts)
    try:
        space = spaces.get(community__slug=community_slug, slug=space_slug)
    except Space.DoesNotExist as exc:
        raise Http404 from exc
    if not can_see_space(user, space):
        raise Http404
    if not SPACE_ACTIONS[action](user, space):
        raise PermissionDenied
    return space


def member_spaces_q(user) -> Q:
    """Spaces where the user holds a role (the "my spaces" list)."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    return _role_holder_q(user, SpaceRole.VIEWER)


# --- Items and pages -------------------------------------------------------------------------------------------------
def _named_on_item(user, item: Item, codename: str) -> bool:
    if not user.is_authenticated:
        return False  # nobody names an anonymous visitor, and the query below cannot take one
    return ItemUserObjectPermission.objects.filter(
        content_object_id=item.pk, user=user, permission__codename=codename
    ).exists()


def can_see_item(user, item: Item) -> bool:
    """The one-object form of ``visible_items_q`` (own rules and context); the two are tested to agree."""
    if not _can_see_item_itself(user, item):
        return False
    if item.kind == "file":
        for context_id in (
            FileAsset.objects.filter(item_id=item.pk).values_list("page__item_id", "event__item_id").first() or ()
        ):
            if context_id is not None and not _can_see_item_itself(
                user, Item.objects.select_related("space").get(pk=context_id)
            ):
                return False
    if item.kind == "answer":
        question_item = Item.objects.select_related("space").filter(question__answers__item_id=item.pk).first()
        if question_item is not None and not _can_see_item_itself(user, question_item):
            return False
    if item.kind == "comment":
        comment = Comment.objects.select_related("target__space", "parent__item__space").filter(item_id=item.pk).first()
        if comment is not None:
            if not can_see_item(user, comment.target):
                return False
            if comment.parent_id is not None and not _can_see_item_itself(user, comment.parent.item):
                return False
    return True


def _can_see_item_itself(user, item: Item) -> bool:
    """The item's own rules only. Action predicates use this: views fetch items through ``visible_to`` (or
    ``get_visible_item``), which has already applied the context rule in the query."""
    if item.deleted_at is not None:
        return False
    space = item.space
    if not can_read_space(user, space):
        return False
    is_author = user.is_authenticated and item.author_id == user.pk
    if item.moderation_state != "visible" and not (is_author or can_moderate_space(user, space)):
        return False
    if is_scheduled(item) and not (is_author or can_moderate_space(user, space)):
        return False
    if item.is_restricted and not (
        is_author or can_administer_space(user, space) or _named_on_item(user, item, "view_restricted_item")
    ):
        return False
    return True


def can_edit_item(user, item: Item) -> bool:
    """Editors edit content they can see; where editing is restricted, only named editors, author and admins."""
    if not can_contribute(user, item.space) or not _can_see_item_itself(user, item):
        return False
    edit_restricted = getattr(getattr(item, "page", None), "edit_restricted", False)
    if edit_restricted:
        return (
            item.author_id == user.pk
            or can_administer_space(user, item.space)
            or _named_on_item(user, item, "edit_restricted_item")
        )
    return True


def can_restrict_item(user, item: Item) -> bool:
    """The author or an admin of the space (or its community) may restrict who sees or edits it."""
    if item.space.is_archived or not _can_see_item_itself(user, item):
        return False
    return item.author_id == user.pk or can_administer_space(user, item.space)


def can_trash_item(user, item: Item) -> bool:
    """Authors may delete their own content (while they can still contribute); moderators anything."""
    if item.space.is_archived or not _can_see_item_itself(user, item):
        return False
    own = user.is_authenticated and item.author_id == user.pk and can_contribute(user, item.space)
    return own or can_moderate_space(user, item.space)


def can_manage_trash(user, space: Space) -> bool:
    """Restoring from the trash is for the space's admins."""
    return not space.is_archived and can_administer_space(user, space)


def can_hide_item(user, item: Item) -> bool:
    return can_moderate_space(user, item.space)


def can_comment(user, item: Item) -> bool:
    return can_contribute(user, item.space) and _can_see_item_itself(user, item)


def can_manage_page_templates(user, space: Space) -> bool:
    return not space.is_archived and can_administer_space(user, space)


def can_export_space_pages(user, space: Space) -> bool:
    """Download the space's wiki as Markdown (issue 8): its admins (and community admins, site staff), also
    when the space is archived. Which pages go in is still ``visible_items_q``: restricted ones only if seen."""
    return can_administer_space(user, space)


def can_move_out_of(user, space: Space) -> bool:
    """Taking content out of a closed or private space needs the moderator role there."""
    if space.visibility == Visibility.OPEN:
        return can_contribute(user, space)
    return can_contribute(user, space) and can_moderate_space(user, space)


def can_move_item(user, item: Item, target: Space) -> bool:
    return can_edit_item(user, item) and can_move_out_of(user, item.space) and can_contribute(user, target)


def get_visible_item(user, item_id: int, kind: str | None = None) -> Item:
    """The item if the user may see it, else 404 exactly as if it did not exist."""
    qs = Item.objects.visible_to(user).select_related("space__community", "author")
    if kind:
        qs = qs.filter(kind=kind)
    item = qs.filter(pk=item_id).first()
    if item is None:
        raise Http404
    return item


# === Comments, watches and trash (issue 3) ==================================================================
# A comment is seen only where the item it is on is seen too: a comment on a restricted or hidden page must
# not leak the page's existence (its title, its author) through the comment's own registry row, which has no
# restriction of its own. ``visible_items_q`` carries that context rule, so every surface inherits it.
def can_see_in_context(user, item: Item) -> bool:
    """``can_see_item``, and for a file attached to a page, that page too (what may be commented on)."""
    if not can_see_item(user, item):
        return False
    return item.kind != "file" or can_see_file(user, item.file)


def can_comment_on(user, item: Item) -> bool:
    return can_comment(user, item) and can_see_in_context(user, item)


def can_see_comment(user, comment) -> bool:
    """The one-comment form of the comment context rule in ``visible_items_q``: comment, target and parent are
    all visible."""
    if not can_see_item(user, comment.item) or not can_see_in_context(user, comment.target):
        return False
    return comment.parent_id is None or can_see_item(user, comment.parent.item)


def can_edit_comment(user, comment) -> bool:
    """Only the author edits a comment, while they may still contribute to the space. Moderators hide instead.

    Whether the comment's target is visible is settled when the comment is fetched (``can_see_comment``), so
    a thread can ask this of every comment without a query each.
    """
    return (
        user.is_authenticated
        and comment.item.author_id == user.pk
        and can_contribute(user, comment.item.space)
        and _can_see_item_itself(user, comment.item)
    )


def can_watch_item(user, item: Item) -> bool:
    """Members watch what they can see (notifications are still filtered by visibility when they are sent)."""
    return user.is_authenticated and can_see_item(user, item)


def can_watch_space(user, space: Space) -> bool:
    return user.is_authenticated and can_read_space(user, space)


# --- Files -------------------------------------------------------------------------------------------------
# A file is seen by whoever sees its item; an attachment also needs its page (or event) to be visible, so a
# restricted, hidden or trashed page takes its files with it.
def visible_files_q(user) -> Q:
    """``FileAsset`` rows the user may see: the ``visible_items_q`` rule on the file, which carries its page's and
    event's (``with_context``)."""
    return Q(item__in=Item.objects.visible_to(user, kinds=("file",)).values("pk"))


def visible_comments_on_seen_target_q(user) -> Q:
    """On ``Item``: the comments the user may see on a target the caller has already found visible to them
    (``can_see_in_context``): ``visible_items_q`` for comments less the check of the target, which every row of
    one thread shares. A reply still needs its parent comment to be visible."""
    return _memoised(
        user,
        "comments_on_seen_target",
        lambda: Q(kind="comment") & Q(ItemRule(reader_rule(user), ("comment",), target=False)),
    )


def can_see_file(user, asset) -> bool:
    """The one-object form of ``visible_files_q``."""
    if not can_see_item(user, asset.item):
        return False
    if asset.event_id is not None and not can_see_item(user, asset.event.item):
        return False
    return asset.page_id is None or can_see_item(user, asset.page.item)


def can_add_file(user, space: Space, page=None) -> bool:
    """Editors add files to the library; attaching to a page also needs the right to edit that page."""
    if page is None:
        return can_contribute(user, space)
    return page.space_id == space.pk and can_edit_item(user, page.item)


def can_add_file_version(user, asset) -> bool:
    """A new version of a file: whoever may edit the file (and, for an attachment, its page; for an event's
    agenda or slides, only the event's organisers)."""
    if not can_see_file(user, asset) or not can_edit_item(user, asset.item):
        return False
    if asset.event_id is not None and not can_organise_event(user, asset.event):
        return False
    return asset.page_id is None or can_edit_item(user, asset.page.item)


def can_trash_file(user, asset) -> bool:
    return can_see_file(user, asset) and can_trash_item(user, asset.item)


FILE_ACTIONS = {"view": can_see_file, "add_version": can_add_file_version, "trash": can_trash_file}


def get_file_for_user(user, file_id: int, action: str = "view"):
    """The file if the user may see it (404 as if it did not exist otherwise), 403 if they may not act on it.

    As for a private space's other content, people who see the space but may not read it (anonymous visitors,
    non-members, banned members) get 403 for its files: the space's home says its content is for members.
    """
    from spaces.models import FileAsset

    asset = (
        FileAsset.objects.select_related(
            "item__space__community", "item__author", "page__item__space", "current_version__uploaded_by"
        )
        .filter(pk=file_id)
        .first()
    )
    if asset is None:
        raise Http404
    if not can_see_file(user, asset):
        space = asset.item.space
        if asset.item.deleted_at is None and can_see_space(user, space) and not can_read_space(user, space):
            raise PermissionDenied
        raise Http404
    if not FILE_ACTIONS[action](user, asset):
        raise PermissionDenied
    return asset


# --- Questions and answers -----------------------------------------------------------------------------------
# An answer is seen only where its question is seen (``with_context`` in ``visible_items_q``), so hiding
# or trashing a question takes its answers, and the comments on them, off every surface. Voting and answering
# are for people who may contribute to the space; accepting is for the asker or a moderator.
def can_ask(user, space: Space) -> bool:
    """Ask a question: editors and above, in a space that is not archived."""
    return can_contribute(user, space)


def can_answer(user, question) -> bool:
    """Answer a question the user can see, where they may contribute."""
    return can_contribute(user, question.space) and _can_see_item_itself(user, question.item)


def can_vote(user, item: Item) -> bool:
    """Vote a question or answer up: anyone who may contribute to the space, never on their own content."""
    if not user.is_authenticated or item.author_id == user.pk:
        return False
    return can_contribute(user, item.space) and _can_see_item_itself(user, item)


def _own_or_moderated(user, item: Item) -> bool:
    if not can_contribute(user, item.space) or not _can_see_item_itself(user, item):
        return False
    return item.author_id == user.pk or can_moderate_space(user, item.space)


def can_edit_question(user, question) -> bool:
    """The asker (while they may contribute) or a moderator of the space."""
    return _own_or_moderated(user, question.item)


def can_edit_answer(user, answer) -> bool:
    """The answer's author (while they may contribute) or a moderator of the space."""
    return _own_or_moderated(user, answer.item)


def can_accept_answer(user, question) -> bool:
    """Accept (or change, or withdraw) the accepted answer: the asker or a moderator of the space."""
    return _own_or_moderated(user, question.item)


def is_scheduled(item: Item) -> bool:
    """Still waiting for its publication time (a scheduled post)."""
    return item.publish_at > timezone.now()


def _takes_part(user, space: Space) -> bool:
    """Light participation that is not writing content (register, like, vote in a poll): any role, viewers
    included, in a space that is not archived. Most members only read; these are their first steps."""
    return not space.is_archived and has_space_role(user, space, SpaceRole.VIEWER)


# --- Events, registrations and papers (issue 4, items 2-4) -----------------------------------------------------
# An event's organisers are its creator (while they may contribute) and the space's moderators and admins.
# Registering is open to everyone holding a role in the space (viewers too). The online meeting link is shown
# only to people registered as going or maybe, and to organisers. Papers are reviewed by moderators and admins.
def visible_events_q(user) -> Q:
    """On ``Event``: events whose registry item the user may see."""
    return Q(item__in=Item.objects.visible_to(user, kinds=("event",)).values("pk"))


def can_create_event(user, space: Space) -> bool:
    return can_contribute(user, space)


def can_organise_event(user, event) -> bool:
    """Edit, set registration questions, download registrants, mark attendance, attach agenda files."""
    return _own_or_moderated(user, event.item)


def can_register(user, event) -> bool:
    return user.is_authenticated and _takes_part(user, event.space) and _can_see_item_itself(user, event.item)


REGISTERED_STATUSES = ("going", "maybe")


def can_see_meeting_link(user, event, registration=None) -> bool:
    """``registration``: the user's own registration for the event, if the caller has it already."""
    if not user.is_authenticated or not _can_see_item_itself(user, event.item):
        return False
    if can_organise_event(user, event):
        return True
    if registration is None:
        return event.registrations.filter(user=user, status__in=REGISTERED_STATUSES).exists()
    return registration.user_id == user.pk and registration.status in REGISTERED_STATUSES


def can_submit_paper(user, event, registration=None) -> bool:
    """Registered participants (going or maybe) submit papers; the deadline is checked by the service."""
    if not can_register(user, event):
        return False
    if registration is None:
        return event.registrations.filter(user=user, status__in=REGISTERED_STATUSES).exists()
    return registration.user_id == user.pk and registration.status in REGISTERED_STATUSES


def can_review_papers(user, event) -> bool:
    return (
        not event.space.is_archived and can_moderate_space(user, event.space) and _can_see_item_itself(user, event.item)
    )


def visible_papers_q(user, event) -> Q:
    """On ``Paper`` of one event the user can see: accepted papers, their own, and all of them for reviewers."""
    if can_moderate_space(user, event.space):
        return Q(event=event)
    own = Q(author=user) if user.is_authenticated else Q(pk__in=[])
    return Q(event=event) & (Q(status="accepted") | own)


def can_see_paper(user, paper) -> bool:
    if not can_see_item(user, paper.event.item):
        return False
    if can_moderate_space(user, paper.event.space):
        return True
    return paper.status == "accepted" or (user.is_authenticated and paper.author_id == user.pk)


def can_edit_paper(user, paper) -> bool:
    """The author may edit or withdraw a paper while it awaits review."""
    return (
        user.is_authenticated
        and paper.author_id == user.pk
        and paper.status == "submitted"
        and can_register(user, paper.event)
    )


# --- Posts, likes and bookmarks (issue 4, item 5) ----------------------------------------------------------
def can_post(user, space: Space) -> bool:
    """Write a post: editors and above. Viewers read, like and vote, but do not post."""
    return can_contribute(user, space)


def can_edit_post(user, post) -> bool:
    return _own_or_moderated(user, post.item)


def can_pin_post(user, post) -> bool:
    """Pinning and announcements are for the space's moderators."""
    return not post.space.is_archived and can_moderate_space(user, post.space)


def can_announce(user, space: Space) -> bool:
    return not space.is_archived and can_moderate_space(user, space)


def can_like(user, item: Item) -> bool:
    """Like anything visible, except your own content; viewers may like."""
    if not user.is_authenticated or item.author_id == user.pk:
        return False
    return _takes_part(user, item.space) and _can_see_item_itself(user, item)


def can_bookmark(user, item: Item) -> bool:
    """Save anything you can see; the saved list shows only what you can still see."""
    return user.is_authenticated and can_see_item(user, item)


# --- Polls (issue 4, item 7) -----------------------------------------------------------------------------------
def can_create_poll(user, space: Space) -> bool:
    return can_contribute(user, space)


def can_edit_poll(user, poll) -> bool:
    """Close early or delete: the poll's author or a moderator."""
    return _own_or_moderated(user, poll.item)


def poll_is_closed(poll) -> bool:
    return poll.closes_at is not None and poll.closes_at <= timezone.now()


def can_vote_in_poll(user, poll) -> bool:
    """One vote per member, changeable until the poll closes; viewers may vote."""
    return (
        user.is_authenticated
        and not poll_is_closed(poll)
        and _takes_part(user, poll.space)
        and _can_see_item_itself(user, poll.item)
    )


def can_see_poll_results(user, poll, has_voted: bool) -> bool:
    """After closing: everyone who sees the poll. Before: the author and moderators; and, when the organiser
    chose "after voting", each member once they have voted."""
    if poll_is_closed(poll):
        return True
    if user.is_authenticated and (poll.item.author_id == user.pk or can_moderate_space(user, poll.space)):
        return True
    return poll.results_shown == "after_vote" and has_voted


# --- Work plan (issue 4, item 6) -----------------------------------------------------------------------------
def can_edit_work_plan(user, space: Space) -> bool:
    """The product and milestones are set by the space's moderators and admins."""
    return not space.is_archived and can_moderate_space(user, space)


def can_update_milestone(user, milestone) -> bool:
    """Change a milestone's status: moderators, and its owner while they may contribute."""
    if can_edit_work_plan(user, milestone.space):
        return True
    return user.is_authenticated and milestone.owner_id == user.pk and can_contribute(user, milestone.space)


# --- Calendar and feed tokens (issue 4, item 4) ----------------------------------------------------------------
def can_use_space_feed(user, space: Space) -> bool:
    """A secret-token feed of a space serves its owner only while they may still read the space."""
    return user.is_active and can_read_space(user, space)


# --- Atom feeds and outgoing webhooks (issue 8, items 2-3) -------------------------------------------------------
def can_follow_space_feed(user, space: Space) -> bool:
    """A member's secret-token Atom feed of a space works while they hold a role there (not banned, not left).

    Open spaces have a public feed for everyone else; a token is a member's own link, so it stops with them."""
    return user.is_active and space_role(user, space) is not None


def can_manage_webhooks(user, space: Space) -> bool:
    """Outgoing webhooks send the space's content elsewhere: a decision for the space's admins."""
    return can_administer_space(user, space)


def items_for_every_member_q(now=None) -> Q:
    """On ``Item``: what every member of its space sees, the least of them (a viewer) included: not trashed,
    visible (not hidden or pending review), published (not scheduled for later; a post once it went out) and not
    restricted, and the same holds for the item it lives on (``visible_items_q``'s context rule: a file's page
    or event, an answer's question, a comment's target and parent). Webhooks send only this."""
    return Q(ItemRule(ReaderRule("every member", now or timezone.now())))


# --- Who may see one item: the set-based form for many members at once (issue 5, notifications) -------------
# ``visible_items_q(user)`` answers "which items may this member see"; notification fan-out needs the other
# direction, "which members may see this item", for hundreds of members in a bounded number of queries. The
# rules are the same ones, read from the item's side, and a test checks that both forms agree.
def item_viewers_q(item: Item) -> Q:
    """On ``User``: the active members who may see ``item`` now (its own rules and the items it lives on)."""
    q = Q(is_active=True)
    for context in _item_with_context(item):
        q &= _item_own_viewers_q(context)
    return q


def _item_with_context(item: Item) -> list[Item]:
    """The item and the items it lives on, as ``visible_items_q`` chains them: a file's page or event, an
    answer's question, a comment's target (with the target's own context) and parent comment."""
    chain = [item]
    if item.kind == "comment":
        comment = Comment.objects.select_related("target__space", "parent__item__space").filter(item_id=item.pk).first()
        if comment is not None:
            chain += _item_with_context(comment.target)
            if comment.parent_id is not None:
                chain.append(comment.parent.item)
    elif item.kind == "file":
        ids = [
            i
            for i in FileAsset.objects.filter(item_id=item.pk).values_list("page__item_id", "event__item_id").first()
            or ()
            if i
        ]
        chain += list(Item.objects.select_related("space").filter(pk__in=ids))
    elif item.kind == "answer":
        question_item = Item.objects.select_related("space").filter(question__answers__item_id=item.pk).first()
        if question_item is not None:
            chain.append(question_item)
    return chain


def space_role_holders_q(space: Space, min_role: int) -> Q:
    """On ``User``: people holding at least ``min_role`` in ``space`` (membership, community role or grant), not
    banned from it; ``_role_holder_q`` read from the member's side. Site staff are not included: they act as
    admins everywhere but are not told about every space (add ``Q(is_staff=True)`` where they should be)."""
    community_roles = [c for c, r in COMMUNITY_ROLE_IN_SPACES.items() if r >= min_role]
    codenames = [c for c, r in GRANT_CODENAMES.items() if r >= min_role]
    held = (
        Q(Exists(SpaceMembership.objects.filter(space_id=space.pk, user_id=OuterRef("pk"), role__gte=min_role)))
        | Q(
            Exists(
                CommunityMembership.objects.filter(
                    community_id=space.community_id, user_id=OuterRef("pk"), role__in=community_roles
                )
            )
        )
        | Q(
            Exists(
                SpaceUserObjectPermission.objects.filter(
                    content_object_id=space.pk, user_id=OuterRef("pk"), permission__codename__in=codenames
                )
            )
        )
    )
    return held & ~Q(Exists(SpaceBan.objects.filter(space_id=space.pk, user_id=OuterRef("pk"))))


def _item_own_viewers_q(item: Item) -> Q:
    """On ``User``: ``_item_own_q`` read from the item's side. Site staff see everything that is not trashed."""
    if item.deleted_at is not None:
        return Q(pk__in=[])
    author = Q(pk=item.author_id) if item.author_id is not None else Q(pk__in=[])
    parts = []
    if item.space.visibility != Visibility.OPEN:
        parts.append(space_role_holders_q(item.space, SpaceRole.VIEWER))
    if item.moderation_state != "visible" or is_scheduled(item):
        parts.append(author | space_role_holders_q(item.space, SpaceRole.MODERATOR))
    if item.is_restricted:
        named = Exists(
            ItemUserObjectPermission.objects.filter(
                content_object_id=item.pk, user_id=OuterRef("pk"), permission__codename="view_restricted_item"
            )
        )
        parts.append(author | Q(named) | space_role_holders_q(item.space, SpaceRole.ADMIN))
    if not parts:
        return Q()  # everyone (an empty Q in an OR would narrow it to staff)
    rules = parts[0]
    for part in parts[1:]:
        rules &= part
    return Q(is_staff=True) | rules


# === Moderation: flags, review queues and the audit log (issue 5, items 1-4) ===================================
# Anyone signed in flags what they can see, never their own content or profile. Flags on content go to the
# moderators of its space and to the community's moderators and admins; flags on restricted content reach only
# those who may see it (its space's and community's admins, ARCHITECTURE.md). Flags on a profile go to site staff
# and to the moderators of the communities the member belongs to. Hidden content (``moderation_state`` other
# than "visible") is seen only by its author and the space's moderators: ``visible_items_q`` and
# ``_can_see_item_itself`` already carry that rule, so hiding takes content off every surface at once.
FLAG_TARGET_KINDS = ("item", "paper", "profile", "message")
# A direct message (members.Message) reported to site staff: named by label, since spaces does not import members.
MESSAGE_MODEL = "members.message"


def flag_target_kind(target) -> str:
    """How a flag target is named in addresses: "item", "paper", "message" or "profile"."""
    from spaces.models import Paper

    if isinstance(target, Item):
        return "item"
    if isinstance(target, Paper):
        return "paper"
    if target._meta.label_lower == MESSAGE_MODEL:
        return "message"
    return "profile"


def flag_target_author(target):
    """The member a flag is about: the content's or paper's author, or the member whose profile it is."""
    kind = flag_target_kind(target)
    if kind == "item" or kind == "paper":
        return target.author
    if kind == "message":
        return target.sender
    return target


def _flag_target_space(target) -> Space | None:
    kind = flag_target_kind(target)
    if kind == "item":
        return target.space
    if kind == "paper":
        return target.event.space
    return None


def can_flag_item(user, item: Item) -> bool:
    """Signed in, not the author, not banned from the space, and able to see the item itself.

    Where the item lives (the page a comment is on) is settled when it is fetched, as for ``can_edit_comment``;
    so the flag button on every comment of a thread costs no query.
    """
    return (
        user.is_authenticated
        and user.is_active
        and item.author_id != user.pk
        and not is_banned(user, item.space)
        and _can_see_item_itself(user, item)
    )


def can_flag_paper(user, paper) -> bool:
    return user.is_authenticated and user.is_active and paper.author_id != user.pk and can_see_paper(user, paper)


def can_flag_profile(user, member) -> bool:
    return (
        user.is_authenticated
        and user.is_active
        and member.pk != user.pk
        and member.is_active
        and member.deleted_at is None
    )


def can_flag(user, target) -> bool:
    """Flag an item, a paper or a member's profile (one open flag per person and target: the service checks)."""
    kind = flag_target_kind(target)
    if kind == "item":
        return can_flag_item(user, target)
    if kind == "paper":
        return can_flag_paper(user, target)
    if kind == "message":  # reported from the conversation, by its participants (members.permissions_messages)
        return False
    return can_flag_profile(user, target)


def can_review_space_flags(user, space: Space) -> bool:
    """The space's review queue: its moderators and admins (and community moderators and admins, site staff)."""
    return can_moderate_space(user, space)


def _moderated_communities(user) -> set[int]:
    roles = access_context(user).community_roles
    return {community_id for community_id, role in roles.items() if role in COMMUNITY_ROLE_IN_SPACES}


def can_review_community_flags(user, community) -> bool:
    """The community's review queue (every space of it, and its members' profiles): its moderators and admins."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_staff or community.pk in _moderated_communities(user)


def can_review_site_flags(user) -> bool:
    """Every flag of the site, profiles of members outside any community included: site staff."""
    return _everything(user)


def can_review_profile_flags(user, member, community=None) -> bool:
    """Site staff; or a moderator or admin of ``community`` (of any community, when None) the member belongs to."""
    if _everything(user):
        return True
    if not user.is_authenticated or not user.is_active:
        return False
    moderated = _moderated_communities(user)
    if community is not None:
        moderated &= {community.pk}
    return bool(moderated) and CommunityMembership.objects.filter(user=member, community_id__in=moderated).exists()


def can_act_on_flagged(user, target, community=None) -> bool:
    """Dismiss flags, hide, show, warn, remove, ban: whoever reviews the target's flags and can see the target.

    ``community`` narrows a profile to the community queue the reviewer is acting from.
    """
    kind = flag_target_kind(target)
    if kind == "item":
        return can_review_space_flags(user, target.space) and _can_see_item_itself(user, target)
    if kind == "paper":
        return can_review_space_flags(user, target.event.space) and can_see_item(user, target.event.item)
    if kind == "message":  # site staff only; they act on the report, never read the conversation
        return can_review_site_flags(user) and community is None
    return can_review_profile_flags(user, target, community)


def can_hide_flagged(user, item: Item) -> bool:
    """Hide an item or show it again (reversible): the space's moderators, for content they can see."""
    return can_hide_item(user, item) and can_act_on_flagged(user, item)


def can_warn(user, target, community=None) -> bool:
    """Warn the author of flagged content (or a flagged member) with a message; never yourself."""
    author = flag_target_author(target)
    return author is not None and author.pk != user.pk and can_act_on_flagged(user, target, community)


def can_ban_with_roles(actor, space: Space, target, *, space_role: int | None, community_role: str | None) -> bool:
    """``can_ban`` without its queries, for lists that load the roles of many people at once.

    Never yourself, site staff, or a community moderator or admin; otherwise whoever may manage someone holding
    ``space_role`` in the space (moderators: viewers and editors; admins: everyone).
    """
    if _never_banned(actor, target) or community_role in COMMUNITY_ROLE_IN_SPACES:
        return False
    return can_manage_member(actor, space, space_role)


def _never_banned(actor, target) -> bool:
    """Nobody bans themselves, and site staff are never banned: one rule for both forms of ``can_ban``."""
    return target.pk == actor.pk or target.is_staff


def can_see_space_moderation_log(user, space: Space) -> bool:
    return can_moderate_space(user, space)


def can_see_community_moderation_log(user, community) -> bool:
    return can_review_community_flags(user, community)


def review_flags_q(user, *, space: Space | None = None, community=None) -> Q:
    """On ``Flag``: open flags in the review queue of ``space``, of ``community`` (its spaces, and its members'
    profiles) or, for site staff with neither, of the whole site.

    Flags on content appear only where the reviewer may see the content (hidden content is seen by moderators;
    restricted content only by those it is open to). Callers check ``can_review_*`` first: this narrows, it
    does not authorise.
    """
    from django.contrib.auth import get_user_model
    from django.contrib.contenttypes.models import ContentType

    content = Q(item__isnull=True) | Q(item__in=Item.objects.filter(visible_items_q(user)).values("pk"))
    if space is not None:
        return Q(status="open", space=space) & content
    if community is None:
        return Q(status="open") & content
    profile_type = ContentType.objects.get_for_model(get_user_model())
    member = CommunityMembership.objects.filter(community=community, user_id=OuterRef("target_id"))
    profiles = Q(target_type=profile_type) & Q(Exists(member))
    return Q(status="open") & ((Q(community=community) & content) | profiles)


def visible_log_q(user, *, space: Space | None = None, community=None) -> Q:
    """On ``ModerationLogEntry``: the log of ``space`` for its moderators, of ``community`` (its spaces, its bans,
    its members' profiles) for the community's moderators, everything for site staff; nothing for others.

    Entries about restricted content are left out for reviewers who are not admins there: the entry's label
    would name content they may not see.
    """
    from django.contrib.contenttypes.models import ContentType

    nothing = Q(pk__in=[])
    if space is not None:
        if not can_see_space_moderation_log(user, space):
            return nothing
        scope, sees_restricted = Q(space=space), can_administer_space(user, space)
    elif community is not None:
        if not can_see_community_moderation_log(user, community):
            return nothing
        role = access_context(user).community_roles.get(community.pk)
        scope, sees_restricted = Q(community=community), user.is_staff or role == CommunityRole.ADMIN
    else:
        return Q() if _everything(user) else nothing
    if sees_restricted:
        return scope
    restricted = Item.objects.filter(pk=OuterRef("target_id"), is_restricted=True)
    return scope & ~(Q(target_type=ContentType.objects.get_for_model(Item)) & Q(Exists(restricted)))


def get_flag_target_for_user(user, target_kind: str, target_id: int, action: str = "flag", community=None):
    """The item, paper or member a flag is about. 404 when the user may not see it (exactly as if it did not
    exist); 403 when they may see it but not flag it (``action="flag"``) or not act on its flags
    (``action="moderate"``)."""
    from django.contrib.auth import get_user_model

    from spaces.models import Paper

    target = None
    if target_kind == "item":
        target = get_visible_item(user, target_id)
        if not can_see_in_context(user, target):
            raise Http404
    elif target_kind == "paper":
        target = (
            Paper.objects.select_related("event__item__space__community", "event__space__community", "author")
            .filter(pk=target_id)
            .first()
        )
        if target is None or not can_see_paper(user, target):
            raise Http404
    elif target_kind == "profile":
        target = get_user_model().objects.filter(pk=target_id, is_active=True, deleted_at__isnull=True).first()
    elif target_kind == "message" and action != "flag" and can_review_site_flags(user):
        # Only the sender and the conversation are loaded: the body stays with the participants.
        message_model = apps.get_model(MESSAGE_MODEL)
        target = message_model.objects.select_related("sender").only("pk", "sender", "conversation_id")
        target = target.filter(pk=target_id).first()
    if target is None:
        raise Http404
    allowed = can_flag(user, target) if action == "flag" else can_act_on_flagged(user, target, community)
    if not allowed:
        raise PermissionDenied
    return target


# === Visibility for many members at once (issue 5: digests, notification fan-out, exports) ==================
# ``visible_items_q`` answers for one person in SQL. Digests need the same answer for hundreds of members: a
# query per member would not scale, so the batch's roles are loaded in a fixed number of queries and the very
# same rules are evaluated in Python. ``tests/access/test_visible_items_for.py`` checks the two agree for every
# persona; a rule changed in one must be changed in the other.
@dataclass
class _BatchRoles:
    """Roles of a batch of members in a set of spaces, from five queries whatever the batch size."""

    space_roles: dict[tuple[int, int], int] = field(default_factory=dict)  # (member, space) -> role
    community_roles: dict[tuple[int, int], str] = field(default_factory=dict)  # (member, community) -> role
    grant_roles: dict[tuple[int, int], int] = field(default_factory=dict)
    banned: set[tuple[int, int]] = field(default_factory=set)
    named: set[tuple[int, int]] = field(default_factory=set)  # (member, restricted item) named on it

    def role(self, member_id: int, space_id: int, community_id: int) -> int:
        """The effective role as ``_role_holder_q`` counts it: the best of the three sources, 0 when banned."""
        if (member_id, space_id) in self.banned:
            return 0
        return max(
            self.space_roles.get((member_id, space_id), 0),
            self.grant_roles.get((member_id, space_id), 0),
            COMMUNITY_ROLE_IN_SPACES.get(self.community_roles.get((member_id, community_id), ""), 0),
        )


def _load_batch_roles(member_ids: list[int], space_ids: set[int], community_ids: set[int], restricted: set[int]):
    roles = _BatchRoles()
    if not member_ids or not space_ids:
        return roles
    for user_id, space_id, role in SpaceMembership.objects.filter(
        user_id__in=member_ids, space_id__in=space_ids
    ).values_list("user_id", "space_id", "role"):
        roles.space_roles[(user_id, space_id)] = role
    for user_id, community_id, role in CommunityMembership.objects.filter(
        user_id__in=member_ids, community_id__in=community_ids, role__in=list(COMMUNITY_ROLE_IN_SPACES)
    ).values_list("user_id", "community_id", "role"):
        roles.community_roles[(user_id, community_id)] = role
    roles.banned = set(
        SpaceBan.objects.filter(user_id__in=member_ids, space_id__in=space_ids).values_list("user_id", "space_id")
    )
    for user_id, space_id, codename in SpaceUserObjectPermission.objects.filter(
        user_id__in=member_ids, content_object_id__in=space_ids, permission__codename__in=list(GRANT_CODENAMES)
    ).values_list("user_id", "content_object_id", "permission__codename"):
        key = (user_id, space_id)
        roles.grant_roles[key] = max(roles.grant_roles.get(key, 0), GRANT_CODENAMES[codename])
    if restricted:
        roles.named = set(
            ItemUserObjectPermission.objects.filter(
                user_id__in=member_ids, content_object_id__in=restricted, permission__codename="view_restricted_item"
            ).values_list("user_id", "content_object_id")
        )
    return roles


_OWN_FIELDS = (
    "pk",
    "kind",
    "space_id",
    "space__visibility",
    "space__community_id",
    "author_id",
    "moderation_state",
    "publish_at",
    "deleted_at",
    "is_restricted",
)
# What an item's context rule reads (``visible_items_q``): a file's page or event, an answer's question, a
# comment's target (with the target's own file and answer context) and the comment it replies to.
_CONTEXT_FIELDS = (
    "file__page__item_id",
    "file__event__item_id",
    "answer__question__item_id",
    "comment__target_id",
    "comment__parent__item_id",
    "comment__target__kind",
    "comment__target__file__page__item_id",
    "comment__target__file__event__item_id",
    "comment__target__answer__question__item_id",
)


def visible_items_for(members, items=None, *, only=None, now=None) -> dict[int, set[int]]:
    """For each member of a batch, the ids of the items among ``items`` they may see: member id -> item ids.

    The set-based form of ``visible_items_q`` (ARCHITECTURE.md, "Visibility for many members at once"): the
    same rules, the item's own and its context (a file's page or event, an answer's question, a comment's
    target and parent), answered for many members in a fixed number of queries (at most eight) whatever the
    batch size. Both must change together; a test holds them to agreement for every persona.

    ``members``: users (or their ids). ``items``: an ``Item`` queryset or ids (None: every item; give a
    bounded set in production). ``only``: optionally, member id -> the item ids worth checking for that member
    (saves Python work when members follow different spaces). ``now``: when a scheduled item counts as out.
    """
    members = list(members)
    if members and not hasattr(members[0], "pk"):
        members = list(_user_model().objects.filter(pk__in=members))
    result: dict[int, set[int]] = {member.pk: set() for member in members}
    if not members:
        return result
    now = now or timezone.now()
    rows = Item.objects.all() if items is None else _as_item_queryset(items)
    candidates = {row["pk"]: row for row in rows.values(*_OWN_FIELDS, *_CONTEXT_FIELDS)}
    wanted = {key for row in candidates.values() for key in _context_ids(row)} - set(candidates)
    context = {row["pk"]: row for row in Item.objects.filter(pk__in=wanted).values(*_OWN_FIELDS)} if wanted else {}
    known = {**context, **candidates}
    roles = _load_batch_roles(
        [member.pk for member in members],
        {row["space_id"] for row in known.values()},
        {row["space__community_id"] for row in known.values()},
        {pk for pk, row in known.items() if row["is_restricted"]},
    )
    for member in members:
        check = _ItemRules(member, roles, known, now)
        ids = candidates if only is None else [pk for pk in only.get(member.pk, ()) if pk in candidates]
        result[member.pk] = {pk for pk in ids if check.visible(candidates[pk])}
    return result


def _user_model():
    from django.contrib.auth import get_user_model

    return get_user_model()


def _as_item_queryset(items):
    if hasattr(items, "model") and items.model is Item:
        return items
    return Item.objects.filter(pk__in=list(items))


def _context_ids(row: dict) -> list[int]:
    return [row[name] for name in _CONTEXT_FIELDS if name != "comment__target__kind" and row[name] is not None]


class _ItemRules:
    """``visible_items_q`` for one member, evaluated on rows loaded by ``visible_items_for``."""

    def __init__(self, member, roles: _BatchRoles, known: dict[int, dict], now):
        self.member_id = member.pk
        self.everything = member.is_active and member.is_staff
        self.roles = roles
        self.known = known
        self.now = now

    def own(self, item_id: int | None) -> bool:
        """``_item_own_q``: not trashed; readable space; shown (or author/moderator); unrestricted (or named,
        author, admin)."""
        row = self.known.get(item_id) if item_id is not None else None
        if row is None or row["deleted_at"] is not None:
            return False
        if self.everything:
            return True
        role = self.roles.role(self.member_id, row["space_id"], row["space__community_id"])
        is_author = row["author_id"] == self.member_id
        if row["space__visibility"] != Visibility.OPEN and role < SpaceRole.VIEWER:
            return False
        if not (row["moderation_state"] == "visible" and row["publish_at"] <= self.now):
            if not (is_author or role >= SpaceRole.MODERATOR):
                return False
        if row["is_restricted"]:
            named = (self.member_id, row["pk"]) in self.roles.named
            if not (is_author or named or role >= SpaceRole.ADMIN):
                return False
        return True

    def _file_and_answer_ok(self, kind: str, page_item, event_item, question_item) -> bool:
        if kind == "file" and not (
            (page_item is None or self.own(page_item)) and (event_item is None or self.own(event_item))
        ):
            return False
        return kind != "answer" or (question_item is not None and self.own(question_item))

    def visible(self, row: dict) -> bool:
        if not self.own(row["pk"]):
            return False
        if not self._file_and_answer_ok(
            row["kind"], row["file__page__item_id"], row["file__event__item_id"], row["answer__question__item_id"]
        ):
            return False
        if row["kind"] != "comment":
            return True
        target = row["comment__target_id"]
        if target is None or not self.own(target):
            return False
        if not self._file_and_answer_ok(
            row["comment__target__kind"],
            row["comment__target__file__page__item_id"],
            row["comment__target__file__event__item_id"],
            row["comment__target__answer__question__item_id"],
        ):
            return False
        parent = row["comment__parent__item_id"]
        return parent is None or self.own(parent)


def member_spaces_for(members) -> dict[int, set[int]]:
    """The set-based form of ``member_spaces_q``: member id -> ids of the spaces where they hold a role (by
    membership, community moderator/admin role or grant; never where banned). Five queries for any batch."""
    member_ids = [getattr(member, "pk", member) for member in members]
    result: dict[int, set[int]] = {member_id: set() for member_id in member_ids}
    if not member_ids:
        return result
    for user_id, space_id in SpaceMembership.objects.filter(user_id__in=member_ids).values_list("user_id", "space_id"):
        result[user_id].add(space_id)
    for user_id, space_id in SpaceUserObjectPermission.objects.filter(
        user_id__in=member_ids, permission__codename__in=list(GRANT_CODENAMES)
    ).values_list("user_id", "content_object_id"):
        result[user_id].add(space_id)
    communities: dict[int, set[int]] = {}
    for user_id, community_id in CommunityMembership.objects.filter(
        user_id__in=member_ids, role__in=list(COMMUNITY_ROLE_IN_SPACES)
    ).values_list("user_id", "community_id"):
        communities.setdefault(community_id, set()).add(user_id)
    if communities:
        for space_id, community_id in Space.objects.filter(community_id__in=communities).values_list(
            "pk", "community_id"
        ):
            for user_id in communities[community_id]:
                result[user_id].add(space_id)
    for user_id, space_id in SpaceBan.objects.filter(user_id__in=member_ids).values_list("user_id", "space_id"):
        result[user_id].discard(space_id)
    return result


def visible_items_for_batch(members, items, *, only=None, now=None) -> dict[int, set[int]]:
    """``visible_items_for`` for large batches (digests): the same answer from the same queries, faster.

    Most items are seen by everyone who may read their space: live, shown, published and unrestricted, and so is
    what they live on (a file's page, an answer's question, a comment's target and parent) in the same space. For
    those ``_ItemRules`` comes down to "may this member read the space", which is asked once per member and space
    instead of once per member and item. Every other item goes through ``_ItemRules`` itself, so there is still
    one set of rules. ``members``: users. ``items`` and ``only`` as for ``visible_items_for``.

    The context columns take nine joins; only files, answers and comments have a context, so they are read for
    those alone (one more query), and are empty for the rest as the joins would leave them.
    """
    members = list(members)
    result: dict[int, set[int]] = {member.pk: set() for member in members}
    if not members:
        return result
    now = now or timezone.now()
    no_context = dict.fromkeys(_CONTEXT_FIELDS)
    candidates = {row["pk"]: {**row, **no_context} for row in _as_item_queryset(items).order_by().values(*_OWN_FIELDS)}
    with_context = [pk for pk, row in candidates.items() if row["kind"] in _KINDS_WITH_CONTEXT]
    if with_context:
        for row in Item.objects.filter(pk__in=with_context).order_by().values("pk", *_CONTEXT_FIELDS):
            candidates[row["pk"]].update(row)
    wanted = {key for row in candidates.values() for key in _context_ids(row)} - set(candidates)
    context = {row["pk"]: row for row in Item.objects.filter(pk__in=wanted).values(*_OWN_FIELDS)} if wanted else {}
    known = {**context, **candidates}
    roles = _load_batch_roles(
        [member.pk for member in members],
        {row["space_id"] for row in known.values()},
        {row["space__community_id"] for row in known.values()},
        {pk for pk, row in known.items() if row["is_restricted"]},
    )
    for_readers = {pk: row["space_id"] for pk, row in candidates.items() if _seen_by_every_reader(row, known, now)}
    for member in members:
        check = _ItemRules(member, roles, known, now)
        readable: dict[int, bool] = {}  # space -> whether the member may read it (asked of one such item there)
        ids = candidates if only is None else [pk for pk in only.get(member.pk, ()) if pk in candidates]
        seen = result[member.pk]
        for pk in ids:
            space_id = for_readers.get(pk)
            if space_id is None:
                allowed = check.visible(candidates[pk])
            else:
                allowed = readable.get(space_id)
                if allowed is None:
                    allowed = readable[space_id] = check.own(pk)
            if allowed:
                seen.add(pk)
    return result


_KINDS_WITH_CONTEXT = ("file", "answer", "comment")  # what ``_ItemRules.visible`` reads context columns for


def _seen_by_every_reader(row: dict, known: dict[int, dict], now) -> bool:
    """Whether ``_ItemRules.visible(row)`` is the same as ``_ItemRules.own(row)`` and that only asks whether the
    member may read the item's space: the item and every item it lives on are in that space, live, shown,
    published and unrestricted, and nothing it must live on is missing."""

    def plain(item_id: int) -> bool:
        other = known.get(item_id)
        return (
            other is not None
            and other["space_id"] == row["space_id"]
            and other["deleted_at"] is None
            and other["moderation_state"] == "visible"
            and other["publish_at"] <= now
            and not other["is_restricted"]
        )

    if row["kind"] == "answer" and row["answer__question__item_id"] is None:
        return False
    if row["kind"] == "comment" and (
        row["comment__target_id"] is None
        or (row["comment__target__kind"] == "answer" and row["comment__target__answer__question__item_id"] is None)
    ):
        return False
    return plain(row["pk"]) and all(plain(item_id) for item_id in _context_ids(row))
