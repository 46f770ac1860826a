"""Every write to polls: create, vote (and change one's vote until the poll closes), close early.

Counters (``PollOption.vote_count``, ``Poll.voter_count``) are kept here, in the same transaction as the votes
they count, with ``QuerySet.update`` and ``F()`` so concurrent votes never overwrite each other's counts. The
database constraint (one row per member and option) is the last word on "one vote per member".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.recording import record_activity
from communities.services import onboarding_ensure
from copapp.markdown import render_markdown
from spaces import permissions
from spaces.models import Item, ItemKind, Poll, PollOption, PollVote, ResultsShown, Space
from spaces.services.moderation import spam_check

MIN_OPTIONS = 2
MAX_OPTIONS = 20
MAX_QUESTION = 300
MAX_LABEL = 200
MAX_DESCRIPTION = 20_000


def _clean_options(options: Iterable[str]) -> list[str]:
    """Trimmed labels in the given order; blank entries (an empty last line, an unused input) are skipped."""
    labels = [" ".join((label or "").split()) for label in options]
    labels = [label for label in labels if label]
    if len(labels) < MIN_OPTIONS:
        raise ValidationError({"options": [_("Give at least %d options to choose from.") % MIN_OPTIONS]})
    if len(labels) > MAX_OPTIONS:
        raise ValidationError({"options": [_("Offer at most %d options.") % MAX_OPTIONS]})
    if too_long := [label for label in labels if len(label) > MAX_LABEL]:
        raise ValidationError(
            {
                "options": [
                    _("Keep each option under %(n)d characters: “%(label)s…”")
                    % {"n": MAX_LABEL, "label": too_long[0][:40]}
                ]
            }
        )
    seen: set[str] = set()
    for label in labels:
        if label.casefold() in seen:
            raise ValidationError({"options": [_("Each option must be different: “%s” appears twice.") % label]})
        seen.add(label.casefold())
    return labels


def _validate_poll(question: str, description: str, closes_at: datetime | None, results_shown: str) -> str:
    question = " ".join((question or "").split())
    errors: dict[str, list[str]] = {}
    if not question:
        errors["question"] = [_("Write the question members will answer.")]
    elif len(question) > MAX_QUESTION:
        errors["question"] = [_("Keep the question under %d characters.") % MAX_QUESTION]
    if len(description or "") > MAX_DESCRIPTION:
        errors["description"] = [_("Keep the description under %d characters.") % MAX_DESCRIPTION]
    if closes_at is not None and closes_at <= timezone.now():
        errors["closes_at"] = [_("Choose a closing time in the future, or leave it empty to close the poll by hand.")]
    if results_shown not in ResultsShown.values:
        errors["results_shown"] = [_("Choose when the results are shown.")]
    if errors:
        raise ValidationError(errors)
    return question


@transaction.atomic
def poll_create(
    *,
    actor,
    space: Space,
    question: str,
    options: Iterable[str],
    multiple: bool = False,
    closes_at: datetime | None = None,
    results_shown: str = ResultsShown.AFTER_VOTE,
    description: str = "",
) -> Poll:
    """Open a poll in ``space`` with 2 to 20 distinct options; ``closes_at`` (optional) must be in the future."""
    if not permissions.can_create_poll(actor, space):
        raise PermissionDenied
    onboarding_ensure(user=actor, community=space.community)
    spam_check(actor, space, f"{question}\n{description}")
    errors: dict[str, list[str]] = {}
    labels: list[str] = []
    try:
        question = _validate_poll(question, description, closes_at, results_shown)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        labels = _clean_options(list(options))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:  # every problem at once, so the form shows them together
        raise ValidationError(errors)
    item = Item.objects.create(kind=ItemKind.POLL, space=space, author=actor, title=question)
    poll = Poll(
        item=item,
        space=space,
        question=question,
        description=description or "",
        description_html=render_markdown(description or ""),
        multiple=bool(multiple),
        closes_at=closes_at,
        results_shown=results_shown,
    )
    poll.full_clean()
    poll.save()
    PollOption.objects.bulk_create([PollOption(poll=poll, label=label, position=n) for n, label in enumerate(labels)])
    record_activity(actor=actor, kind="poll_created", community_id=space.community_id, space_id=space.pk, target=poll)
    return poll


def _option_ids(option_ids: Iterable) -> set[int]:
    ids: set[int] = set()
    for raw in option_ids or []:
        try:
            ids.add(int(raw))
        except (TypeError, ValueError) as exc:
            raise ValidationError(_("That option is not part of this poll.")) from exc
    return ids


@transaction.atomic
def poll_vote(*, actor, poll: Poll, option_ids: Iterable[int | str]) -> set[int]:
    """Record the member's choice, replacing any earlier one; returns the chosen option ids.

    A single-choice poll takes exactly one option, a multiple-choice poll one or more. Options of another
    poll, an empty choice and votes after closing are refused with a message, and nothing changes.
    """
    # The row lock serialises two submissions by the same member (a double click) on databases that lock.
    locked = Poll.objects.select_for_update().get(pk=poll.pk)
    poll.closes_at = locked.closes_at
    if permissions.poll_is_closed(poll):
        raise ValidationError(_("This poll has closed: votes can no longer be cast or changed."))
    if not permissions.can_vote_in_poll(actor, poll):
        raise PermissionDenied
    chosen = _option_ids(option_ids)
    if not chosen:
        raise ValidationError(_("Choose an option before voting."))
    if not poll.multiple and len(chosen) > 1:
        raise ValidationError(_("This poll takes one choice only."))
    valid = set(PollOption.objects.filter(poll=poll, pk__in=chosen).values_list("pk", flat=True))
    if valid != chosen:
        raise ValidationError(_("That option is not part of this poll."))
    previous = set(PollVote.objects.filter(poll=poll, user=actor).values_list("option_id", flat=True))
    if previous == chosen:
        return chosen
    removed, added = previous - chosen, chosen - previous
    if removed:
        PollVote.objects.filter(poll=poll, user=actor, option_id__in=removed).delete()
        PollOption.objects.filter(pk__in=removed).update(vote_count=F("vote_count") - 1)
    try:
        with transaction.atomic():
            PollVote.objects.bulk_create([PollVote(poll=poll, option_id=pk, user=actor) for pk in sorted(added)])
    except IntegrityError as exc:
        raise ValidationError(_("Your vote was already recorded; reload the page to see it.")) from exc
    PollOption.objects.filter(pk__in=added).update(vote_count=F("vote_count") + 1)
    if not previous:
        Poll.objects.filter(pk=poll.pk).update(voter_count=F("voter_count") + 1)
    poll.voter_count = Poll.objects.values_list("voter_count", flat=True).get(pk=poll.pk)
    record_activity(
        actor=actor, kind="poll_voted", community_id=poll.space.community_id, space_id=poll.space_id, target=poll
    )
    return chosen


@transaction.atomic
def poll_close(*, actor, poll: Poll) -> Poll:
    """Close the poll now (its author or a moderator): votes stop and everyone who sees it sees the results."""
    if not permissions.can_edit_poll(actor, poll):
        raise PermissionDenied
    if permissions.poll_is_closed(poll):
        raise ValidationError(_("This poll is already closed."))
    poll.closes_at = timezone.now()
    poll.save(update_fields=["closes_at"])
    record_activity(
        actor=actor, kind="poll_closed", community_id=poll.space.community_id, space_id=poll.space_id, target=poll
    )
    return poll
