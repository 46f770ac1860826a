"""What every endpoint shares: the OpenAPI schema and its docs, one error shape, paging with permission-filtered
totals, and rate limits per token."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from openapi_spec_validator import validate

from spaces import services
from spaces.models import SpaceRole, Visibility
from tests.api.support import API, ApiClient, error_shape_ok, new_token
from tests.factories import add_member, make_space, make_user


@pytest.fixture
def library(staff, community):
    return make_space(staff, community, Visibility.OPEN, slug="library")


def pages_url(space) -> str:
    return f"/communities/{space.community.slug}/spaces/{space.slug}/pages"


# --- The schema and the docs -----------------------------------------------------------------------------------------
def test_openapi_schema_validates(db):
    response = Client().get(f"{API}/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    validate(schema)
    assert schema["openapi"].startswith("3.")
    assert set(schema["components"]["securitySchemes"]) == {"PersonalAccessTokenAuth", "SessionCookieAuth"}
    paths = schema["paths"]
    for resource in ("pages", "questions", "events", "posts"):
        assert any(f"/{resource}" in path for path in paths), resource
    assert f"{API}/me/notifications" in paths and f"{API}/members" in paths
    # Reads anyone may make say so ({} = no credentials); writes never do.
    pages = paths[f"{API}/communities/{{community_slug}}/spaces/{{space_slug}}/pages"]
    assert {} in pages["get"]["security"] and {} not in pages["post"]["security"]
    assert reverse("api:openapi-json") == f"{API}/openapi.json"


def test_docs_are_served_from_our_own_static_files(db):
    response = Client().get(f"{API}/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "/static/vendor/swagger-ui/swagger-ui.css" in html
    external = re.findall(r'(?:src|href)="(https?:)?//', html)
    assert not external, "the docs must not load anything from another host (CDN)"
    assert 'data-openapi-url="/api/v1/openapi.json"' in html


# --- Errors ----------------------------------------------------------------------------------------------------------
def test_every_error_has_the_same_shape(library, staff):
    editor = make_user("editor")
    add_member(library, editor, SpaceRole.EDITOR)
    viewer = make_user("viewer")
    add_member(library, viewer, SpaceRole.VIEWER)
    api = ApiClient(new_token(editor))
    answers = {
        404: api.get(f"/communities/{library.community.slug}/spaces/nope/pages"),
        403: ApiClient(new_token(viewer)).post(pages_url(library), {"title": "No"}),
        401: ApiClient().post(pages_url(library), {"title": "No"}),
        422: api.post(pages_url(library), {"body": "no title"}),
    }
    for status, response in answers.items():
        assert response.status_code == status
        assert response["Content-Type"].startswith("application/json")
        assert error_shape_ok(response), response.content
    invalid = answers[422].json()
    assert invalid["code"] == "validation_error"
    assert invalid["errors"][0]["field"] == "title"
    # A rule only the service knows (an empty title after trimming) answers in the same shape.
    blank = api.post(pages_url(library), {"title": "   "}).json()
    assert blank["code"] == "validation_error" and blank["errors"][0]["field"] == "title"
    unknown = Client().get(f"{API}/no/such/thing")
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    wrong_method = Client().delete(f"{API}/communities")
    assert (wrong_method.status_code, wrong_method.json()["code"]) == (405, "method_not_allowed")
    assert wrong_method["Allow"] == "GET"
    bad_json = api.request("POST", pages_url(library), None, HTTP_CONTENT_TYPE="application/json")
    assert bad_json.status_code in (400, 422) and error_shape_ok(bad_json)


def test_a_body_over_the_upload_limit_answers_413_not_500(settings, library, staff):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = ApiClient(new_token(staff)).post(pages_url(library), {"title": "Big", "body": "x" * 2000})
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_edit_conflict_answers_409_and_keeps_the_text_as_a_draft(library, staff):
    from spaces.models import PageDraft

    editor = make_user("editor")
    add_member(library, editor, SpaceRole.EDITOR)
    page = services.page_create(actor=staff, space=library, title="Shared notes", body="v1")
    services.page_update(actor=staff, page=page, title="Shared notes", body="v2", base_version=1)
    api = ApiClient(new_token(editor))
    response = api.patch(f"{pages_url(library)}/{page.slug}", {"body": "my v1 edit", "base_version": 1})
    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["current_version"]) == ("edit_conflict", 2)
    page.refresh_from_db()
    assert page.body == "v2"
    assert PageDraft.objects.get(user=editor, page=page).body == "my v1 edit"


def test_onboarding_is_asked_for_in_the_error_shape(staff, community, library):
    newcomer = make_user("newcomer")  # never accepted the guidelines
    response = ApiClient(new_token(newcomer)).post(f"/communities/{community.slug}/spaces/{library.slug}/join")
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "onboarding_required" and body["onboarding_url"].endswith("/")


# --- Paging ----------------------------------------------------------------------------------------------------------
def test_lists_are_paged_with_totals_counted_from_what_the_caller_may_see(library, staff):
    for n in range(7):
        services.page_create(actor=staff, space=library, title=f"Page {n}")
    hidden = services.page_create(actor=staff, space=library, title="Restricted page")
    services.page_set_restrictions(actor=staff, page=hidden, restrict_view=True, restrict_edit=False)
    api = ApiClient()
    first = api.get(f"{pages_url(library)}?limit=3").json()
    assert (first["count"], first["limit"], first["offset"], len(first["results"])) == (7, 3, 0, 3)
    assert first["previous"] is None and "offset=3" in first["next"]
    last = api.get(f"{pages_url(library)}?limit=3&offset=6").json()
    assert len(last["results"]) == 1 and last["next"] is None and "offset=3" in last["previous"]
    assert "Restricted page" not in str(first) + str(last)
    beyond = api.get(f"{pages_url(library)}?offset=100").json()
    assert beyond["results"] == [] and beyond["count"] == 7
    staff_view = ApiClient(new_token(staff)).get(pages_url(library)).json()
    assert staff_view["count"] == 8
    for bad in ("limit=0", "limit=101", "offset=-1", "limit=abc"):
        response = api.get(f"{pages_url(library)}?{bad}")
        assert response.status_code == 422 and response.json()["code"] == "validation_error", bad


# --- Rate limits -----------------------------------------------------------------------------------------------------
def test_rate_limit_is_per_token_and_answers_429_with_retry_after(settings, library, staff):
    settings.API_RATE_LIMIT = "3/minute"
    first, second = ApiClient(new_token(staff)), ApiClient(new_token(staff))
    for _ in range(3):
        assert first.get(pages_url(library)).status_code == 200
    limited = first.get(pages_url(library))
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited" and error_shape_ok(limited)
    assert 1 <= int(limited["Retry-After"]) <= 60
    # Another token of the same member has its own allowance.
    assert second.get(pages_url(library)).status_code == 200
    # Writes count too, and are refused without changing anything.
    for _ in range(2):
        second.get(pages_url(library))
    refused = second.post(pages_url(library), {"title": "Too many"})
    assert refused.status_code == 429
    assert not library.pages.filter(title="Too many").exists()


def test_anonymous_callers_are_limited_per_address(settings, library):
    settings.API_RATE_LIMIT = "2/hour"
    api = ApiClient()
    assert [api.get(pages_url(library)).status_code for _ in range(3)] == [200, 200, 429]
    other = ApiClient().get(pages_url(library), REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 200


def test_rate_limit_can_be_switched_off(settings, library):
    settings.API_RATE_LIMIT = "off"
    api = ApiClient()
    assert all(api.get(pages_url(library)).status_code == 200 for _ in range(5))
