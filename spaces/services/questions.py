"""Every write to questions and answers: ask, edit (versioned), answer, vote, accept; tags per space.

Counters on ``Question`` and ``Answer`` (answer count, vote score) are kept here, in the same transaction as
the change they count. They are written with ``QuerySet.update``: they are excluded from the history, and a
``save()`` would write a version of the text for every vote.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from analytics.recording import record_activity
from communities.services import onboarding_ensure
from copapp.markdown import render_markdown
from spaces import permissions
from spaces.models import Answer, Item, ItemKind, Question, Space, Tag, Vote
from spaces.services.moderation import log_moderator_edit, spam_check, spam_check_edit
from spaces.services.posts import mention_links, mention_sync

MAX_TITLE = 300
MAX_BODY = 100_000
MAX_TAGS = 5
MAX_TAG_LENGTH = 50


def _validate_question(title: str, body: str) -> tuple[str, str]:
    title = " ".join((title or "").split())
    errors = {}
    if not title:
        errors["title"] = [_("Give your question a title.")]
    elif len(title) > MAX_TITLE:
        errors["title"] = [_("Keep the title under %d characters.") % MAX_TITLE]
    if len(body or "") > MAX_BODY:
        errors["body"] = [_("Keep the question under %d characters.") % MAX_BODY]
    if errors:
        raise ValidationError(errors)
    return title, body or ""


def _validate_answer(body: str) -> str:
    if not (body or "").strip():
        raise ValidationError({"body": [_("Write an answer before posting it.")]})
    if len(body) > MAX_BODY:
        raise ValidationError({"body": [_("Keep the answer under %d characters.") % MAX_BODY]})
    return body


def parse_tags(tags: str | list[str] | None) -> list[str]:
    """Tag names from a comma-separated string or a list: trimmed, de-duplicated (case-insensitively), at most 5."""
    if isinstance(tags, str):
        tags = tags.split(",")
    names: dict[str, str] = {}
    for raw in tags or []:
        name = " ".join(raw.split()).lstrip("#")
        if name and slugify(name, allow_unicode=True):
            names.setdefault(slugify(name, allow_unicode=True), name)
    if len(names) > MAX_TAGS:
        raise ValidationError({"tags": [_("Use at most %d tags.") % MAX_TAGS]})
    if any(len(name) > MAX_TAG_LENGTH for name in names.values()):
        raise ValidationError({"tags": [_("Keep each tag under %d characters.") % MAX_TAG_LENGTH]})
    return list(names.values())


def _tags_for(space: Space, names: list[str]) -> list[Tag]:
    """The space's tags with these names, created where missing (matched by slug, so "Census" is "census")."""
    tags = []
    for name in names:
        tag, _created = Tag.objects.get_or_create(
            space=space, slug=slugify(name, allow_unicode=True)[:60], defaults={"name": name}
        )
        tags.append(tag)
    return tags


