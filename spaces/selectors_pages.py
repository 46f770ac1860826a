"""Reads for wiki pages: the tree, history, word-level diffs. Every list starts from what the user may see."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from spaces import permissions, selectors_content
from spaces.models import FileAsset, Page, PageDraft, PageEditPresence, PageTemplate, Space


def visible_pages(user, space: Space) -> QuerySet[Page]:
    return Page.objects.visible_to(user).filter(space=space)


def space_file_ids(space_id: int) -> list[int]:
    """The files whose images a page of this space may show: the Markdown allow-list (``/files/<id>/inline/``)."""
    return list(FileAsset.objects.filter(space_id=space_id).values_list("pk", flat=True))


def get_page_for_user(user, community_slug: str, space_slug: str, page_slug: str, action: str = "view") -> Page:
    """404 when the user may not see the page (exactly as if it did not exist), 403 when they may not act.

    People who see a private space but may not read it get 403 for every page address, as for its page list.
    """
    space = permissions.get_space_for_user(user, community_slug, space_slug, action="read")
    page = (
        visible_pages(user, space)
        .select_related("item__author", "last_edited_by", "parent")
        .defer(*selectors_content.JOINED_ITEM_TEXTS)
        .annotate(**selectors_content.detail_annotations(user))
        .filter(slug=page_slug)
        .first()
    )
    if page is None:
        raise Http404
    page.space = space
    page.item.space = space
    selectors_content.share_reactions(page)
    if action == "edit" and not permissions.can_edit_item(user, page.item):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    return page


@dataclass
class TreeNode:
    page: Page
    children: list[TreeNode] = field(default_factory=list)


def page_tree(user, space: Space) -> list[TreeNode]:
    """The space's page tree as the user may see it, in one query. A page under a hidden parent shows at the top."""
    pages = list(
        visible_pages(user, space)
        .only("pk", "title", "slug", "parent_id", "position", "space_id")
        .order_by("position", "title")
    )
    nodes = {page.pk: TreeNode(page) for page in pages}
    roots: list[TreeNode] = []
    for page in pages:
        parent = nodes.get(page.parent_id) if page.parent_id else None
        (parent.children if parent else roots).append(nodes[page.pk])
    return roots


def page_ancestors(page: Page, user) -> list[Page]:
    """Breadcrumb ancestors the user may see (bounded: pages are rarely deeper than a handful of levels)."""
    chain: list[Page] = []
    ids: list[int] = []
    node = page.parent
    while node is not None and len(ids) < 20:
        ids.append(node.pk)
        node = node.parent if node.parent_id else None
    visible = {
        p.pk: p for p in Page.objects.visible_to(user).filter(pk__in=ids).only("pk", "title", "slug", "space_id")
    }
    for pk in reversed(ids):
        if pk in visible:
            chain.append(visible[pk])
    return chain


def page_history(page: Page) -> QuerySet:
    return page.versions.select_related("history_user").order_by("-history_date", "-history_id")


def page_version(page: Page, version: int):
    record = page.versions.select_related("history_user").filter(version=version).order_by("-history_id").first()
    if record is None:
        raise Http404
    return record


_TOKEN = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


def word_diff(old: str, new: str) -> SafeString:
    """A readable word-level diff: deletions in <del>, additions in <ins>, everything escaped."""
    a, b = _TOKEN.findall(old or ""), _TOKEN.findall(new or "")
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    out: list[str] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.append(escape("".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            out.append(f'<del class="diff-del">{escape("".join(a[i1:i2]))}</del>')
        if op in ("insert", "replace"):
            out.append(f'<ins class="diff-ins">{escape("".join(b[j1:j2]))}</ins>')
    return mark_safe("".join(out))  # noqa: S308 - every piece of text above is escaped  # nosec B308, B703


def has_differences(old: str, new: str) -> bool:
    return (old or "") != (new or "")


def page_draft(user, space: Space, page: Page | None) -> PageDraft | None:
    if page is None:
        return PageDraft.objects.filter(user=user, space=space, page__isnull=True).first()
    return PageDraft.objects.filter(user=user, page=page).first()


def recent_editors(page: Page, user) -> list:
    since = timezone.now() - timedelta(minutes=5)
    rows = PageEditPresence.objects.filter(page=page, seen_at__gte=since).exclude(user=user).select_related("user")
    return [row.user for row in rows]


def space_templates(space: Space) -> QuerySet[PageTemplate]:
    return PageTemplate.objects.filter(space=space).order_by("name")
