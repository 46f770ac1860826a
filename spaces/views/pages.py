"""Wiki pages: tree, view, edit with conflict handling and drafts, history, diff, restore, restrictions, move."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from spaces import forms, permissions, selectors_pages, services
from spaces.models import Page, PageTemplate, Space
from spaces.views.membership import _form_errors, _space_context, onboarding_redirects
from spaces.views.tracking import record_item_view, record_space_visit


def _page_context(request, page: Page) -> dict:
    context = _space_context(request, page.space)
    context.update(
        page=page,
        can_edit_page=permissions.can_edit_item(request.user, page.item),
        can_restrict=permissions.can_restrict_item(request.user, page.item),
        can_trash=permissions.can_trash_item(request.user, page.item),
        can_contribute=permissions.can_contribute(request.user, page.space),
    )
    return context


def _parents(user, space, exclude: Page | None = None) -> list[Page]:
    pages = selectors_pages.visible_pages(user, space).only("pk", "title", "space_id").order_by("title")
    if exclude is not None:
        pages = pages.exclude(pk=exclude.pk)
    return list(pages)


def page_list(request, community_slug, space_slug):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="read")
    context = _space_context(request, space)
    context.update(
        tree=selectors_pages.page_tree(request.user, space),
        can_contribute=permissions.can_contribute(request.user, space),
        can_manage_templates=permissions.can_manage_page_templates(request.user, space),
        tab="pages",
    )
    record_space_visit(request, space)
    return render(request, "spaces/page_list.html", context)


def page_permalink(request, page_id):
    page = Page.objects.visible_to(request.user).select_related("space__community").filter(pk=page_id).first()
    if page is None:
        raise Http404
    return redirect(page)


def page_detail(request, community_slug, space_slug, page_slug):
    page = selectors_pages.get_page_for_user(request.user, community_slug, space_slug, page_slug)
    context = _page_context(request, page)
    context.update(
        ancestors=selectors_pages.page_ancestors(page, request.user),
        children=selectors_pages.visible_pages(request.user, page.space)
        .filter(parent=page)
        .only("pk", "title", "slug", "space_id"),
        tab="pages",
    )
    record_item_view(request, page, "page_view")
    return render(request, "spaces/page_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@onboarding_redirects
def page_create(request, community_slug, space_slug):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="contribute")
    parents = _parents(request.user, space)
    initial = {"parent": request.GET.get("parent") or None}
    draft = selectors_pages.page_draft(request.user, space, None)
    template_id = request.GET.get("template")
    if template_id:
        if not template_id.isdigit():
            raise Http404
        template = get_object_or_404(PageTemplate, pk=template_id, space=space)
        initial.update(title="", body=template.body)
    elif draft is not None:
        initial.update(title=draft.title, body=draft.body)
    form = forms.PageForm(request.POST or None, initial=initial, parents=parents)
    if request.method == "POST" and form.is_valid():
        parent = next((p for p in parents if p.pk == form.cleaned_data["parent"]), None)
        try:
            page = services.page_create(
                actor=request.user,
                space=space,
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                parent=parent,
                summary=form.cleaned_data["summary"],
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Page created."))
            return redirect(page)
    context = _space_context(request, space)
    context.update(
        form=form,
        creating=True,
        templates=selectors_pages.space_templates(space),
        restored_draft=draft is not None and not template_id and request.method == "GET",
        draft_url=reverse(
            "spaces:page-create-draft", kwargs={"community_slug": community_slug, "space_slug": space_slug}
        ),
    )
    return render(request, "spaces/page_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def page_edit(request, community_slug, space_slug, page_slug):
    page = selectors_pages.get_page_for_user(request.user, community_slug, space_slug, page_slug, action="edit")
    parents = _parents(request.user, page.space, exclude=page)
    draft = selectors_pages.page_draft(request.user, page.space, page)
    initial = {"title": page.title, "body": page.body, "base_version": page.version, "parent": page.parent_id}
    if draft is not None:
        initial.update(title=draft.title, body=draft.body, base_version=draft.base_version or page.version)
    form = forms.PageForm(request.POST or None, initial=initial, parents=parents)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        base_version = data["base_version"] or page.version
        parent_id = data["parent"]
        if parent_id is None and page.parent_id and all(p.pk != page.parent_id for p in parents):
            parent_id = page.parent_id  # a parent this editor may not see is not among the choices: keep it
        try:
            services.page_update(
                actor=request.user,
                page=page,
                title=data["title"],
                body=data["body"],
                base_version=base_version,
                summary=data["summary"],
            )
            if parent_id != page.parent_id:
                parent = next((p for p in parents if p.pk == parent_id), None)
                services.page_reorder(actor=request.user, page=page, parent=parent, position=10**6)
        except services.EditConflict as conflict:
            return _conflict(request, page, conflict, data["summary"])
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Page saved."))
            return redirect(page)
    context = _page_context(request, page)
    context.update(
        form=form,
        restored_draft=draft is not None and request.method == "GET",
        others_editing=services.presence_touch(actor=request.user, page=page),
        draft_url=reverse(
            "spaces:page-draft",
            kwargs={"community_slug": community_slug, "space_slug": space_slug, "page_slug": page_slug},
        ),
    )
    return render(request, "spaces/page_form.html", context)


def _conflict(request, page: Page, conflict, summary: str):
    """Show both texts and their differences; the merged text is saved against the current version."""
    page.refresh_from_db()
    form = forms.PageForm(
        initial={
            "title": conflict.title,
            "body": conflict.body,
            "base_version": page.version,
            "summary": summary,
            "parent": page.parent_id,
        },
        parents=_parents(request.user, page.space, exclude=page),
    )
    context = _page_context(request, page)
    context.update(
        form=form,
        conflict=conflict,
        current=page,
        diff=selectors_pages.word_diff(page.body, conflict.body),
        draft_url=reverse(
            "spaces:page-draft",
            kwargs={"community_slug": page.space.community.slug, "space_slug": page.space.slug, "page_slug": page.slug},
        ),
    )
    return render(request, "spaces/page_conflict.html", context, status=409)


def _draft_target(request, community_slug, space_slug, page_slug) -> tuple[Page | None, Space]:
    """The page (404 if the member may not see it, as on its other URLs) or, for a new page, the space."""
    if page_slug:
        page = selectors_pages.get_page_for_user(request.user, community_slug, space_slug, page_slug, action="edit")
        return page, page.space
    return None, permissions.get_space_for_user(request.user, community_slug, space_slug, action="contribute")


@login_required
@require_POST
def page_draft_save(request, community_slug, space_slug, page_slug=None):
    """Autosave (htmx, every few seconds while typing): keeps the member's text on the server."""
    page, space = _draft_target(request, community_slug, space_slug, page_slug)
    base = request.POST.get("base_version")
    services.draft_save(
        actor=request.user,
        space=space,
        page=page,
        title=request.POST.get("title", ""),
        body=request.POST.get("body", ""),
        base_version=int(base) if base and base.isdigit() else None,
    )
    return HttpResponse(_("Draft saved"), content_type="text/plain")


