"""The space's trash: deleting moves content there, space admins restore it, a daily task purges it for good.

Deleting an item also trashes what lives inside it: a page's whole subtree, the files attached to those pages
and every comment on any of them. All of it is stamped with the same ``deleted_at``, which is how a restore
finds exactly what went into the trash together (and leaves alone what had been deleted before, on its own).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.recording import record_activity
from spaces import permissions
from spaces.models import Answer, Comment, FileAsset, FileVersion, Item, ItemKind, Page
from spaces.selectors_content import item_label

logger = logging.getLogger(__name__)


def _retention_days() -> int:
    return getattr(settings, "TRASH_RETENTION_DAYS", 30)


def _retention() -> timedelta:
    return timedelta(days=_retention_days())


def _contents(item: Item) -> set[int]:
    """The ids of ``item`` and everything inside it, trashed or not.

    Pages are walked one level per query (``parent__in``), not one query per page. Comments come last: those
    on any collected item, and replies to a collected comment.
    """
    ids = {item.pk}
    if item.kind == ItemKind.PAGE:
        level = list(Page.objects.filter(item_id=item.pk).values_list("pk", flat=True))
        page_ids: set[int] = set(level)
        while level:
            children = list(Page.objects.filter(parent__in=level).values_list("pk", "item_id"))
            level = [pk for pk, _item_id in children if pk not in page_ids]
            page_ids.update(level)
            ids.update(item_id for _pk, item_id in children)
        ids.update(FileAsset.objects.filter(page_id__in=page_ids).values_list("item_id", flat=True))
    if item.kind == ItemKind.QUESTION:
        ids.update(Answer.objects.filter(question__item_id=item.pk).values_list("item_id", flat=True))
    ids.update(
        Comment.objects.filter(Q(target_id__in=ids) | Q(parent__item_id__in=ids)).values_list("item_id", flat=True)
    )
    return ids


def _trashed_container(item: Item) -> Item | None:
    """The trashed item this one lives in (parent page, the page of an attached file, a comment's target)."""
    if item.kind == ItemKind.PAGE:
        candidates = Item.objects.filter(page__children__item=item)
    elif item.kind == ItemKind.FILE:
        candidates = Item.objects.filter(page__files__item=item)
    elif item.kind == ItemKind.COMMENT:
        candidates = Item.objects.filter(Q(comments__item=item) | Q(comment__replies__item=item))
    elif item.kind == ItemKind.ANSWER:
        candidates = Item.objects.filter(question__answers__item=item)
    else:
        return None
    return candidates.filter(deleted_at__isnull=False).first()


def _recount_question_of(item: Item) -> None:
    """An answer going to (or back from) the trash changes its question's answer count."""
    if item.kind == ItemKind.ANSWER:
        from spaces.services.questions import question_recount

        question_id = Answer.objects.filter(item_id=item.pk).values_list("question_id", flat=True).first()
        if question_id is not None:
            question_recount(question_id)


@transaction.atomic
def item_trash(*, actor, item: Item) -> int:
    """Move ``item`` and everything inside it to the trash; returns how many items went in.

    What was already in the trash keeps its own stamp, so it is not restored along with this.
    """
    if item.deleted_at is not None:
        raise ValidationError(_("This is already in the trash."))
    if not permissions.can_trash_item(actor, item):
        raise PermissionDenied
    now = timezone.now()
    count = Item.objects.filter(pk__in=_contents(item), deleted_at__isnull=True).update(
        deleted_at=now, deleted_by=actor
    )
    item.deleted_at, item.deleted_by = now, actor
    _recount_question_of(item)
    record_activity(
        actor=actor,
        kind="item_trash",
        community_id=item.space.community_id,
        space_id=item.space_id,
        target=item,
    )
    return count


@transaction.atomic
def item_restore(*, actor, item: Item) -> int:
    """Bring back ``item`` and whatever was trashed with it (same stamp); returns how many items came back."""
    if not permissions.can_manage_trash(actor, item.space):
        raise PermissionDenied
    if item.deleted_at is None:
        raise ValidationError(_("This is not in the trash."))
    days = _retention_days()
    if item.deleted_at <= timezone.now() - _retention():
        raise ValidationError(
            _("“%(title)s” was deleted more than %(days)d days ago and can no longer be restored.")
            % {"title": item_label(item), "days": days}
        )
    container = _trashed_container(item)
    if container is not None:
        raise ValidationError(
            _("“%(title)s” is inside “%(container)s”, which is in the trash too: restore that first.")
            % {"title": item_label(item), "container": item_label(container)}
        )
    stamp = item.deleted_at
    count = Item.objects.filter(pk__in=_contents(item), deleted_at=stamp).update(deleted_at=None, deleted_by=None)
    item.deleted_at, item.deleted_by = None, None
    _recount_question_of(item)
    record_activity(
        actor=actor,
        kind="item_restore",
        community_id=item.space.community_id,
        space_id=item.space_id,
        target=item,
    )
    return count


def _delete_blobs(versions: list[FileVersion]) -> None:
    for version in versions:
        try:
            version.file.delete(save=False)
        except OSError:
            # The rows are gone already; a blob left behind is only wasted space, and says so in the log.
            logger.exception("Could not delete the blob %s of a purged file", version.file.name)


@transaction.atomic
def trash_purge(*, now: datetime | None = None) -> int:
    """Delete for good what has been in the trash over ``TRASH_RETENTION_DAYS``; returns how many items.

    Safe to run twice: a second run finds nothing. Comments on purged items and replies to purged comments
    go too (their rows would otherwise be cascaded away from under their registry row). Versions (page and
    comment history) go with the content; file blobs are deleted from storage once the transaction commits.
    """
    cutoff = (now or timezone.now()) - _retention()
    ids = set(Item.objects.filter(deleted_at__lt=cutoff).values_list("pk", flat=True))
    if not ids:
        return 0
    ids.update(
        Item.objects.filter(Q(comment__target_id__in=ids) | Q(comment__parent__item_id__in=ids)).values_list(
            "pk", flat=True
        )
    )
    versions = list(FileVersion.objects.filter(asset__item_id__in=ids))
    comment_ids = list(Comment.objects.filter(item_id__in=ids).values_list("pk", flat=True))
    page_ids = list(Page.objects.filter(item_id__in=ids).values_list("pk", flat=True))
    Item.objects.filter(pk__in=ids).delete()
    Comment.history.filter(id__in=comment_ids).delete()
    Page.history.filter(id__in=page_ids).delete()
    transaction.on_commit(lambda: _delete_blobs(versions))
    return len(ids)
