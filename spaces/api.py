"""Spaces and their content in the REST API (issue 8): spaces, pages (with versions), questions and answers,
events (with one's registration) and posts.

Every endpoint fetches through the same helpers as the web views (``permissions.get_space_for_user``,
``selectors_*.get_*_for_user``), so a closed space answers 404 to outsiders exactly as a space that does not
exist, private content answers 403 to people without a role, and anything they may see but not change answers
403. Every write goes through the services (spam limits, activity, notifications, history), which check the
permission once more.
"""

from __future__ import annotations

from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Status

from copapp.api_schemas import ID_MAX, ErrorOut, PageParams, user_ref
from copapp.api_support import ApiError, paginate, public, reject_nul, web_url, writes
from copapp.plans import custom_plans
from spaces import (
    permissions,
    selectors_events,
    selectors_pages,
    selectors_posts,
    selectors_questions,
    services,
)
from spaces.api_schemas import (
    AcceptIn,
    AnswerIn,
    AnswerList,
    AnswerOut,
    AnswerUpdateIn,
    EventCreateIn,
    EventDetailOut,
    EventFilters,
    EventList,
    EventUpdateIn,
    MembershipOut,
    PageCreateIn,
    PageDetailOut,
    PageList,
    PageUpdateIn,
    PostCreateIn,
    PostDetailOut,
    PostList,
    PostUpdateIn,
    QuestionCreateIn,
    QuestionDetailOut,
    QuestionFilters,
    QuestionList,
    QuestionUpdateIn,
    RegistrationIn,
    RegistrationOut,
    SpaceList,
    SpaceOut,
    VersionDetailOut,
    VersionList,
)
from spaces.models import Answer, Item, Page, Space, SpaceRole, Tag
from spaces.services import events as event_services
from spaces.services import posts as post_services

router = Router()
READ_ERRORS = {code: ErrorOut for code in (401, 403, 404, 422, 429)}
WRITE_ERRORS = {code: ErrorOut for code in (401, 403, 404, 409, 422, 429)}
SPACE = "/communities/{community_slug}/spaces/{space_slug}"
IdPath = Path(..., ge=1, le=ID_MAX)


def _role_name(role: int | None) -> str | None:
    return SpaceRole(role).name.lower() if role else None


def _space(request: HttpRequest, community_slug: str, space_slug: str, action: str = "view") -> Space:
    reject_nul(community_slug, space_slug)
    return permissions.get_space_for_user(request.user, community_slug, space_slug, action=action)


def _space_out(request: HttpRequest, space: Space) -> dict:
    """Roles come from the member's access context (loaded once per request): no query per space."""
    user = request.user
    return {
        "community": space.community.slug,
        "slug": space.slug,
        "name": space.name,
        "description": space.description,
        "visibility": space.visibility,
        "is_archived": space.is_archived,
        "member_count": space.member_count,
        "created_at": space.created_at,
        "my_role": _role_name(permissions.space_role(user, space)),
        "permissions": {
            "can_read": permissions.can_read_space(user, space),
            "can_contribute": permissions.can_contribute(user, space),
            "can_moderate": permissions.can_moderate_space(user, space),
            "can_administer": permissions.can_administer_space(user, space),
            "can_join": permissions.can_join_space(user, space),
        },
        "url": web_url(request, space.get_absolute_url()),
    }


# === Spaces ==========================================================================================================
@router.get(
    "/communities/{community_slug}/spaces", response={200: SpaceList, **READ_ERRORS}, tags=["spaces"], **public()
)
def space_list(request: HttpRequest, community_slug: str, paging: Query[PageParams]):
    """The community's spaces that are listed for you (closed ones only where you hold a role), by name."""
    reject_nul(community_slug)
    from communities.models import Community

    community = get_object_or_404(Community, slug=community_slug)
    spaces = Space.objects.visible_to(request.user).filter(community=community).select_related("community")
    page = paginate(request, spaces.order_by("name", "pk"), paging)
    page["results"] = [_space_out(request, space) for space in page["results"]]
    return page


