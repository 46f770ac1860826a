"""Reads for moderators: the review queue (open flags grouped by what they are about) and the audit log.

The queue runs a fixed number of queries whatever the number of flags: the flags (filtered in the database by
``review_flags_q``), the flagged items, papers and members (one query each, when there are any), and the
authors' roles and bans (four queries); every permission flag on an entry is answered from those rows and the
reviewer's cached roles.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from communities.models import Community, CommunityBan, CommunityMembership
from communities.permissions import can_ban_from_community
from spaces import permissions
from spaces.models import (
    Flag,
    Item,
    ItemKind,
    ModerationLogEntry,
    ModerationState,
    Paper,
    Space,
    SpaceBan,
    SpaceMembership,
)
from spaces.selectors_content import ITEM_LINK_RELATED, item_label, item_url

User = get_user_model()

EXCERPT_CHARS = 280


@dataclass
class QueueEntry:
    """One flagged target with its open flags and what the reviewer may do about it."""

    target_kind: str  # "item", "paper" or "profile"
    target: object
    flags: list[Flag] = field(default_factory=list)
    label: str = ""
    kind_label: str = ""
    excerpt: str = ""
    url: str = ""
    edit_url: str = ""
    author: object = None
    space: Space | None = None
    community: Community | None = None
    state: str = ModerationState.VISIBLE
    can_hide: bool = False
    can_unhide: bool = False
    can_remove: bool = False
    can_warn: bool = False
    can_ban_space: bool = False
    can_ban_community: bool = False
    banned_from_space: bool = False
    banned_from_community: bool = False

    @property
    def total_weight(self) -> Decimal:
        return sum((flag.weight for flag in self.flags), Decimal(0))

    @property
    def flagger_count(self) -> int:
        return len({flag.flagger_id for flag in self.flags})

    @property
    def reasons(self) -> list[tuple[str, int]]:
        counts = Counter(str(flag.get_reason_display()) for flag in self.flags)
        return counts.most_common()

    @property
    def first_flagged_at(self) -> datetime:
        return min(flag.created_at for flag in self.flags)

    @property
    def is_hidden(self) -> bool:
        return self.state != ModerationState.VISIBLE

    @property
    def is_pending(self) -> bool:
        return self.state == ModerationState.PENDING


def _content_types() -> dict[str, int]:
    return {
        "item": ContentType.objects.get_for_model(Item).pk,
        "paper": ContentType.objects.get_for_model(Paper).pk,
        "profile": ContentType.objects.get_for_model(User).pk,
        "message": ContentType.objects.get_for_model(apps.get_model(permissions.MESSAGE_MODEL)).pk,
    }


def open_flags(reviewer, *, space: Space | None = None, community: Community | None = None) -> QuerySet[Flag]:
    """The open flags in the reviewer's queue (see ``permissions.review_flags_q``), oldest first."""
    return (
        Flag.objects.filter(permissions.review_flags_q(reviewer, space=space, community=community))
        .select_related("flagger__profile")
        .order_by("created_at", "pk")
    )


def queue_size(reviewer, *, space: Space | None = None, community: Community | None = None) -> int:
    """How many targets wait in the queue (one query), for the "Review queue" link."""
    return (
        Flag.objects.filter(permissions.review_flags_q(reviewer, space=space, community=community))
        .values("target_type_id", "target_id")
        .distinct()
        .count()
    )


def review_queue(reviewer, *, space: Space | None = None, community: Community | None = None) -> list[QueueEntry]:
    """Open flags grouped by target: content hidden pending review first, then the heaviest, then the oldest.

    ``space``: that space's queue; ``community``: its spaces and its members' profiles; neither: the whole site
    (for site staff). The caller has checked that the reviewer may open the queue.
    """
    types = _content_types()
    kinds = {pk: name for name, pk in types.items()}
    groups: dict[tuple[int, int], list[Flag]] = {}
    for flag in open_flags(reviewer, space=space, community=community):
        groups.setdefault((flag.target_type_id, flag.target_id), []).append(flag)
    ids: dict[str, list[int]] = {"item": [], "paper": [], "profile": [], "message": []}
    for type_id, target_id in groups:
        if type_id in kinds:
            ids[kinds[type_id]].append(target_id)
    targets = _load_targets(ids)
    entries = []
    for (type_id, target_id), flags in groups.items():
        kind = kinds.get(type_id)
        target = targets.get((kind, target_id)) if kind else None
        if target is not None:
            entries.append(_entry(reviewer, kind, target, flags, scope_community=community))
    _add_ban_state(reviewer, entries)
    entries.sort(key=lambda e: (not e.is_pending, -e.total_weight, e.first_flagged_at))
    return entries


