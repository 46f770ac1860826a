"""Exports of the spaces app (issue 8, item 5).

- ``space_pages_parts``: a space's wiki as Markdown for its admins (``permissions.can_export_space_pages``): the
  current version of every page the admin may see, laid out by the page tree (``parent.md`` and its children in
  ``parent/``), each with YAML front matter (title, author, created, updated, version), the files attached to
  the pages in ``<page>_files/`` next to them, library files that the pages link to in ``_files/``, and links
  to those files and to other exported pages rewritten to relative paths. Pages in the trash and pages hidden by
  moderators are left out: the export is the space's wiki as its readers see it.
- ``member_data``: this app's part of a member's own data export (``members.exports``).

What a member's export contains, and what it leaves out (also written into the archive's README):
1. Everything the member wrote is theirs, wherever it is now: pages they created, the versions they saved,
   questions, answers, comments, posts, events and polls they created, papers, the files they uploaded, their
   drafts, registration answers, join-request messages and notes on flags, including content in spaces they
   have left or been removed from, and content that is restricted, hidden or in the trash (with its state).
2. Their own actions on other people's content (votes, likes, bookmarks, watches, poll votes, registrations,
   answers and comments on others' items, edits of others' pages) are listed; the other item's title (or page
   text) is given only when the member can still see that item now, otherwise only its kind and id.
3. Other people's content is never included: no comments or answers by others, no other member's profile or
   e-mail address, nothing from an item the member cannot see now beyond what they wrote themselves.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from copapp.exports import FilePart, JsonPart, Part, TextPart, UniquePaths, iso, safe_component, to_json
from spaces import permissions
from spaces.models import (
    Answer,
    Bookmark,
    Comment,
    Event,
    FileAsset,
    FileVersion,
    Flag,
    Invitation,
    Item,
    JoinRequest,
    ModerationState,
    Page,
    PageDraft,
    Paper,
    Poll,
    PollVote,
    Post,
    Question,
    Reaction,
    Registration,
    Space,
    SpaceBan,
    SpaceMembership,
    SpaceRole,
    Vote,
    Watch,
)

BATCH = 500


# === A space's pages as Markdown ====================================================================================
@dataclass
class _ExportedPage:
    page: Page
    path: str  # "<root>/parent/child.md"
    files_dir: str  # "<root>/parent/child_files"


def _yaml(value) -> str:
    """A YAML scalar: JSON's double-quoted strings, numbers and booleans are valid YAML."""
    return to_json(value)


# ``[text](/files/12/name.pdf)``, ``![alt](/files/12/inline/name.png)``, ``[p](/p/34/)``, with or without the
# site's address in front.
_FILE_LINK = re.compile(r"(?P<prefix>\]\(\s*<?)(?P<site>https?://[^\s)/]+)?/files/(?P<id>\d+)/(?:inline/)?[^\s)>]*")
_PAGE_LINK = re.compile(r"(?P<prefix>\]\(\s*<?)(?P<site>https?://[^\s)/]+)?/p/(?P<id>\d+)/?(?P<anchor>#[^\s)>]*)?")


def _linked_file_ids(body: str) -> set[int]:
    return {int(m.group("id")) for m in _FILE_LINK.finditer(body or "")}


def _rewrite_links(body: str, here: str, file_paths: dict[int, str], page_paths: dict[int, str]) -> str:
    """Links to exported files and pages become relative paths inside the archive; others stay as they were."""
    site = settings.SITE_URL.split("://", 1)[-1]

    def ours(match) -> bool:
        return not match.group("site") or match.group("site").split("://", 1)[-1] == site

    def file_link(match):
        target = file_paths.get(int(match.group("id")))
        if target is None or not ours(match):
            return match.group(0)
        return match.group("prefix") + posixpath.relpath(target, posixpath.dirname(here))

    def page_link(match):
        target = page_paths.get(int(match.group("id")))
        if target is None or not ours(match):
            return match.group(0)
        relative = posixpath.relpath(target, posixpath.dirname(here))
        return match.group("prefix") + relative + (match.group("anchor") or "")

    return _PAGE_LINK.sub(page_link, _FILE_LINK.sub(file_link, body or ""))


