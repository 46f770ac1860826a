"""A faster ``Col.identity`` for Django 5.2: the same value, without binding a signature per column.

Django hashes every selected column of a query that has an ORDER BY, to find the sort keys among them
(``SQLCompiler._order_by_pairs``); a column's hash is its ``identity``, which ``BaseExpression`` builds by binding
the column's constructor arguments to the constructor's signature. Our pages select related rows with wide joins
(118 columns for an item with its space, community and typed content), so this was about 8 µs per column: 1 ms
of the 3.7 ms Django took to compile such a query, and 1-2 ms of CPU per page (``bench/page_cpu.py``).

``Col`` has three constructor arguments, so its identity is put together directly. It is checked against Django's
own for the columns of the site's queries (tests/test_orm_speedups.py) and applies only to the Django version it
was written for: another version keeps Django's own.
"""

from __future__ import annotations

from functools import cached_property

import django
from django.db.models.expressions import Col, Expression
from django.db.models.fields import Field

PATCHED_FOR = (5, 2)
_ARGUMENTS = ("alias", "target", "output_field")


def _part(value) -> object:
    """``Expression._identity`` for one argument, with its commonest case (a model's field) first."""
    if isinstance(value, Field) and value.name and value.model:
        return value.model._meta.label, value.name
    return Expression._identity(value)


def _col_identity(self: Col) -> tuple:
    if type(self) is not Col:  # a subclass may take other arguments
        return Expression.identity.func(self)
    args, kwargs = self._constructor_args
    if kwargs or len(args) < 2:
        values = dict(zip(_ARGUMENTS, args, strict=False), **kwargs)
        alias, target, output_field = (values.get(name) for name in _ARGUMENTS)
    else:
        alias, target, output_field = args if len(args) == 3 else (*args, None)
    return (Col, ("alias", _part(alias)), ("target", _part(target)), ("output_field", _part(output_field)))


def install() -> bool:
    """Give ``Col`` the faster identity; False (and nothing changed) on another Django version."""
    if django.VERSION[:2] != PATCHED_FOR:
        return False
    if "identity" not in Col.__dict__:
        identity = cached_property(_col_identity)
        identity.__set_name__(Col, "identity")
        Col.identity = identity
    return True
