"""Every surface that can reveal content, each a small function returning the text a person would get there.

A surface function takes ``(client, w, name, column)``: a test client already signed in as the person ``name`` (or
anonymous), the world of ``content_world.py`` and the column of the expected-access table. It returns everything the
surface shows that person, as one string: the matrix then counts each marker in it.

``Surface.kinds`` are the kinds of content the surface promises to show to those who may see them (the matrix checks
they appear); for every other kind the matrix still checks that what a person may not see is absent. A surface that
sends content outside the site (feeds, calendars, webhooks) carries only what every member of the space sees
(``every_member``): nothing restricted or hidden, whoever asks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

from django.core import mail
from django.urls import reverse

from spaces.models import FeedToken
from tests.security.expected_access import KINDS

ALL_KINDS = frozenset(KINDS)
ROLE_HOLDERS = frozenset(
    {
        "viewer",
        "restricted_out",
        "editor",
        "author",
        "moderator",
        "admin",
        "community_moderator",
        "community_admin",
        "staff",
    }
)
SPACE_MEMBERS = ROLE_HOLDERS - {"community_moderator", "community_admin", "staff"}


@dataclass(frozen=True)
class Surface:
    name: str
    render: Callable
    kinds: frozenset = frozenset()
    every_member: bool = False
    # The people to whom the surface promises content at all (a digest goes to the space's members): for others,
    # the matrix checks only that nothing they may not see shows. None: everyone.
    audience: frozenset | None = None
    notes: str = ""
    signed_in_only: bool = field(default=False)


def _kw(space) -> dict:
    return {"community_slug": space.community.slug, "space_slug": space.slug}


def _text(response) -> str:
    """What a browser or a client gets: the body (redirects and errors included, which must not carry content)."""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def _get(client, url: str, **extra) -> str:
    """The answer, less the address that was asked for: a page echoing the requester's own URL (a sign-in link with
    ``?next=``) tells them nothing they did not have. Slugs hold markers, so that echo would look like a leak."""
    text = _text(client.get(url, **extra))
    return text.replace(url, "").replace(quote(url, safe=""), "").replace(quote(url), "")


def _many(client, urls) -> str:
    return "\n".join(_get(client, url) for url in urls)


# --- On the site ----------------------------------------------------------------------------------------------------
def direct_urls(client, w, name, column) -> str:
    """The address of each item of the column, as a link shared by someone else would give it."""
    c = w.columns[column]
    kw = _kw(c.space)
    urls = [
        reverse("spaces:page-detail", kwargs={**kw, "page_slug": c.page.slug}),
        reverse("spaces:page-permalink", kwargs={"page_id": c.page.pk}),
        reverse("spaces:page-detail", kwargs={**kw, "page_slug": c.host_page.slug}),
        reverse("spaces:file-detail", kwargs={"file_id": c.file.pk}),
        reverse("spaces:lesson-detail", kwargs={**kw, "course_slug": c.course.slug, "lesson_id": c.lesson.pk}),
    ]
    if column != "restricted":
        urls += [
            reverse("spaces:question-detail", kwargs={**kw, "question_slug": c.question.slug}),
            reverse("spaces:question-detail", kwargs={**kw, "question_slug": c.host_question.slug}),
            reverse("spaces:event-detail", kwargs={**kw, "event_slug": c.event.slug}),
            reverse("spaces:event-ics", kwargs={**kw, "event_slug": c.event.slug}),
            reverse("spaces:post-detail", kwargs={**kw, "post_id": c.post.pk}),
            reverse("spaces:poll-detail", kwargs={**kw, "poll_id": c.poll.pk}),
        ]
    return _many(client, urls)


def attachments(client, w, name, column) -> str:
    """The file's download address (its contents) and its inline address."""
    asset = w.columns[column].file
    return _many(
        client,
        [
            reverse("spaces:file-download", kwargs={"file_id": asset.pk, "filename": asset.name}),
            reverse("spaces:file-inline", kwargs={"file_id": asset.pk, "filename": asset.name}),
            reverse("spaces:file-version-download", kwargs={"file_id": asset.pk, "number": 1, "filename": asset.name}),
        ],
    )


def space_lists(client, w, name, column) -> str:
    kw = _kw(w.columns[column].space)
    names = ["pages", "questions", "events", "posts", "polls", "files", "courses"]
    urls = [reverse(f"spaces:{n}", kwargs=kw) for n in names] + [reverse("spaces:upcoming-events")]
    return _many(client, urls)