def exportable_pages(user, space: Space) -> QuerySet[Page]:
    """The pages of ``space`` that ``user`` may see (restricted ones only if they may), neither in the trash nor
    hidden by moderators."""
    return (
        Page.objects.visible_to(user)
        .filter(space=space, item__moderation_state=ModerationState.VISIBLE)
        .select_related("item__author", "last_edited_by")
        .defer("body", "body_html")
        .order_by("position", "title", "pk")
    )


def _tree_paths(pages: list[Page], root: str) -> list[_ExportedPage]:
    """Each page's path: top-level pages (and pages whose parent is not exported) at the root, children in a
    folder named after their parent. Names are the pages' slugs, made unique case-insensitively."""
    by_id = {page.pk: page for page in pages}
    children: dict[int | None, list[Page]] = {}
    for page in pages:
        parent = page.parent_id if page.parent_id in by_id else None
        children.setdefault(parent, []).append(page)
    paths = UniquePaths()
    paths.claim(f"{root}/index.md")
    paths.claim(f"{root}/_files")
    out: list[_ExportedPage] = []

    def walk(parent_id: int | None, folder: str, depth: int) -> None:
        for page in children.get(parent_id, []):
            name = safe_component(page.slug, fallback=f"page-{page.pk}")
            path = paths.claim(f"{folder}/{name}.md")
            stem = path[: -len(".md")]
            files_dir = paths.claim(f"{stem}_files")
            out.append(_ExportedPage(page=page, path=path, files_dir=files_dir))
            if depth < 50:  # the tree has no cycles (services check), but an archive must never loop
                walk(page.pk, stem, depth + 1)

    walk(None, root, 0)
    return out


def _front_matter(page: Page, space: Space) -> str:
    author = page.item.author
    lines = [
        "---",
        f"title: {_yaml(page.title)}",
        f"author: {_yaml(author.public_name if author else str(_('former member')))}",
        f"created: {_yaml(iso(page.item.created_at))}",
        f"updated: {_yaml(iso(page.last_edited_at or page.item.updated_at))}",
    ]
    if page.last_edited_by is not None:
        lines.append(f"updated_by: {_yaml(page.last_edited_by.public_name)}")
    lines += [
        f"version: {page.version}",
        f"space: {_yaml(space.name)}",
        f"source: {_yaml(settings.SITE_URL + page.get_permalink())}",
    ]
    if page.item.is_restricted:
        lines.append("restricted: true")
    lines.append("---")
    return "\n".join(lines) + "\n\n"


