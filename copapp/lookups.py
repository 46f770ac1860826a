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


class InIds(Lookup):
    lookup_name = "in_ids"
    prepare_rhs = False

    def get_prep_lookup(self):
        return sorted({int(value) for value in self.rhs})

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        ids = self.rhs
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::bigint[])", (*lhs_params, ids)
        # the only text put into the SQL is the column, compiled by Django; the ids are a parameter
        return f"{lhs} IN (SELECT value FROM json_each(%s))", (*lhs_params, json.dumps(ids))  # noqa: S608  # nosec B608 # column from Django


# Related fields keep lookups of their own (``ForeignObject.get_lookups``): register on both.
models.Field.register_lookup(InIds)
models.ForeignObject.register_lookup(InIds)