def space_stream(client, w, name, column) -> str:
    kw = _kw(w.columns[column].space)
    return _many(client, [reverse("spaces:home", kwargs=kw), reverse("spaces:recent-changes", kwargs=kw)])


def search(client, w, name, column) -> str:
    from tests.security.content_world import column_word

    return _get(client, reverse("search:results"), data={"q": column_word(column)})


def autocomplete(client, w, name, column) -> str:
    from tests.security.content_world import column_word

    return _get(client, reverse("search:suggest"), data={"q": column_word(column)})


def member_directory(client, w, name, column) -> str:
    """The directory and the author's profile (which lists what they wrote)."""
    return _many(
        client,
        [reverse("members:directory"), reverse("members:profile", kwargs={"username": w.author.username})],
    )


def page_history(client, w, name, column) -> str:
    c = w.columns[column]
    kw = _kw(c.space)
    urls = []
    for page in (c.page, c.lesson_page):
        page_kw = {**kw, "page_slug": page.slug}
        urls += [
            reverse("spaces:page-history", kwargs=page_kw),
            reverse("spaces:page-version", kwargs={**page_kw, "version": 1}),
            reverse("spaces:page-diff", kwargs=page_kw) + "?a=1&b=2",
        ]
    if column != "restricted":
        urls.append(reverse("spaces:question-history", kwargs={**kw, "question_slug": c.question.slug}))
    return _many(client, urls)


def page_tree(client, w, name, column) -> str:
    """The tree of pages (beside a visible page of the space, and on its own list)."""
    c = w.columns[column]
    kw = _kw(c.space)
    return _many(
        client,
        [
            reverse("spaces:page-detail", kwargs={**kw, "page_slug": c.host_page.slug}),
            reverse("spaces:pages", kwargs=kw),
        ],
    )


def courses(client, w, name, column) -> str:
    c = w.columns[column]
    kw = _kw(c.space)
    return _many(
        client,
        [
            reverse("spaces:courses", kwargs=kw),
            reverse("spaces:course-detail", kwargs={**kw, "course_slug": c.course.slug}),
            reverse("spaces:lesson-detail", kwargs={**kw, "course_slug": c.course.slug, "lesson_id": c.lesson.pk}),
        ],
    )


def rest_api(client, w, name, column) -> str:
    c = w.columns[column]
    base = f"/api/v1/communities/{c.space.community.slug}/spaces/{c.space.slug}"
    urls = [f"{base}/pages", f"{base}/pages/{c.page.slug}", f"{base}/pages/{c.lesson_page.slug}"]
    urls += [f"{base}/pages/{c.page.slug}/versions", f"{base}/pages/{c.page.slug}/versions/1"]
    urls += [f"{base}/questions", f"{base}/events", f"{base}/posts"]
    urls += [f"{base}/questions/{c.host_question.slug}/answers"]
    if column != "restricted":
        urls += [f"{base}/questions/{c.question.slug}", f"{base}/questions/{c.question.slug}/answers"]
        urls += [f"{base}/events/{c.event.slug}", f"{base}/posts/{c.post.pk}"]
    return _many(client, urls)


def notifications_in_app(client, w, name, column) -> str:
    return _many(client, [reverse("members:notifications"), "/api/v1/me/notifications"])


def digest(client, w, name, column) -> str:
    return _get(client, reverse("members:digest-preview"))


def analytics(client, w, name, column) -> str:
    """The community dashboard and every CSV export of it (the overview too, for whoever may open it)."""
    from analytics.views.exports import CSV_FIGURES

    url = reverse("analytics:community", kwargs={"community_slug": w.community.slug})
    urls = [url, reverse("analytics:overview"), reverse("analytics:index")]
    urls += [f"{url}?format=csv&figure={figure}" for figure in CSV_FIGURES]
    return _many(client, urls)


def admin_site(client, w, name, column) -> str:
    return _many(
        client,
        [
            reverse("admin:spaces_item_changelist"),
            reverse("admin:spaces_page_changelist"),
            reverse("admin:spaces_comment_changelist"),
            reverse("admin:spaces_fileasset_changelist"),
        ],
    )


