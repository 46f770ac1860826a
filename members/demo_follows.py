"""Demo follows for ``seed_demo`` (issue 9, item 2): a few demo members follow each other, so the home page's
stream of people followed and its suggestions show something. Written through the services; idempotent (following
someone already followed changes nothing). A pair with a block between them is skipped."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError

from members import services_follow

# (follower, followed) as positions in the list ``seed_demo_follows`` is given.
FOLLOWS = [(0, 1), (0, 3), (1, 0), (1, 4), (2, 0), (3, 5), (4, 2), (5, 3)]


def seed_demo_follows(people: Sequence) -> int:
    """Make the demo follows among ``people``; returns how many pairs now follow."""
    made = 0
    for follower, followed in FOLLOWS:
        if max(follower, followed) >= len(people):
            continue
        try:
            services_follow.follow_create(actor=people[follower], member=people[followed])
        except ValidationError:
            continue
        made += 1
    return made
