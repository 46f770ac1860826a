"""Reads for papers submitted to events and files attached to events. Every list starts from the permission
filters (``visible_events_q``, ``visible_papers_q``, ``visible_files_q``) and runs a fixed number of queries
whatever the number of rows."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower
from django.http import Http404
from django.utils import timezone

from spaces import permissions, selectors_content
from spaces.models import Event, FileAsset, Paper, PaperStatus, Registration
from spaces.selectors_events import my_registration
from spaces.services.papers import papers_closed_reason

REVIEW_FILTERS = ("submitted", "accepted", "declined", "withdrawn", "all")


def get_event_for_user(user, community_slug: str, space_slug: str, event_slug: str, action: str = "view") -> Event:
    """The event if the user may see it (404 exactly as if it did not exist otherwise).

    People who see a private space but may not read it get 403, as for the space's other content. ``action``:
    "view", "organise" (attach files) or "review" (papers): 403 without the right.
    """
    space = permissions.get_space_for_user(user, community_slug, space_slug, action="read")
    event = (
        Event.objects.filter(space=space, slug=event_slug)
        .filter(permissions.visible_events_q(user))
        .select_related("item")
        .defer(*selectors_content.JOINED_ITEM_TEXTS)
        .first()
    )
    if event is None:
        raise Http404
    event.space = event.item.space = space
    if action == "organise" and not permissions.can_organise_event(user, event):
        raise PermissionDenied
    if action == "review" and not permissions.can_review_papers(user, event):
        raise PermissionDenied
    return event


def get_paper_for_user(user, event: Event, paper_id: int, action: str = "view") -> Paper:
    """A paper of ``event`` the user may see (404 otherwise); 403 for "edit" or "decide" without the right."""
    paper = (
        Paper.objects.filter(permissions.visible_papers_q(user, event))
        .filter(pk=paper_id)
        .select_related("author__profile", "decided_by")
        .first()
    )
    if paper is None:
        raise Http404
    paper.event = event
    if action == "edit" and not permissions.can_edit_paper(user, paper):
        raise PermissionDenied
    if action == "decide" and not permissions.can_review_papers(user, event):
        raise PermissionDenied
    return paper


def papers_for_review(event: Event, status: str = "submitted") -> QuerySet[Paper]:
    """Every paper of the event (for its reviewers), awaiting ones first, oldest first. One query."""
    papers = Paper.objects.filter(event=event).select_related("author", "decided_by")
    if status != "all":
        papers = papers.filter(status=status)
    return papers.order_by("submitted_at", "pk")


def review_counts(event: Event) -> dict[str, int]:
    """Papers of the event by status, and "all". One query."""
    rows = Paper.objects.filter(event=event).values("status").annotate(n=Count("pk")).order_by()
    counts = {status: 0 for status in REVIEW_FILTERS}
    for row in rows:
        counts[row["status"]] = row["n"]
    counts["all"] = sum(row["n"] for row in rows)
    return counts


def event_files(event: Event, user) -> QuerySet[FileAsset]:
    """Files attached to the event that the user may see (agenda, presentations), by name."""
    return (
        FileAsset.objects.filter(event=event)
        .filter(permissions.visible_files_q(user))
        .select_related("current_version__uploaded_by")
        .order_by(Lower("name"), "pk")
    )


def user_registration(event: Event, user) -> Registration | None:
    return my_registration(event, user)


def event_papers_context(event: Event, user) -> dict:
    """Everything the event page shows about papers and files, for ``user``; the event must be visible to them.

    At most four queries whatever the number of papers and files: the member's registration (shared with the
    event page), the papers shown (accepted ones and the member's own, in one query), the number awaiting review
    (reviewers only), the files.
    """
    registration = user_registration(event, user)
    shown = Q(status=PaperStatus.ACCEPTED) | (Q(author=user) if user.is_authenticated else Q(pk__in=[]))
    papers = list(Paper.objects.filter(event=event).filter(shown).select_related("author"))
    accepted = sorted((p for p in papers if p.status == PaperStatus.ACCEPTED), key=lambda p: (p.title, p.pk))
    mine = sorted((p for p in papers if p.author_id == user.pk), key=lambda p: (p.submitted_at, p.pk))
    can_review = permissions.can_review_papers(user, event)
    awaiting = Paper.objects.filter(event=event, status=PaperStatus.SUBMITTED).count() if can_review else 0
    for paper in [*accepted, *mine]:
        paper.event = event
    closed_reason = papers_closed_reason(event)
    return {
        "event": event,
        "registration": registration,
        "accepted_papers": accepted,
        "my_papers": mine,
        "papers_open": event.papers_open,
        "papers_deadline": event.papers_deadline,
        "papers_closed_reason": closed_reason,
        "deadline_passed": event.papers_open
        and event.papers_deadline is not None
        and event.papers_deadline <= timezone.now(),
        "can_submit": not closed_reason
        and permissions.can_submit_paper(user, event, registration or no_registration(event)),
        "may_register_to_submit": not closed_reason and registration is None and permissions.can_register(user, event),
        "can_review": can_review,
        "awaiting_review": awaiting,
        "event_files": list(event_files(event, user)),
        "can_attach_files": permissions.can_organise_event(user, event),
    }


def no_registration(event: Event) -> Registration:
    """A stand-in for "has not registered", so the permission rule needs no query of its own."""
    return Registration(event=event, user_id=0, status="not_going")
