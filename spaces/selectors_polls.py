"""Reads for polls. Every list starts from ``Item.objects.visible_to(user)`` in the query and runs a fixed
number of queries whatever the number of polls or options."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Count, Exists, OuterRef, QuerySet, Value
from django.http import Http404
from django.utils.translation import gettext as _

from spaces import permissions, selectors_content
from spaces.models import Item, Poll, PollOption, PollVote, ResultsShown, Space


def visible_polls(user, space: Space) -> QuerySet[Poll]:
    """The space's polls whose registry item the user may see (hidden, trashed and restricted ones drop out)."""
    return Poll.objects.filter(space=space, item__in=Item.objects.visible_to(user, kinds=("poll",)).values("pk"))


def _voted(user) -> Exists | Value:
    if not user.is_authenticated:
        return Value(False, output_field=BooleanField())
    return Exists(PollVote.objects.filter(poll=OuterRef("pk"), user=user))


def poll_list(user, space: Space) -> QuerySet[Poll]:
    """Visible polls of the space, newest first, each with ``has_voted`` (the member's own vote) and
    ``option_count`` annotated: one query per page of results, whatever its length."""
    return (
        visible_polls(user, space)
        .select_related("item__author")
        .defer(*selectors_content.JOINED_ITEM_TEXTS)
        .annotate(has_voted=_voted(user), option_count=Count("options"))
        .order_by("-created_at", "-pk")
    )


def decorate_poll_rows(user, polls: list[Poll], space: Space) -> list[Poll]:
    """Ready booleans for list rows (``is_closed``, ``can_vote``), from the cached roles: no queries."""
    for poll in polls:
        poll.space = poll.item.space = space
        poll.is_closed = permissions.poll_is_closed(poll)
        poll.can_vote = permissions.can_vote_in_poll(user, poll)
    return polls


def get_poll_for_user(user, community_slug: str, space_slug: str, poll_id: int, action: str = "view") -> Poll:
    """404 when the user may not see the poll (exactly as if it did not exist), 403 when they may not act.

    People who see a private space but may not read it get 403, as for its other content.
    """
    space = permissions.get_space_for_user(user, community_slug, space_slug, action="read")
    poll = (
        visible_polls(user, space)
        .select_related("item__author")
        .defer(*selectors_content.JOINED_ITEM_TEXTS)
        .filter(pk=poll_id)
        .first()
    )
    if poll is None:
        raise Http404
    poll.space = poll.item.space = space
    if action == "close" and not permissions.can_edit_poll(user, poll):
        raise PermissionDenied
    return poll


def poll_card(poll: Poll, user, *, error: str = "") -> dict:
    """What ``spaces/partials/poll_card.html`` needs: options with counts and percentages (when the user may see
    the results), the member's own choices, and ready booleans. Two queries: the options and the member's votes.

    Percentages are of the members who voted, so in a multiple-choice poll they may add up to more than 100.
    """
    options = list(PollOption.objects.filter(poll=poll).order_by("position", "pk"))
    mine: set[int] = set()
    if user.is_authenticated:
        mine = set(PollVote.objects.filter(poll=poll, user=user).values_list("option_id", flat=True))
    voters = poll.voter_count
    for option in options:
        option.chosen = option.pk in mine
        option.percent = round(100 * option.vote_count / voters) if voters else 0
    has_voted = bool(mine)
    is_closed = permissions.poll_is_closed(poll)
    show_results = permissions.can_see_poll_results(user, poll, has_voted)
    note = ""
    if not show_results:
        if poll.results_shown == ResultsShown.AFTER_CLOSE:
            note = _("The results will be shown after the poll closes.")
        else:
            note = _("The results are shown once you have voted.")
    return {
        "poll": poll,
        "options": options,
        "has_voted": has_voted,
        "is_closed": is_closed,
        "can_vote": permissions.can_vote_in_poll(user, poll),
        "can_close": not is_closed and permissions.can_edit_poll(user, poll),
        "show_results": show_results,
        "results_note": note,
        "input_type": "checkbox" if poll.multiple else "radio",
        "vote_error": error,
        "space": poll.space,
        "community": poll.space.community,
    }
