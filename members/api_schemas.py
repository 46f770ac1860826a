"""Shapes of members and notifications in the REST API (issue 8).

Members show the fields the member directory and profile page show to signed-in members: never e-mail
addresses (except one's own, on ``/me``), onboarding answers or anything from the account settings.
"""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema

from copapp.api_schemas import Paginated, Text, UserRef


class MemberOut(Schema):
    username: str
    display_name: str
    job_title: str
    organisation: str
    country: str
    expertise: list[str]
    url: str


class MemberDetailOut(MemberOut):
    organisation_type: str
    bio: str
    time_zone: str


class MeOut(MemberDetailOut):
    email: str
    is_staff: bool
    token_scope: str | None = Field(None, description="The scope of the token used for this request, if any.")


class MemberList(Paginated):
    results: list[MemberOut]


class MemberFilters(Schema):
    q: Text = Field("", max_length=200, description="Words in the name, organisation, country, job or expertise.")
    country: Text = Field("", max_length=80)
    organisation_type: Text = Field("", max_length=20)


class NotificationOut(Schema):
    id: int
    kind: str
    message: str
    url: str = Field(..., description="Where the notification leads on the web site.")
    actor: UserRef | None
    item_id: int | None
    space: str | None = Field(None, description="community-slug/space-slug of the space it is about, if any.")
    created_at: datetime
    read_at: datetime | None


class NotificationList(Paginated):
    unread_count: int
    results: list[NotificationOut]


class NotificationFilters(Schema):
    unread: bool = Field(False, description="Only notifications not read yet.")
