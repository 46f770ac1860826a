"""Shapes of communities in the REST API (issue 8)."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema

from copapp.api_schemas import Paginated


class CommunityOut(Schema):
    slug: str
    name: str
    description: str
    time_zone: str
    created_at: datetime
    member_count: int
    space_count: int
    my_role: str | None
    url: str


class CommunityDetailOut(CommunityOut):
    guidelines: str


class CommunityList(Paginated):
    results: list[CommunityOut]