def space_pages_parts(user, space: Space) -> list[Part]:
    """The parts of the Markdown export of ``space`` for ``user`` (who must pass ``can_export_space_pages``).

    Reads the page tree and the file list now (a few queries, no page text); each page's text is read when the
    archive reaches it, so a big wiki streams without being held in memory.
    """
    root = safe_component(f"{space.community.slug}-{space.slug}-pages")
    exported = _tree_paths(list(exportable_pages(user, space)), root)
    page_ids = [entry.page.pk for entry in exported]
    page_paths = {entry.page.pk: entry.path for entry in exported}
    files_dir = {entry.page.pk: entry.files_dir for entry in exported}

    visible_files = FileAsset.objects.filter(permissions.visible_files_q(user)).filter(
        space=space, current_version__isnull=False
    )
    attached = list(
        visible_files.filter(page_id__in=page_ids).select_related("current_version").order_by("page_id", "name")
    )
    bodies = Page.objects.filter(pk__in=page_ids).values_list("body", flat=True).iterator(chunk_size=BATCH)
    linked_ids: set[int] = set()
    for body in bodies:
        linked_ids |= _linked_file_ids(body)
    attached_ids = {asset.pk for asset in attached}
    library = list(
        visible_files.filter(pk__in=linked_ids - attached_ids).select_related("current_version").order_by("name")
    )

    paths = UniquePaths()
    file_paths: dict[int, str] = {}
    file_parts: list[Part] = []
    for asset, folder in [(a, files_dir[a.page_id]) for a in attached] + [(a, f"{root}/_files") for a in library]:
        version = asset.current_version
        path = paths.claim(f"{folder}/{safe_component(asset.name, fallback=f'file-{asset.pk}')}")
        file_paths[asset.pk] = path
        file_parts.append(FilePart(path, version.file.storage, version.file.name))

    def page_text(entry: _ExportedPage) -> Callable[[], str]:
        def build() -> str:
            body = Page.objects.filter(pk=entry.page.pk).values_list("body", flat=True).first() or ""
            return _front_matter(entry.page, space) + _rewrite_links(body, entry.path, file_paths, page_paths)

        return build

    index = [f"# {space.name}", "", _("Pages exported on %(date)s.") % {"date": iso(timezone.now())}, ""]
    for entry in exported:
        depth = entry.path.count("/") - root.count("/") - 1
        index.append(f"{'  ' * depth}- [{entry.page.title}]({posixpath.relpath(entry.path, root)})")
    parts: list[Part] = [TextPart(f"{root}/index.md", "\n".join(index) + "\n")]
    parts += [TextPart(entry.path, page_text(entry)) for entry in exported]
    return parts + file_parts


# === A member's own data ============================================================================================
def _space(space: Space) -> dict:
    return {"id": space.pk, "community": space.community.slug, "slug": space.slug, "name": space.name}


def _item_state(item: Item) -> dict:
    return {
        "moderation_state": item.moderation_state,
        "restricted": item.is_restricted,
        "in_trash_since": iso(item.deleted_at),
    }


def _batches(queryset: QuerySet, size: int = BATCH) -> Iterator[list]:
    batch: list = []
    for row in queryset.iterator(chunk_size=size):
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _visible(user, item_ids: Iterable[int | None]) -> set[int]:
    """Which of ``item_ids`` the member can see now (one query)."""
    ids = {pk for pk in item_ids if pk is not None}
    if not ids:
        return set()
    return set(Item.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))


def _rows(queryset: QuerySet, refs: Callable, row: Callable, user) -> Callable[[], Iterator[dict]]:
    """Rows of ``queryset`` in batches; ``refs(obj)`` names the items whose visibility ``row(obj, seen)`` needs."""

    def generate() -> Iterator[dict]:
        for batch in _batches(queryset):
            seen = _visible(user, (pk for obj in batch for pk in refs(obj)))
            for obj in batch:
                yield row(obj, seen)

    return generate


def _title_if_seen(item: Item | None, seen: set[int]) -> str | None:
    return item.title if item is not None and item.pk in seen else None


