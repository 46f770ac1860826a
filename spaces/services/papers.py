"""Every write to papers and abstracts submitted to events: submit, edit, withdraw, decide; and files (agenda,
presentations) attached to an event by its organisers.

A paper's file goes through the same checks as the file repository (``copapp.uploads``, ``FILE_MAX_BYTES``) and
is kept in the private storage; it leaves the server only through the permission-checked download view.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from analytics.recording import record_activity
from communities.services import onboarding_ensure
from copapp.markdown import render_markdown
from copapp.uploads import validate_file_upload
from spaces import permissions
from spaces.models import Event, FileAsset, Paper, PaperStatus
from spaces.services.events import local_to_utc
from spaces.services.files import file_upload

MAX_TITLE = 300
MAX_ABSTRACT = 20_000
MAX_MESSAGE = 5_000


def papers_closed_reason(event: Event, now=None) -> str:
    """Why ``event`` takes no submissions now, or "" while it does (papers open, deadline not passed)."""
    if not event.papers_open:
        return _("This event does not take paper submissions.")
    now = now or timezone.now()
    if event.papers_deadline is not None and now >= event.papers_deadline:
        deadline = date_format(timezone.localtime(event.papers_deadline), "DATETIME_FORMAT")
        return _("The submission deadline (%(deadline)s) has passed.") % {"deadline": deadline}
    return ""


def event_zone(event: Event) -> zoneinfo.ZoneInfo:
    """The event's own time zone (UTC if it names none this machine knows)."""
    try:
        return zoneinfo.ZoneInfo(event.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _check_open(event: Event) -> None:
    reason = papers_closed_reason(event)
    if reason:
        raise ValidationError(reason, code="closed")


def _validate(title: str, abstract: str) -> tuple[str, str]:
    title = " ".join((title or "").split())
    abstract = (abstract or "").strip()
    errors = {}
    if not title:
        errors["title"] = [_("Give your paper a title.")]
    elif len(title) > MAX_TITLE:
        errors["title"] = [_("Keep the title under %d characters.") % MAX_TITLE]
    if not abstract:
        errors["abstract"] = [_("Write an abstract.")]
    elif len(abstract) > MAX_ABSTRACT:
        errors["abstract"] = [_("Keep the abstract under %d characters.") % MAX_ABSTRACT]
    if errors:
        raise ValidationError(errors)
    return title, abstract


def _attach(paper: Paper, upload) -> None:
    """Check ``upload`` like any repository file and write it to the private storage (not yet the row)."""
    try:
        checked = validate_file_upload(upload, max_bytes=settings.FILE_MAX_BYTES)
    except ValidationError as exc:
        raise ValidationError({"file": exc.messages}) from exc
    upload.seek(0)
    paper.file.save(checked.name, upload, save=False)
    paper.file_name, paper.file_size, paper.file_content_type = checked.name, checked.size, checked.content_type


def _delete_after_commit(name: str, storage) -> None:
    if name:
        transaction.on_commit(lambda: storage.delete(name))


@transaction.atomic
def paper_submit(*, actor, event: Event, title: str, abstract: str, upload=None) -> Paper:
    """Submit a paper (title, Markdown abstract, optional file) to ``event``.

    Registered participants only (going or maybe), while the event takes papers and before its deadline.
    """
    if not permissions.can_submit_paper(actor, event):
        raise PermissionDenied(_("Only registered participants can submit a paper."))
    _check_open(event)
    onboarding_ensure(user=actor, community=event.space.community)
    title, abstract = _validate(title, abstract)
    paper = Paper(event=event, author=actor, title=title, abstract=abstract, abstract_html=render_markdown(abstract))
    if upload is not None:
        _attach(paper, upload)
    try:
        paper.full_clean(exclude=["file"])
        paper.save()
    except Exception:
        if paper.file:
            paper.file.delete(save=False)
        raise
    record_activity(
        actor=actor,
        kind="paper_submitted",
        community_id=event.space.community_id,
        space_id=event.space_id,
        target=paper,
    )
    return paper


@transaction.atomic
def paper_edit(*, actor, paper: Paper, title: str, abstract: str, upload=None, remove_file: bool = False) -> Paper:
    """The author changes a paper that awaits review, until the deadline. A new file replaces the old one."""
    if not permissions.can_edit_paper(actor, paper):
        raise PermissionDenied(_("You cannot edit this paper."))
    _check_open(paper.event)
    title, abstract = _validate(title, abstract)
    old_name, storage = paper.file.name, paper.file.storage
    paper.title, paper.abstract, paper.abstract_html = title, abstract, render_markdown(abstract)
    fields = ["title", "abstract", "abstract_html", "updated_at"]
    if upload is not None or (remove_file and old_name):
        fields += ["file", "file_name", "file_size", "file_content_type"]
        paper.file, paper.file_name, paper.file_size, paper.file_content_type = None, "", 0, ""
        if upload is not None:
            _attach(paper, upload)
    try:
        paper.full_clean(exclude=["file"])
        paper.save(update_fields=fields)
    except Exception:
        if paper.file and paper.file.name != old_name:
            paper.file.delete(save=False)
        raise
    if "file" in fields:
        _delete_after_commit(old_name, storage)
    record_activity(
        actor=actor,
        kind="paper_edited",
        community_id=paper.event.space.community_id,
        space_id=paper.event.space_id,
        target=paper,
    )
    return paper


@transaction.atomic
def paper_withdraw(*, actor, paper: Paper) -> Paper:
    """The author withdraws a paper that awaits review (also after the deadline). It stays in their list."""
    if not permissions.can_edit_paper(actor, paper):
        raise PermissionDenied(_("You cannot withdraw this paper."))
    paper.status = PaperStatus.WITHDRAWN
    paper.save(update_fields=["status", "updated_at"])
    record_activity(
        actor=actor,
        kind="paper_withdrawn",
        community_id=paper.event.space.community_id,
        space_id=paper.event.space_id,
        target=paper,
    )
    return paper


@transaction.atomic
def paper_decide(*, actor, paper: Paper, accept: bool, message: str = "") -> Paper:
    """An organiser accepts or declines a paper, with a message to its author. A decision may be changed; a
    withdrawn paper cannot be decided."""
    if not permissions.can_review_papers(actor, paper.event):
        raise PermissionDenied(_("You cannot review papers of this event."))
    if paper.status == PaperStatus.WITHDRAWN:
        raise ValidationError(_("The author has withdrawn this paper."))
    message = (message or "").strip()
    if len(message) > MAX_MESSAGE:
        raise ValidationError({"decision_message": [_("Keep the message under %d characters.") % MAX_MESSAGE]})
    paper.status = PaperStatus.ACCEPTED if accept else PaperStatus.DECLINED
    paper.decision_message, paper.decided_by, paper.decided_at = message, actor, timezone.now()
    paper.save(update_fields=["status", "decision_message", "decided_by", "decided_at", "updated_at"])
    record_activity(
        actor=actor,
        kind="paper_accepted" if accept else "paper_declined",
        community_id=paper.event.space.community_id,
        space_id=paper.event.space_id,
        target=paper,
    )
    return paper


@transaction.atomic
def event_papers_configure(*, actor, event: Event, papers_open: bool, papers_deadline: datetime | None = None) -> Event:
    """Open or close paper submissions, with an optional deadline (organisers).

    A naive ``papers_deadline`` is a wall-clock time in the event's own time zone; an aware one is the instant.
    """
    if not permissions.can_organise_event(actor, event):
        raise PermissionDenied(_("You cannot change this event."))
    if papers_deadline is not None:
        papers_deadline = local_to_utc(papers_deadline, event_zone(event), field="papers_deadline")
    event.papers_open, event.papers_deadline = bool(papers_open), papers_deadline
    event.save(update_fields=["papers_open", "papers_deadline"])
    record_activity(
        actor=actor,
        kind="event_papers_configure",
        community_id=event.space.community_id,
        space_id=event.space_id,
        target=event,
    )
    return event


def event_file_attach(*, actor, event: Event, upload, description: str = "") -> FileAsset:
    """Attach a file (agenda, slides) to ``event``: organisers only; seen only where the event is seen."""
    return file_upload(actor=actor, space=event.space, upload=upload, description=description, event=event)
