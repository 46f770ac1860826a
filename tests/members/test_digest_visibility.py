"""``visible_items_for_batch`` (the digest job's visibility, ``spaces/permissions.py``) gives the same answer as
``Item.objects.visible_to`` for every member of a batch, and as ``visible_items_for`` (ARCHITECTURE.md, "Visibility
for many members at once"). It answers most items per member and space instead of per member and item, so these
tests hold its shortcut to the full rules on every kind and state of content, for every persona."""

import random

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from spaces.models import Item
from spaces.permissions import visible_items_for, visible_items_for_batch
from tests.access.test_visible_items_for import _build

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def batch(django_db_setup, django_db_blocker):
    """Every persona in an open, a private and a closed space full of plain, restricted, hidden, scheduled and
    trashed content with files, answers and comments (``tests/access/test_visible_items_for.py``)."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _build()
        transaction.set_rollback(True)


def test_agrees_with_visible_to_for_every_member_of_the_batch(batch):
    _worlds, members = batch

    got = visible_items_for_batch(members, Item.objects.all())

    for member in members:
        expected = set(Item.objects.visible_to(member).values_list("pk", flat=True))
        assert got[member.pk] == expected, member


def test_agrees_with_visible_items_for_on_the_items_asked_per_member(batch):
    _worlds, members = batch
    items = list(Item.objects.values_list("pk", flat=True))
    chooser = random.Random(5)
    only = {member.pk: chooser.sample(items, len(items) // 2) for member in members}
    now = timezone.now()

    assert visible_items_for_batch(members, items, only=only, now=now) == visible_items_for(
        members, items, only=only, now=now
    )


def test_query_count_does_not_grow_with_the_batch(batch):
    _worlds, members = batch
    with CaptureQueriesContext(connection) as few:
        visible_items_for_batch(members[:3], Item.objects.all())
    with CaptureQueriesContext(connection) as many:
        visible_items_for_batch(members, Item.objects.all())
    assert len(few) == len(many) <= 9