def member_data(user) -> Iterator[Part]:
    """The spaces app's part of ``user``'s own data export (see the module's docstring for what is in it)."""
    own = {"item__author": user}
    yield JsonPart(
        "spaces/memberships.json",
        _rows(
            SpaceMembership.objects.filter(user=user).select_related("space__community").order_by("pk"),
            lambda m: (),
            lambda m, seen: {
                "space": _space(m.space),
                "role": SpaceRole(m.role).label,
                "joined_at": iso(m.joined_at),
            },
            user,
        ),
    )
    yield JsonPart(
        "spaces/join_requests.json",
        _rows(
            JoinRequest.objects.filter(user=user).select_related("space__community").order_by("pk"),
            lambda r: (),
            lambda r, seen: {
                "space": _space(r.space),
                "message": r.message,
                "status": r.status,
                "answer": r.response_message,
                "created_at": iso(r.created_at),
                "decided_at": iso(r.decided_at),
            },
            user,
        ),
    )
    yield JsonPart(
        "spaces/invitations.json",
        _rows(
            Invitation.objects.filter(invitee=user).select_related("space__community").order_by("pk"),
            lambda i: (),
            lambda i, seen: {
                "space": _space(i.space),
                "role": SpaceRole(i.role).label,
                "message": i.message,
                "status": i.status,
                "created_at": iso(i.created_at),
                "expires_at": iso(i.expires_at),
                "accepted_at": iso(i.accepted_at),
            },
            user,
        ),
    )
    yield JsonPart(
        "spaces/bans.json",
        _rows(
            SpaceBan.objects.filter(user=user).select_related("space__community").order_by("pk"),
            lambda b: (),
            lambda b, seen: {"space": _space(b.space), "reason": b.reason, "created_at": iso(b.created_at)},
            user,
        ),
    )
    yield JsonPart(
        "spaces/pages.json",
        _rows(
            Page.objects.filter(**own).select_related("item", "space__community").order_by("pk"),
            lambda p: (),
            lambda p, seen: {
                "id": p.pk,
                "space": _space(p.space),
                "slug": p.slug,
                "title": p.title,
                "body": p.body,
                "version": p.version,
                "parent_id": p.parent_id,
                "created_at": iso(p.item.created_at),
                "last_edited_at": iso(p.last_edited_at),
                **_item_state(p.item),
            },
            user,
        ),
    )
    page_history = Page.history.model  # type: ignore[attr-defined]
    own_pages = set(Page.objects.filter(**own).values_list("pk", flat=True))
    edited = set(page_history.objects.filter(history_user=user).values_list("id", flat=True))
    page_items = dict(Page.objects.filter(pk__in=edited).values_list("pk", "item_id"))
    yield JsonPart(
        "spaces/page_versions.json",
        _rows(
            page_history.objects.filter(history_user=user).order_by("history_id"),
            lambda v: (page_items.get(v.id),),
            lambda v, seen: {
                "page_id": v.id,
                "version": v.version,
                "saved_at": iso(v.history_date),
                "summary": v.history_change_reason or "",
                # Someone else's page: its text at that version is theirs too, given only while the page is seen.
                **(
                    {"title": v.title, "body": v.body}
                    if v.id in own_pages or page_items.get(v.id) in seen
                    else {"title": None, "body": None}
                ),
            },
            user,
        ),
    )
    yield JsonPart(
        "spaces/page_drafts.json",
        _rows(
            PageDraft.objects.filter(user=user).select_related("space__community").order_by("pk"),
            lambda d: (),
            lambda d, seen: {
                "space": _space(d.space),
                "page_id": d.page_id,
                "title": d.title,
                "body": d.body,
                "updated_at": iso(d.updated_at),
            },
            user,
        ),
    )
    yield JsonPart(
        "spaces/questions.json",
        _rows(
            Question.objects.filter(**own)
            .select_related("item", "space__community")
            .prefetch_related("tags")
            .order_by("pk"),
            lambda q: (),
            lambda q, seen: {
                "id": q.pk,
                "space": _space(q.space),
                "title": q.title,
                "body": q.body,
                "tags": [tag.name for tag in q.tags.all()],
                "answer_count": q.answer_count,
                "accepted_answer_id": q.accepted_answer_id,
                "created_at": iso(q.created_at),
                "last_edited_at": iso(q.last_edited_at),
                **_item_state(q.item),
            },
            user,
        ),
    )
    yield JsonPart(
        "spaces/answers.json",
        _rows(
            Answer.objects.filter(**own)
            .select_related("item", "question__item", "question__space__community")
            .order_by("pk"),
            lambda a: (a.question.item_id,),
            lambda a, seen: {
                "id": a.pk,
                "space": _space(a.question.space),
                "question_id": a.question_id,
                "question_title": _title_if_seen(a.question.item, seen),
                "body": a.body,
                "accepted": a.question.accepted_answer_id == a.pk,
                "created_at": iso(a.created_at),
                "last_edited_at": iso(a.last_edited_at),
                **_item_state(a.item),
            },
            user,
        ),
    )
    yield JsonPart(
        "spaces/comments.json",
        _rows(
            Comment.objects.filter(**own).select_related("item__space__community", "target").order_by("pk"),
            lambda c: (c.target_id,),
            lambda c, seen: {
                "id": c.pk,
                "space": _space(c.item.space),
                "on": {"kind": c.target.kind, "id": c.target_id, "title": _title_if_seen(c.target, seen)},
                "reply_to_comment_id": c.parent_id,
                "body": c.body,
                "created_at": iso(c.created_at),
                "edited_at": iso(c.edited_at),
                **_item_state(c.item),
            },
            user,
        ),
    )
    yield JsonPart(
        "spaces/posts.json",
        _rows(
            Post.objects.filter(**own).select_related("item", "space__community").order_by("pk"),
            lambda p: (),
            lambda p, seen: {
                "id": p.pk,
                "space": _space(p.space),
                "body": p.body,
                "announcement": p.is_announcement,
                "pinned": p.is_pinned,
                "created_at": iso(p.created_at),
                "published_at": iso(p.published_at),
                "edited_at": iso(p.edited_at),
                **_item_state(p.item),
            },
            user,
        ),
    )
    yield JsonPart(
        "spaces/events.json",
        _rows(
            Event.objects.filter(**own).select_related("item", "space__community").order_by("pk"),
            lambda e: (),
            lambda e, seen: {
                "id": e.pk,
                "space": _space(e.space),
                "title": e.title,
                "description": e.description,
                "starts_at": iso(e.starts_at),
                "ends_at": iso(e.ends_at),
                "time_zone": e.timezone,
                "venue": e.venue,
                "online_url": e.online_url,
                "capacity": e.capacity,
                "created_at": iso(e.created_at),
                **_item_state(e.item),
            },
            user,
        ),
    )
    yield JsonPart(
        "spaces/event_registrations.json",
        _rows(
            Registration.objects.filter(user=user)
            .select_related("event__item", "event__space__community")
            .prefetch_related("event__registration_questions")
            .order_by("pk"),
            lambda r: (r.event.item_id,),
            lambda r, seen: {
                "event_id": r.event_id,
                "event_title": _title_if_seen(r.event.item, seen),
                "status": r.status,
                "answers": [
                    {"question": q.label, "answer": r.answers[str(q.pk)]}
                    for q in r.event.registration_questions.all()
                    if str(q.pk) in (r.answers or {})
                ],
                "registered_at": iso(r.created_at),
                "status_changed_at": iso(r.status_changed_at),
                "attended": r.attended,
            },
            user,
        ),
    )
    yield JsonPart(
        "spaces/polls.json",
        _rows(
            Poll.objects.filter(**own)
            .select_related("item", "space__community")
            .prefetch_related("options")
            .order_by("pk"),
            lambda p: (),
            lambda p, seen: {
                "id": p.pk,
                "space": _space(p.space),
                "question": p.question,
                "description": p.description,
                "options": [o.label for o in p.options.all()],
                "multiple": p.multiple,
                "closes_at": iso(p.closes_at),
                "created_at": iso(p.created_at),
                **_item_state(p.item),
            },
            user,
        ),
    )
    yield JsonPart(
        "spaces/poll_votes.json",
        _rows(
            PollVote.objects.filter(user=user).select_related("poll__item", "option").order_by("pk"),
            lambda v: (v.poll.item_id,),
            lambda v, seen: {
                "poll_id": v.poll_id,
                "poll_question": v.poll.question if v.poll.item_id in seen else None,
                "choice": v.option.label if v.poll.item_id in seen else None,
                "voted_at": iso(v.created_at),
            },
            user,
        ),
    )
    for name, model, time_field in (
        ("votes", Vote, "voted_at"),
        ("likes", Reaction, "liked_at"),
        ("bookmarks", Bookmark, "saved_at"),
    ):
        yield JsonPart(
            f"spaces/{name}.json",
            _rows(
                model.objects.filter(user=user).select_related("item").order_by("pk"),
                lambda r: (r.item_id,),
                lambda r, seen, time_field=time_field: {
                    "item": {"kind": r.item.kind, "id": r.item_id, "title": _title_if_seen(r.item, seen)},
                    time_field: iso(r.created_at),
                },
                user,
            ),
        )
    yield JsonPart(
        "spaces/watches.json",
        _rows(
            Watch.objects.filter(user=user).select_related("item", "space__community").order_by("pk"),
            lambda w: (w.item_id,),
            lambda w, seen: {
                "space": _space(w.space) if w.space_id else None,
                "item": (
                    {"kind": w.item.kind, "id": w.item_id, "title": _title_if_seen(w.item, seen)} if w.item_id else None
                ),
                "since": iso(w.created_at),
            },
            user,
        ),
    )
    yield JsonPart(
        "spaces/flags_raised.json",
        _rows(
            Flag.objects.filter(flagger=user).select_related("item", "target_type").order_by("pk"),
            lambda f: (f.item_id,),
            lambda f, seen: {
                "on": (
                    {"kind": f.item.kind, "id": f.item_id, "title": _title_if_seen(f.item, seen)}
                    if f.item_id
                    else {"kind": f.target_type.model, "id": f.target_id}
                ),
                "reason": f.reason,
                "note": f.note,
                "status": f.status,
                "created_at": iso(f.created_at),
                "resolved_at": iso(f.resolved_at),
            },
            user,
        ),
    )
    yield from _paper_parts(user)
    yield from _file_parts(user)