@login_required
@require_POST
def page_draft_discard(request, community_slug, space_slug, page_slug=None):
    page, space = _draft_target(request, community_slug, space_slug, page_slug)
    services.draft_discard(actor=request.user, space=space, page=page)
    messages.info(request, _("Draft discarded."))
    return redirect(
        page or reverse("spaces:page-create", kwargs={"community_slug": community_slug, "space_slug": space_slug})
    )


@login_required
def page_presence(request, community_slug, space_slug, page_slug):
    page = selectors_pages.get_page_for_user(request.user, community_slug, space_slug, page_slug, action="edit")
    others = services.presence_touch(actor=request.user, page=page)
    return render(request, "spaces/partials/page_presence.html", {"others_editing": others, "page": page})


def page_history(request, community_slug, space_slug, page_slug):
    page = selectors_pages.get_page_for_user(request.user, community_slug, space_slug, page_slug)
    context = _page_context(request, page)
    context.update(history=selectors_pages.page_history(page), tab="pages")
    return render(request, "spaces/page_history.html", context)


def page_version(request, community_slug, space_slug, page_slug, version):
    from copapp.markdown import render_markdown

    page = selectors_pages.get_page_for_user(request.user, community_slug, space_slug, page_slug)
    record = selectors_pages.page_version(page, version)
    context = _page_context(request, page)
    rendered = render_markdown(record.body, allowed_file_ids=selectors_pages.space_file_ids(page.space_id))
    context.update(record=record, rendered=rendered, tab="pages")
    return render(request, "spaces/page_version.html", context)


def page_diff(request, community_slug, space_slug, page_slug):
    page = selectors_pages.get_page_for_user(request.user, community_slug, space_slug, page_slug)
    try:
        old_no = int(request.GET.get("from", max(page.version - 1, 1)))
        new_no = int(request.GET.get("to", page.version))
    except ValueError as exc:
        raise Http404 from exc
    old, new = selectors_pages.page_version(page, old_no), selectors_pages.page_version(page, new_no)
    context = _page_context(request, page)
    context.update(
        old=old,
        new=new,
        tab="pages",
        title_diff=selectors_pages.word_diff(old.title, new.title),
        body_diff=selectors_pages.word_diff(old.body, new.body),
        same=not selectors_pages.has_differences(old.body, new.body) and old.title == new.title,
    )
    return render(request, "spaces/page_diff.html", context)


