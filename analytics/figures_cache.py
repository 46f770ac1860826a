"""Dashboard figures remembered until the roll-ups move.

Every figure is computed from the roll-ups, and the roll-ups change only when a roll-up run counts events, a
rebuild runs or points are recomputed; each of those bumps ``RollupState.generation`` in the same transaction.
A dashboard's figures are therefore cached under its permission-checked scope and options *and* the generation:
a request reads the generation (one query) and, until the next roll-up that changed something, gets the figures
without computing them again. A new roll-up makes new keys; the old entries expire.

What the roll-ups do not record can still change the figures between two roll-ups: who belongs to the population
(a membership or a profile's country changed, an account became staff) and the content behind knowledge health.
``ANALYTICS_DASHBOARD_CACHE_SECONDS`` (default 600; 0 turns caching off) bounds how long such a change can take to
show. Joining, posting and answering record activity, so they show with the next roll-up anyway.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key

from analytics.models import RollupState
from analytics.rollup import STATE_NAME

T = TypeVar("T")
# Part of every key: bump it when what is cached changes shape, so that no process reads an entry it cannot use.
VERSION = 1
DEFAULT_SECONDS = 600


def cache_seconds() -> int:
    return int(getattr(settings, "ANALYTICS_DASHBOARD_CACHE_SECONDS", DEFAULT_SECONDS))


def rollup_generation() -> int:
    """How many roll-up runs have changed the roll-ups so far (one query)."""
    return RollupState.objects.filter(name=STATE_NAME).values_list("generation", flat=True).first() or 0


def _digest(parts: tuple, generation: int) -> str:
    return hashlib.sha256(repr((VERSION, generation, parts)).encode()).hexdigest()


def remembered(kind: str, parts: tuple, generation: int, compute: Callable[[], T]) -> T:
    """``compute()``, or what it gave for the same ``kind``, ``parts`` and roll-up ``generation`` within
    ``cache_seconds()``. ``parts`` must say everything the result depends on besides the roll-ups (the
    permission-checked scope included), and have a stable ``repr``."""
    seconds = cache_seconds()
    if seconds <= 0:
        return compute()
    key = f"analytics:{kind}:{_digest(parts, generation)}"
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, seconds)
    return found


# The dashboard's figure sections, rendered, are remembered the same way with the template's ``{% cache %}`` tag
# (under ``FRAGMENT`` and ``fragment_key``): a request that finds them renders neither charts nor tables.
FRAGMENT = "analytics_figures"


def fragment_key(parts: tuple, generation: int) -> str:
    """The ``{% cache %}`` key of a rendering of the figures: ``parts`` must say everything the rendering depends on
    (the figures' own parts, the language, the page's query string, who is looking)."""
    return _digest(parts, generation)


def rendered_fragment(key: str) -> str | None:
    """The figure sections rendered under ``key`` if they are still remembered."""
    if cache_seconds() <= 0:
        return None
    return cache.get(make_template_fragment_key(FRAGMENT, [key]))