def _paper_parts(user) -> Iterator[Part]:
    papers = list(Paper.objects.filter(author=user).select_related("event__item").order_by("pk"))
    seen = _visible(user, (paper.event.item_id for paper in papers))

    def path(paper: Paper) -> str | None:
        if not paper.file:
            return None
        return f"spaces/papers/{paper.pk}/{safe_component(paper.file_name or posixpath.basename(paper.file.name))}"

    def rows():
        for paper in papers:
            yield {
                "id": paper.pk,
                "event_id": paper.event_id,
                "event_title": _title_if_seen(paper.event.item, seen),
                "title": paper.title,
                "abstract": paper.abstract,
                "status": paper.status,
                "message_from_the_organisers": paper.decision_message,
                "submitted_at": iso(paper.submitted_at),
                "decided_at": iso(paper.decided_at),
                "file": path(paper),
            }

    yield JsonPart("spaces/papers.json", rows)
    for paper in papers:
        if paper.file:
            yield FilePart(path(paper), paper.file.storage, paper.file.name)


def _version_path(version: FileVersion) -> str:
    name = safe_component(version.original_name, fallback=f"file-{version.asset_id}")
    return f"spaces/files/{version.asset_id}/v{version.number}/{name}"


def _file_parts(user) -> Iterator[Part]:
    """Files the member added (the asset row) and every version they uploaded, with its bytes."""
    yield JsonPart(
        "spaces/files.json",
        _rows(
            FileAsset.objects.filter(item__author=user).select_related("item", "space__community").order_by("pk"),
            lambda a: (),
            lambda a, seen: {
                "id": a.pk,
                "space": _space(a.space),
                "name": a.name,
                "description": a.description,
                "attached_to_page_id": a.page_id,
                "attached_to_event_id": a.event_id,
                **_item_state(a.item),
            },
            user,
        ),
    )
    versions = FileVersion.objects.filter(uploaded_by=user).order_by("pk")

    def version_rows():
        for version in versions.iterator(chunk_size=BATCH):
            yield {
                "file_id": version.asset_id,
                "version": version.number,
                "name": version.original_name,
                "size": version.size,
                "content_type": version.content_type,
                "sha256": version.sha256,
                "comment": version.comment,
                "uploaded_at": iso(version.uploaded_at),
                "path_in_this_archive": _version_path(version),
            }

    yield JsonPart("spaces/file_versions.json", version_rows)
    for version in versions.only("pk", "asset_id", "number", "original_name", "file").iterator(chunk_size=BATCH):
        if version.file:
            yield FilePart(_version_path(version), version.file.storage, version.file.name)
