"""``field__in_ids=[...]``: membership in a list of integer ids, sent as one query parameter.

Permission filters compare a column with the member's id sets (spaces they hold a role in, items they are named
on). As ``__in`` those sets become one literal per id, and a page repeats its permission filter in every list,
count and ``EXISTS``: at scale a community admin's filter held hundreds of ids, and building, copying and
quoting those literals cost most of a page view (see README, "Performance"). Here the whole set is one array
parameter: ``col = ANY(%s::bigint[])`` on PostgreSQL, ``col IN (SELECT value FROM json_each(%s))`` on SQLite.
The SQL text no longer grows with the set, so it is also planned and logged at a constant size.
"""

from __future__ import annotations

import json

from django.db import models
from django.db.models import Lookup


def id_array(ids: list[int]) -> str:
    """PostgreSQL's text form of an integer array (``{1,2,3}``), for a ``%s::bigint[]`` parameter. Handed a list,
    psycopg (client-side binding, Django's default) dumps it element by element, with a pattern search per
    element to decide on quoting: for a page's fifty copies of a member's few hundred space ids that was 18 ms of
    a 60 ms page at scale (bench/page_cpu.py --profile). As text it is one string, cast by the database. Callers
    pass ints (both turn every value into one first), and the text is still a bound parameter."""
    return "{" + ",".join(map(str, ids)) + "}"


class InIds(Lookup):
    lookup_name = "in_ids"
    prepare_rhs = False

    def get_prep_lookup(self):
        return sorted({int(value) for value in self.rhs})

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        ids = self.rhs
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::bigint[])", (*lhs_params, id_array(ids))
        # the only text put into the SQL is the column, compiled by Django; the ids are a parameter
        return f"{lhs} IN (SELECT value FROM json_each(%s))", (*lhs_params, json.dumps(ids))  # noqa: S608  # nosec B608 # column from Django


# Related fields keep lookups of their own (``ForeignObject.get_lookups``): register on both.
models.Field.register_lookup(InIds)
models.ForeignObject.register_lookup(InIds)


class RowIs(Lookup):
    """``field__row_is=OuterRef("x")``: ``field = x`` for a correlated ``EXISTS`` checked row by row.

    On PostgreSQL written ``field = ANY(ARRAY[x])``. A plain ``=`` inside an ``OR`` lets the planner turn the
    ``EXISTS`` into a hashed subplan that computes the subquery for *every* row of the site (all visible items) to
    answer for a few; a closed range (``field >= x AND field <= x``), the earlier cure, is estimated at thousands of
    rows, so the planner combined it with bitmap scans of every readable space's items (100 s for a member's
    notification count at 10^6 items). ``= ANY(ARRAY[x])`` is estimated at one row and cannot be hashed: one index
    lookup per row (58 ms for the same count). SQLite neither hashes nor combines: there it is ``=``.
    """

    lookup_name = "row_is"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(ARRAY[{rhs}])", (*lhs_params, *rhs_params)
        return f"{lhs} = {rhs}", (*lhs_params, *rhs_params)


models.Field.register_lookup(RowIs)
models.ForeignObject.register_lookup(RowIs)
