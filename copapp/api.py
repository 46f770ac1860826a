"""The REST API (issue 8), mounted at ``/api/v1/``: one django-ninja instance and a router per app.

The schema is at ``/api/v1/openapi.json`` and browsable documentation at ``/api/v1/docs`` (Swagger UI served
from ``static/vendor/swagger-ui``, never a CDN). Authentication, rate limits, error bodies and paging live in
``copapp.api_support``; each app's ``api.py`` holds its endpoints and ``api_schemas.py`` their shapes.
"""

from __future__ import annotations

from functools import wraps

from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.urls import URLPattern, path, re_path, reverse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.openapi.docs import DocsBase

from communities.api import router as communities_router
from copapp.api_support import install_error_handlers
from members.api import router as members_router
from members.api_messages import router as messages_router
from spaces.api import router as spaces_router

API_DESCRIPTION = """
Read and write communities, spaces, pages (with their versions), questions and answers, events (with your
registration), posts, the member directory and your notifications, with exactly the permissions you have on
the web site.

**Authentication.** Create a personal access token on your account page (*API tokens*) and send it as
`Authorization: Bearer <token>`. Read-only tokens cannot write. In the browser, your signed-in session works
too (unsafe requests need the `X-CSRFToken` header). Without either, you read what anyone may read.

**Errors** always answer `{"detail": "...", "code": "..."}` (validation errors add `errors`). Spaces you may
not see answer 404, exactly like spaces that do not exist; content you may see but not change answers 403.

**Lists** are paged with `limit` (at most 100) and `offset`, and carry the total `count` of what you may see.

**Rate limits** apply per token (or per signed-in member, or per address for anonymous callers); over the
limit the answer is 429 with a `Retry-After` header.
"""


class LocalSwagger(DocsBase):
    """Swagger UI from our own static files (ninja's default loads it from a CDN unless ninja is an app)."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs):
        context = {"api": api, "openapi_url": self.get_openapi_url(api, kwargs)}
        return render(request, "api/docs.html", context)


api = NinjaAPI(
    title="copapp API",
    version="1",
    description=API_DESCRIPTION,
    urls_namespace="api",
    docs=LocalSwagger(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_error_handlers(api)
api.add_router("/communities", communities_router)
api.add_router("/", spaces_router)
api.add_router("/", members_router)
api.add_router("/", messages_router)


def api_not_found(request: HttpRequest, rest: str = ""):
    """Any other address under /api/v1/ answers in the API's error shape, not with the site's HTML page."""
    body = {
        "detail": _("There is no such address in the API. See %s.") % reverse("api:openapi-view"),
        "code": "not_found",
    }
    return JsonResponse(body, status=404)


def _json_method_not_allowed(view):
    """ninja answers a wrong method with a plain-text 405: give it the API's error shape (keeping ``Allow``)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith("application/json"):
            body = {
                "detail": _("This address does not take %s requests.") % request.method,
                "code": "method_not_allowed",
            }
            allowed = response.get("Allow", "")
            response = JsonResponse(body, status=405)
            response["Allow"] = allowed
        return response

    return wrapper


def urls():
    """What ``copapp/urls.py`` includes at ``api/v1/``: the API, then a JSON 404 for everything else below it."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = _json_method_not_allowed(pattern.callback)
    return [path("", (patterns, app_name, namespace)), re_path(r"^(?P<rest>.*)$", api_not_found)]