@router.get(SPACE, response={200: SpaceOut, **READ_ERRORS}, tags=["spaces"], **public())
def space_detail(request: HttpRequest, community_slug: str, space_slug: str):
    """One space, with your role and what you may do there."""
    return _space_out(request, _space(request, community_slug, space_slug))


@router.post(SPACE + "/join", response={201: MembershipOut, **WRITE_ERRORS}, tags=["spaces"], **writes())
def space_join(request: HttpRequest, community_slug: str, space_slug: str):
    """Join an open space with one click (its default role), as on the web."""
    space = _space(request, community_slug, space_slug)
    membership = services.space_join(actor=request.user, space=space)
    return Status(201, {"space": f"{space.community.slug}/{space.slug}", "role": _role_name(membership.role)})


# === Pages ===========================================================================================================
PAGES = SPACE + "/pages"
PAGE = PAGES + "/{page_slug}"


def _page_out(request: HttpRequest, page: Page, space: Space, *, detail: bool = False) -> dict:
    page.space = space
    out = {
        "id": page.pk,
        "slug": page.slug,
        "title": page.title,
        "parent_id": page.parent_id,
        "version": page.version,
        "author": user_ref(page.item.author),
        "created_at": page.item.created_at,
        "last_edited_at": page.last_edited_at,
        "last_edited_by": user_ref(page.last_edited_by),
        "is_restricted": page.item.is_restricted,
        "url": web_url(request, page.get_absolute_url()),
    }
    if detail:
        page.item.space = space
        out.update(
            body=page.body,
            body_html=page.body_html,
            edit_restricted=page.edit_restricted,
            can_edit=permissions.can_edit_item(request.user, page.item),
        )
    return out


def _page(request: HttpRequest, community_slug: str, space_slug: str, page_slug: str, action: str = "view") -> Page:
    reject_nul(community_slug, space_slug, page_slug)
    return selectors_pages.get_page_for_user(request.user, community_slug, space_slug, page_slug, action=action)


@router.get(PAGES, response={200: PageList, **READ_ERRORS}, tags=["pages"], **public())
def page_list(request: HttpRequest, community_slug: str, space_slug: str, paging: Query[PageParams]):
    """The space's wiki pages you may see, in tree order (``parent_id`` gives the tree)."""
    space = _space(request, community_slug, space_slug, action="read")
    pages = (
        selectors_pages.visible_pages(request.user, space)
        .select_related("item__author", "last_edited_by")
        .order_by("position", "title", "pk")
    )
    page = paginate(request, pages, paging)
    page["results"] = [_page_out(request, row, space) for row in page["results"]]
    return page


@router.post(PAGES, response={201: PageDetailOut, **WRITE_ERRORS}, tags=["pages"], **writes())
def page_create(request: HttpRequest, community_slug: str, space_slug: str, data: PageCreateIn):
    """Write a new page (editors and above); it becomes version 1 in its history."""
    space = _space(request, community_slug, space_slug, action="contribute")
    parent = None
    if data.parent:
        parent = selectors_pages.visible_pages(request.user, space).filter(slug=data.parent).first()
        if parent is None:
            raise ApiError(422, "validation_error", _("There is no such parent page in this space."))
    page = services.page_create(
        actor=request.user, space=space, title=data.title, body=data.body, parent=parent, summary=data.summary
    )
    return Status(201, _page_out(request, page, space, detail=True))


@router.get(PAGE, response={200: PageDetailOut, **READ_ERRORS}, tags=["pages"], **public())
def page_detail(request: HttpRequest, community_slug: str, space_slug: str, page_slug: str):
    """One page, with its Markdown and rendered HTML."""
    page = _page(request, community_slug, space_slug, page_slug)
    return _page_out(request, page, page.space, detail=True)


