"""Every write to comments: create (threaded one level), edit with history, delete to the trash, hide, show.

A comment is an ``Item(kind="comment")`` in the space of what it is on, plus a ``Comment`` row holding the
Markdown source, the rendered HTML (rendered once, at save) and its versions (django-simple-history).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.recording import record_activity
from communities.services import onboarding_ensure
from copapp.markdown import render_markdown
from spaces import permissions
from spaces.models import Comment, Item, ItemKind, ModerationState

from .moderation import log_item_state_change, log_moderator_edit, spam_check, spam_check_edit
from .posts import mention_links, mention_sync
from .trash import item_trash

MAX_BODY = 10_000


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("Write something before posting.")})
    if len(body) > MAX_BODY:
        raise ValidationError({"body": _("Keep comments under %d characters.") % MAX_BODY})
    return body


def _save_version(comment: Comment, *, actor, reason: str, update_fields: list[str] | None = None) -> None:
    comment.body_html = render_markdown(comment.body, mentions=mention_links(comment.body))
    comment._change_reason = reason  # type: ignore[attr-defined]
    comment._history_user = actor  # type: ignore[attr-defined]
    if update_fields is None:
        comment.full_clean(exclude=["item", "target", "parent"])
        comment.save()
    else:
        comment.save(update_fields=[*update_fields, "body_html"])
    mention_sync(comment.item, comment.body)


def _record(actor, kind: str, comment: Comment) -> None:
    space = comment.item.space
    record_activity(actor=actor, kind=kind, community_id=space.community_id, space_id=space.pk, target=comment)


@transaction.atomic
def comment_create(*, actor, target: Item, body: str, parent: Comment | None = None) -> Comment:
    """Comment on ``target``. A reply to a reply attaches to the top-level comment: one level of threads."""
    if target.kind == ItemKind.COMMENT:
        raise ValidationError(_("Reply to the comment instead of commenting on it."))
    if not permissions.can_comment_on(actor, target):
        raise PermissionDenied
    if parent is not None:
        if parent.target_id != target.pk:
            raise ValidationError(_("You can only reply to a comment in the same discussion."))
        if not permissions.can_see_comment(actor, parent):
            raise ValidationError(_("The comment you replied to is no longer available."))
        if parent.parent_id is not None:
            parent = parent.parent
    body = _clean_body(body)
    spam_check(actor, target.space, body)
    onboarding_ensure(user=actor, community=target.space.community)
    item = Item.objects.create(kind=ItemKind.COMMENT, space=target.space, author=actor)
    comment = Comment(item=item, target=target, parent=parent, body=body, author=actor)
    _save_version(comment, actor=actor, reason=_("Posted"))
    _record(actor, "comment_create", comment)
    return comment


@transaction.atomic
def comment_edit(*, actor, comment: Comment, body: str) -> Comment:
    """The author rewrites their comment; the earlier text stays in its history."""
    if not permissions.can_see_comment(actor, comment) or not permissions.can_edit_comment(actor, comment):
        raise PermissionDenied
    body = _clean_body(body)
    if body == comment.body:
        return comment
    spam_check_edit(actor, comment.item.space, body, comment.body)
    before = {"body": comment.body}
    comment.body = body
    comment.edited_at = timezone.now()
    _save_version(comment, actor=actor, reason=_("Edited"), update_fields=["body", "edited_at"])
    comment.item.save(update_fields=["updated_at"])
    log_moderator_edit(actor=actor, item=comment.item, before=before, after={"body": body})
    _record(actor, "comment_edit", comment)
    return comment


def comment_delete(*, actor, comment: Comment) -> int:
    """Deleting a comment moves it (and its replies) to the space's trash; see ``item_trash``."""
    return item_trash(actor=actor, item=comment.item)


@transaction.atomic
def comment_set_hidden(*, actor, comment: Comment, hidden: bool) -> Comment:
    """Moderators hide a comment from everyone but the moderators and its author, or show it again."""
    item = comment.item
    if not permissions.can_see_comment(actor, comment) or not permissions.can_hide_item(actor, item):
        raise PermissionDenied
    state = ModerationState.HIDDEN if hidden else ModerationState.VISIBLE
    if item.moderation_state == state:
        return comment
    log_item_state_change(actor=actor, item=item, state=state)
    item.moderation_state = state
    item.save(update_fields=["moderation_state"])
    _record(actor, "comment_hide" if hidden else "comment_unhide", comment)
    return comment


def comment_hide(*, actor, comment: Comment) -> Comment:
    return comment_set_hidden(actor=actor, comment=comment, hidden=True)


def comment_unhide(*, actor, comment: Comment) -> Comment:
    return comment_set_hidden(actor=actor, comment=comment, hidden=False)
