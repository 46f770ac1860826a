"""Reads for questions and answers. Every list starts from ``Item.objects.visible_to(user)`` in the query and
runs a fixed number of queries whatever the number of rows."""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Prefetch, QuerySet, Value, When
from django.http import Http404

from copapp.plans import custom_plans
from spaces import permissions, selectors_content, selectors_search
from spaces.models import Answer, Comment, Item, ModerationState, Question, Space, Tag, Vote

SORTS = ("newest", "votes", "unanswered")
SIMILAR_LIMIT = 5
_WORD = re.compile(r"\w+", re.UNICODE)
# Words too common to say two questions are alike.
STOP_WORDS = {
    "a", "an", "and", "are", "can", "do", "does", "for", "how", "i", "in", "is", "it", "of", "on", "or",
    "should", "the", "to", "we", "what", "when", "where", "which", "who", "why", "with",
}  # fmt: skip


def visible_questions(user, space: Space) -> QuerySet[Question]:
    return Question.objects.visible_to(user).filter(space=space)


# What a list of questions (the page and the API) never shows: their bodies and renderings, and their items' search
# fields (``selectors_content.JOINED_ITEM_TEXTS``).
QUESTION_LIST_DEFERRED = ("body", "body_html", *selectors_content.JOINED_ITEM_TEXTS)


def question_list(user, space: Space, *, sort: str = "newest", tag: Tag | None = None) -> QuerySet[Question]:
    """The space's questions the user may see, sorted (newest / votes / unanswered) and filtered by tag.

    Two queries per page of results, whatever its length: the rows (with asker) and their tags.
    """
    questions = (
        visible_questions(user, space)
        .select_related("item__author")
        .defer(*QUESTION_LIST_DEFERRED)
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
    )
    if tag is not None:
        questions = questions.filter(tags=tag)
    if sort == "votes":
        return questions.order_by("-vote_score", "-created_at", "-pk")
    if sort == "unanswered":
        questions = questions.filter(answer_count=0)
    return questions.order_by("-created_at", "-pk")


def space_tags(space: Space) -> QuerySet[Tag]:
    return Tag.objects.filter(space=space).order_by("name")


def get_question_for_user(user, community_slug: str, space_slug: str, question_slug: str, action: str = "view"):
    """404 when the user may not see the question (exactly as if it did not exist), 403 when they may not act.

    People who see a private space but may not read it get 403, as for its question list.
    """
    space = permissions.get_space_for_user(user, community_slug, space_slug, action="read")
    question = (
        visible_questions(user, space)
        .select_related("item__author", "last_edited_by")
        .defer(*selectors_content.JOINED_ITEM_TEXTS)
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
        .annotate(**selectors_content.detail_annotations(user))
        .filter(slug=question_slug)
        .first()
    )
    if question is None:
        raise Http404
    question.space = question.item.space = space
    selectors_content.share_reactions(question)
    if action == "edit" and not permissions.can_edit_question(user, question):
        raise PermissionDenied
    if action == "answer" and not permissions.can_answer(user, question):
        raise PermissionDenied
    if action == "accept" and not permissions.can_accept_answer(user, question):
        raise PermissionDenied
    return question


def get_answer_for_user(user, question: Question, answer_id: int, action: str = "view") -> Answer:
    """An answer of ``question`` the user may see (404 otherwise); 403 for ``action="edit"`` without the right."""
    answer = (
        Answer.objects.filter(question=question, item__in=Item.objects.visible_to(user, kinds=("answer",)))
        .select_related("item__author", "last_edited_by")
        .defer(*selectors_content.JOINED_ITEM_TEXTS)
        .filter(pk=answer_id)
        .first()
    )
    if answer is None:
        raise Http404
    answer.question = question
    answer.item.space = question.space
    if action == "edit" and not permissions.can_edit_answer(user, answer):
        raise PermissionDenied
    return answer