@router.patch(PAGE, response={200: PageDetailOut, **WRITE_ERRORS}, tags=["pages"], **writes())
def page_update(request: HttpRequest, community_slug: str, space_slug: str, page_slug: str, data: PageUpdateIn):
    """Save a new version. If someone saved since ``base_version``, nothing is saved: 409, and your text is kept
    as your draft on the web site, as when two people edit at once in the browser."""
    page = _page(request, community_slug, space_slug, page_slug, action="edit")
    space = page.space
    try:
        page = services.page_update(
            actor=request.user,
            page=page,
            title=page.title if data.title is None else data.title,
            body=page.body if data.body is None else data.body,
            base_version=data.base_version,
            summary=data.summary,
        )
    except services.EditConflict as conflict:
        raise ApiError(
            409,
            "edit_conflict",
            _("Someone saved this page after version %(base)d: it is at version %(now)d now.")
            % {"base": conflict.base_version, "now": conflict.page.version},
            current_version=conflict.page.version,
        ) from None
    return _page_out(request, page, space, detail=True)


@router.delete(PAGE, response={204: None, **WRITE_ERRORS}, tags=["pages"], **writes())
def page_trash(request: HttpRequest, community_slug: str, space_slug: str, page_slug: str):
    """Move the page (and its subpages' contents) to the space's trash; space admins can restore it."""
    page = _page(request, community_slug, space_slug, page_slug)
    _trash(request, page.item, page.space)
    return Status(204, None)


@router.get(PAGE + "/versions", response={200: VersionList, **READ_ERRORS}, tags=["pages"], **public())
def page_versions(
    request: HttpRequest, community_slug: str, space_slug: str, page_slug: str, paging: Query[PageParams]
):
    """Every saved version of the page, newest first."""
    page = _page(request, community_slug, space_slug, page_slug)
    return _versions(request, selectors_pages.page_history(page), paging)


def _versions(request: HttpRequest, history, paging) -> dict:
    """One page of a history (pages, questions, answers), newest first."""
    versions = paginate(request, history, paging)
    versions["results"] = [_version_out(record) for record in versions["results"]]
    return versions


VersionPath = Path(..., ge=1, le=2**31)


def _version_out(record, *, detail: bool = False) -> dict:
    out = {
        "version": record.version,
        "title": getattr(record, "title", ""),  # answers have none
        "author": user_ref(record.history_user),
        "summary": record.history_change_reason or "",
        "saved_at": record.history_date,
    }
    if detail:
        out["body"] = record.body
    return out


@router.get(PAGE + "/versions/{version}", response={200: VersionDetailOut, **READ_ERRORS}, tags=["pages"], **public())
def page_version(
    request: HttpRequest, community_slug: str, space_slug: str, page_slug: str, version: int = VersionPath
):
    """One version of the page, with its text."""
    page = _page(request, community_slug, space_slug, page_slug)
    return _version_out(selectors_pages.page_version(page, version), detail=True)


@router.post(
    PAGE + "/versions/{version}/restore", response={200: PageDetailOut, **WRITE_ERRORS}, tags=["pages"], **writes()
)
def page_restore(
    request: HttpRequest, community_slug: str, space_slug: str, page_slug: str, version: int = VersionPath
):
    """Restore an old version: a new version with its text ("Restored from version N")."""
    page = _page(request, community_slug, space_slug, page_slug, action="edit")
    space = page.space
    try:
        page = services.page_restore_version(actor=request.user, page=page, version=version)
    except services.EditConflict as conflict:
        raise ApiError(
            409, "edit_conflict", _("Someone saved this page meanwhile."), current_version=conflict.page.version
        ) from None
    return _page_out(request, page, space, detail=True)


def _trash(request: HttpRequest, item: Item, space: Space) -> None:
    item.space = space
    if not permissions.can_trash_item(request.user, item):
        raise ApiError(403, "permission_denied", _("You cannot delete this."))
    services.item_trash(actor=request.user, item=item)


# === Questions and answers ===========================================================================================
QUESTIONS = SPACE + "/questions"
QUESTION = QUESTIONS + "/{question_slug}"


