"""Shared by the API tests: a JSON client that speaks with a token, and the worlds of the API access matrix."""

from __future__ import annotations

import json
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from members.services_tokens import token_create
from spaces import services
from spaces.services import events as event_services
from spaces.services import posts as post_services
from tests.conftest import PERSONAS, build_world

API = "/api/v1"
GHOST_SLUG = "no-such-space"


class ApiClient:
    """Calls the API with JSON bodies and, optionally, a bearer token."""

    def __init__(self, token: str | None = None, client: Client | None = None):
        self.token = token
        self.client = client or Client()

    def request(self, method: str, path: str, body=None, **extra):
        if self.token:
            extra.setdefault("HTTP_AUTHORIZATION", f"Bearer {self.token}")
        url = path if path.startswith("/") and path.startswith(API) else f"{API}{path}"
        data = json.dumps(body) if body is not None else None
        return self.client.generic(
            method.upper(), url, data=data or "", content_type="application/json" if data else None, **extra
        )

    def get(self, path: str, **extra):
        return self.request("GET", path, **extra)

    def post(self, path: str, body=None, **extra):
        return self.request("POST", path, body if body is not None else {}, **extra)

    def patch(self, path: str, body=None, **extra):
        return self.request("PATCH", path, body if body is not None else {}, **extra)

    def put(self, path: str, body=None, **extra):
        return self.request("PUT", path, body if body is not None else {}, **extra)

    def delete(self, path: str, **extra):
        return self.request("DELETE", path, **extra)


def new_token(user, scope: str = "read_write", **kw) -> str:
    return token_create(actor=user, name=f"test {scope}", scope=scope, **kw).secret


def space_path(w, suffix: str = "", *, slug: str | None = None) -> str:
    return f"/communities/{w.community.slug}/spaces/{slug or w.space.slug}{suffix}"


def make_api_world(visibility: str):
    """``build_world`` plus content of every kind written by the space's creator (site staff) through the
    services, and a read-and-write token for every persona."""
    w = build_world(visibility)
    staff = w.staff
    w.page = services.page_create(actor=staff, space=w.space, title=f"Matrix page {visibility}", body="Text.")
    w.question = services.question_ask(actor=staff, space=w.space, title=f"Matrix question {visibility}?", body="Q")
    start = (timezone.now() + timedelta(days=10)).replace(microsecond=0)
    w.event = event_services.event_create(
        actor=staff,
        space=w.space,
        title=f"Matrix event {visibility}",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        time_zone="Asia/Bangkok",
        online_url="https://meet.example.org/secret-room",
    )
    w.post = post_services.post_create(actor=staff, space=w.space, body=f"Matrix post {visibility}")
    w.tokens = {persona: new_token(getattr(w, persona)) for persona in PERSONAS if persona != "anonymous"}
    return w


def api_for(w, persona: str) -> ApiClient:
    return ApiClient(w.tokens.get(persona))


def error_shape_ok(response) -> bool:
    body = response.json()
    return isinstance(body.get("detail"), str) and isinstance(body.get("code"), str)
