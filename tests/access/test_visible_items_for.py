"""``visible_items_for`` (many members at once, digests) agrees with ``Item.objects.visible_to`` (one member).

ARCHITECTURE.md, "Visibility for many members at once": the set-based form evaluates the same rules in Python on
roles loaded in a fixed number of queries. If one of the two forms changes alone, these tests fail.
"""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from spaces import services
from spaces.models import Comment, FileAsset, Item, ItemKind, SpaceRole
from spaces.permissions import member_spaces_for, member_spaces_q, visible_items_for
from spaces.services.events import event_create
from spaces.services.moderation import item_hide
from spaces.services.posts import post_create
from tests.conftest import PERSONAS, build_world
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def fill(w) -> None:
    """Content of every kind and state: plain, restricted (with a comment and an attached file), hidden (with an
    answer and a comment on the answer), a hidden comment with a reply, scheduled, trashed, an event."""
    space = w.space
    w.plain = services.page_create(actor=w.editor, space=space, title=f"Plain {w.visibility}")
    w.restricted = services.page_create(actor=w.editor, space=space, title=f"Restricted {w.visibility}")
    services.page_set_restrictions(
        actor=w.editor, page=w.restricted, viewers=[w.viewer], restrict_view=True, restrict_edit=False
    )
    services.comment_create(actor=w.editor, target=w.restricted.item, body="On the restricted page")
    file_item = Item.objects.create(kind=ItemKind.FILE, space=space, author=w.editor, title="figures.csv")
    FileAsset.objects.create(item=file_item, space=space, page=w.restricted, name="figures.csv")
    question = services.question_ask(actor=w.editor, space=space, title=f"Hidden question {w.visibility}")
    answer = services.answer_post(actor=w.moderator, question=question, body="An answer to a hidden question")
    services.comment_create(actor=w.admin, target=answer.item, body="A comment on that answer")
    item_hide(actor=w.moderator, item=question.item, reason="Off-topic")
    parent = services.comment_create(actor=w.editor, target=w.plain.item, body="Soon hidden")
    services.comment_create(actor=w.admin, target=w.plain.item, body="A reply", parent=parent)
    services.comment_set_hidden(actor=w.moderator, comment=parent, hidden=True)
    post_create(actor=w.editor, space=space, body="Scheduled news", publish_at=timezone.now() + timedelta(days=1))
    trashed = services.page_create(actor=w.editor, space=space, title=f"Trashed {w.visibility}")
    services.item_trash(actor=w.editor, item=trashed.item)
    start = timezone.now() + timedelta(days=3)
    event_create(
        actor=w.editor,
        space=space,
        title="Workshop",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        time_zone="UTC",
    )
    w.reviewer = make_user("reviewer")
    services.space_grant_role(actor=w.staff, space=space, user=w.reviewer, role=SpaceRole.VIEWER)


def _build():
    worlds = [build_world(visibility) for visibility in ("open", "private", "closed")]
    for w in worlds:
        fill(w)
    members = [getattr(w, name) for w in worlds for name in PERSONAS if name != "anonymous"]
    members += [w.reviewer for w in worlds]
    inactive_staff = make_user("retired", staff=True)
    inactive_staff.is_active = False
    inactive_staff.save(update_fields=["is_active"])
    return worlds, [*members, inactive_staff]


@pytest.fixture(scope="module")
def batch(django_db_setup, django_db_blocker):
    """Built once for the module in a transaction rolled back at the end (as ``tests/access/conftest.py``)."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _build()
        transaction.set_rollback(True)


def test_agrees_with_visible_to_for_every_member_of_the_batch(batch):
    worlds, members = batch
    assert Comment.objects.count() >= 12 and Item.objects.filter(deleted_at__isnull=False).count() == 3

    got = visible_items_for(members)

    for member in members:
        expected = set(Item.objects.visible_to(member).values_list("pk", flat=True))
        assert got[member.pk] == expected, member


def test_hides_what_it_should(batch):
    worlds, members = batch
    got = visible_items_for(members)
    closed = worlds[2]
    closed_items = set(Item.objects.filter(space=closed.space).values_list("pk", flat=True))
    assert not got[closed.outsider.pk] & closed_items
    assert not got[closed.banned.pk] & closed_items
    assert closed.restricted.item_id in got[closed.viewer.pk]
    assert closed.restricted.item_id not in got[closed.moderator.pk]
    comment_on_restricted = Comment.objects.get(target=closed.restricted.item).item_id
    assert comment_on_restricted not in got[closed.moderator.pk]
    assert comment_on_restricted in got[closed.community_admin.pk]


def test_only_limits_the_items_checked_per_member(batch):
    worlds, members = batch
    w = worlds[0]
    got = visible_items_for(members, Item.objects.all(), only={w.viewer.pk: [w.plain.item_id, w.restricted.item_id]})
    assert got[w.viewer.pk] == {w.plain.item_id, w.restricted.item_id}
    assert got[w.outsider.pk] == set()


def test_query_count_does_not_grow_with_the_batch(batch):
    worlds, members = batch
    with CaptureQueriesContext(connection) as few:
        visible_items_for(members[:3])
    with CaptureQueriesContext(connection) as many:
        visible_items_for(members)
    assert len(few) == len(many) <= 8


def test_member_spaces_for_agrees_with_member_spaces_q(batch):
    from spaces.models import Space

    worlds, members = batch
    got = member_spaces_for(members)
    for member in members:
        assert got[member.pk] == set(Space.objects.filter(member_spaces_q(member)).values_list("pk", flat=True))