def _question_out(request: HttpRequest, question, space: Space, *, detail: bool = False) -> dict:
    question.space = question.item.space = space
    out = {
        "id": question.pk,
        "slug": question.slug,
        "title": question.title,
        "author": user_ref(question.item.author),
        "tags": [tag.name for tag in question.tags.all()],
        "answer_count": question.answer_count,
        "vote_score": question.vote_score,
        "accepted_answer_id": question.accepted_answer_id,
        "version": question.version,
        "created_at": question.created_at,
        "last_edited_at": question.last_edited_at,
        "url": web_url(request, question.get_absolute_url()),
    }
    if detail:
        user = request.user
        out.update(
            body=question.body,
            body_html=question.body_html,
            can_edit=permissions.can_edit_question(user, question),
            can_answer=permissions.can_answer(user, question),
            can_accept=permissions.can_accept_answer(user, question),
        )
    return out


def _question(request: HttpRequest, community_slug: str, space_slug: str, question_slug: str, action: str = "view"):
    reject_nul(community_slug, space_slug, question_slug)
    return selectors_questions.get_question_for_user(
        request.user, community_slug, space_slug, question_slug, action=action
    )


@router.get(QUESTIONS, response={200: QuestionList, **READ_ERRORS}, tags=["questions"], **public())
def question_list(
    request: HttpRequest,
    community_slug: str,
    space_slug: str,
    filters: Query[QuestionFilters],
    paging: Query[PageParams],
):
    """The space's questions: newest first, by votes, or unanswered only; optionally with one tag."""
    space = _space(request, community_slug, space_slug, action="read")
    tag = get_object_or_404(Tag, space=space, slug=filters.tag) if filters.tag else None
    questions = selectors_questions.question_list(request.user, space, sort=filters.sort, tag=tag)
    with custom_plans():  # selective (copapp.plans)
        page = paginate(request, questions, paging)
        page["results"] = [_question_out(request, question, space) for question in page["results"]]
    return page


@router.post(QUESTIONS, response={201: QuestionDetailOut, **WRITE_ERRORS}, tags=["questions"], **writes())
def question_ask(request: HttpRequest, community_slug: str, space_slug: str, data: QuestionCreateIn):
    """Ask a question (editors and above), with up to five tags."""
    space = _space(request, community_slug, space_slug, action="contribute")
    question = services.question_ask(
        actor=request.user, space=space, title=data.title, body=data.body, tags=list(data.tags)
    )
    return Status(201, _question_out(request, question, space, detail=True))


@router.get(QUESTION, response={200: QuestionDetailOut, **READ_ERRORS}, tags=["questions"], **public())
def question_detail(request: HttpRequest, community_slug: str, space_slug: str, question_slug: str):
    """One question."""
    question = _question(request, community_slug, space_slug, question_slug)
    return _question_out(request, question, question.space, detail=True)


@router.patch(QUESTION, response={200: QuestionDetailOut, **WRITE_ERRORS}, tags=["questions"], **writes())
def question_edit(
    request: HttpRequest, community_slug: str, space_slug: str, question_slug: str, data: QuestionUpdateIn
):
    """Edit your question (moderators: any question); a new version of its text."""
    question = _question(request, community_slug, space_slug, question_slug, action="edit")
    tags = [tag.name for tag in question.tags.all()] if data.tags is None else list(data.tags)
    question = services.question_edit(
        actor=request.user,
        question=question,
        title=question.title if data.title is None else data.title,
        body=question.body if data.body is None else data.body,
        tags=tags,
        summary=data.summary,
    )
    question = _question(request, community_slug, space_slug, question.slug)
    return _question_out(request, question, question.space, detail=True)


@router.delete(QUESTION, response={204: None, **WRITE_ERRORS}, tags=["questions"], **writes())
def question_trash(request: HttpRequest, community_slug: str, space_slug: str, question_slug: str):
    """Delete your question (moderators: any); it goes to the space's trash with its answers."""
    question = _question(request, community_slug, space_slug, question_slug)
    _trash(request, question.item, question.space)
    return Status(204, None)


