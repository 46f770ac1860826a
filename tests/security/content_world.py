"""The world of the surface matrix: one community, one space per column of the expected-access table, every person
of the table in the same relation to every space, and one item of each kind per column, each carrying a marker
string of its own. Everything is made through the services, as a user would.

Markers are single words, so that search finds them and no marker is part of another: ``marker("closed",
"comment")`` is ``zqclosedcommentzq``. Every item of a column also holds the column's word (``column_word``), so a
search for that word lists the whole column at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from unittest.mock import patch

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from communities import services as community_services
from spaces import services
from spaces.models import SpaceMembership, SpaceRole, Visibility
from spaces.services import courses as course_services
from spaces.services import events as event_services
from spaces.services import feeds as feed_services
from spaces.services import moderation as moderation_services
from spaces.services import polls as poll_services
from spaces.services import posts as post_services
from spaces.services import webhooks as webhook_services
from tests.factories import add_member, make_community, make_user, onboard
from tests.security.expected_access import COLUMNS, KINDS, PERSONS

SPACE_VISIBILITY = {
    "open": Visibility.OPEN,
    "private": Visibility.PRIVATE,
    "closed": Visibility.CLOSED,
    "restricted": Visibility.OPEN,
    "hidden": Visibility.OPEN,
}
MEMBER_ROLES = {
    "viewer": SpaceRole.VIEWER,
    "restricted_out": SpaceRole.VIEWER,
    "editor": SpaceRole.EDITOR,
    "author": SpaceRole.EDITOR,
    "moderator": SpaceRole.MODERATOR,
    "admin": SpaceRole.ADMIN,
    "banned": SpaceRole.EDITOR,
    "removed": SpaceRole.VIEWER,
}


def marker(column: str, kind: str) -> str:
    return f"zq{column}{kind}zq"


def column_word(column: str) -> str:
    return f"zx{column}zx"


def all_markers() -> dict[str, tuple[str, str]]:
    return {marker(c, k): (c, k) for c in COLUMNS for k in KINDS}


def text_file(name: str, text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/plain")


def make_people(w) -> None:
    staff = make_user("staff", staff=True)
    w.staff = staff
    w.anonymous = AnonymousUser()
    w.community = make_community(staff, slug="leakproof")
    for name in PERSONS:
        if name not in ("anonymous", "staff"):
            setattr(w, name, make_user(name.replace("_", "")))
    # The author writes a lot at once: an old account, so the new-account limits do not apply.
    w.author.date_joined = timezone.now() - timedelta(days=30)
    w.author.save(update_fields=["date_joined"])
    community_services.community_role_set(
        actor=staff, community=w.community, user=w.community_moderator, role="moderator"
    )
    community_services.community_role_set(actor=staff, community=w.community, user=w.community_admin, role="admin")
    for name in ("outsider", "requester", "community_moderator", "community_admin"):
        onboard(getattr(w, name), w.community)


def make_spaces(w) -> None:
    w.spaces = {}
    for column in COLUMNS:
        space = services.space_create(
            actor=w.staff,
            community=w.community,
            name=f"Room {column}",
            slug=f"room-{column}",
            visibility=SPACE_VISIBILITY[column],
        )
        w.spaces[column] = space
        for name, role in MEMBER_ROLES.items():
            add_member(space, getattr(w, name), role, by=w.staff)
    services.join_request_create(actor=w.requester, space=w.spaces["private"], message="Please let me in")


def watch_everything(w) -> None:
    """Everyone signed in watches every space they can, before any content exists (notifications go to watchers)."""
    for name in PERSONS:
        person = getattr(w, name)
        if not person.is_authenticated:
            continue
        for space in w.spaces.values():
            try:
                services.watch_toggle(actor=person, space=space)
            except Exception:  # noqa: BLE001 - people who may not watch a space simply do not
                pass


def take_roles_away(w) -> None:
    for space in w.spaces.values():
        services.member_ban(actor=w.staff, space=space, user=w.banned, reason="spam")
        membership = SpaceMembership.objects.get(space=space, user=w.removed)
        services.membership_remove(actor=w.staff, membership=membership)


def fill_column(w, column: str, markers=marker) -> SimpleNamespace:
    """One item of each kind for ``column`` (see expected_access.py for what each column means); ``markers(column,
    kind)`` gives the word each item carries (the canary test gives one string to all private content)."""
    space, author, word = w.spaces[column], w.author, column_word(column)

    def m(kind: str) -> str:
        return markers(column, kind)

    c = SimpleNamespace(column=column, space=space)
    c.page = services.page_create(actor=author, space=space, title=f"{m('page')} {word}", body=f"{m('page')} {word}")
    c.page = services.page_update(
        actor=author, page=c.page, title=c.page.title, body=f"{m('page')} {word} (second version)", base_version=1
    )
    c.lesson_page = services.page_create(
        actor=author, space=space, title=f"{m('lesson')} {word}", body=f"Lesson text {m('lesson')} {word}"
    )
    if column == "restricted":
        for page in (c.page, c.lesson_page):
            services.page_set_restrictions(
                actor=author, page=page, viewers=[w.viewer], restrict_view=True, restrict_edit=False
            )
    c.course = course_services.course_create(actor=author, space=space, title=f"Course {column}", is_published=True)
    c.lesson = course_services.lesson_add(actor=author, course=c.course, page=c.lesson_page)
    # Hidden comments and answers live on visible content; restricted ones on the restricted page.
    c.host_page = services.page_create(actor=author, space=space, title=f"Host page {column}", body="Host")
    c.host_question = services.question_ask(actor=author, space=space, title=f"Host question {column}", body="Host")
    comment_target = c.host_page if column == "hidden" else c.page
    c.comment = services.comment_create(actor=author, target=comment_target.item, body=f"{m('comment')} {word}")
    c.file = services.file_upload(
        actor=author,
        space=space,
        upload=text_file(f"{m('file')}.txt", f"File contents {m('file')} {word}"),
        page=c.page if column == "restricted" else None,
    )
    c.items = {"page": c.page.item, "lesson": c.lesson_page.item, "comment": c.comment.item, "file": c.file.item}
    if column != "restricted":
        c.question = services.question_ask(
            actor=author, space=space, title=f"{m('question')} {word}", body=f"{m('question')} {word}"
        )
        answer_on = c.host_question if column == "hidden" else c.question
        c.answer = services.answer_post(actor=author, question=answer_on, body=f"{m('answer')} {word}")
        starts = timezone.now() + timedelta(days=7)
        c.event = event_services.event_create(
            actor=author,
            space=space,
            title=f"{m('event')} {word}",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            time_zone="UTC",
            description=f"{m('event')} {word}",
            venue=f"Room {m('event')}",
            online_url=f"https://meet.example.org/{m('event')}",
        )
        c.post = post_services.post_create(actor=author, space=space, body=f"{m('post')} {word}")
        c.poll = poll_services.poll_create(
            actor=author, space=space, question=f"{m('poll')} {word}", options=[f"Yes {m('poll')}", "No"]
        )
        c.items |= {
            "question": c.question.item,
            "answer": c.answer.item,
            "event": c.event.item,
            "post": c.post.item,
            "poll": c.poll.item,
        }
    dispatch_webhooks(space)  # what the commit of each action does, before anything is hidden
    if column == "hidden":
        for kind, item in c.items.items():
            if kind == "comment":
                services.comment_set_hidden(actor=w.moderator, comment=c.comment, hidden=True)
            else:
                moderation_services.item_hide(actor=w.moderator, item=item, reason="Off topic")
    return c


def issue_feed_tokens(w) -> None:
    """Each signed-in person's personal feed token and, where they may follow it, each space's (issued before
    anyone is banned or removed: those tokens are already out there)."""
    for name in PERSONS:
        person = getattr(w, name)
        if not person.is_authenticated:
            continue
        feed_services.feed_token_get_or_create(actor=person)
        for space in w.spaces.values():
            try:
                feed_services.feed_token_get_or_create(actor=person, space=space)
            except PermissionDenied:
                pass


def add_webhooks(w) -> None:
    """A webhook on every space (its address resolves to a public one): deliveries are written with their body."""
    with patch("spaces.webhooks.resolve_host", return_value=["93.184.216.34"]):
        for column, space in w.spaces.items():
            webhook_services.webhook_create(
                actor=w.staff, space=space, name=f"Hook {column}", url="https://hooks.example.org/in", send_changed=True
            )


def dispatch_webhooks(space) -> None:
    """Write the webhook deliveries of the space's activity, as ``transaction.on_commit`` would after each action
    (the world is built in a transaction that never commits)."""
    from analytics.models import ActivityEvent

    for activity in ActivityEvent.objects.filter(space_id=space.pk).order_by("pk"):
        event = webhook_services.ACTIVITY_EVENTS.get(activity.kind)
        if event and activity.target_type in webhook_services.TARGET_MODELS:
            webhook_services.webhooks_dispatch(
                event=event,
                target_type=activity.target_type,
                target_id=activity.target_id,
                space_id=space.pk,
                source_event_id=activity.pk,
            )


def send_webhooks(w) -> None:
    """Make every delivery's attempt through the real path, the receiver stood in for: ``w.webhook_bodies`` holds
    what each space's webhook was sent (an attempt cancels what has been hidden since the delivery was written)."""
    from spaces.models import WebhookDelivery
    from spaces.webhooks import DeliveryResult

    w.webhook_bodies = {space.pk: [] for space in w.spaces.values()}
    for delivery in WebhookDelivery.objects.select_related("webhook").order_by("pk"):

        def receive(url, body, headers, space_id=delivery.webhook.space_id):
            w.webhook_bodies[space_id].append(body.decode())
            return DeliveryResult(200, "ok")

        with patch("spaces.webhooks.post", side_effect=receive):
            webhook_services.webhook_delivery_attempt(delivery_id=delivery.pk)


