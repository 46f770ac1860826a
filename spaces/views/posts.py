"""Posts in a space's stream (list, write, schedule, edit, pin), likes and bookmarks on any item, and the
member's saved list. Permission checks happen in the fetch helpers (404 unseen, 403 seen but not allowed)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from copapp.utils import add_service_errors, safe_next
from spaces import permissions, selectors_content, selectors_posts
from spaces.forms_posts import PostForm
from spaces.models import Item, Post
from spaces.services import posts as services
from spaces.views.membership import _error_text, _space_context, onboarding_redirects
from spaces.views.tracking import record_item_view, record_space_visit

PAGE_SIZE = 20
SAVED_PAGE_SIZE = 30


def _posts_url(space) -> str:
    return reverse("spaces:posts", kwargs={"community_slug": space.community.slug, "space_slug": space.slug})


def _post_context(request, post: Post) -> dict:
    user = request.user
    context = _space_context(request, post.space)
    context.update(
        post=post,
        can_edit_post=post.can_edit,
        can_pin=permissions.can_pin_post(user, post),
        can_trash=permissions.can_trash_item(user, post.item),
        tab="posts",
    )
    return context


@require_GET
def post_list(request, community_slug, space_slug):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="read")
    page = Paginator(selectors_posts.post_list(request.user, space), PAGE_SIZE).get_page(request.GET.get("page"))
    context = _space_context(request, space)
    context.update(
        page_obj=page,
        posts=selectors_posts.post_rows(page.object_list, request.user, space),
        can_post=permissions.can_post(request.user, space),
        tab="posts",
    )
    record_space_visit(request, space)
    return render(request, "spaces/post_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@onboarding_redirects
def post_create(request, community_slug, space_slug):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="read")
    if not permissions.can_post(request.user, space):
        raise PermissionDenied
    form = PostForm(request.POST or None, can_announce=permissions.can_announce(request.user, space))
    if request.method == "POST" and form.is_valid():
        try:
            post = services.post_create(actor=request.user, space=space, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if post.published_at is None:
                messages.success(request, _("Post scheduled. Until then only you and the moderators can see it."))
            else:
                messages.success(request, _("Post published."))
            return redirect(post)
    context = _space_context(request, space)
    context.update(form=form, creating=True, tab="posts")
    return render(request, "spaces/post_form.html", context)


@require_GET
def post_detail(request, community_slug, space_slug, post_id):
    post = selectors_posts.get_post_for_user(request.user, community_slug, space_slug, post_id)
    context = _post_context(request, post)
    record_item_view(request, post, "post_view")
    return render(request, "spaces/post_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def post_edit(request, community_slug, space_slug, post_id):
    post = selectors_posts.get_post_for_user(request.user, community_slug, space_slug, post_id, action="edit")
    unpublished = post.published_at is None
    initial = {"body": post.body, "is_announcement": post.is_announcement, "publish_at": post.item.publish_at}
    form = PostForm(
        request.POST or None,
        initial=initial,
        can_announce=permissions.can_announce(request.user, post.space),
        can_schedule=unpublished,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.post_edit(actor=request.user, post=post, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Post saved."))
            return redirect(post)
    context = _post_context(request, post)
    context.update(form=form)
    return render(request, "spaces/post_form.html", context)


@login_required
@require_POST
def post_pin(request, community_slug, space_slug, post_id, pinned):
    post = selectors_posts.get_post_for_user(request.user, community_slug, space_slug, post_id, action="pin")
    (services.post_pin if pinned else services.post_unpin)(actor=request.user, post=post)
    messages.success(request, _("Post pinned to the top.") if pinned else _("Post unpinned."))
    return redirect(safe_next(request, _posts_url(post.space)))


# --- Likes and bookmarks on any item --------------------------------------------------------------------------
def _item_for(user, community_slug: str, space_slug: str, item_id: int) -> Item:
    """The item, 404 unless the user may see it (and what it lives on) in this space."""
    space = permissions.get_space_for_user(user, community_slug, space_slug)
    item = permissions.get_visible_item(user, item_id)
    if item.space_id != space.pk:
        raise Http404
    item.space = space
    return item


@login_required
@require_POST
def like(request, community_slug, space_slug, item_id):
    """Like or unlike; htmx swaps the button, otherwise back to where the member was."""
    item = _item_for(request.user, community_slug, space_slug, item_id)
    liked, error = None, ""
    try:
        liked, _count = services.like_toggle(actor=request.user, item=item)
    except ValidationError as exc:
        error = _error_text(exc)
    if request.htmx:
        context = selectors_posts.like_button_context(item, request.user, liked=liked)
        context.update(like_error=error, next=request.POST.get("next", ""))
        return render(request, "spaces/partials/like_button.html", context)
    if error:
        messages.error(request, error)
    return redirect(safe_next(request, selectors_content.item_url(item)))


@login_required
@require_POST
def bookmark(request, community_slug, space_slug, item_id):
    """Save to or remove from the member's saved list; htmx swaps the button."""
    item = _item_for(request.user, community_slug, space_slug, item_id)
    saved = services.bookmark_toggle(actor=request.user, item=item)
    if request.htmx:
        context = selectors_posts.bookmark_button_context(item, request.user, saved=saved)
        context.update(next=request.POST.get("next", ""))
        return render(request, "spaces/partials/bookmark_button.html", context)
    messages.success(request, _("Saved to your list.") if saved else _("Removed from your saved list."))
    return redirect(safe_next(request, selectors_content.item_url(item)))


@login_required
@require_GET
def saved_list(request):
    page = Paginator(selectors_posts.saved_items(request.user), SAVED_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "spaces/saved_list.html",
        {"page_obj": page, "entries": selectors_posts.saved_entries(page.object_list)},
    )
