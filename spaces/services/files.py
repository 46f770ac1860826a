"""Every write to the file repository: upload, new version, trash. Each takes the acting member."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from analytics.recording import record_activity
from communities.services import onboarding_ensure
from copapp.uploads import CheckedFile, validate_file_upload
from spaces import permissions
from spaces.models import Event, FileAsset, FileVersion, Item, ItemKind, Page, Space
from spaces.services.pages import pages_rerender_for_space
from spaces.services.trash import item_trash


def _store_version(*, asset: FileAsset, upload, checked: CheckedFile, number: int, actor, comment: str) -> FileVersion:
    """Write the bytes through the storage API, then the row; a failed row leaves no stray file behind."""
    version = FileVersion(
        asset=asset,
        number=number,
        original_name=checked.name,
        size=checked.size,
        content_type=checked.content_type,
        sha256=checked.sha256,
        comment=comment,
        uploaded_by=actor,
    )
    upload.seek(0)
    version.file.save(checked.name, upload, save=False)
    try:
        version.full_clean(exclude=["asset", "file"])
        version.save()
    except Exception:
        version.file.delete(save=False)
        raise
    return version


@transaction.atomic
def file_upload(
    *, actor, space: Space, upload, page: Page | None = None, description: str = "", event: Event | None = None
) -> FileAsset:
    """Add a file to the space's library, or attach it to ``page`` or (for its organisers) to ``event``.

    The type is checked by content and the size against ``settings.FILE_MAX_BYTES``; the stored name is
    sanitised. Creates the registry ``Item``, the ``FileAsset`` and its first ``FileVersion``.
    """
    if event is not None:
        # An event's agenda and presentations: its organisers only; seen only where the event is seen.
        if page is not None or event.space_id != space.pk or not permissions.can_organise_event(actor, event):
            raise PermissionDenied(_("You cannot add files here."))
    elif not permissions.can_add_file(actor, space, page):
        raise PermissionDenied(_("You cannot add files here."))
    onboarding_ensure(user=actor, community=space.community)
    if len(description) > 500:
        raise ValidationError({"description": _("Please keep the description under 500 characters.")})
    checked = validate_file_upload(upload, max_bytes=settings.FILE_MAX_BYTES)
    item = Item(kind=ItemKind.FILE, space=space, author=actor, title=checked.name)
    item.full_clean()
    item.save()
    asset = FileAsset(
        item=item, space=space, page=page, event=event, name=checked.name, description=description.strip()
    )
    asset.full_clean(exclude=["current_version"])
    asset.save()
    version = _store_version(asset=asset, upload=upload, checked=checked, number=1, actor=actor, comment="")
    asset.current_version = version
    asset.version_count = 1
    asset.save(update_fields=["current_version", "version_count"])
    # Pages that showed ``![…](/files/<id>/inline/…)`` before the file existed had the image stripped.
    pages_rerender_for_space(space, file_ids=[asset.pk])
    record_activity(actor=actor, kind="file_upload", community_id=space.community_id, space_id=space.pk, target=asset)
    return asset


@transaction.atomic
def file_version_upload(*, actor, asset: FileAsset, upload, comment: str = "") -> FileVersion:
    """Upload a new version of a file. Old versions are kept and stay downloadable.

    The file takes the new version's (sanitised) name, so its extension always matches its current content.
    """
    if not permissions.can_add_file_version(actor, asset):
        raise PermissionDenied(_("You cannot upload a new version of this file."))
    if len(comment) > 300:
        raise ValidationError({"comment": _("Please keep the note under 300 characters.")})
    checked = validate_file_upload(upload, max_bytes=settings.FILE_MAX_BYTES)
    # Lock the file so two uploads at once get consecutive numbers instead of one failing.
    locked = FileAsset.objects.select_for_update(of=("self",)).select_related("current_version").get(pk=asset.pk)
    if locked.current_version and locked.current_version.sha256 == checked.sha256:
        raise ValidationError(_("This is the same file as the current version; nothing was changed."))
    number = locked.version_count + 1
    version = _store_version(
        asset=locked, upload=upload, checked=checked, number=number, actor=actor, comment=comment.strip()
    )
    locked.current_version = version
    locked.version_count = number
    locked.name = checked.name
    locked.save(update_fields=["current_version", "version_count", "name"])
    item = asset.item
    item.title = checked.name
    item.save(update_fields=["title", "updated_at"])
    asset.current_version, asset.version_count, asset.name = version, number, checked.name
    pages_rerender_for_space(locked.space_id, file_ids=[asset.pk])
    record_activity(
        actor=actor,
        kind="file_upload",
        community_id=item.space.community_id,
        space_id=item.space_id,
        target=asset,
    )
    return version


@transaction.atomic
def file_trash(*, actor, asset: FileAsset) -> FileAsset:
    """Move a file (all its versions, and comments on it) to the space's trash; space admins restore it there.

    The trash's own ``item_trash`` sets ``Item.deleted_at``/``deleted_by`` and records the activity, so files
    go in and come back out exactly like every other kind of content.
    """
    if not permissions.can_trash_file(actor, asset):
        raise PermissionDenied(_("You cannot delete this file."))
    item_trash(actor=actor, item=asset.item)
    return asset