@router.get(QUESTION + "/versions", response={200: VersionList, **READ_ERRORS}, tags=["questions"], **public())
def question_versions(
    request: HttpRequest, community_slug: str, space_slug: str, question_slug: str, paging: Query[PageParams]
):
    """Every saved version of the question, newest first."""
    question = _question(request, community_slug, space_slug, question_slug)
    return _versions(request, selectors_questions.question_history(question), paging)


@router.get(
    QUESTION + "/versions/{version}", response={200: VersionDetailOut, **READ_ERRORS}, tags=["questions"], **public()
)
def question_version(
    request: HttpRequest, community_slug: str, space_slug: str, question_slug: str, version: int = VersionPath
):
    """One version of the question, with its text."""
    question = _question(request, community_slug, space_slug, question_slug)
    return _version_out(selectors_questions.version_of(question, version), detail=True)


@router.post(
    QUESTION + "/versions/{version}/restore",
    response={200: QuestionDetailOut, **WRITE_ERRORS},
    tags=["questions"],
    **writes(),
)
def question_restore(
    request: HttpRequest, community_slug: str, space_slug: str, question_slug: str, version: int = VersionPath
):
    """Restore an old title and text: a new version ("Restored from version N"); the tags stay as they are. A
    version that reads as the question does now writes nothing."""
    question = _question(request, community_slug, space_slug, question_slug, action="edit")
    space = question.space
    question = services.question_restore_version(actor=request.user, question=question, version=version)
    return _question_out(request, question, space, detail=True)


def _answer_out(answer: Answer, question) -> dict:
    return {
        "id": answer.pk,
        "question_id": question.pk,
        "body": answer.body,
        "body_html": answer.body_html,
        "author": user_ref(answer.item.author),
        "vote_score": answer.vote_score,
        "is_accepted": answer.pk == question.accepted_answer_id,
        "version": answer.version,
        "created_at": answer.created_at,
        "last_edited_at": answer.last_edited_at,
    }


