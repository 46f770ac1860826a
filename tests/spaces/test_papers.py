"""Papers and abstracts submitted to events, their review, and files (agenda, slides) attached to events.

Roles and visibilities: registered participants submit; authors edit or withdraw while their paper awaits
review; moderators and admins review; accepted papers are listed for everyone who sees the event, the others
only for their author and the reviewers. Files live in a private storage under pytest's ``tmp_path``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.template import RequestContext, Template
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analytics.models import ActivityEvent
from spaces.models import Event, FileAsset, FileVersion, Paper, PaperStatus, Visibility
from spaces.services import events as event_services
from spaces.services import papers as paper_services
from spaces.services import space_leave
from tests.spaces.helpers import client_for, form_errors, messages_of

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"This program cannot be run"


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path, monkeypatch) -> Path:
    """Paper files and event files go to a private directory under tmp_path."""
    location = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(location)}},
    }
    monkeypatch.setattr(Paper._meta.get_field("file"), "storage", storages["private"])
    monkeypatch.setattr(FileVersion._meta.get_field("file"), "storage", storages["private"])
    return location


@pytest.fixture
def open_world(world_factory):
    return world_factory(Visibility.OPEN)


@pytest.fixture
def private_world(world_factory):
    return world_factory(Visibility.PRIVATE)


@pytest.fixture
def closed_world(world_factory):
    return world_factory(Visibility.CLOSED)


# --- Helpers ---------------------------------------------------------------------------------------------------
def make_event(w, *, papers: bool = True, deadline=None, author=None, title: str = "Linkage workshop") -> Event:
    """An event a week ahead, created by the editor (an organiser), taking papers unless told otherwise."""
    start = timezone.now() + timedelta(days=7)
    event = event_services.event_create(
        actor=author or w.editor,
        space=w.space,
        title=title,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        time_zone="Europe/Paris",
        venue="Room 1",
        online_url="https://meet.example.org/linkage",
    )
    if papers:
        paper_services.event_papers_configure(
            actor=author or w.editor, event=event, papers_open=True, papers_deadline=deadline
        )
    return event


def register(user, event: Event, status: str = "going") -> None:
    event_services.event_registration_set(actor=user, event=event, status=status)


def upload(name: str = "paper.pdf", content: bytes = PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def submit(user, event: Event, title: str = "Probabilistic linkage", file: bool = True) -> Paper:
    return paper_services.paper_submit(
        actor=user, event=event, title=title, abstract="We link **records**.", upload=upload() if file else None
    )


def decide(w, paper: Paper, accept: bool, message: str = "") -> Paper:
    return paper_services.paper_decide(actor=w.moderator, paper=paper, accept=accept, message=message)


def event_kwargs(event: Event) -> dict:
    return {"community_slug": event.space.community.slug, "space_slug": event.space.slug, "event_slug": event.slug}


def url(name: str, event: Event, paper: Paper | None = None, **extra) -> str:
    kwargs = event_kwargs(event)
    if paper is not None:
        kwargs["paper_id"] = paper.pk
    if name == "paper-download":
        kwargs["filename"] = paper.file_name
    return reverse(f"spaces:{name}", kwargs={**kwargs, **extra})


def browser_for(user) -> Client:
    return Client() if not user.is_authenticated else client_for(user)


def stored_files(location: Path) -> list[Path]:
    return [p for p in location.rglob("*") if p.is_file()] if location.exists() else []


def render_event_papers(event: Event, user) -> str:
    request = RequestFactory().get("/somewhere/")
    request.user = user
    fresh = Event.objects.select_related("space__community", "item__space").get(pk=event.pk)
    return Template("{% load space_events %}{% event_papers event %}").render(RequestContext(request, {"event": fresh}))


def fresh(user):
    """The same member without the roles cached on the object (as in a new request)."""
    return type(user).objects.get(pk=user.pk)


# --- Submitting ----------------------------------------------------------------------------------------------
def test_registered_viewer_submits_a_paper_with_its_file_in_private_storage(open_world, private_storage):
    w = open_world
    event = make_event(w)
    register(w.viewer, event)
    browser = client_for(w.viewer)
    assert browser.get(url("paper-submit", event)).status_code == 200

    response = browser.post(
        url("paper-submit", event),
        {"title": "  Probabilistic   linkage ", "abstract": "We link **records**.", "file": upload("My paper.pdf")},
    )

    paper = Paper.objects.get()
    assert response.status_code == 302 and response["Location"] == url("paper-detail", event, paper)
    assert (paper.author, paper.title, paper.status) == (w.viewer, "Probabilistic linkage", PaperStatus.SUBMITTED)
    assert "<strong>records</strong>" in paper.abstract_html
    assert (paper.file_name, paper.file_size, paper.file_content_type) == ("My_paper.pdf", len(PDF), "application/pdf")
    assert [p.read_bytes() for p in stored_files(private_storage)] == [PDF]
    assert ActivityEvent.objects.filter(member=w.viewer, kind="paper_submitted", target_id=paper.pk).exists()


def test_maybe_participant_may_submit_without_a_file(open_world):
    w = open_world
    event = make_event(w)
    register(w.viewer, event, "maybe")

    paper = submit(w.viewer, event, file=False)

    assert not paper.file and paper.status == PaperStatus.SUBMITTED


@pytest.mark.parametrize("status", [None, "not_going"])
def test_viewer_who_is_not_registered_cannot_submit(open_world, status):
    w = open_world
    event = make_event(w)
    if status:
        register(w.viewer, event, status)
    browser = client_for(w.viewer)

    assert browser.get(url("paper-submit", event)).status_code == 403
    response = browser.post(url("paper-submit", event), {"title": "T", "abstract": "A", "file": upload()})

    assert response.status_code == 403
    assert not Paper.objects.exists()
    with pytest.raises(PermissionDenied):
        submit(w.viewer, event)


def test_submission_after_the_deadline_is_refused_with_a_message_and_nothing_is_stored(open_world, private_storage):
    w = open_world
    event = make_event(w, deadline=timezone.now() - timedelta(minutes=1))
    register(w.viewer, event)
    browser = client_for(w.viewer)

    response = browser.post(url("paper-submit", event), {"title": "Late", "abstract": "Sorry", "file": upload()})

    assert response.status_code == 400
    assert "The submission deadline" in " ".join(form_errors(response)["__all__"])
    assert response.context["form"]["abstract"].value() == "Sorry"  # what was typed is not lost
    assert not Paper.objects.exists() and not stored_files(private_storage)
    assert not ActivityEvent.objects.filter(kind="paper_submitted").exists()
    # The form itself is not offered any more: back to the event, with the reason.
    response = browser.get(url("paper-submit", event))
    assert response.status_code == 302 and response["Location"] == event.get_absolute_url()
    assert any("deadline" in m for m in messages_of(response))


def test_an_event_that_does_not_take_papers_refuses_them(open_world):
    w = open_world
    event = make_event(w, papers=False)
    register(w.viewer, event)

    with pytest.raises(ValidationError, match="does not take paper submissions"):
        submit(w.viewer, event)
    assert not Paper.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [("tool.exe", EXE, "cannot be uploaded"), ("paper.pdf", b"<html><script>x</script></html>", "not a type")],
)
def test_a_paper_file_gets_the_same_checks_as_the_repository(open_world, private_storage, name, content, message):
    w = open_world
    event = make_event(w)
    register(w.viewer, event)

    response = client_for(w.viewer).post(
        url("paper-submit", event), {"title": "T", "abstract": "A", "file": upload(name, content)}
    )

    assert response.status_code == 400
    assert message in " ".join(form_errors(response)["file"])
    assert not Paper.objects.exists() and not stored_files(private_storage)


def test_a_paper_over_the_size_limit_is_refused(open_world, settings):
    settings.FILE_MAX_BYTES = 1000
    w = open_world
    event = make_event(w)
    register(w.viewer, event)
    browser = client_for(w.viewer)

    response = browser.post(
        url("paper-submit", event), {"title": "T", "abstract": "A", "file": upload("a.csv", b"a,b\n" * 400)}
    )
    assert response.status_code == 400 and "the limit is 1000" in " ".join(form_errors(response)["file"])
    response = browser.generic(
        "POST", url("paper-submit", event), b"x" * 200_000, content_type="multipart/form-data; boundary=zz"
    )
    assert response.status_code == 413
    assert not Paper.objects.exists()


def test_anonymous_is_sent_to_sign_in_and_outsiders_of_a_closed_space_get_404(closed_world):
    w = closed_world
    event = make_event(w)
    register(w.viewer, event)
    paper = submit(w.viewer, event)
    decide(w, paper, accept=True)
    names = ["paper-detail", "paper-download"]

    response = Client().get(url("paper-submit", event))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    for user in (w.anonymous, w.outsider, w.banned):
        for name in names:
            assert browser_for(user).get(url(name, event, paper)).status_code == 404, (user, name)
    for user in (w.outsider, w.banned):
        browser = client_for(user)
        assert browser.get(url("paper-submit", event)).status_code == 404
        assert browser.get(url("paper-review", event)).status_code == 404
        assert browser.post(url("paper-decide", event, paper), {"decision": "decline"}).status_code == 404
    assert Paper.objects.get().status == PaperStatus.ACCEPTED


def test_outsider_of_a_private_space_is_told_the_papers_are_for_members(private_world):
    w = private_world
    event = make_event(w)
    register(w.viewer, event)
    paper = submit(w.viewer, event)
    decide(w, paper, accept=True)

    assert client_for(w.outsider).get(url("paper-detail", event, paper)).status_code == 403
    assert client_for(w.viewer).get(url("paper-detail", event, paper)).status_code == 200


# --- Who sees which paper -------------------------------------------------------------------------------------
def test_a_declined_paper_is_seen_only_by_its_author_and_the_reviewers(open_world):
    w = open_world
    event = make_event(w)
    register(w.viewer, event)
    paper = submit(w.viewer, event)
    decide(w, paper, accept=False, message="Out of scope for this workshop.")

    for user in (w.viewer, w.moderator, w.admin, w.community_admin, w.staff):
        response = client_for(user).get(url("paper-detail", event, paper))
        assert response.status_code == 200, user
        assert "Out of scope for this workshop." in response.content.decode()
        assert client_for(user).get(url("paper-download", event, paper)).status_code == 200
    for user in (w.anonymous, w.outsider, w.editor):
        assert browser_for(user).get(url("paper-detail", event, paper)).status_code == 404, user
        assert browser_for(user).get(url("paper-download", event, paper)).status_code == 404, user
    assert "Probabilistic linkage" not in render_event_papers(event, fresh(w.editor))
    mine = render_event_papers(event, fresh(w.viewer))
    assert "Your submissions" in mine and "Declined" in mine and "Out of scope for this workshop." in mine


def test_a_submitted_paper_is_not_listed_for_other_members(open_world):
    w = open_world
    event = make_event(w)
    register(w.viewer, event)
    paper = submit(w.viewer, event)

    assert "Probabilistic linkage" not in render_event_papers(event, fresh(w.editor))
    assert client_for(w.editor).get(url("paper-detail", event, paper)).status_code == 404


def test_an_accepted_paper_is_listed_on_the_event_with_its_file_for_everyone_who_sees_the_event(open_world):
    w = open_world
    event = make_event(w)
    register(w.viewer, event)
    paper = submit(w.viewer, event)
    decide(w, paper, accept=True, message="Welcome aboard; 20 minutes.")

    html = render_event_papers(event, type(w.anonymous)())
    assert "Probabilistic linkage" in html and url("paper-download", event, paper) in html
    assert "20 minutes" not in html  # the message is for the author
    response = Client().get(url("paper-download", event, paper))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff" and "sandbox" in response["Content-Security-Policy"]
    detail = Client().get(url("paper-detail", event, paper)).content.decode()
    assert "We link <strong>records</strong>." in detail and "20 minutes" not in detail


def test_papers_of_a_trashed_event_disappear(open_world):
    w = open_world
    event = make_event(w)
    register(w.viewer, event)
    paper = submit(w.viewer, event)
    decide(w, paper, accept=True)
    event_services.event_trash(actor=w.moderator, event=event)

    for user in (w.anonymous, w.viewer):
        assert browser_for(user).get(url("paper-download", event, paper)).status_code == 404


# --- Editing and withdrawing ----------------------------------------------------------------------------------
def test_author_edits_a_submitted_paper_and_replaces_its_file(
    open_world, private_storage, django_capture_on_commit_callbacks
):
    w = open_world
    event = make_event(w)
    register(w.viewer, event)
    paper = submit(w.viewer, event)
    browser = client_for(w.viewer)
    assert browser.get(url("paper-edit", event, paper)).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            url("paper-edit", event, paper),
            {"title": "Deterministic linkage", "abstract": "_New_", "file": upload("v2.pdf", PDF + b"%v2")},
        )

    assert response.status_code == 302
    paper.refresh_from_db()
    assert (paper.title, paper.file_name) == ("Deterministic linkage", "v2.pdf")
    assert "<em>New</em>" in paper.abstract_html
    assert [p.name for p in stored_files(private_storage)] == ["v2.pdf"]  # the old file is gone


def test_author_removes_the_file(open_world, private_storage, django_capture_on_commit_callbacks):
    w = open_world
    event = make_event(w)
    register(w.viewer, event)
    paper = submit(w.viewer, event)

    with django_capture_on_commit_callbacks(execute=True):
        paper_services.paper_edit(actor=w.viewer, paper=paper, title=paper.title, abstract="A", remove_file=True)

    paper.refresh_from_db()
    assert not paper.file and paper.file_size == 0 and not stored_files(private_storage)


def test_nobody_else_edits_or_withdraws_a_paper(open_world):
    w = open_world
    event = make_event(w)
    register(w.viewer, event)
    register(w.editor, event)
    paper = submit(w.viewer, event)

    assert client_for(w.editor).get(url("paper-edit", event, paper)).status_code == 404  # cannot even see it
    assert client_for(w.moderator).get(url("paper-edit", event, paper)).status_code == 403  # sees, reviews
    assert client_for(w.moderator).post(url("paper-withdraw", event, paper)).status_code == 403
    assert Paper.objects.get().status == PaperStatus.SUBMITTED


def test_after_a_decision_the_author_can_no_longer_edit_or_withdraw(open_world):
    w = open_world
    event = make_event(w)
    register(w.viewer, event)
    paper = submit(w.viewer, event)
    decide(w, paper, accept=True)
    browser = client_for(w.viewer)

    assert browser.get(url("paper-edit", event, paper)).status_code == 403
    assert browser.post(url("paper-withdraw", event, paper)).status_code == 403
    assert Paper.objects.get().status == PaperStatus.ACCEPTED


def test_editing_after_the_deadline_is_refused_but_withdrawing_is_not(open_world):
    w = open_world
    event = make_event(w)
    register(w.viewer, event)
    paper = submit(w.viewer, event)
    paper_services.event_papers_configure(
        actor=w.editor, event=event, papers_open=True, papers_deadline=timezone.now() - timedelta(seconds=1)
    )
    browser = client_for(w.viewer)

    response = browser.post(url("paper-edit", event, paper), {"title": "Changed", "abstract": "Changed"})
    assert response.status_code == 400 and "deadline" in " ".join(form_errors(response)["__all__"])
    assert Paper.objects.get().title == "Probabilistic linkage"

    response = browser.post(url("paper-withdraw", event, paper))
    assert response.status_code == 302
    assert Paper.objects.get().status == PaperStatus.WITHDRAWN
    assert ActivityEvent.objects.filter(kind="paper_withdrawn").exists()


def test_withdraw_and_decide_only_take_post(open_world):
    w = open_world
    event = make_event(w)
    register(w.viewer, event)
    paper = submit(w.viewer, event)

    assert client_for(w.viewer).get(url("paper-withdraw", event, paper)).status_code == 405
    assert client_for(w.moderator).get(url("paper-decide", event, paper)).status_code == 405
    assert client_for(w.moderator).post(url("paper-detail", event, paper)).status_code == 405


# --- Review ----------------------------------------------------------------------------------------------------
def test_moderator_accepts_with_a_message_to_the_author(open_world):
    w = open_world
    event = make_event(w)
    register(w.viewer, event)
    paper = submit(w.viewer, event)

    response = client_for(w.moderator).post(
        url("paper-decide", event, paper), {"decision": "accept", "message": "See you there."}
    )

    assert response.status_code == 302 and response["Location"] == url("paper-review", event)
    paper.refresh_from_db()
    assert (paper.status, paper.decision_message, paper.decided_by) == ("accepted", "See you there.", w.moderator)
    assert paper.decided_at is not None
    assert ActivityEvent.objects.filter(member=w.moderator, kind="paper_accepted", target_id=paper.pk).exists()


@pytest.mark.parametrize("who", ["editor", "viewer"])
def test_members_who_are_not_moderators_cannot_review(open_world, who):
    w = open_world
    event = make_event(w)
    register(w.viewer, event)
    paper = submit(w.viewer, event)
    decide(w, paper, accept=True)  # so that everyone can see it
    browser = client_for(getattr(w, who))

    assert browser.get(url("paper-review", event)).status_code == 403
    assert browser.post(url("paper-decide", event, paper), {"decision": "decline"}).status_code == 403
    assert Paper.objects.get().status == PaperStatus.ACCEPTED


def test_a_withdrawn_paper_cannot_be_decided(open_world):
    w = open_world
    event = make_event(w)
    register(w.viewer, event)
    paper = submit(w.viewer, event)
    paper_services.paper_withdraw(actor=w.viewer, paper=paper)

    response = client_for(w.moderator).post(url("paper-decide", event, paper), {"decision": "accept"})

    assert response.status_code == 400
    assert Paper.objects.get().status == PaperStatus.WITHDRAWN


def test_review_page_lists_every_submission_for_reviewers(open_world):
    w = open_world
    event = make_event(w)
    register(w.viewer, event)
    register(w.editor, event)
    first = submit(w.viewer, event, title="First")
    submit(w.editor, event, title="Second")
    decide(w, first, accept=False)
    browser = client_for(w.admin)

    awaiting = browser.get(url("paper-review", event)).content.decode()
    everything = browser.get(url("paper-review", event) + "?status=all").content.decode()

    assert "Second" in awaiting and "First" not in awaiting
    assert "Second" in everything and "First" in everything
    assert "Review submissions (1)" in render_event_papers(event, fresh(w.admin))
    assert Client().get(url("paper-review", event)).status_code == 302  # to sign in


def _queries(run) -> int:
    with CaptureQueriesContext(connection) as captured:
        run()
    return len(captured.captured_queries)


def _add_papers(w, event, start: int, stop: int) -> None:
    for n in range(start, stop):
        paper = submit(w.viewer, event, title=f"Paper {n}")
        if n % 2:
            decide(w, paper, accept=True)


def test_review_page_query_count_does_not_grow_with_papers(open_world):
    w = open_world
    event = make_event(w)
    register(w.viewer, event)
    _add_papers(w, event, 0, 3)
    browser = client_for(w.moderator)
    review = url("paper-review", event) + "?status=all"

    def load():
        assert browser.get(review).status_code == 200

    load()
    with_three = _queries(load)
    _add_papers(w, event, 3, 30)
    with_thirty = _queries(load)

    assert with_three == with_thirty
    assert browser.get(review).content.decode().count("Paper ") >= 30


def test_event_papers_tag_query_count_does_not_grow_with_papers_and_files(open_world):
    w = open_world
    event = make_event(w)
    register(w.viewer, event)
    _add_papers(w, event, 0, 3)
    for n in range(3):
        paper_services.event_file_attach(
            actor=w.editor, event=event, upload=upload(f"slides-{n}.pdf", PDF + b"%" + bytes([n]))
        )
    counts = {}
    for label in ("three", "thirty"):
        for user in (w.viewer, w.moderator, w.anonymous):
            viewer = fresh(user) if user.is_authenticated else user
            counts[(label, user.pk)] = _queries(lambda: render_event_papers(event, viewer))  # noqa: B023
        if label == "three":
            _add_papers(w, event, 3, 30)
            for n in range(3, 30):
                paper_services.event_file_attach(
                    actor=w.editor, event=event, upload=upload(f"slides-{n}.pdf", PDF + b"%" + bytes([n]))
                )

    for user in (w.viewer, w.moderator, w.anonymous):
        assert counts[("three", user.pk)] == counts[("thirty", user.pk)], user
    html = render_event_papers(event, fresh(w.viewer))
    assert html.count("slides-") >= 30 and html.count("Paper ") >= 30


# --- Settings ---------------------------------------------------------------------------------------------------
def test_organiser_opens_submissions_with_a_deadline_in_the_events_time_zone(open_world):
    w = open_world
    event = make_event(w, papers=False)
    browser = client_for(w.editor)  # the event's creator

    response = browser.post(url("paper-settings", event), {"papers_open": "on", "papers_deadline": "2031-01-15T18:00"})

    assert response.status_code == 302
    event.refresh_from_db()
    assert event.papers_open
    assert event.papers_deadline.isoformat() == "2031-01-15T17:00:00+00:00"  # 18:00 in Paris is 17:00 UTC
    assert client_for(w.viewer).get(url("paper-settings", event)).status_code == 403


# --- Files attached to the event --------------------------------------------------------------------------------
def test_organiser_attaches_an_agenda_that_members_download_through_the_file_views(closed_world):
    w = closed_world
    event = make_event(w)
    browser = client_for(w.moderator)

    response = browser.post(url("event-file-upload", event), {"file": upload("agenda.pdf"), "description": "Agenda"})

    assert response.status_code == 302 and response["Location"].endswith("#event-files")
    asset = FileAsset.objects.get()
    assert (asset.event, asset.page, asset.item.kind, asset.description) == (event, None, "file", "Agenda")
    download = reverse("spaces:file-download", kwargs={"file_id": asset.pk, "filename": asset.name})
    assert client_for(w.viewer).get(download).status_code == 200
    for user in (w.anonymous, w.outsider):
        assert browser_for(user).get(download).status_code == 404
    html = render_event_papers(event, fresh(w.viewer))
    assert "agenda.pdf" in html and "Attach a file" not in html
    assert "Attach a file" in render_event_papers(event, fresh(w.moderator))


def test_only_organisers_attach_files_to_an_event(open_world):
    w = open_world
    event = make_event(w)

    assert client_for(w.viewer).post(url("event-file-upload", event), {"file": upload()}).status_code == 403
    assert client_for(w.outsider).post(url("event-file-upload", event), {"file": upload()}).status_code == 403
    assert client_for(w.editor).post(url("event-file-upload", event), {"file": upload()}).status_code == 302
    assert client_for(w.viewer).get(url("event-file-upload", event)).status_code == 405
    assert FileAsset.objects.count() == 1


def test_a_refused_event_file_says_why(open_world):
    w = open_world
    event = make_event(w)

    response = client_for(w.moderator).post(url("event-file-upload", event), {"file": upload("x.exe", EXE)})

    assert response.status_code == 302
    assert any("cannot be uploaded" in m for m in messages_of(response))
    assert not FileAsset.objects.exists()


def test_files_of_a_trashed_event_are_no_longer_served(open_world):
    w = open_world
    event = make_event(w)
    asset = paper_services.event_file_attach(actor=w.editor, event=event, upload=upload())
    download = reverse("spaces:file-download", kwargs={"file_id": asset.pk, "filename": asset.name})
    assert client_for(w.viewer).get(download).status_code == 200

    event_services.event_trash(actor=w.moderator, event=event)

    assert client_for(w.viewer).get(download).status_code == 404


def test_a_member_who_left_cannot_submit_any_more(private_world):
    w = private_world
    event = make_event(w)
    register(w.viewer, event)
    space_leave(actor=w.viewer, space=w.space)

    assert client_for(w.viewer).get(url("paper-submit", event)).status_code == 403


def test_only_organisers_upload_new_versions_of_an_event_file(open_world):
    w = open_world
    event = make_event(w, author=w.moderator)
    asset = paper_services.event_file_attach(actor=w.moderator, event=event, upload=upload("agenda.pdf"))
    new_version = reverse("spaces:file-version-upload", kwargs={"file_id": asset.pk})

    refused = client_for(w.editor).post(new_version, {"file": upload("agenda.pdf", PDF + b"%v2")})
    accepted = client_for(w.admin).post(new_version, {"file": upload("agenda.pdf", PDF + b"%v2")})

    assert (refused.status_code, accepted.status_code) == (403, 302)
    assert FileAsset.objects.get().version_count == 2