DM_MARKER = "zqdirectmessagezq"
DM_PARTICIPANTS = ("viewer", "editor")


def start_conversation(w, secret: str = DM_MARKER) -> None:
    """A direct message between two people; nobody else may ever read it."""
    from members import services_messages

    w.conversation = services_messages.conversation_start(
        actor=w.viewer, recipients=[w.editor], subject=f"About {secret}", body=f"Between us: {secret}"
    )


def send_notification_emails() -> None:
    """What ``transaction.on_commit`` would queue (the world is built in a transaction that never commits)."""
    from members.models import Notification
    from members.notifications import notification_email_send

    for notification_id in Notification.objects.order_by("pk").values_list("pk", flat=True):
        notification_email_send(notification_id=notification_id)


def compose_digest_emails(w) -> list:
    """The digest e-mail of every signed-in person, composed and rendered as the digest job does."""
    from django.conf import settings
    from django.core.mail import EmailMultiAlternatives

    from members import digests

    messages = []
    renderer = digests.DigestRenderer()
    for name in PERSONS:
        person = getattr(w, name)
        if not person.is_authenticated:
            continue
        member = digests.load_members([person.pk])[person.pk]
        digest = digests.compose_digests([digests.preview_job(member, timezone.now())])[0]
        subject, text, html = digests.render_digest(digest, unsubscribe="https://example.org/u", renderer=renderer)
        message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [person.email])
        message.attach_alternative(html, "text/html")
        messages.append(message)
    return messages


def build_content_world(markers=marker, dm_secret: str = DM_MARKER) -> SimpleNamespace:
    from django.core import mail

    w = SimpleNamespace()
    make_people(w)
    make_spaces(w)
    watch_everything(w)
    issue_feed_tokens(w)
    add_webhooks(w)
    take_roles_away(w)
    mail.outbox = []
    w.columns = {column: fill_column(w, column, markers) for column in COLUMNS}
    start_conversation(w, dm_secret)
    send_notification_emails()
    send_webhooks(w)
    w.outbox = list(mail.outbox)
    w.digest_outbox = compose_digest_emails(w)
    return w


def person(w, name: str):
    return getattr(w, name)


@contextmanager
def rolled_back_world(folder: Path, **build) -> Iterator[SimpleNamespace]:
    """``build_content_world(**build)`` for a whole test module: its files under ``folder``, its rows in a
    transaction rolled back at the end (each test then runs in a savepoint of it). The caller unblocks the database
    (``django_db_blocker.unblock()``) around this."""
    with (
        override_settings(MEDIA_ROOT=folder / "media", PRIVATE_MEDIA_ROOT=folder / "private-media"),
        transaction.atomic(),
    ):
        yield build_content_world(**build)
        transaction.set_rollback(True)
