"""Every write to wiki pages: create, edit (with conflict detection), restore, restrict, move, copy, templates,
drafts and edit presence. Each save writes one history row (django-simple-history) with author and summary."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from analytics.recording import record_activity
from communities.services import onboarding_ensure
from copapp.markdown import render_markdown
from spaces import permissions
from spaces.models import (
    FileAsset,
    FileVersion,
    Item,
    ItemKind,
    Page,
    PageDraft,
    PageEditPresence,
    PageTemplate,
    Space,
)
from spaces.selectors_pages import space_file_ids
from spaces.services.moderation import log_moderator_edit, spam_check, spam_check_edit

User = get_user_model()
logger = logging.getLogger(__name__)

PRESENCE_WINDOW = timedelta(minutes=5)
MAX_TITLE = 300
MAX_BODY = 500_000


class EditConflict(Exception):
    """Someone saved the page after this editor started; their text is kept as a draft and shown to merge."""

    def __init__(self, page: Page, title: str, body: str, base_version: int):
        super().__init__(f"Edit conflict on page {page.pk}: based on {base_version}, now {page.version}")
        self.page = page
        self.title = title
        self.body = body
        self.base_version = base_version


def _render(page: Page) -> str:
    return render_markdown(page.body, allowed_file_ids=space_file_ids(page.space_id))


def _rerender(pages: Iterable[Page], file_ids: list[int]) -> int:
    """Store fresh ``body_html`` for ``pages`` against the allow-list ``file_ids``; returns how many changed.

    A column update, not a save: ``body_html`` is not part of the page's history, so no version is written.
    """
    changed = 0
    for page in pages:
        html = render_markdown(page.body, allowed_file_ids=file_ids)
        if html != page.body_html:
            Page.objects.filter(pk=page.pk).update(body_html=html)
            page.body_html = html
            changed += 1
    return changed


# More ids than this and the lookup only asks for "/files/" (a query of many LIKEs costs more than it saves).
_RERENDER_MAX_IDS = 50


def pages_rerender_for_space(space: Space | int, *, file_ids: Iterable[int] | None = None) -> int:
    """Re-render the stored HTML of the space's pages that link to files, after its files changed.

    The allow-list of images is the space's files at render time, so an image linked before its file was
    uploaded (or after it moved away) would stay stale until the next edit. Only pages whose text mentions
    ``/files/`` are read (or, given ``file_ids``, ``/files/<id>/`` for one of them): bounded work.
    Returns how many pages changed.
    """
    space_id = space if isinstance(space, int) else space.pk
    ids = None if file_ids is None else list(file_ids)
    if ids == []:
        return 0
    pages = Page.objects.filter(space_id=space_id, body__contains="/files/")
    if ids and len(ids) <= _RERENDER_MAX_IDS:
        mentions = Q()
        for pk in ids:
            mentions |= Q(body__contains=f"/files/{pk}/")
        pages = pages.filter(mentions)
    pages_list = list(pages.only("pk", "body", "body_html"))
    if not pages_list:
        return 0
    return _rerender(pages_list, space_file_ids(space_id))


def _validate_text(title: str, body: str) -> tuple[str, str]:
    title = " ".join((title or "").split())
    errors = {}
    if not title:
        errors["title"] = [_("Give the page a title.")]
    elif len(title) > MAX_TITLE:
        errors["title"] = [_("Keep the title under %d characters.") % MAX_TITLE]
    if len(body or "") > MAX_BODY:
        errors["body"] = [_("This page is too long (over %d characters); split it into subpages.") % MAX_BODY]
    if errors:
        raise ValidationError(errors)
    return title, body or ""


def _unique_slug(space: Space, title: str, exclude_pk: int | None = None) -> str:
    base = slugify(title, allow_unicode=True)[:70] or "page"
    slug, n = base, 1
    taken = Page.objects.filter(space=space, slug__startswith=base)
    if exclude_pk:
        taken = taken.exclude(pk=exclude_pk)
    existing = set(taken.values_list("slug", flat=True))
    while slug in existing:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _save_version(page: Page, *, actor, summary: str, fields: list[str] | None = None) -> None:
    page._change_reason = summary[:100]  # type: ignore[attr-defined]
    page._history_user = actor  # type: ignore[attr-defined]
    page.body_html = _render(page)
    page.save() if fields is None else page.save(update_fields=[*fields, "body_html"])


def _check_parent(space: Space, parent: Page | None, page: Page | None = None) -> None:
    if parent is None:
        return
    if parent.space_id != space.pk or parent.item.deleted_at is not None:
        raise ValidationError({"parent": _("The parent page must be a page of this space.")})
    node: Page | None = parent
    while node is not None and page is not None:
        if node.pk == page.pk:
            raise ValidationError({"parent": _("A page cannot be placed under itself or one of its subpages.")})
        node = node.parent


@transaction.atomic
def page_create(
    *, actor, space: Space, title: str, body: str = "", parent: Page | None = None, summary: str = ""
) -> Page:
    if not permissions.can_contribute(actor, space):
        raise PermissionDenied
    onboarding_ensure(user=actor, community=space.community)
    title, body = _validate_text(title, body)
    spam_check(actor, space, f"{title}\n{body}")
    _check_parent(space, parent)
    item = Item.objects.create(kind=ItemKind.PAGE, space=space, author=actor, title=title)
    position = Page.objects.filter(space=space, parent=parent).count()
    page = Page(
        item=item,
        space=space,
        parent=parent,
        position=position,
        slug=_unique_slug(space, title),
        title=title,
        body=body,
        created_by=actor,
        last_edited_by=actor,
        last_edited_at=timezone.now(),
    )
    _save_version(page, actor=actor, summary=summary or _("Created"))
    PageDraft.objects.filter(user=actor, space=space, page__isnull=True).delete()
    record_activity(actor=actor, kind="page_create", community_id=space.community_id, space_id=space.pk, target=page)
    return page


def page_update(*, actor, page: Page, title: str, body: str, base_version: int, summary: str = "") -> Page:
    """Save a new version, unless someone else saved since ``base_version``: then raise EditConflict.

    The row is locked while we compare versions, so of two editors who started from the same version exactly
    one saves and the other is shown the conflict; the loser's text is kept as their draft, so nothing is
    lost. The draft is written after the locked transaction has ended: inside it, the conflict would roll the
    draft back too.
    """
    try:
        return _page_update(actor=actor, page=page, title=title, body=body, base_version=base_version, summary=summary)
    except EditConflict as conflict:
        draft_save(
            actor=actor,
            space=conflict.page.space,
            page=conflict.page,
            title=conflict.title,
            body=conflict.body,
            base_version=base_version,
        )
        raise


@transaction.atomic
def _page_update(
    *, actor, page: Page, title: str, body: str, base_version: int, summary: str, restoring: bool = False
) -> Page:
    locked = Page.objects.select_for_update().select_related("item", "space__community").get(pk=page.pk)
    if not permissions.can_edit_item(actor, locked.item):
        raise PermissionDenied
    title, body = _validate_text(title, body)
    if locked.version != base_version:
        raise EditConflict(locked, title, body, base_version)
    if locked.title == title and locked.body == body:
        PageDraft.objects.filter(user=actor, page=locked).delete()  # nothing left unsaved
        return locked
    if not restoring:  # a restored version passed the limits once; restoring undoes vandalism that removed links
        spam_check_edit(actor, locked.space, f"{title}\n{body}", f"{locked.title}\n{locked.body}")
    before = {"title": locked.title, "body": locked.body}
    locked.title = title
    locked.body = body
    locked.version += 1
    locked.last_edited_by = actor
    locked.last_edited_at = timezone.now()
    _save_version(
        locked, actor=actor, summary=summary, fields=["title", "body", "version", "last_edited_by", "last_edited_at"]
    )
    Item.objects.filter(pk=locked.item_id).update(title=title, updated_at=locked.last_edited_at)
    locked.item.title = title
    log_moderator_edit(
        actor=actor, item=locked.item, before=before, after={"title": title, "body": body}, reason=summary
    )
    PageDraft.objects.filter(user=actor, page=locked).delete()
    PageEditPresence.objects.filter(user=actor, page=locked).delete()
    record_activity(
        actor=actor, kind="page_edit", community_id=locked.space.community_id, space_id=locked.space_id, target=locked
    )
    for field in ("title", "body", "body_html", "version", "last_edited_by_id", "last_edited_at"):
        setattr(page, field, getattr(locked, field))
    return locked


@transaction.atomic
def page_restore_version(*, actor, page: Page, version: int) -> Page:
    """Restoring writes a new version with the old text ("Restored from version 7"); history is never rewritten."""
    old = page.versions.filter(version=version).order_by("-history_id").first()
    if old is None:
        raise ValidationError(_("There is no version %d of this page.") % version)
    summary = _("Restored from version %d") % version
    # Not ``page_update``: if someone saved meanwhile, the EditConflict goes to the caller and no draft is
    # kept (the restorer typed nothing; a draft of the old text would only prefill their next edit with it).
    return _page_update(
        actor=actor,
        page=page,
        title=old.title,
        body=old.body,
        base_version=page.version,
        summary=summary,
        restoring=True,
    )


# --- Restrictions (django-guardian) ------------------------------------------------------------------
@transaction.atomic
def page_set_restrictions(
    *,
    actor,
    page: Page,
    viewers: list | None = None,
    editors: list | None = None,
    restrict_view: bool,
    restrict_edit: bool,
) -> Page:
    """Restrict viewing and/or editing to named members (plus the author and the space's admins)."""
    item = page.item
    if not permissions.can_restrict_item(actor, item):
        raise PermissionDenied
    viewers = list(viewers or [])
    editors = list(editors or [])
    for codename in ("view_restricted_item", "edit_restricted_item"):
        for user in User.objects.filter(itemuserobjectpermission__content_object=item).distinct():
            remove_perm(f"spaces.{codename}", user, item)
    if restrict_view:
        for user in {*viewers, *editors}:
            assign_perm("spaces.view_restricted_item", user, item)
    if restrict_edit:
        for user in editors:
            assign_perm("spaces.edit_restricted_item", user, item)
    item.is_restricted = restrict_view
    item.save(update_fields=["is_restricted", "updated_at"])
    page.edit_restricted = restrict_edit
    # Restrictions are not part of the page's text history: update the column without writing a version.
    Page.objects.filter(pk=page.pk).update(edit_restricted=restrict_edit)
    return page


# --- Tree ------------------------------------------------------------------
@transaction.atomic
def page_reorder(*, actor, page: Page, parent: Page | None, position: int) -> Page:
    if not permissions.can_edit_item(actor, page.item):
        raise PermissionDenied
    _check_parent(page.space, parent, page)
    siblings = list(
        Page.objects.filter(space=page.space, parent=parent).exclude(pk=page.pk).order_by("position", "title")
    )
    position = max(0, min(position, len(siblings)))
    siblings.insert(position, page)
    for index, sibling in enumerate(siblings):
        if sibling.pk == page.pk:
            page.parent = parent
            page.position = index
            Page.objects.filter(pk=page.pk).update(parent=parent, position=index)
        elif sibling.position != index:
            Page.objects.filter(pk=sibling.pk).update(position=index)
    return page


def _subtree(page: Page, *, include_trashed: bool = False) -> list[Page]:
    """The page and all its live descendants (with ``include_trashed``, those in the trash too), one query per level.

    A move takes trashed subpages along (they keep their trash stamp, so a restore brings them back under
    their parent in the new space); a copy leaves them out.
    """
    pages, level, seen = [page], [page.pk], {page.pk}
    while level:
        children = Page.objects.filter(parent_id__in=level).select_related("item")
        if not include_trashed:
            children = children.filter(item__deleted_at__isnull=True)
        fresh = [child for child in children if child.pk not in seen]
        seen.update(child.pk for child in fresh)
        pages.extend(fresh)
        level = [child.pk for child in fresh]
    return pages


@transaction.atomic
def page_move(*, actor, page: Page, target: Space, parent: Page | None = None) -> Page:
    """Move a page with its subpages, files, comments, restrictions and full history to another space."""
    if target.pk == page.space_id:
        raise ValidationError(_("The page is already in this space."))
    if not permissions.can_move_item(actor, page.item, target):
        raise PermissionDenied
    _check_parent(target, parent)
    source_space_id = page.space_id
    pages = _subtree(page, include_trashed=True)
    for node in pages:
        node.slug = _unique_slug(target, node.title)
        node.space = target
        Page.objects.filter(pk=node.pk).update(space=target, slug=node.slug)
    page_ids = [node.pk for node in pages]
    item_ids = [node.item_id for node in pages]
    files = FileAsset.objects.filter(page_id__in=page_ids)
    moved_files = list(files.values_list("pk", "item_id"))
    item_ids += [item_id for _pk, item_id in moved_files]
    files.update(space=target)
    item_ids += list(Item.objects.filter(comment__target_id__in=item_ids).values_list("pk", flat=True))
    Item.objects.filter(pk__in=item_ids).update(space=target)
    # History rows carry the slug and space too, so old versions open at the new address.
    Page.history.filter(id__in=page_ids).update(space=target)
    page.parent = parent
    page.position = Page.objects.filter(space=target, parent=parent).exclude(pk=page.pk).count()
    Page.objects.filter(pk=page.pk).update(parent=parent, position=page.position)
    page.space = target
    page.item.space = target
    # Images are allowed from the space's own files: the moved pages now answer to the new space's list, and
    # pages left behind no longer show the files that went with them.
    _rerender(pages, space_file_ids(target.pk))
    if moved_files:
        pages_rerender_for_space(source_space_id, file_ids=[pk for pk, _item_id in moved_files])
    record_activity(actor=actor, kind="page_move", community_id=target.community_id, space_id=target.pk, target=page)
    return page


# A link to one of the space's files: ``/files/<id>/`` (detail), ``…/<name>`` (download), ``…/inline/<name>``.
# Not preceded by a host or a longer path, so links to other sites are left alone.
_FILE_LINK = re.compile(r"(?<![\w.:/%-])/files/(\d+)/")


def _point_at_copies(text: str, file_map: dict[int, int]) -> str:
    """``text`` with its links to copied files pointing at the copies."""
    if not file_map or "/files/" not in (text or ""):
        return text

    def replace(match: re.Match) -> str:
        new_id = file_map.get(int(match.group(1)))
        return match.group(0) if new_id is None else f"/files/{new_id}/"

    return _FILE_LINK.sub(replace, text)


def _copy_grants(source: Item, item: Item) -> None:
    for grant in source.user_grants.select_related("permission", "user"):
        assign_perm(f"spaces.{grant.permission.codename}", grant.user, item)


def _copy_file(asset: FileAsset, target: Space, page: Page, written: list[FileVersion]) -> FileAsset:
    """A new file in ``target`` attached to ``page``, every version's bytes copied to its own blob."""
    item = Item.objects.create(
        kind=ItemKind.FILE,
        space=target,
        author=asset.item.author,
        title=asset.item.title,
        is_restricted=asset.item.is_restricted,
    )
    _copy_grants(asset.item, item)
    copy = FileAsset.objects.create(
        item=item,
        space=target,
        page=page,
        name=asset.name,
        description=asset.description,
        version_count=asset.version_count,
    )
    current = None
    for old in asset.versions.all():  # prefetched, by number
        version = FileVersion(
            asset=copy,
            number=old.number,
            original_name=old.original_name,
            size=old.size,
            content_type=old.content_type,
            sha256=old.sha256,
            comment=old.comment,
            uploaded_by_id=old.uploaded_by_id,
        )
        with old.file.open("rb") as source:
            version.file.save(old.original_name, source, save=False)
        written.append(version)
        version.save()
        # ``uploaded_at`` is set on insert; keep the original's date, as the page history keeps its dates.
        FileVersion.objects.filter(pk=version.pk).update(uploaded_at=old.uploaded_at)
        if old.pk == asset.current_version_id:
            current = version
    if current is not None:
        copy.current_version = current
        copy.save(update_fields=["current_version"])
    return copy


def _delete_blobs(versions: list[FileVersion]) -> None:
    for version in versions:
        try:
            version.file.delete(save=False)
        except OSError:
            logger.exception("Could not delete the blob %s of a copy that failed", version.file.name)


@transaction.atomic
def page_copy(*, actor, page: Page, target: Space, parent: Page | None = None) -> Page:
    """Copy a page and its live subpages (current text, restrictions, history, attached files) into another space.

    Attached files are copied with all their versions, each to a blob of its own, so purging the original
    never breaks the copy (or the other way round). Links in the text and history to those files point at
    the copies. If the copy fails, the blobs it wrote are deleted again.
    """
    if not permissions.can_move_item(actor, page.item, target):
        raise PermissionDenied
    _check_parent(target, parent)
    written: list[FileVersion] = []
    try:
        copy = _copy_tree(page, target, parent, written)
    except BaseException:
        _delete_blobs(written)
        raise
    record_activity(actor=actor, kind="page_copy", community_id=target.community_id, space_id=target.pk, target=copy)
    return copy


def _copy_tree(page: Page, target: Space, parent: Page | None, written: list[FileVersion]) -> Page:
    nodes = _subtree(page)
    mapping: dict[int, Page] = {}
    for node in nodes:
        new_parent = mapping.get(node.parent_id) if node.pk != page.pk else parent
        item = Item.objects.create(
            kind=ItemKind.PAGE,
            space=target,
            author=node.item.author,
            title=node.title,
            is_restricted=node.item.is_restricted,
        )
        mapping[node.pk] = Page.objects.create(
            item=item,
            space=target,
            parent=new_parent,
            position=Page.objects.filter(space=target, parent=new_parent).count(),
            slug=_unique_slug(target, node.title),
            title=node.title,
            body=node.body,
            body_html=node.body_html,
            version=node.version,
            edit_restricted=node.edit_restricted,
            created_by=node.created_by,
            last_edited_by=node.last_edited_by,
            last_edited_at=node.last_edited_at,
        )
        _copy_grants(node.item, item)
    # Files first: the text of any copied page may link to a file attached to any other one.
    file_map: dict[int, int] = {}
    assets = (
        FileAsset.objects.filter(page_id__in=list(mapping), item__deleted_at__isnull=True)
        .select_related("item__author")
        .prefetch_related(Prefetch("versions", queryset=FileVersion.objects.order_by("number")))
        .order_by("pk")
    )
    for asset in assets:
        file_map[asset.pk] = _copy_file(asset, target, mapping[asset.page_id], written).pk
    file_ids = space_file_ids(target.pk)
    for node in nodes:
        copy = mapping[node.pk]
        copy.body = _point_at_copies(node.body, file_map)
        copy.body_html = render_markdown(copy.body, allowed_file_ids=file_ids)
        Page.objects.filter(pk=copy.pk).update(body=copy.body, body_html=copy.body_html)
        # simple-history wrote a row for the create; replace it with copies of the original's history.
        copy.versions.all().delete()
        for old in node.versions.order_by("history_id"):
            old.pk = None
            old.history_id = None
            old.id = copy.pk
            old.history_relation_id = copy.pk  # ``page.versions`` follows this column, not ``id``
            old.space_id = target.pk
            old.slug = copy.slug
            old.body = _point_at_copies(old.body, file_map)
            old.save()
    return mapping[page.pk]


# --- Templates ------------------------------------------------------------------
@transaction.atomic
def page_template_save(
    *, actor, space: Space, name: str, body: str, description: str = "", template: PageTemplate | None = None
) -> PageTemplate:
    if not permissions.can_manage_page_templates(actor, space):
        raise PermissionDenied
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": _("Give the template a name.")})
    duplicate = PageTemplate.objects.filter(space=space, name__iexact=name)
    if template is not None:
        duplicate = duplicate.exclude(pk=template.pk)
    if duplicate.exists():
        raise ValidationError({"name": _("This space already has a template with that name.")})
    template = template or PageTemplate(space=space)
    template.name, template.body, template.description = name, body, description
    template.full_clean()
    template.save()
    return template


@transaction.atomic
def page_template_delete(*, actor, template: PageTemplate) -> None:
    if not permissions.can_manage_page_templates(actor, template.space):
        raise PermissionDenied
    template.delete()


# --- Drafts and presence ------------------------------------------------------------------
def draft_save(*, actor, space: Space, page: Page | None, title: str, body: str, base_version: int | None) -> PageDraft:
    """Keep what a member is typing on the server (autosaved), one draft per member and page."""
    if not permissions.can_contribute(actor, space):
        raise PermissionDenied
    defaults = {"title": title[:MAX_TITLE], "body": body[:MAX_BODY], "base_version": base_version, "space": space}
    try:
        with transaction.atomic():
            if page is None:
                draft, _created = PageDraft.objects.update_or_create(
                    user=actor, space=space, page__isnull=True, defaults=defaults
                )
            else:
                draft, _created = PageDraft.objects.update_or_create(user=actor, page=page, defaults=defaults)
    except IntegrityError:  # two autosaves raced to create it; the second one updates
        lookup = {"page__isnull": True, "space": space} if page is None else {"page": page}
        PageDraft.objects.filter(user=actor, **lookup).update(**{k: v for k, v in defaults.items() if k != "space"})
        draft = PageDraft.objects.get(user=actor, **lookup)
    return draft


def draft_discard(*, actor, space: Space, page: Page | None) -> None:
    lookup = {"page": page} if page is not None else {"page__isnull": True, "space": space}
    PageDraft.objects.filter(user=actor, **lookup).delete()


def presence_touch(*, actor, page: Page) -> list:
    """Record that ``actor`` has the page open for editing; return the others who did in the last minutes."""
    now = timezone.now()
    PageEditPresence.objects.update_or_create(page=page, user=actor, defaults={"seen_at": now})
    others = PageEditPresence.objects.filter(page=page, seen_at__gte=now - PRESENCE_WINDOW).exclude(user=actor)
    return [presence.user for presence in others.select_related("user")]