def _load_targets(ids: dict[str, list[int]]) -> dict[tuple[str, int], object]:
    targets: dict[tuple[str, int], object] = {}
    if ids["item"]:
        items = Item.objects.filter(pk__in=ids["item"]).select_related("author__profile", *ITEM_LINK_RELATED)
        targets.update((("item", item.pk), item) for item in items)
    if ids["paper"]:
        papers = Paper.objects.filter(pk__in=ids["paper"]).select_related(
            "author__profile", "event__item__space__community", "event__space__community"
        )
        targets.update((("paper", paper.pk), paper) for paper in papers)
    if ids["profile"]:
        members = User.objects.filter(pk__in=ids["profile"]).select_related("profile")
        targets.update((("profile", member.pk), member) for member in members)
    if ids["message"]:
        # Never the body: staff learn of a reported message only what the reporter put in the flag's note.
        rows = apps.get_model(permissions.MESSAGE_MODEL).objects.filter(pk__in=ids["message"])
        rows = rows.select_related("sender__profile").only("pk", "conversation_id", "created_at", "sender")
        targets.update((("message", message.pk), message) for message in rows)
    return targets


def _item_text(item: Item) -> str:
    typed = getattr(item, item.kind, None) if item.kind != ItemKind.FILE else None
    if typed is None:
        return ""
    return getattr(typed, "body", "") or getattr(typed, "description", "") or ""


def _edit_url(reviewer, item: Item) -> str:
    """Where a moderator edits the item, when its kind has an edit page and the reviewer may use it."""
    typed = getattr(item, item.kind, None)
    if typed is None:
        return ""
    space = item.space
    base = {"community_slug": space.community.slug, "space_slug": space.slug}
    try:
        if item.kind == ItemKind.PAGE and permissions.can_edit_item(reviewer, item):
            return reverse("spaces:page-edit", kwargs={**base, "page_slug": typed.slug})
        if item.kind == ItemKind.QUESTION and permissions.can_edit_question(reviewer, typed):
            return reverse("spaces:question-edit", kwargs={**base, "question_slug": typed.slug})
        if item.kind == ItemKind.ANSWER and permissions.can_edit_answer(reviewer, typed):
            kwargs = {**base, "question_slug": typed.question.slug, "answer_id": typed.pk}
            return reverse("spaces:answer-edit", kwargs=kwargs)
        if item.kind == ItemKind.POST and permissions.can_edit_post(reviewer, typed):
            return reverse("spaces:post-edit", kwargs={**base, "post_id": typed.pk})
        if item.kind == ItemKind.EVENT and permissions.can_organise_event(reviewer, typed):
            return reverse("spaces:event-edit", kwargs={**base, "event_slug": typed.slug})
    except NoReverseMatch:
        pass
    return ""


def _paper_url(paper: Paper) -> str:
    event, space = paper.event, paper.event.space
    kwargs = {
        "community_slug": space.community.slug,
        "space_slug": space.slug,
        "event_slug": event.slug,
        "paper_id": paper.pk,
    }
    try:
        return reverse("spaces:paper-detail", kwargs=kwargs)
    except NoReverseMatch:
        return event.get_absolute_url()


