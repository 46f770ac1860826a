"""Questions and answers: list (sort, tag), ask with similar-question suggestions, answer, vote, accept, edit,
history and diffs. Permission checks happen in the fetch helpers (404 unseen, 403 seen but not allowed)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from copapp.plans import custom_plans
from spaces import permissions, selectors_pages, selectors_questions, services
from spaces.forms_questions import AnswerForm, QuestionForm
from spaces.models import Answer, Item, ItemKind, Question, Tag
from spaces.views.membership import _error_text, _form_errors, _space_context, onboarding_redirects
from spaces.views.tracking import record_item_view, record_space_visit

PAGE_SIZE = 20


def _question_context(request, question: Question) -> dict:
    context = _space_context(request, question.space)
    context.update(
        question=question,
        can_edit_question=permissions.can_edit_question(request.user, question),
        can_answer=permissions.can_answer(request.user, question),
        can_accept=permissions.can_accept_answer(request.user, question),
        can_trash=permissions.can_trash_item(request.user, question.item),
        tab="questions",
    )
    return context


@require_GET
def question_list(request, community_slug, space_slug):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="read")
    sort = request.GET.get("sort", "newest")
    if sort not in selectors_questions.SORTS:
        sort = "newest"
    tag = None
    if tag_slug := request.GET.get("tag"):
        tag = get_object_or_404(Tag, space=space, slug=tag_slug)
    questions = selectors_questions.question_list(request.user, space, sort=sort, tag=tag)
    page = Paginator(questions, PAGE_SIZE).get_page(request.GET.get("page"))
    context = _space_context(request, space)
    context.update(
        page_obj=page,
        questions=page.object_list,
        sort=sort,
        sorts=[("newest", _("Newest")), ("votes", _("Most votes")), ("unanswered", _("Unanswered"))],
        tag=tag,
        tags=selectors_questions.space_tags(space),
        can_ask=permissions.can_ask(request.user, space),
        tab="questions",
    )
    record_space_visit(request, space)
    with custom_plans():  # how many of the space's questions a filter selects decides the plan (copapp.plans)
        return render(request, "spaces/question_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@onboarding_redirects
def question_ask(request, community_slug, space_slug):
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="contribute")
    form = QuestionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            question = services.question_ask(
                actor=request.user, space=space, title=data["title"], body=data["body"], tags=data["tags"]
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Question posted."))
            return redirect(question)
    context = _space_context(request, space)
    context.update(form=form, creating=True, tab="questions")
    return render(request, "spaces/question_form.html", context)


@require_GET
def question_similar(request, community_slug, space_slug):
    """htmx, while the title is typed: visible questions of the space with similar titles."""
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="read")
    exclude = None
    if (exclude_id := request.GET.get("exclude", "")).isdigit():
        exclude = Question(pk=int(exclude_id))
    similar = selectors_questions.similar_questions(request.user, space, request.GET.get("title", ""), exclude=exclude)
    return render(request, "spaces/partials/question_similar.html", {"similar": similar, "space": space})


def question_detail(request, community_slug, space_slug, question_slug):
    question = selectors_questions.get_question_for_user(request.user, community_slug, space_slug, question_slug)
    context = _question_context(request, question)
    context.update(
        answers=selectors_questions.question_answers(question, request.user),
        answer_form=AnswerForm(),
    )
    record_item_view(request, question, "question_view")
    return render(request, "spaces/question_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def question_edit(request, community_slug, space_slug, question_slug):
    question = selectors_questions.get_question_for_user(
        request.user, community_slug, space_slug, question_slug, action="edit"
    )
    tags = ", ".join(t.name for t in question.tags.order_by("name"))
    initial = {"title": question.title, "body": question.body, "tags": tags}
    form = QuestionForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.question_edit(actor=request.user, question=question, **data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Question saved."))
            return redirect(question)
    context = _question_context(request, question)
    context.update(form=form)
    return render(request, "spaces/question_form.html", context)


@login_required
@require_POST
@onboarding_redirects
def answer_post(request, community_slug, space_slug, question_slug):
    question = selectors_questions.get_question_for_user(
        request.user, community_slug, space_slug, question_slug, action="answer"
    )
    form = AnswerForm(request.POST)
    form.is_valid()
    try:
        answer = services.answer_post(actor=request.user, question=question, body=form.cleaned_data.get("body") or "")
    except ValidationError as exc:
        _form_errors(form, exc)
        context = _question_context(request, question)
        context.update(answers=selectors_questions.question_answers(question, request.user), answer_form=form)
        return render(request, "spaces/question_detail.html", context, status=400)
    messages.success(request, _("Answer posted."))
    return redirect(f"{question.get_absolute_url()}#answer-{answer.pk}")


@login_required
@require_http_methods(["GET", "POST"])
def answer_edit(request, community_slug, space_slug, question_slug, answer_id):
    question = selectors_questions.get_question_for_user(request.user, community_slug, space_slug, question_slug)
    answer = selectors_questions.get_answer_for_user(request.user, question, answer_id, action="edit")
    form = AnswerForm(request.POST or None, initial={"body": answer.body}, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.answer_edit(actor=request.user, answer=answer, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Answer saved."))
            return redirect(answer)
    context = _question_context(request, question)
    context.update(form=form, answer=answer)
    return render(request, "spaces/answer_form.html", context)


@login_required
@require_POST
def vote(request, community_slug, space_slug, item_id):
    """Vote a question or answer up (``vote=up``) or withdraw (``vote=withdraw``); htmx swaps the button."""
    space = permissions.get_space_for_user(request.user, community_slug, space_slug, action="read")
    item = permissions.get_visible_item(request.user, item_id)
    if item.space_id != space.pk or item.kind not in (ItemKind.QUESTION, ItemKind.ANSWER):
        raise Http404
    item.space = space
    cast = request.POST.get("vote", "up") != "withdraw"
    error = ""
    try:
        (services.vote_cast if cast else services.vote_withdraw)(actor=request.user, item=item)
    except ValidationError as exc:
        error = _error_text(exc)
    typed = Question.objects.get(item=item) if item.kind == ItemKind.QUESTION else Answer.objects.get(item=item)
    if request.htmx:
        typed.item = item
        typed.voted = item.votes.filter(user=request.user).exists()
        typed.can_vote = permissions.can_vote(request.user, item)
        return render(
            request,
            "spaces/partials/vote_button.html",
            {"target": typed, "space": space, "community": space.community, "vote_error": error},
        )
    if error:
        messages.error(request, error)
    return redirect(typed.get_absolute_url() if item.kind == ItemKind.ANSWER else typed)


@login_required
@require_POST
def answer_accept(request, community_slug, space_slug, question_slug):
    """Accept the posted ``answer`` (an id), or withdraw acceptance when it is empty."""
    question = selectors_questions.get_question_for_user(
        request.user, community_slug, space_slug, question_slug, action="accept"
    )
    answer = None
    if answer_id := request.POST.get("answer", ""):
        if not answer_id.isdigit():
            raise Http404
        answer = (
            Answer.objects.filter(pk=answer_id, item__in=Item.objects.visible_to(request.user, kinds=("answer",)))
            .select_related("item")
            .first()
        )
        if answer is None:
            raise Http404
    try:
        services.answer_accept(actor=request.user, question=question, answer=answer)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Answer accepted.") if answer else _("The answer is no longer marked accepted."))
    return redirect(question)


# --- History ---------------------------------------------------------------------------------------------------
def question_history(request, community_slug, space_slug, question_slug):
    question = selectors_questions.get_question_for_user(request.user, community_slug, space_slug, question_slug)
    context = _question_context(request, question)
    context.update(
        obj=question, history=selectors_questions.question_history(question), can_restore=context["can_edit_question"]
    )
    return render(request, "spaces/question_history.html", context)


def answer_history(request, community_slug, space_slug, question_slug, answer_id):
    question = selectors_questions.get_question_for_user(request.user, community_slug, space_slug, question_slug)
    answer = selectors_questions.get_answer_for_user(request.user, question, answer_id)
    context = _question_context(request, question)
    context.update(
        obj=answer,
        answer=answer,
        history=selectors_questions.answer_history(answer),
        can_restore=permissions.can_edit_answer(request.user, answer),
    )
    return render(request, "spaces/question_history.html", context)


def _restored(request, obj, version: int, restore) -> None:
    """Run ``restore`` and say what came of it."""
    current = obj.version
    try:
        restored = restore()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if restored.version == current:
            messages.info(request, _("Version %d reads as the current one: nothing to restore.") % version)
        else:
            messages.success(request, _("Version %d restored as a new version.") % version)


@login_required
@require_POST
def question_restore(request, community_slug, space_slug, question_slug, version):
    question = selectors_questions.get_question_for_user(
        request.user, community_slug, space_slug, question_slug, action="edit"
    )
    _restored(
        request,
        question,
        version,
        lambda: services.question_restore_version(actor=request.user, question=question, version=version),
    )
    return redirect(question)


@login_required
@require_POST
def answer_restore(request, community_slug, space_slug, question_slug, answer_id, version):
    question = selectors_questions.get_question_for_user(request.user, community_slug, space_slug, question_slug)
    answer = selectors_questions.get_answer_for_user(request.user, question, answer_id, action="edit")
    _restored(
        request,
        answer,
        version,
        lambda: services.answer_restore_version(actor=request.user, answer=answer, version=version),
    )
    return redirect(answer)


def _diff_context(request, question: Question, obj) -> dict:
    try:
        old_no = int(request.GET.get("from", max(obj.version - 1, 1)))
        new_no = int(request.GET.get("to", obj.version))
    except ValueError as exc:
        raise Http404 from exc
    old, new = selectors_questions.version_of(obj, old_no), selectors_questions.version_of(obj, new_no)
    context = _question_context(request, question)
    old_title, new_title = getattr(old, "title", ""), getattr(new, "title", "")
    context.update(
        obj=obj,
        old=old,
        new=new,
        title_diff=selectors_pages.word_diff(old_title, new_title),
        body_diff=selectors_pages.word_diff(old.body, new.body),
        same=old.body == new.body and old_title == new_title,
    )
    return context


def question_diff(request, community_slug, space_slug, question_slug):
    question = selectors_questions.get_question_for_user(request.user, community_slug, space_slug, question_slug)
    return render(request, "spaces/question_diff.html", _diff_context(request, question, question))


def answer_diff(request, community_slug, space_slug, question_slug, answer_id):
    question = selectors_questions.get_question_for_user(request.user, community_slug, space_slug, question_slug)
    answer = selectors_questions.get_answer_for_user(request.user, question, answer_id)
    context = _diff_context(request, question, answer)
    context.update(answer=answer)
    return render(request, "spaces/question_diff.html", context)