@login_required
@require_POST
def page_restore(request, community_slug, space_slug, page_slug, version):
    page = selectors_pages.get_page_for_user(request.user, community_slug, space_slug, page_slug, action="edit")
    current = page.version
    try:
        restored = services.page_restore_version(actor=request.user, page=page, version=version)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except services.EditConflict:
        messages.error(request, _("Someone saved this page just now; look at the latest version and restore again."))
    else:
        if restored.version == current:
            messages.info(request, _("Version %d has the same text as the current page.") % version)
        else:
            messages.success(request, _("Version %d restored as a new version.") % version)
    return redirect(page)


@login_required
@require_http_methods(["GET", "POST"])
def page_restrictions(request, community_slug, space_slug, page_slug):
    page = selectors_pages.get_page_for_user(request.user, community_slug, space_slug, page_slug)
    if not permissions.can_restrict_item(request.user, page.item):
        raise PermissionDenied
    grants = page.item.user_grants.select_related("user", "permission")
    viewers = sorted({g.user.username for g in grants if g.permission.codename == "view_restricted_item"})
    editors = sorted({g.user.username for g in grants if g.permission.codename == "edit_restricted_item"})
    form = forms.PageRestrictionForm(
        request.POST or None,
        initial={
            "restrict_view": page.item.is_restricted,
            "restrict_edit": page.edit_restricted,
            "viewers": ", ".join(viewers),
            "editors": ", ".join(editors),
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.page_set_restrictions(
            actor=request.user,
            page=page,
            viewers=data["viewer_users"],
            editors=data["editor_users"],
            restrict_view=data["restrict_view"],
            restrict_edit=data["restrict_edit"],
        )
        messages.success(request, _("Restrictions saved."))
        return redirect(page)
    context = _page_context(request, page)
    context.update(form=form, tab="pages")
    return render(request, "spaces/page_restrictions.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def page_move(request, community_slug, space_slug, page_slug):
    page = selectors_pages.get_page_for_user(request.user, community_slug, space_slug, page_slug, action="edit")
    if not permissions.can_move_out_of(request.user, page.space):
        raise PermissionDenied
    targets = [
        s
        for s in Space.objects.filter(is_archived=False)
        .readable_by(request.user)
        .select_related("community")
        .exclude(pk=page.space_id)
        if permissions.can_contribute(request.user, s)
    ]
    form = forms.PageMoveForm(request.POST or None, spaces=targets)
    if request.method == "POST" and form.is_valid():
        target = next(s for s in targets if s.pk == form.cleaned_data["target"])
        service = services.page_move if form.cleaned_data["mode"] == "move" else services.page_copy
        try:
            result = service(actor=request.user, page=page, target=target)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            verb = _("moved") if form.cleaned_data["mode"] == "move" else _("copied")
            messages.success(request, _("Page %(verb)s to %(space)s.") % {"verb": verb, "space": target.name})
            return redirect(result)
    context = _page_context(request, page)
    context.update(form=form, tab="pages")
    return render(request, "spaces/page_move.html", context)


@login_required
@require_POST
def page_reorder(request, community_slug, space_slug, page_slug, direction):
    page = selectors_pages.get_page_for_user(request.user, community_slug, space_slug, page_slug, action="edit")
    services.page_reorder(
        actor=request.user, page=page, parent=page.parent, position=page.position + (-1 if direction == "up" else 1)
    )
    return redirect("spaces:pages", community_slug=community_slug, space_slug=space_slug)


# --- Templates ------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def page_templates(request, community_slug, space_slug, template_id=None):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="administer")
    template = get_object_or_404(PageTemplate, pk=template_id, space=space) if template_id else None
    initial = {"name": template.name, "description": template.description, "body": template.body} if template else None
    form = forms.PageTemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.page_template_save(actor=request.user, space=space, template=template, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Template saved."))
            return redirect("spaces:page-templates", community_slug=community_slug, space_slug=space_slug)
    context = _space_context(request, space)
    context.update(form=form, template=template, templates=selectors_pages.space_templates(space), tab="pages")
    return render(request, "spaces/page_templates.html", context)


@login_required
@require_POST
def page_template_delete(request, community_slug, space_slug, template_id):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="administer")
    template = get_object_or_404(PageTemplate, pk=template_id, space=space)
    services.page_template_delete(actor=request.user, template=template)
    messages.success(request, _("Template deleted."))
    return redirect("spaces:page-templates", community_slug=community_slug, space_slug=space_slug)