def _entry(reviewer, kind: str, target, flags: list[Flag], *, scope_community: Community | None) -> QueueEntry:
    entry = QueueEntry(target_kind=kind, target=target, flags=flags)
    if kind == "item":
        entry.label, entry.kind_label = item_label(target), str(target.get_kind_display())
        entry.excerpt = Truncator(_item_text(target)).chars(EXCERPT_CHARS)
        entry.url, entry.edit_url = item_url(target), _edit_url(reviewer, target)
        entry.author, entry.space, entry.state = target.author, target.space, target.moderation_state
        entry.can_hide = permissions.can_hide_flagged(reviewer, target)
        entry.can_unhide = entry.can_hide and entry.is_hidden
        entry.can_hide = entry.can_hide and target.moderation_state != ModerationState.HIDDEN
        entry.can_remove = permissions.can_trash_item(reviewer, target)
        entry.can_warn = permissions.can_warn(reviewer, target)
    elif kind == "paper":
        entry.label, entry.kind_label = target.title, str(Paper._meta.verbose_name).capitalize()
        entry.excerpt = Truncator(target.abstract).chars(EXCERPT_CHARS)
        entry.url, entry.author, entry.space = _paper_url(target), target.author, target.event.space
        entry.can_warn = permissions.can_warn(reviewer, target)
    elif kind == "message":
        entry.label = entry.kind_label = str(_("Direct message"))
        entry.author = target.sender  # the excerpt, if the reporter shared one, is the flag's note
        entry.can_warn = permissions.can_warn(reviewer, target, scope_community)
    else:
        profile = getattr(target, "profile", None)
        entry.label, entry.kind_label = target.public_name, str(_("Profile"))
        entry.excerpt = Truncator(getattr(profile, "bio", "") or "").chars(EXCERPT_CHARS)
        entry.url, entry.author = target.get_absolute_url(), target
        # The flags query already kept only members of the reviewer's community (or, for staff, everyone).
        entry.can_warn = target.pk != reviewer.pk
    entry.community = entry.space.community if entry.space is not None else scope_community
    return entry


def _add_ban_state(reviewer, entries: list[QueueEntry]) -> None:
    """Whether each author is banned already, and may be banned by the reviewer: four queries for all entries."""
    authors = {e.author.pk for e in entries if e.author is not None}
    space_ids = {e.space.pk for e in entries if e.space is not None}
    community_ids = {e.community.pk for e in entries if e.community is not None}
    if not authors:
        return
    space_roles = {
        (s, u): r
        for s, u, r in SpaceMembership.objects.filter(user_id__in=authors, space_id__in=space_ids).values_list(
            "space_id", "user_id", "role"
        )
    }
    community_roles = {
        (c, u): r
        for c, u, r in CommunityMembership.objects.filter(
            user_id__in=authors, community_id__in=community_ids
        ).values_list("community_id", "user_id", "role")
    }
    space_bans = set(
        SpaceBan.objects.filter(user_id__in=authors, space_id__in=space_ids).values_list("space_id", "user_id")
    )
    community_bans = set(
        CommunityBan.objects.filter(user_id__in=authors, community_id__in=community_ids).values_list(
            "community_id", "user_id"
        )
    )
    for entry in entries:
        author = entry.author
        if author is None or author.deleted_at is not None:
            continue
        if entry.community is not None:
            community_role = community_roles.get((entry.community.pk, author.pk))
            entry.banned_from_community = (entry.community.pk, author.pk) in community_bans
            entry.can_ban_community = not entry.banned_from_community and can_ban_from_community(
                reviewer, entry.community, author, target_role=community_role
            )
        if entry.space is not None:
            entry.banned_from_space = (entry.space.pk, author.pk) in space_bans
            entry.can_ban_space = not entry.banned_from_space and permissions.can_ban_with_roles(
                reviewer,
                entry.space,
                author,
                space_role=space_roles.get((entry.space.pk, author.pk)),
                community_role=community_roles.get((entry.community.pk, author.pk)) if entry.community else None,
            )


# --- The audit log ------------------------------------------------------------------------------------------
def moderation_log(
    reviewer, *, space: Space | None = None, community: Community | None = None
) -> QuerySet[ModerationLogEntry]:
    """Log entries the reviewer may read, newest first (``permissions.visible_log_q``)."""
    return (
        ModerationLogEntry.objects.filter(permissions.visible_log_q(reviewer, space=space, community=community))
        .select_related("actor", "subject", "space__community", "community")
        .order_by("-created_at", "-pk")
    )


def community_bans(community: Community) -> QuerySet[CommunityBan]:
    return CommunityBan.objects.filter(community=community).select_related("user", "banned_by").order_by("-created_at")