# --- Off the site: feeds, calendars, e-mails and webhooks ----------------------------------------------------------
def atom_feeds(client, w, name, column) -> str:
    """The space's public feed, the community's, and the person's own secret feeds (personal and the space's)."""
    space = w.columns[column].space
    urls = [
        reverse("spaces:space-feed", kwargs=_kw(space)),
        reverse("spaces:community-feed", kwargs={"community_slug": w.community.slug}),
    ]
    person = getattr(w, name)
    if person.is_authenticated:
        for token in FeedToken.objects.filter(user=person, space__in=[None, space]).values_list("token", flat=True):
            urls.append(reverse("spaces:feed-token", kwargs={"token": token}))
    return _many(client, urls)


def ical_feeds(client, w, name, column) -> str:
    space = w.columns[column].space
    urls = [reverse("spaces:space-calendar", kwargs=_kw(space))]
    person = getattr(w, name)
    if person.is_authenticated:
        for token in FeedToken.objects.filter(user=person, space__in=[None, space]).values_list("token", flat=True):
            urls.append(reverse("spaces:space-calendar-token", kwargs={"token": token}))
    return _many(client, urls)


def _message_text(message) -> str:
    parts = [message.subject, message.body]
    parts += [str(content) for content, _mimetype in getattr(message, "alternatives", [])]
    for attachment in message.attachments:
        parts.append(str(attachment[1]) if isinstance(attachment, tuple) else str(attachment))
    return "\n".join(parts)


def emails_to(w, name) -> str:
    """Every e-mail the world's activity sent to the person (notifications), recorded when the world was built."""
    person = getattr(w, name)
    if not person.is_authenticated:
        return ""
    return "\n".join(_message_text(m) for m in w.outbox if person.email in m.to)


def notification_emails(client, w, name, column) -> str:
    return emails_to(w, name)


def digest_email(client, w, name, column) -> str:
    """The digest e-mail the job composes for the person now (sent through the real composer and renderer)."""
    person = getattr(w, name)
    if not person.is_authenticated:
        return ""
    return "\n".join(_message_text(m) for m in w.digest_outbox if person.email in m.to)


def webhooks(client, w, name, column) -> str:
    """What the space's webhook was sent (the same whoever looks), decoded so escapes cannot hide a marker."""
    bodies = w.webhook_bodies[w.columns[column].space.pk]
    return "\n".join(json.dumps(json.loads(b), ensure_ascii=False) for b in bodies)


def outbox_now() -> list:
    return list(mail.outbox)


SURFACES = [
    Surface("direct_url", direct_urls, ALL_KINDS),
    Surface("attachments", attachments, frozenset({"file"}), notes="the file's contents and name"),
    Surface("space_lists", space_lists, frozenset({"page", "question", "event", "post", "poll", "file", "lesson"})),
    Surface("space_stream", space_stream, frozenset({"page", "question", "event", "post", "poll", "file"})),
    Surface("search", search, frozenset({"page", "question", "answer", "event", "post", "poll", "lesson"})),
    Surface("autocomplete", autocomplete, frozenset({"page", "question", "event", "poll", "lesson"})),
    Surface("member_directory", member_directory, frozenset(), notes="people, and the author's profile"),
    Surface("history_diff", page_history, frozenset({"page", "question", "lesson"})),
    Surface("page_tree", page_tree, frozenset({"page", "lesson"})),
    Surface("courses", courses, frozenset({"lesson"})),
    Surface("rest_api", rest_api, frozenset({"page", "question", "answer", "event", "post", "lesson"})),
    Surface("notifications", notifications_in_app, frozenset(), notes="in-app list and /api/v1/me/notifications"),
    Surface("digest_preview", digest, frozenset(), notes="the digest page a member previews"),
    Surface("analytics", analytics, frozenset(), notes="dashboards and CSV exports: figures, never content"),
    Surface("admin", admin_site, frozenset(), notes="only what model permissions give; others are sent away"),
    Surface("atom_feeds", atom_feeds, frozenset(), every_member=True),
    Surface("ical_feeds", ical_feeds, frozenset(), every_member=True),
    Surface("notification_emails", notification_emails, frozenset()),
    Surface("digest_email", digest_email, frozenset()),
    Surface(
        "webhooks",
        webhooks,
        frozenset({"page", "question", "answer", "event", "post", "poll", "lesson"}),
        every_member=True,
    ),
]
SURFACES_BY_NAME = {s.name: s for s in SURFACES}
