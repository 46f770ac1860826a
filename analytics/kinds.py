"""What each activity kind means to the metrics: the one registry the roll-up, the points and the docs read.

A kind not listed here still counts as activity (it makes a member "active" that day) but is neither a view, a
contribution nor worth points. Credit kinds are recorded for a member who did nothing themselves (their answer
was accepted): they earn points but never make the member active.
"""

from __future__ import annotations

VISIT = "visit"

# Opening a page, question, event, post or poll (recorded by the detail views), or a file (its page or a download).
VIEW_KINDS: frozenset[str] = frozenset(
    {"page_view", "question_view", "event_view", "post_view", "poll_view", "file_view"}
)

# Adding to or answering for the community's content. "Core" and "active" members are defined by the number of
# days with at least one of these; "peripheral" members have activity but none of these.
CONTRIBUTION_KINDS: frozenset[str] = frozenset(
    {
        "page_create",
        "page_edit",
        "page_copy",
        "file_upload",
        "question_ask",
        "answer_post",
        "answer_accept",
        "comment_create",
        "vote_cast",
        "event_create",
        "event_registered",
        "paper_submitted",
        "post_create",
        "poll_created",
        "poll_voted",
        "referral",
    }
)

# Recorded for the member who receives the credit, not for an action of theirs.
CREDIT_KINDS: frozenset[str] = frozenset({"answer_accepted"})

# Engagement points per kind, before a community admin changes them (analytics.PointsPolicy).
DEFAULT_POINTS: dict[str, int] = {
    "answer_post": 10,
    "answer_accepted": 15,
    "page_create": 5,
    "page_edit": 5,
    "question_ask": 5,
    "paper_submitted": 10,
    "post_create": 3,
    "event_create": 3,
    "comment_create": 2,
    "event_registered": 2,
    "file_upload": 2,
    "poll_created": 2,
    "vote_cast": 1,
    "poll_voted": 1,
    VISIT: 1,
    "referral": 20,
}

DEFAULT_DAILY_POINTS_CAP = 200


def is_activity(kind: str) -> bool:
    """Whether the kind makes its member active on its day (every kind but credits)."""
    return kind not in CREDIT_KINDS


def is_contribution(kind: str) -> bool:
    return kind in CONTRIBUTION_KINDS


def is_view(kind: str) -> bool:
    return kind in VIEW_KINDS
