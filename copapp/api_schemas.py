"""Schemas shared by every router of the REST API (issue 8): errors, pagination, people, and safe text."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import AfterValidator

MAX_LIMIT = 100
MAX_OFFSET = 10**9
ID_MAX = 2**63 - 1  # the largest id a database column holds; larger numbers cannot name anything


def _clean_text(value: str) -> str:
    """Text the database can store on every backend: no NUL characters (PostgreSQL refuses them) and no lone
    surrogates (JSON lets a client send ``"\\ud800"``, which cannot be encoded as UTF-8)."""
    if "\x00" in value:
        raise ValueError("Text must not contain NUL characters.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("Text must be valid Unicode.") from exc
    return value


Text = Annotated[str, AfterValidator(_clean_text)]


def _sane_moment(value: datetime) -> datetime:
    """Dates people schedule things on: years 1900 to 2999 (far ends overflow time-zone arithmetic)."""
    if not 1900 <= value.year <= 2999:
        raise ValueError("Give a date between the years 1900 and 2999.")
    return value


Moment = Annotated[datetime, AfterValidator(_sane_moment)]


class ErrorOut(Schema):
    """Every error answer has this shape: a sentence for people and a stable code for programs."""

    detail: str = Field(..., description="What went wrong, in a sentence.")
    code: str = Field(..., description="A stable machine-readable code, e.g. not_found, validation_error.")
    errors: list[dict[str, Any]] | None = Field(
        None, description="For validation errors: one entry per problem, with the field and the message."
    )


class PageParams(Schema):
    limit: int = Field(20, ge=1, le=MAX_LIMIT, description="How many results to return (at most 100).")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="How many results to skip.")


class Paginated(Schema):
    """A page of results. ``count`` is the number of results the caller may see in all, counted in the same
    permission-filtered query as the rows."""

    count: int
    limit: int
    offset: int
    next: str | None = Field(None, description="The address of the next page, if there is one.")
    previous: str | None = Field(None, description="The address of the previous page, if there is one.")


class UserRef(Schema):
    """A member as shown next to their content: the public @handle and name only."""

    username: str
    display_name: str


class Done(Schema):
    ok: bool = True
    count: int | None = None


def user_ref(user) -> dict | None:
    if user is None:
        return None
    return {"username": user.username, "display_name": user.public_name}