def _comment_threads(targets: list[Item], user) -> dict[int, dict]:
    """Comment-thread contexts for many items in two queries (``comment_thread_context`` does one item)."""
    visible = Item.objects.visible_to(user, kinds=("comment",))
    comments = list(
        Comment.objects.filter(target__in=[t.pk for t in targets], item__in=visible)
        .select_related("item__author")
        .defer(*selectors_content.JOINED_ITEM_TEXTS)
        .prefetch_related(selectors_content._versions_prefetch())
        .annotate(**selectors_content.reaction_annotations(user))
        .order_by("created_at", "pk")
    )
    by_target: dict[int, list[Comment]] = {t.pk: [] for t in targets}
    by_id = {comment.pk: comment for comment in comments}
    lookup = {t.pk: t for t in targets}
    for comment in comments:
        comment.target = lookup[comment.target_id]
        comment.item.space = comment.target.space
        selectors_content.share_reactions(comment)
        comment.reply_list = []
        comment.earlier_versions = comment.version_list[1:]
        comment.is_hidden = comment.item.moderation_state != ModerationState.VISIBLE
        comment.can_edit = permissions.can_edit_comment(user, comment)
        comment.can_delete = permissions.can_trash_item(user, comment.item)
        comment.can_hide = permissions.can_hide_item(user, comment.item)
    for comment in comments:
        if comment.parent_id is None:
            by_target[comment.target_id].append(comment)
        elif (parent := by_id.get(comment.parent_id)) is not None:
            comment.parent = parent
            parent.reply_list.append(comment)
    contexts = {}
    for target in targets:
        top = by_target[target.pk]
        contexts[target.pk] = {
            "target": target,
            "comments": top,
            "comment_count": sum(1 + len(c.reply_list) for c in top),
            "can_comment": permissions.can_comment(user, target),
            "thread_id": f"comment-thread-{target.pk}",
            "space": target.space,
            "community": target.space.community,
        }
    return contexts


def question_answers(question: Question, user) -> list[Answer]:
    """Answers the user may see: the accepted one first, then by votes, then oldest first.

    Each answer carries ready booleans (``is_accepted``, ``can_edit``, ``can_vote``, ``voted``, ``can_trash``)
    and its comment thread (``comment_context``); the question gets ``voted`` and ``can_vote`` too. Four
    queries in all, whatever the number of answers: answers, the member's votes, comments, comment versions.
    """
    answers = list(
        Answer.objects.filter(question=question, item__in=Item.objects.visible_to(user, kinds=("answer",)))
        .select_related("item__author", "last_edited_by")
        .defer(*selectors_content.JOINED_ITEM_TEXTS)
        .annotate(
            accepted_first=Case(
                When(pk=question.accepted_answer_id or 0, then=Value(0)), default=Value(1), output_field=IntegerField()
            ),
            **selectors_content.reaction_annotations(user),
        )
        .order_by("accepted_first", "-vote_score", "created_at", "pk")
    )
    items = [question.item, *(a.item for a in answers)]
    voted: set[int] = set()
    if user.is_authenticated:
        voted = set(Vote.objects.filter(user=user, item__in=[i.pk for i in items]).values_list("item_id", flat=True))
    for answer in answers:
        answer.question = question
        answer.item.space = question.space
        selectors_content.share_reactions(answer)
        answer.is_accepted = answer.pk == question.accepted_answer_id
        answer.is_hidden = answer.item.moderation_state != ModerationState.VISIBLE
        answer.can_edit = permissions.can_edit_answer(user, answer)
        answer.can_trash = permissions.can_trash_item(user, answer.item)
        answer.can_vote = permissions.can_vote(user, answer.item)
        answer.voted = answer.item_id in voted
    question.voted = question.item_id in voted
    question.can_vote = permissions.can_vote(user, question.item)
    threads = _comment_threads(items, user)
    question.comment_context = threads[question.item_id]
    for answer in answers:
        answer.comment_context = threads[answer.item_id]
    return answers


def title_words(title: str) -> list[str]:
    """The words of a title worth matching on: three letters or more, not a stop word, at most eight."""
    words = []
    for word in _WORD.findall((title or "").lower()):
        if len(word) >= 3 and word not in STOP_WORDS and word not in words:
            words.append(word)
    return words[:8]


def similar_questions(user, space: Space, title: str, *, exclude: Question | None = None) -> list[Question]:
    """Visible questions of the space whose title shares words with ``title``, best match first.

    The site search (``selectors_search.matching``) over titles, any shared word enough and the last word typed
    a prefix, so it ranks the way the search page does. One query.
    """
    words = title_words(title)
    if not words:
        return []
    questions = visible_questions(user, space)
    if exclude is not None:
        questions = questions.exclude(pk=exclude.pk)
    ranked = selectors_search.matching(questions, " ".join(words), item="item", any_word=True, title_only=True)
    if ranked is None:
        return []
    with custom_plans():  # as the search page (copapp.plans)
        similar = list(ranked.only("pk", "title", "slug", "space_id", "answer_count")[:SIMILAR_LIMIT])
    for question in similar:
        question.space = space
    return similar


def question_history(question: Question) -> QuerySet:
    return question.versions.select_related("history_user").order_by("-history_date", "-history_id")


def answer_history(answer: Answer) -> QuerySet:
    return answer.versions.select_related("history_user").order_by("-history_date", "-history_id")


def version_of(obj: Question | Answer, version: int):
    record = obj.versions.select_related("history_user").filter(version=version).order_by("-history_id").first()
    if record is None:
        raise Http404
    return record
