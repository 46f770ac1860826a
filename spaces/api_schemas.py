"""Shapes of spaces and their content in the REST API (issue 8).

Inputs use ``Text`` (no NUL characters, valid Unicode); lengths and every other rule are checked by the
services, which answer in the same words as the web forms.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema

from copapp.api_schemas import Moment, Paginated, Text, UserRef

MAX_TEXT = 500_000  # the longest body any service accepts (pages); each service has its own, lower limits


# --- Spaces -------------------------------------------------------------------------------------------------------
class SpacePermissions(Schema):
    can_read: bool
    can_contribute: bool
    can_moderate: bool
    can_administer: bool
    can_join: bool


class SpaceOut(Schema):
    community: str = Field(..., description="The community's slug.")
    slug: str
    name: str
    description: str
    visibility: Literal["open", "private", "closed"]
    is_archived: bool
    member_count: int
    created_at: datetime
    my_role: str | None = Field(None, description="viewer, editor, moderator or admin; null without a role.")
    permissions: SpacePermissions
    url: str


class SpaceList(Paginated):
    results: list[SpaceOut]


class MembershipOut(Schema):
    space: str
    role: str


# --- Pages ----------------------------------------------------------------------------------------------------------
class PageOut(Schema):
    id: int
    slug: str
    title: str
    parent_id: int | None
    version: int
    author: UserRef | None
    created_at: datetime
    last_edited_at: datetime | None
    last_edited_by: UserRef | None
    is_restricted: bool
    url: str


class PageDetailOut(PageOut):
    body: str
    body_html: str
    edit_restricted: bool
    can_edit: bool


class PageList(Paginated):
    results: list[PageOut]


class PageCreateIn(Schema):
    title: Text = Field(..., max_length=1000)
    body: Text = Field("", max_length=MAX_TEXT)
    parent: Text | None = Field(None, max_length=200, description="The slug of the parent page, if any.")
    summary: Text = Field("", max_length=1000, description="What changed, shown in the history.")


class PageUpdateIn(Schema):
    base_version: int = Field(
        ..., ge=0, le=2**31, description="The version this edit starts from; another save since answers 409."
    )
    title: Text | None = Field(None, max_length=1000)
    body: Text | None = Field(None, max_length=MAX_TEXT)
    summary: Text = Field("", max_length=1000)


class VersionOut(Schema):
    version: int
    title: str
    author: UserRef | None
    summary: str
    saved_at: datetime


class VersionDetailOut(VersionOut):
    body: str


class VersionList(Paginated):
    results: list[VersionOut]


# --- Questions and answers ------------------------------------------------------------------------------------------
class QuestionOut(Schema):
    id: int
    slug: str
    title: str
    author: UserRef | None
    tags: list[str]
    answer_count: int
    vote_score: int
    accepted_answer_id: int | None
    version: int
    created_at: datetime
    last_edited_at: datetime | None
    url: str


class QuestionDetailOut(QuestionOut):
    body: str
    body_html: str
    can_edit: bool
    can_answer: bool
    can_accept: bool


class QuestionList(Paginated):
    results: list[QuestionOut]


class QuestionFilters(Schema):
    sort: Literal["newest", "votes", "unanswered"] = "newest"
    tag: Text | None = Field(None, max_length=60, description="A tag's slug.")


class QuestionCreateIn(Schema):
    title: Text = Field(..., max_length=1000)
    body: Text = Field("", max_length=MAX_TEXT)
    tags: list[Text] = Field(default_factory=list, max_length=20)


class QuestionUpdateIn(Schema):
    title: Text | None = Field(None, max_length=1000)
    body: Text | None = Field(None, max_length=MAX_TEXT)
    tags: list[Text] | None = Field(None, max_length=20, description="Replaces the tags; leave out to keep them.")
    summary: Text = Field("", max_length=1000)


class AnswerOut(Schema):
    id: int
    question_id: int
    body: str
    body_html: str
    author: UserRef | None
    vote_score: int
    is_accepted: bool
    version: int
    created_at: datetime
    last_edited_at: datetime | None


class AnswerList(Paginated):
    results: list[AnswerOut]


class AnswerIn(Schema):
    body: Text = Field(..., max_length=MAX_TEXT)


class AnswerUpdateIn(Schema):
    body: Text = Field(..., max_length=MAX_TEXT)
    summary: Text = Field("", max_length=1000)


class AcceptIn(Schema):
    answer_id: int | None = Field(..., ge=1, le=2**63 - 1, description="The answer to accept; null withdraws.")


# --- Events ---------------------------------------------------------------------------------------------------------
class EventOut(Schema):
    id: int
    slug: str
    title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    venue: str
    capacity: int | None
    registration_deadline: datetime | None
    going_count: int
    maybe_count: int
    waitlist_count: int
    author: UserRef | None
    my_status: str | None = Field(None, description="Your registration: going, maybe, not_going or waitlisted.")
    url: str


class RegistrationQuestionOut(Schema):
    id: int
    label: str
    kind: str
    choices: list[str]
    required: bool


class RegistrationOut(Schema):
    status: str
    answers: dict[str, str]
    waitlist_position: int | None
    created_at: datetime
    status_changed_at: datetime


class EventDetailOut(EventOut):
    description: str
    description_html: str
    online_url: str | None = Field(None, description="Only for people registered as going or maybe, and organisers.")
    registration_questions: list[RegistrationQuestionOut]
    registration_closed_reason: str
    my_registration: RegistrationOut | None
    can_register: bool
    can_organise: bool


class EventList(Paginated):
    results: list[EventOut]


class EventFilters(Schema):
    when: Literal["upcoming", "past"] = "upcoming"


_TIMES = "Without a UTC offset, a wall-clock time in ``time_zone``; with one, that instant."


class EventCreateIn(Schema):
    title: Text = Field(..., max_length=1000)
    starts_at: Moment = Field(..., description=_TIMES)
    ends_at: Moment = Field(..., description=_TIMES)
    time_zone: Text = Field(..., max_length=64, description="An IANA time zone, e.g. Asia/Bangkok.")
    description: Text = Field("", max_length=MAX_TEXT)
    venue: Text = Field("", max_length=1000)
    online_url: Text = Field("", max_length=1000)
    capacity: int | None = Field(None, ge=1, le=1_000_000)
    registration_deadline: Moment | None = Field(None, description=_TIMES)


class EventUpdateIn(Schema):
    title: Text | None = Field(None, max_length=1000)
    starts_at: Moment | None = None
    ends_at: Moment | None = None
    time_zone: Text | None = Field(None, max_length=64)
    description: Text | None = Field(None, max_length=MAX_TEXT)
    venue: Text | None = Field(None, max_length=1000)
    online_url: Text | None = Field(None, max_length=1000)
    capacity: int | None = Field(None, ge=1, le=1_000_000)
    registration_deadline: Moment | None = None


class RegistrationIn(Schema):
    status: Literal["going", "maybe", "not_going"]
    answers: dict[Text, Text | bool] = Field(
        default_factory=dict, description="Registration question id -> answer (yes/no questions: true or false)."
    )


# --- Posts ----------------------------------------------------------------------------------------------------------
class PostOut(Schema):
    id: int
    title: str
    body: str
    body_html: str
    author: UserRef | None
    is_pinned: bool
    is_announcement: bool
    is_scheduled: bool
    like_count: int
    created_at: datetime
    published_at: datetime | None
    edited_at: datetime | None
    url: str


class PostDetailOut(PostOut):
    can_edit: bool


class PostList(Paginated):
    results: list[PostOut]


class PostCreateIn(Schema):
    body: Text = Field(..., max_length=100_000)
    is_announcement: bool = False
    publish_at: Moment | None = Field(None, description="A later time (with its UTC offset) to publish at.")


class PostUpdateIn(Schema):
    body: Text | None = Field(None, max_length=100_000)
    is_announcement: bool | None = None
