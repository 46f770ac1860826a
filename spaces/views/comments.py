"""Comments on any item: post, reply, edit, delete, hide. htmx swaps the thread partial; without JS: redirect.

The thread itself is rendered by ``{% comment_section item user %}`` (spaces/templatetags/space_comments.py)
on the page of whatever is commented on; these views only act and answer with the same thread partial.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from spaces import permissions, selectors_content, services
from spaces.models import Comment, Item
from spaces.views.membership import _error_text, onboarding_redirects


class CommentForm(forms.Form):
    """Input only: the service checks the body (empty, too long) and whether the reply target fits."""

    body = forms.CharField(label=gettext_lazy("Comment"), required=False, strip=False, widget=forms.Textarea)
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)


def _target_for(user, community_slug: str, space_slug: str, item_id: int) -> Item:
    """The item to comment on, 404 unless the user may see it in this space."""
    space = permissions.get_space_for_user(user, community_slug, space_slug)
    item = permissions.get_visible_item(user, item_id)
    if item.space_id != space.pk:
        raise Http404
    item.space = space
    if not permissions.can_see_in_context(user, item):
        raise Http404
    return item


def _comment_for(user, community_slug: str, space_slug: str, comment_id: int) -> Comment:
    """The comment, 404 unless the user may see it and what it is on."""
    space = permissions.get_space_for_user(user, community_slug, space_slug)
    comment = (
        Comment.objects.select_related("item__author", "target__author", "parent__item")
        .filter(pk=comment_id, item__space=space)
        .first()
    )
    if comment is None:
        raise Http404
    comment.item.space = comment.target.space = space
    if not permissions.can_see_comment(user, comment):
        raise Http404
    return comment


def _answer(request, target: Item, *, done: str = "", error: str = "", draft: str = "", anchor: str = "comments"):
    """The thread partial for htmx (with an inline note), else a redirect back to the item with a message."""
    if request.htmx:
        context = selectors_content.comment_thread_context(target, request.user)
        context.update(status=done, error=error, draft=draft)
        return render(request, "spaces/partials/comment_thread.html", context)
    if error:
        messages.error(request, error)
    elif done:
        messages.success(request, done)
    return redirect(f"{selectors_content.item_url(target)}#{anchor}")


@login_required
@require_POST
@onboarding_redirects
def comment_create(request, community_slug, space_slug, item_id):
    target = _target_for(request.user, community_slug, space_slug, item_id)
    form = CommentForm(request.POST)
    form.is_valid()
    body = form.cleaned_data.get("body") or ""
    parent = None
    if parent_id := form.cleaned_data.get("parent"):
        parent = Comment.objects.select_related("item__space", "parent__item").filter(pk=parent_id).first()
        if parent is None:
            raise Http404
    try:
        comment = services.comment_create(actor=request.user, target=target, body=body, parent=parent)
    except ValidationError as exc:
        return _answer(request, target, error=_error_text(exc), draft="" if parent else body)
    return _answer(request, target, done=_("Comment posted."), anchor=f"comment-{comment.pk}")


@login_required
@require_POST
def comment_edit(request, community_slug, space_slug, comment_id):
    comment = _comment_for(request.user, community_slug, space_slug, comment_id)
    form = CommentForm(request.POST)
    form.is_valid()
    try:
        services.comment_edit(actor=request.user, comment=comment, body=form.cleaned_data.get("body") or "")
    except ValidationError as exc:
        return _answer(request, comment.target, error=_error_text(exc), anchor=f"comment-{comment.pk}")
    return _answer(request, comment.target, done=_("Comment updated."), anchor=f"comment-{comment.pk}")


@login_required
@require_POST
def comment_delete(request, community_slug, space_slug, comment_id):
    comment = _comment_for(request.user, community_slug, space_slug, comment_id)
    try:
        services.comment_delete(actor=request.user, comment=comment)
    except ValidationError as exc:
        return _answer(request, comment.target, error=_error_text(exc))
    return _answer(request, comment.target, done=_("Comment deleted."))


@login_required
@require_POST
def comment_moderate(request, community_slug, space_slug, comment_id, hidden):
    comment = _comment_for(request.user, community_slug, space_slug, comment_id)
    services.comment_set_hidden(actor=request.user, comment=comment, hidden=hidden)
    done = _("Comment hidden.") if hidden else _("Comment shown again.")
    return _answer(request, comment.target, done=done, anchor=f"comment-{comment.pk}")
