"""The item visibility rule of ``spaces.permissions`` as one SQL expression, written once per request.

``permissions.visible_items_q`` decides which items a member may see: the item's own rules (not trashed, in a
space they may read, shown to them, not restricted away from them) and the same for every item it lives on (a
file's page and event, an answer's question, a comment's target with the target's own context, and its parent
comment). Written as Django ``Q`` objects, that rule was a tree of several hundred lookups with nested correlated
subqueries; building and compiling it for every list, count and ``EXISTS`` of a page was most of the page's cost
(README, "Performance"). Here the same rule is rendered straight to SQL text from the member's roles (which
``permissions.access_context`` loads once per request) and wrapped in ``ItemRule``, an expression Django puts in
the ``WHERE`` clause like any other: building it costs microseconds, whatever the number of roles.

How the SQL is shaped, and why:
- Every id set (spaces readable, moderated and administered, restricted items named on) is one literal array
  parameter (``= ANY(%s::bigint[])`` on PostgreSQL, ``json_each`` on SQLite), as ``copapp/lookups.py`` does for
  ``Q``. The sets come from the member's roles and the site's open spaces, read in one query per request: as
  literals the planner knows how many rows they select (an ``ARRAY(SELECT ...)`` of the open spaces was guessed
  at 7,661 items where it held 455,000, and the planner then built bitmaps of them all).
- Each context item is checked by a correlated ``EXISTS`` keyed by the row's own id, written ``x = ANY(ARRAY[id])``
  on PostgreSQL so that each check stays one index lookup (``copapp.lookups.RowIs`` says why).
- Nothing here can evaluate to NULL: the one nullable column (the author) is tested with ``IS NOT NULL`` first,
  so ``NOT`` of a rule is its exact complement.

Only constants of the code (table and column names from the models, choice values) are put into the SQL text;
every value that comes from data is a parameter. The rule is tested to agree with ``can_see_item`` (the
one-object form) and by the access matrix and canary of tests/security.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from django.db.models import BooleanField, Expression, F

from copapp.lookups import id_array
from spaces.models import Answer, Comment, Event, FileAsset, Item, Page, Post, Question, Space
from spaces.models.items import ModerationState
from spaces.models.space import Visibility


@dataclass(frozen=True)
class Sql:
    """A piece of SQL and its parameters, in order."""

    text: str
    params: tuple = ()

    def __add__(self, other: Sql | str) -> Sql:
        other = other if isinstance(other, Sql) else Sql(other)
        return Sql(self.text + other.text, self.params + other.params)

    def __radd__(self, other: str) -> Sql:
        return Sql(other) + self


TRUE = Sql("1 = 1")
FALSE = Sql("1 = 0")


def _join(connector: str, parts: list[Sql]) -> Sql:
    out = Sql("(")
    for n, part in enumerate(parts):
        out = out + (f" {connector} " if n else "") + part
    return out + ")"


def all_of(*parts: Sql | None) -> Sql:
    kept = [part for part in parts if part is not None and part is not TRUE]
    if any(part is FALSE for part in kept):
        return FALSE
    return _join("AND", kept) if kept else TRUE


def any_of(*parts: Sql | None) -> Sql:
    kept = [part for part in parts if part is not None and part is not FALSE]
    if any(part is TRUE for part in kept):
        return TRUE
    return _join("OR", kept) if kept else FALSE


def _literal(value: str) -> str:
    """A choice value of the code as an SQL string literal (never data: those are parameters)."""
    if not value.replace("_", "").isalnum():
        raise ValueError(f"not a plain constant: {value!r}")
    return f"'{value}'"


def _table(model) -> str:
    return model._meta.db_table


def _column(model, name: str) -> str:
    return model._meta.get_field(name).column


@lru_cache(maxsize=256)
def _ids_written(ids: frozenset, postgresql: bool) -> str:
    """``ids`` sorted, as PostgreSQL's array text or SQLite's JSON. A reader's rule writes the same few id sets
    (hundreds of spaces) into every query of a request: a frozenset keeps its hash, so each is written once."""
    ordered = sorted({int(value) for value in ids})
    return id_array(ordered) if postgresql else json.dumps(ordered)


class _Writer:
    """Writes parameters in the form the database takes them."""

    def __init__(self, connection):
        self.postgresql = connection.vendor == "postgresql"
        self.ops = connection.ops

    def in_ids(self, column: str, ids, *, indexed: bool = True) -> Sql:
        """``column`` is one of ``ids``. ``indexed=False`` keeps PostgreSQL from answering it from an index: the
        spaces a member reads hold most of the site's items, and a bitmap of them (half a million rows, 100 ms)
        only ever slowed a query down; the planner, costing it cheaply, built one to intersect with a few hundred
        ids."""
        if not ids:
            return FALSE
        written = _ids_written(ids if isinstance(ids, frozenset) else frozenset(ids), self.postgresql)
        if self.postgresql:
            return Sql(f"{column}{'' if indexed else ' + 0'} = ANY(%s::bigint[])", (written,))
        return Sql(f"{column} IN (SELECT value FROM json_each(%s))", (written,))  # nosec B608

    def in_spaces(self, column: str, where: Sql) -> Sql:
        """``column`` is the id of a space meeting ``where`` (on ``vs``), by an uncorrelated subquery (for anonymous
        visitors, whose filter is kept for a second by every process and so cannot hold the list itself). On
        PostgreSQL an ``ARRAY(...)`` init plan: computed once per query, and costed once; as ``IN (subquery)`` its
        cost is charged to every row it is tested on, which made the planner scan whole tables in parallel instead
        of using the index of the list's own filter (a space's questions: 85 ms against 6 ms at 100,000)."""
        subquery = Sql(f"SELECT vs.id FROM {_table(Space)} vs WHERE ") + where  # nosec B608
        if self.postgresql:
            return f"{column} = ANY(ARRAY(" + subquery + "))"
        return f"{column} IN (" + subquery + ")"

    def time(self, value: datetime):
        return self.ops.adapt_datetimefield_value(value)


# --- Whose rule: an item's own rules for one kind of reader --------------------------------------------------
@dataclass(frozen=True)
class ReaderRule:
    """An item's own rules for one reader, as data (``permissions.reader_rule`` builds it from the member's roles).

    ``who`` is "staff" (everything not trashed), "anonymous", "member" (by the roles below) or "every member" (what
    the least member of the item's space sees: webhooks). ``now`` is the time scheduled items are compared with.
    """

    who: str
    now: datetime
    member_id: int | None = None
    readable: frozenset[int] = frozenset()  # spaces whose content they read: open ones and those they hold a role in
    moderated: frozenset[int] = frozenset()  # spaces where they see hidden and scheduled items
    administered: frozenset[int] = frozenset()  # spaces where they see restricted items
    named: frozenset[int] = frozenset()  # restricted items the member is named on

    def own(self, w: _Writer, a: str) -> Sql:
        """On the item row ``a`` (an alias): the item's own rules."""
        live = Sql(f"{a}.deleted_at IS NULL")
        if self.who == "staff":
            return live
        shown = Sql(
            f"{a}.moderation_state = {_literal(ModerationState.VISIBLE)} AND {a}.publish_at <= %s", (w.time(self.now),)
        )
        unrestricted = Sql(f"NOT {a}.is_restricted")
        if self.who == "every member":
            post, published = _table(Post), _column(Post, "published_at")
            sent = Sql(
                f"({a}.kind <> {_literal('post')} OR EXISTS (SELECT 1 FROM {post} vp "  # nosec B608
                f"WHERE {_row_is(w, 'vp.item_id', a + '.id')} AND vp.{published} IS NOT NULL))"
            )
            return all_of(live, shown, unrestricted, sent)
        if self.who == "anonymous":
            open_space = w.in_spaces(f"{a}.space_id", Sql(f"vs.visibility = {_literal(Visibility.OPEN)}"))
            return all_of(live, open_space, shown, unrestricted)
        author = Sql(f"({a}.author_id IS NOT NULL AND {a}.author_id = %s)", (self.member_id,))
        readable = w.in_ids(f"{a}.space_id", self.readable, indexed=False)
        # hidden and scheduled items share one exception (author and moderators)
        shown = any_of(shown, author, w.in_ids(f"{a}.space_id", self.moderated, indexed=False))
        unrestricted = any_of(
            unrestricted,
            author,
            w.in_ids(f"{a}.id", self.named),
            w.in_ids(f"{a}.space_id", self.administered, indexed=False),
        )
        return all_of(live, readable, shown, unrestricted)


# --- The context an item lives on ------------------------------------------------------------------------------
KINDS_WITH_CONTEXT = ("answer", "comment", "file")


def _row_is(w: _Writer, column: str, outer: str) -> str:
    """``column = outer`` for a correlated check made row by row (``copapp.lookups.RowIs`` says why not ``=``)."""
    return f"{column} = ANY(ARRAY[{outer}])" if w.postgresql else f"{column} = {outer}"


def _file_context(rule: ReaderRule, w: _Writer, a: str, depth: int) -> Sql:
    """A file is seen only where its page and its event are."""
    f, pg, pi, ev, ei = (f"v{name}{depth}" for name in ("f", "pg", "pi", "ev", "ei"))
    item, page, event = _table(Item), _table(Page), _table(Event)
    page_id, event_id = _column(FileAsset, "page"), _column(FileAsset, "event")
    return (
        Sql(
            f"({a}.kind <> {_literal('file')} OR EXISTS (SELECT 1 FROM {_table(FileAsset)} {f} "  # nosec B608
            f"LEFT JOIN {page} {pg} ON {pg}.id = {f}.{page_id} LEFT JOIN {item} {pi} ON {pi}.id = {pg}.item_id "
            f"LEFT JOIN {event} {ev} ON {ev}.id = {f}.{event_id} LEFT JOIN {item} {ei} ON {ei}.id = {ev}.item_id "
            f"WHERE {_row_is(w, f + '.item_id', a + '.id')} AND "
        )
        + all_of(
            any_of(Sql(f"{f}.{page_id} IS NULL"), rule.own(w, pi)),
            any_of(Sql(f"{f}.{event_id} IS NULL"), rule.own(w, ei)),
        )
        + "))"
    )


def _answer_context(rule: ReaderRule, w: _Writer, a: str, depth: int) -> Sql:
    """An answer is seen only where its question is."""
    an, q, qi = (f"v{name}{depth}" for name in ("an", "q", "qi"))
    return (
        Sql(
            f"({a}.kind <> {_literal('answer')} OR EXISTS (SELECT 1 FROM {_table(Answer)} {an} "  # nosec B608
            f"JOIN {_table(Question)} {q} ON {q}.id = {an}.{_column(Answer, 'question')} "
            f"JOIN {_table(Item)} {qi} ON {qi}.id = {q}.item_id WHERE {_row_is(w, an + '.item_id', a + '.id')} AND "
        )
        + rule.own(w, qi)
        + "))"
    )


def _parent_seen(rule: ReaderRule, w: _Writer, c: str, depth: int) -> Sql:
    """On the comment row ``c``: a reply needs its parent comment to be seen."""
    pc, pci = f"vpc{depth}", f"vpci{depth}"
    parent = _column(Comment, "parent")
    return any_of(
        Sql(f"{c}.{parent} IS NULL"),
        Sql(
            f"EXISTS (SELECT 1 FROM {_table(Comment)} {pc} JOIN {_table(Item)} {pci} ON {pci}.id = {pc}.item_id "  # nosec B608
            f"WHERE {_row_is(w, pc + '.id', f'{c}.{parent}')} AND "
        )
        + rule.own(w, pci)
        + ")",
    )


def _comment_context(rule: ReaderRule, w: _Writer, a: str, depth: int, *, target: bool = True) -> Sql:
    """A comment is seen only where its target (with the target's own context) and its parent comment are.
    ``target=False`` leaves out the target, for a thread whose target the caller has already checked."""
    c, ti = f"vc{depth}", f"vti{depth}"
    checks = [_parent_seen(rule, w, c, depth)]
    join = ""
    if target:
        join = f"JOIN {_table(Item)} {ti} ON {ti}.id = {c}.{_column(Comment, 'target')} "
        checks = [
            rule.own(w, ti),
            _file_context(rule, w, ti, depth + 1),
            _answer_context(rule, w, ti, depth + 1),
            *checks,
        ]
    return (
        Sql(
            f"({a}.kind <> {_literal('comment')} OR EXISTS (SELECT 1 FROM {_table(Comment)} {c} {join}"  # nosec B608
            f"WHERE {_row_is(w, c + '.item_id', a + '.id')} AND "
        )
        + all_of(*checks)
        + "))"
    )


def visible_sql(
    rule: ReaderRule, w: _Writer, a: str, kinds: tuple[str, ...] | None, target: bool = True, context: bool = True
) -> Sql:
    """On the item row ``a``: its own rules and its context's, for rows of ``kinds`` (None: any kind).
    ``context=False``: its own rules only."""
    needs = set(KINDS_WITH_CONTEXT) if kinds is None else set(kinds) & set(KINDS_WITH_CONTEXT)
    if not context:
        needs = set()
    return all_of(
        rule.own(w, a),
        _file_context(rule, w, a, 0) if "file" in needs else None,
        _answer_context(rule, w, a, 0) if "answer" in needs else None,
        _comment_context(rule, w, a, 0, target=target) if "comment" in needs else None,
    )


class ItemRule(Expression):
    """On ``Item``: the rows ``rule`` lets see, with their context (``visible_sql``). Use it as a filter:
    ``Item.objects.filter(ItemRule(rule))``; inside a subquery it follows the alias Django gives the table.

    ``target=False`` leaves out a comment's target (``permissions.visible_comments_on_seen_target_q``);
    ``context=False`` every context check (``permissions.own_rules_q``).
    """

    conditional = True

    def __init__(
        self,
        rule: ReaderRule,
        kinds: tuple[str, ...] | None = None,
        *,
        target: bool = True,
        context: bool = True,
    ):
        super().__init__(output_field=BooleanField())
        self.rule, self.kinds, self.target, self.context = rule, kinds, target, context
        self.pk = F("pk")  # resolved to the Item table's alias in the query: the rule's SQL is written on it
        self._rendered: dict[tuple[str, str], Sql] = {}  # by (alias, vendor): shared by copies, cleared never

    def __repr__(self) -> str:
        return f"ItemRule({self.rule.who}, kinds={self.kinds}, target={self.target}, context={self.context})"

    def get_source_expressions(self):
        return [self.pk]

    def set_source_expressions(self, exprs):
        (self.pk,) = exprs

    @property
    def identity(self):
        return (ItemRule, id(self.rule), self.kinds, self.target, self.context, getattr(self.pk, "alias", None))

    def __eq__(self, other):
        return isinstance(other, ItemRule) and other.identity == self.identity

    def __hash__(self):
        return hash(self.identity)

    def as_sql(self, compiler, connection):
        if getattr(self.pk, "target", None) is None or self.pk.target.model is not Item:
            raise TypeError("ItemRule filters Item rows only")
        alias = compiler.quote_name_unless_alias(self.pk.alias)
        key = (alias, connection.vendor)
        rendered = self._rendered.get(key)
        if rendered is None:
            rendered = visible_sql(self.rule, _Writer(connection), alias, self.kinds, self.target, self.context)
            self._rendered[key] = rendered
        return rendered.text, list(rendered.params)
