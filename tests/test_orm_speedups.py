"""copapp.orm_speedups: a column's identity (what Django compares and hashes columns by) is exactly Django's own,
for the columns of the site's real queries, and the faster one is used only on the Django version it was written
for."""

from __future__ import annotations

import django
from django.db import connection
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.expressions import Col, Expression
from django.db.models.sql.where import WhereNode

from copapp import orm_speedups
from members.models import Notification
from spaces import selectors_content
from spaces.models import Answer, Comment, Item, Page, SpaceMembership


def django_identity(col: Col) -> tuple:
    return Expression.identity.func(col)


def columns(queryset) -> list[Col]:
    """Every column of the compiled query: selected, filtered on and sorted by."""
    compiler = queryset.query.get_compiler(connection=connection)
    compiler.as_sql()
    found = []
    expressions = [expr for expr, _sql, _alias in compiler.select]
    expressions += [expr for expr, _rest in compiler.get_order_by()]
    expressions.append(queryset.query.where)
    while expressions:
        node = expressions.pop()
        if isinstance(node, Col):
            found.append(node)
        elif isinstance(node, WhereNode):
            expressions += node.children
        elif hasattr(node, "get_source_expressions"):
            expressions += [child for child in node.get_source_expressions() if child is not None]
    return found


def site_queries():
    item = Item.objects.select_related("author", *selectors_content.ITEM_LINK_RELATED)
    latest_answer = Answer.objects.filter(question=OuterRef("pk")).order_by("-pk").values("pk")[:1]
    return [
        item.order_by("-publish_at", "-pk"),
        item.filter(space__community__slug="x", kind__in=["page", "question"]).order_by("kind", "-pk"),
        Page.objects.select_related("item__space", "parent").order_by("position", "title"),
        Comment.objects.select_related("author", "target").order_by("created_at", "pk"),
        Notification.objects.select_related("actor", "item__space").order_by("-created_at", "-pk"),
        SpaceMembership.objects.values("space_id").annotate(n=Count("pk")).order_by("-n"),
        Item.objects.annotate(space_name=F("space__name")).order_by("space_name"),
        Item.objects.filter(question__isnull=False).annotate(latest=Subquery(latest_answer)).order_by("-latest"),
        Item.objects.filter(pk__in=Item.objects.filter(space__slug="x").values("pk")).order_by("-pk"),
    ]


def test_every_column_of_the_sites_queries_has_djangos_own_identity(db):
    assert orm_speedups.install() == (django.VERSION[:2] == orm_speedups.PATCHED_FOR)
    checked = 0
    for queryset in site_queries():
        for col in columns(queryset):
            assert col.identity == django_identity(col), col
            checked += 1
    assert checked > 300  # the wide joins were looked at, not a handful of columns


def test_columns_with_an_output_field_of_their_own_and_relabelled_columns_keep_djangos_identity(db):
    target = Item._meta.get_field("space")
    plain = Col("spaces_item", target)
    typed = Col("spaces_item", target, Item._meta.get_field("id"))
    by_name = Col(alias="T3", target=target, output_field=None)
    relabelled = plain.relabeled_clone({"spaces_item": "U0"})
    for col in (plain, typed, by_name, relabelled, Col(None, target)):
        assert col.identity == django_identity(col)
    # equal where Django says equal, different where it says different
    assert plain == Col("spaces_item", target)
    assert plain != typed
    assert plain != relabelled
    assert len({plain, Col("spaces_item", target), typed, relabelled}) == 3


def test_another_django_version_keeps_djangos_own_identity(monkeypatch):
    patched = Col.__dict__.get("identity")
    monkeypatch.delattr(Col, "identity", raising=False)
    monkeypatch.setattr(django, "VERSION", (6, 0, 0, "final", 0))
    assert orm_speedups.install() is False
    assert "identity" not in Col.__dict__
    monkeypatch.setattr(django, "VERSION", (*orm_speedups.PATCHED_FOR, 9, "final", 0))
    assert orm_speedups.install() is True
    assert "identity" in Col.__dict__
    if patched is not None:
        monkeypatch.setattr(Col, "identity", patched)