@router.get(QUESTION + "/answers", response={200: AnswerList, **READ_ERRORS}, tags=["questions"], **public())
def answer_list(
    request: HttpRequest, community_slug: str, space_slug: str, question_slug: str, paging: Query[PageParams]
):
    """The answers you may see: the accepted one first, then by votes, then oldest first."""
    question = _question(request, community_slug, space_slug, question_slug)
    accepted_first = Case(
        When(pk=question.accepted_answer_id or 0, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    answers = (
        Answer.objects.filter(question=question, item__in=Item.objects.visible_to(request.user, kinds=("answer",)))
        .select_related("item__author")
        .order_by(accepted_first, "-vote_score", "created_at", "pk")
    )
    page = paginate(request, answers, paging)
    page["results"] = [_answer_out(answer, question) for answer in page["results"]]
    return page


@router.post(QUESTION + "/answers", response={201: AnswerOut, **WRITE_ERRORS}, tags=["questions"], **writes())
def answer_post(request: HttpRequest, community_slug: str, space_slug: str, question_slug: str, data: AnswerIn):
    """Answer the question (editors and above)."""
    question = _question(request, community_slug, space_slug, question_slug, action="answer")
    answer = services.answer_post(actor=request.user, question=question, body=data.body)
    return Status(201, _answer_out(answer, question))


@router.patch(
    QUESTION + "/answers/{answer_id}", response={200: AnswerOut, **WRITE_ERRORS}, tags=["questions"], **writes()
)
def answer_edit(
    request: HttpRequest,
    community_slug: str,
    space_slug: str,
    question_slug: str,
    data: AnswerUpdateIn,
    answer_id: int = IdPath,
):
    """Edit your answer (moderators: any answer)."""
    question = _question(request, community_slug, space_slug, question_slug)
    answer = selectors_questions.get_answer_for_user(request.user, question, answer_id, action="edit")
    answer = services.answer_edit(actor=request.user, answer=answer, body=data.body, summary=data.summary)
    return _answer_out(answer, question)


ANSWER = QUESTION + "/answers/{answer_id}"


@router.get(ANSWER + "/versions", response={200: VersionList, **READ_ERRORS}, tags=["questions"], **public())
def answer_versions(
    request: HttpRequest,
    community_slug: str,
    space_slug: str,
    question_slug: str,
    paging: Query[PageParams],
    answer_id: int = IdPath,
):
    """Every saved version of the answer, newest first."""
    question = _question(request, community_slug, space_slug, question_slug)
    answer = selectors_questions.get_answer_for_user(request.user, question, answer_id)
    return _versions(request, selectors_questions.answer_history(answer), paging)


@router.get(
    ANSWER + "/versions/{version}", response={200: VersionDetailOut, **READ_ERRORS}, tags=["questions"], **public()
)
def answer_version(
    request: HttpRequest,
    community_slug: str,
    space_slug: str,
    question_slug: str,
    answer_id: int = IdPath,
    version: int = VersionPath,
):
    """One version of the answer, with its text."""
    question = _question(request, community_slug, space_slug, question_slug)
    answer = selectors_questions.get_answer_for_user(request.user, question, answer_id)
    return _version_out(selectors_questions.version_of(answer, version), detail=True)


@router.post(
    ANSWER + "/versions/{version}/restore", response={200: AnswerOut, **WRITE_ERRORS}, tags=["questions"], **writes()
)
def answer_restore(
    request: HttpRequest,
    community_slug: str,
    space_slug: str,
    question_slug: str,
    answer_id: int = IdPath,
    version: int = VersionPath,
):
    """Restore an old text of the answer as a new version (its author, or the space's moderators)."""
    question = _question(request, community_slug, space_slug, question_slug)
    answer = selectors_questions.get_answer_for_user(request.user, question, answer_id, action="edit")
    answer = services.answer_restore_version(actor=request.user, answer=answer, version=version)
    return _answer_out(answer, question)


@router.post(QUESTION + "/accept", response={200: QuestionDetailOut, **WRITE_ERRORS}, tags=["questions"], **writes())
def answer_accept(request: HttpRequest, community_slug: str, space_slug: str, question_slug: str, data: AcceptIn):
    """Accept an answer (the asker or a moderator), or withdraw the acceptance with ``answer_id: null``."""
    question = _question(request, community_slug, space_slug, question_slug, action="accept")
    answer = None
    if data.answer_id is not None:
        answer = selectors_questions.get_answer_for_user(request.user, question, data.answer_id)
    services.answer_accept(actor=request.user, question=question, answer=answer)
    question = _question(request, community_slug, space_slug, question_slug)
    return _question_out(request, question, question.space, detail=True)


# === Events ==========================================================================================================
EVENTS = SPACE + "/events"
EVENT = EVENTS + "/{event_slug}"


def _event_out(request: HttpRequest, event, space: Space) -> dict:
    event.space = event.item.space = space
    status = getattr(event, "my_status", "") or None
    return {
        "id": event.pk,
        "slug": event.slug,
        "title": event.title,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "timezone": event.timezone,
        "venue": event.venue,
        "capacity": event.capacity,
        "registration_deadline": event.registration_deadline,
        "going_count": event.going_count,
        "maybe_count": event.maybe_count,
        "waitlist_count": event.waitlist_count,
        "author": user_ref(event.item.author),
        "my_status": status,
        "url": web_url(request, event.get_absolute_url()),
    }


def _registration_out(registration) -> dict | None:
    if registration is None:
        return None
    return {
        "status": registration.status,
        "answers": {str(key): str(value) for key, value in (registration.answers or {}).items()},
        "waitlist_position": selectors_events.waitlist_position(registration),
        "created_at": registration.created_at,
        "status_changed_at": registration.status_changed_at,
    }


def _event_detail_out(request: HttpRequest, event) -> dict:
    user = request.user
    registration = selectors_events.my_registration(event, user)
    event.my_status = registration.status if registration is not None else ""
    out = _event_out(request, event, event.space)
    shows_link = permissions.can_see_meeting_link(user, event, registration)
    out.update(
        description=event.description,
        description_html=event.description_html,
        online_url=event.online_url if shows_link else None,
        registration_questions=[
            {"id": q.pk, "label": q.label, "kind": q.kind, "choices": q.choice_list, "required": q.required}
            for q in selectors_events.event_questions(event)
        ],
        registration_closed_reason=selectors_events.registration_closed_reason(event),
        my_registration=_registration_out(registration),
        can_register=permissions.can_register(user, event),
        can_organise=permissions.can_organise_event(user, event),
    )
    return out


def _event(request: HttpRequest, community_slug: str, space_slug: str, event_slug: str, action: str = "view"):
    reject_nul(community_slug, space_slug, event_slug)
    return selectors_events.get_event_for_user(request.user, community_slug, space_slug, event_slug, action=action)


@router.get(EVENTS, response={200: EventList, **READ_ERRORS}, tags=["events"], **public())
def event_list(
    request: HttpRequest, community_slug: str, space_slug: str, filters: Query[EventFilters], paging: Query[PageParams]
):
    """Upcoming events (not yet ended) soonest first, or past events most recent first, with your status."""
    space = _space(request, community_slug, space_slug, action="read")
    events = selectors_events.event_list(request.user, space, when=filters.when).select_related("item__author")

    def prepare(rows):
        return selectors_events.attach_my_status(rows, request.user, space)

    page = paginate(request, events, paging, prepare=prepare)
    page["results"] = [_event_out(request, event, space) for event in page["results"]]
    return page


@router.post(EVENTS, response={201: EventDetailOut, **WRITE_ERRORS}, tags=["events"], **writes())
def event_create(request: HttpRequest, community_slug: str, space_slug: str, data: EventCreateIn):
    """Create an event (editors and above). Times without an offset are wall-clock times in ``time_zone``;
    times the clocks skip or repeat there are refused (422), never guessed."""
    space = _space(request, community_slug, space_slug, action="contribute")
    event = event_services.event_create(actor=request.user, space=space, **data.dict())
    event.space = space
    return Status(201, _event_detail_out(request, event))


@router.get(EVENT, response={200: EventDetailOut, **READ_ERRORS}, tags=["events"], **public())
def event_detail(request: HttpRequest, community_slug: str, space_slug: str, event_slug: str):
    """One event, its registration questions and your registration; the online link only once you are going
    or maybe (or organise it)."""
    return _event_detail_out(request, _event(request, community_slug, space_slug, event_slug))


@router.patch(EVENT, response={200: EventDetailOut, **WRITE_ERRORS}, tags=["events"], **writes())
def event_edit(request: HttpRequest, community_slug: str, space_slug: str, event_slug: str, data: EventUpdateIn):
    """Change an event (its organisers: the creator, moderators and admins); what is left out keeps its value."""
    event = _event(request, community_slug, space_slug, event_slug, action="organise")
    event = event_services.event_edit(actor=request.user, event=event, **data.dict(exclude_unset=True))
    return _event_detail_out(request, event)


@router.delete(EVENT, response={204: None, **WRITE_ERRORS}, tags=["events"], **writes())
def event_trash(request: HttpRequest, community_slug: str, space_slug: str, event_slug: str):
    """Delete the event (its organisers); it goes to the space's trash."""
    event = _event(request, community_slug, space_slug, event_slug, action="organise")
    event_services.event_trash(actor=request.user, event=event)
    return Status(204, None)


@router.put(EVENT + "/registration", response={200: RegistrationOut, **WRITE_ERRORS}, tags=["events"], **writes())
def event_register(request: HttpRequest, community_slug: str, space_slug: str, event_slug: str, data: RegistrationIn):
    """Register as going, maybe or not going (viewers too), with answers to the registration questions. Going
    when the event is full puts you on the waiting list."""
    event = _event(request, community_slug, space_slug, event_slug, action="register")
    registration = event_services.event_registration_set(
        actor=request.user, event=event, status=data.status, answers=dict(data.answers)
    )
    return _registration_out(registration)


@router.delete(EVENT + "/registration", response={200: RegistrationOut, **WRITE_ERRORS}, tags=["events"], **writes())
def event_unregister(request: HttpRequest, community_slug: str, space_slug: str, event_slug: str):
    """Say you are not going after all (your place goes to the waiting list)."""
    event = _event(request, community_slug, space_slug, event_slug, action="register")
    registration = event_services.event_registration_cancel(actor=request.user, event=event)
    return _registration_out(registration)


# === Posts ===========================================================================================================
POSTS = SPACE + "/posts"
POST = POSTS + "/{post_id}"


def _post_out(request: HttpRequest, post, space: Space, *, detail: bool = False) -> dict:
    post.space = post.item.space = space
    out = {
        "id": post.pk,
        "title": post.item.title,
        "body": post.body,
        "body_html": post.body_html,
        "author": user_ref(post.item.author),
        "is_pinned": post.is_pinned,
        "is_announcement": post.is_announcement,
        "is_scheduled": permissions.is_scheduled(post.item),
        "like_count": post.item.like_count,
        "created_at": post.created_at,
        "published_at": post.published_at,
        "edited_at": post.edited_at,
        "url": web_url(request, post.get_absolute_url()),
    }
    if detail:
        out["can_edit"] = permissions.can_edit_post(request.user, post)
    return out


def _post(request: HttpRequest, community_slug: str, space_slug: str, post_id: int, action: str = "view"):
    reject_nul(community_slug, space_slug)
    return selectors_posts.get_post_for_user(request.user, community_slug, space_slug, post_id, action=action)


@router.get(POSTS, response={200: PostList, **READ_ERRORS}, tags=["posts"], **public())
def post_list(request: HttpRequest, community_slug: str, space_slug: str, paging: Query[PageParams]):
    """The space's posts: pinned first, then newest first (scheduled ones only for their author and moderators)."""
    space = _space(request, community_slug, space_slug, action="read")
    page = paginate(request, selectors_posts.post_list(request.user, space), paging)
    page["results"] = [_post_out(request, post, space) for post in page["results"]]
    return page


@router.post(POSTS, response={201: PostDetailOut, **WRITE_ERRORS}, tags=["posts"], **writes())
def post_create(request: HttpRequest, community_slug: str, space_slug: str, data: PostCreateIn):
    """Post to the space (editors and above), now or at ``publish_at``; announcements are for moderators."""
    space = _space(request, community_slug, space_slug, action="contribute")
    post = post_services.post_create(
        actor=request.user,
        space=space,
        body=data.body,
        is_announcement=data.is_announcement,
        publish_at=data.publish_at,
    )
    return Status(201, _post_out(request, post, space, detail=True))


@router.get(POST, response={200: PostDetailOut, **READ_ERRORS}, tags=["posts"], **public())
def post_detail(request: HttpRequest, community_slug: str, space_slug: str, post_id: int = IdPath):
    """One post."""
    post = _post(request, community_slug, space_slug, post_id)
    return _post_out(request, post, post.space, detail=True)


@router.patch(POST, response={200: PostDetailOut, **WRITE_ERRORS}, tags=["posts"], **writes())
def post_edit(request: HttpRequest, community_slug: str, space_slug: str, data: PostUpdateIn, post_id: int = IdPath):
    """Rewrite your post (moderators: any post)."""
    post = _post(request, community_slug, space_slug, post_id, action="edit")
    post = post_services.post_edit(
        actor=request.user,
        post=post,
        body=post.body if data.body is None else data.body,
        is_announcement=data.is_announcement,
    )
    return _post_out(request, post, post.space, detail=True)


@router.delete(POST, response={204: None, **WRITE_ERRORS}, tags=["posts"], **writes())
def post_trash(request: HttpRequest, community_slug: str, space_slug: str, post_id: int = IdPath):
    """Delete your post (moderators: any); it goes to the space's trash."""
    post = _post(request, community_slug, space_slug, post_id)
    _trash(request, post.item, post.space)
    return Status(204, None)
