"""Content for the feed and Open Graph tests: what every member sees, and what no feed may ever carry."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from xml.etree import ElementTree

from django.utils import timezone

from spaces import services
from spaces.services import events as event_services
from spaces.services import moderation as moderation_services
from spaces.services import posts as post_services

ATOM = {"a": "http://www.w3.org/2005/Atom"}


def make_event(actor, space, title: str, description: str = ""):
    starts = timezone.now() + timedelta(days=7)
    return event_services.event_create(
        actor=actor,
        space=space,
        title=title,
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        time_zone="Europe/Paris",
        description=description,
    )


def shared_content(w, space=None, tag: str = "") -> SimpleNamespace:
    """A page, a question, an event and a post that every member (and, in an open space, anyone) may read."""
    space = space or w.space
    return SimpleNamespace(
        page=services.page_create(
            actor=w.editor, space=space, title=f"Linkage guide{tag}", body=f"How we **link** records{tag}."
        ),
        question=services.question_ask(
            actor=w.editor, space=space, title=f"Which keys{tag}?", body=f"Names or dates{tag}?"
        ),
        event=make_event(w.editor, space, f"Linkage workshop{tag}", f"Bring your data{tag}."),
        post=post_services.post_create(actor=w.editor, space=space, body=f"Slides are online{tag}"),
    )


# Titles and bodies that must never show in a feed, a preview or a webhook.
SECRET_WORDS = (
    "Restricted budget",
    "restricted-body-words",
    "Hidden rant",
    "hidden-body-words",
    "Scheduled news",
    "scheduled-body-words",
    "Trashed page",
    "trashed-body-words",
)


def secret_content(w, space=None) -> SimpleNamespace:
    """Restricted, hidden, scheduled and trashed content, each with a title and a body of its own."""
    space = space or w.space
    restricted = services.page_create(
        actor=w.editor, space=space, title="Restricted budget", body="restricted-body-words"
    )
    services.page_set_restrictions(
        actor=w.editor, page=restricted, viewers=[w.viewer], restrict_view=True, restrict_edit=False
    )
    hidden = post_services.post_create(actor=w.editor, space=space, body="Hidden rant\n\nhidden-body-words")
    moderation_services.item_hide(actor=w.moderator, item=hidden.item, reason="Off topic")
    scheduled = post_services.post_create(
        actor=w.moderator,
        space=space,
        body="Scheduled news\n\nscheduled-body-words",
        publish_at=timezone.now() + timedelta(days=2),
    )
    trashed = services.page_create(actor=w.editor, space=space, title="Trashed page", body="trashed-body-words")
    services.item_trash(actor=w.editor, item=trashed.item)
    return SimpleNamespace(restricted=restricted, hidden=hidden, scheduled=scheduled, trashed=trashed)


def entries(response) -> list[dict]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ElementTree.fromstring(response.content)
    rows = []
    for entry in root.findall("a:entry", ATOM):
        rows.append(
            {
                "title": entry.findtext("a:title", namespaces=ATOM),
                "link": entry.find("a:link", ATOM).get("href"),
                "author": entry.findtext("a:author/a:name", namespaces=ATOM),
                "updated": entry.findtext("a:updated", namespaces=ATOM),
                "summary": entry.findtext("a:summary", namespaces=ATOM) or "",
                "summary_type": (
                    entry.find("a:summary", ATOM).get("type") if entry.find("a:summary", ATOM) is not None else None
                ),
            }
        )
    return rows


def titles(response) -> set[str]:
    return {row["title"] for row in entries(response)}


def assert_no_secrets(response) -> None:
    text = response.content.decode()
    leaked = [word for word in SECRET_WORDS if word in text]
    assert not leaked, f"Leaked into the feed: {leaked}"