def _unique_slug(space: Space, title: str) -> str:
    base = slugify(title, allow_unicode=True)[:70] or "question"
    existing = set(Question.objects.filter(space=space, slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 1
    while slug in existing:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _save_version(obj: Question | Answer, *, actor, summary: str, fields: list[str] | None = None) -> None:
    obj._change_reason = summary[:100]  # type: ignore[union-attr]
    obj._history_user = actor  # type: ignore[union-attr]
    obj.body_html = render_markdown(obj.body, mentions=mention_links(obj.body))
    obj.save() if fields is None else obj.save(update_fields=[*fields, "body_html"])
    mention_sync(obj.item, obj.body)


# --- Questions -------------------------------------------------------------------------------------------------
@transaction.atomic
def question_ask(*, actor, space: Space, title: str, body: str = "", tags: str | list[str] | None = None) -> Question:
    """Ask a question in ``space``; tags are created in the space as needed."""
    if not permissions.can_ask(actor, space):
        raise PermissionDenied
    onboarding_ensure(user=actor, community=space.community)
    title, body = _validate_question(title, body)
    spam_check(actor, space, f"{title}\n{body}")
    tag_names = parse_tags(tags)
    now = timezone.now()
    item = Item.objects.create(kind=ItemKind.QUESTION, space=space, author=actor, title=title)
    question = Question(
        item=item,
        space=space,
        slug=_unique_slug(space, title),
        title=title,
        body=body,
        last_edited_by=actor,
        last_edited_at=now,
    )
    _save_version(question, actor=actor, summary=_("Asked"))
    question.tags.set(_tags_for(space, tag_names))
    record_activity(
        actor=actor, kind="question_ask", community_id=space.community_id, space_id=space.pk, target=question
    )
    return question


@transaction.atomic
def question_edit(
    *, actor, question: Question, title: str, body: str, tags: str | list[str] | None = None, summary: str = ""
) -> Question:
    """Save a new version of the question (title, body); tags are replaced but are not versioned."""
    if not permissions.can_edit_question(actor, question):
        raise PermissionDenied
    title, body = _validate_question(title, body)
    changed = question.title != title or question.body != body
    if changed:
        spam_check_edit(actor, question.space, f"{title}\n{body}", f"{question.title}\n{question.body}")
    tag_names = parse_tags(tags)
    question.tags.set(_tags_for(question.space, tag_names))
    if not changed:
        return question
    before = {"title": question.title, "body": question.body}
    question.title, question.body = title, body
    question.version += 1
    question.last_edited_by, question.last_edited_at = actor, timezone.now()
    _save_version(
        question,
        actor=actor,
        summary=summary or _("Edited"),
        fields=["title", "body", "version", "last_edited_by", "last_edited_at"],
    )
    Item.objects.filter(pk=question.item_id).update(title=title, updated_at=question.last_edited_at)
    question.item.title = title
    log_moderator_edit(
        actor=actor, item=question.item, before=before, after={"title": title, "body": body}, reason=summary
    )
    record_activity(
        actor=actor,
        kind="question_edit",
        community_id=question.space.community_id,
        space_id=question.space_id,
        target=question,
    )
    return question


def _old_version(obj: Question | Answer, version: int, missing: str):
    old = obj.versions.filter(version=version).order_by("-history_id").first()
    if old is None:
        raise ValidationError(missing % version)
    return old


@transaction.atomic
def question_restore_version(*, actor, question: Question, version: int) -> Question:
    """Bring back the title and text of an earlier version as a new version ("Restored from version 3"), as for
    pages: history is never rewritten. Tags are not versioned and stay as they are. Nothing is written when the
    version reads as the question does now."""
    old = _old_version(question, version, _("There is no version %d of this question."))
    tags = list(question.tags.values_list("name", flat=True))
    summary = _("Restored from version %d") % version
    return question_edit(actor=actor, question=question, title=old.title, body=old.body, tags=tags, summary=summary)


def question_recount(question_id: int) -> None:
    """Recount a question's live answers (after an answer is posted, trashed or restored)."""
    live = Answer.objects.filter(question_id=question_id, item__deleted_at__isnull=True).count()
    Question.objects.filter(pk=question_id).update(answer_count=live)


# --- Answers ---------------------------------------------------------------------------------------------------
@transaction.atomic
def answer_post(*, actor, question: Question, body: str) -> Answer:
    if not permissions.can_answer(actor, question):
        raise PermissionDenied
    onboarding_ensure(user=actor, community=question.space.community)
    body = _validate_answer(body)
    spam_check(actor, question.space, body)
    item = Item.objects.create(kind=ItemKind.ANSWER, space=question.space, author=actor, title="")
    answer = Answer(item=item, question=question, body=body, last_edited_by=actor, last_edited_at=timezone.now())
    _save_version(answer, actor=actor, summary=_("Answered"))
    question_recount(question.pk)
    question.answer_count = Question.objects.values_list("answer_count", flat=True).get(pk=question.pk)
    record_activity(
        actor=actor,
        kind="answer_post",
        community_id=question.space.community_id,
        space_id=question.space_id,
        target=answer,
    )
    return answer


@transaction.atomic
def answer_edit(*, actor, answer: Answer, body: str, summary: str = "") -> Answer:
    if not permissions.can_edit_answer(actor, answer):
        raise PermissionDenied
    body = _validate_answer(body)
    if answer.body == body:
        return answer
    spam_check_edit(actor, answer.item.space, body, answer.body)
    before = {"body": answer.body}
    answer.body = body
    answer.version += 1
    answer.last_edited_by, answer.last_edited_at = actor, timezone.now()
    _save_version(
        answer,
        actor=actor,
        summary=summary or _("Edited"),
        fields=["body", "version", "last_edited_by", "last_edited_at"],
    )
    Item.objects.filter(pk=answer.item_id).update(updated_at=answer.last_edited_at)
    log_moderator_edit(actor=actor, item=answer.item, before=before, after={"body": body}, reason=summary)
    record_activity(
        actor=actor,
        kind="answer_edit",
        community_id=answer.item.space.community_id,
        space_id=answer.item.space_id,
        target=answer,
    )
    return answer


@transaction.atomic
def answer_restore_version(*, actor, answer: Answer, version: int) -> Answer:
    """``question_restore_version`` for an answer's text."""
    old = _old_version(answer, version, _("There is no version %d of this answer."))
    return answer_edit(actor=actor, answer=answer, body=old.body, summary=_("Restored from version %d") % version)


@transaction.atomic
def answer_accept(*, actor, question: Question, answer: Answer | None) -> Question:
    """Mark ``answer`` as the accepted one (replacing any other), or withdraw acceptance with ``answer=None``."""
    if not permissions.can_accept_answer(actor, question):
        raise PermissionDenied
    if answer is not None:
        if answer.question_id != question.pk:
            raise ValidationError(_("That answer belongs to another question."))
        if answer.item.deleted_at is not None:
            raise ValidationError(_("That answer has been deleted."))
        if answer.pk == question.accepted_answer_id:
            raise ValidationError(_("This answer is already the accepted one."))
    elif question.accepted_answer_id is None:
        raise ValidationError(_("No answer is accepted yet."))
    question.accepted_answer = answer
    # Not a new version of the question's text: write the column only.
    Question.objects.filter(pk=question.pk).update(accepted_answer=answer)
    record_activity(
        actor=actor,
        kind="answer_accept" if answer is not None else "answer_unaccept",
        community_id=question.space.community_id,
        space_id=question.space_id,
        target=answer or question,
    )
    author = answer.item.author if answer is not None and answer.item.author_id not in (None, actor.pk) else None
    if author is not None and author.deleted_at is None:
        # The credit (points) goes to the answer's author, who did nothing themselves; accepting your own
        # answer earns nothing.
        record_activity(
            actor=author,
            kind="answer_accepted",
            community_id=question.space.community_id,
            space_id=question.space_id,
            target=answer,
        )
    return question


# --- Votes -----------------------------------------------------------------------------------------------------
def _typed(item: Item):
    model = Question if item.kind == ItemKind.QUESTION else Answer
    return model.objects.filter(item_id=item.pk)


def _check_votable(actor, item: Item) -> None:
    if item.kind not in (ItemKind.QUESTION, ItemKind.ANSWER):
        raise ValidationError(_("Only questions and answers can be voted on."))
    if actor.is_authenticated and item.author_id == actor.pk:
        raise ValidationError(_("You cannot vote for your own question or answer."))
    if not permissions.can_vote(actor, item):
        raise PermissionDenied


@transaction.atomic
def vote_cast(*, actor, item: Item) -> int:
    """Vote ``item`` up once; returns the new score. A second vote is refused with a message."""
    _check_votable(actor, item)
    try:
        with transaction.atomic():
            Vote.objects.create(user=actor, item=item)
    except IntegrityError as exc:
        raise ValidationError(_("You have already voted for this.")) from exc
    _typed(item).update(vote_score=F("vote_score") + 1)
    record_activity(
        actor=actor, kind="vote_cast", community_id=item.space.community_id, space_id=item.space_id, target=item
    )
    return _typed(item).values_list("vote_score", flat=True).get()


@transaction.atomic
def vote_withdraw(*, actor, item: Item) -> int:
    """Take one's vote back; returns the new score."""
    _check_votable(actor, item)
    deleted, _rows = Vote.objects.filter(user=actor, item=item).delete()
    if not deleted:
        raise ValidationError(_("You have not voted for this."))
    _typed(item).update(vote_score=F("vote_score") - 1)
    return _typed(item).values_list("vote_score", flat=True).get()


def vote_toggle(*, actor, item: Item) -> tuple[bool, int]:
    """Vote if the member has not, withdraw if they have; returns (voted now, score)."""
    if Vote.objects.filter(user=actor, item=item).exists():
        return False, vote_withdraw(actor=actor, item=item)
    return True, vote_cast(actor=actor, item=item)
