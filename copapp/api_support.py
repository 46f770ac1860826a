"""The REST API's plumbing, shared by every router (issue 8): who is asking, how often, how errors look, and
how lists are paged.

Who is asking. Three ways, tried in this order:
1. a personal access token, ``Authorization: Bearer cop_...`` (``PersonalAccessTokenAuth``). An unknown token, or
   one whose owner is inactive or deleted, answers 401; a revoked or expired one 403; a read-only token on a
   write 403. A token is never silently ignored: a wrong one does not fall back to anonymous reading.
2. the browser's session (``SessionCookieAuth``), with Django's CSRF check on unsafe methods;
3. nobody (``anonymous``), for reads only: open spaces are readable by anyone, as on the web.

Whoever it is becomes ``request.user``, and every endpoint then asks the very same permission functions as the
web views (``spaces.permissions``, the selectors' ``get_*_for_user``): closed spaces answer 404 to outsiders,
private content 403, and the services check again before they write.

How often. Every authenticated or anonymous caller is metered in Django's cache, per token (or per member for
the session, per address for anonymous callers), at ``API_RATE_LIMIT`` (e.g. "600/hour") in fixed windows;
beyond it the answer is 429 with ``Retry-After``.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from communities.services import OnboardingRequired
from copapp.limits import hit, parse_rate  # noqa: F401 - parse_rate is part of this module's interface
from members.services_tokens import token_for_secret, token_touch

logger = logging.getLogger(__name__)

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class ApiError(HttpError):
    """An error answer with a stable ``code`` (and optional extra fields) in the JSON body."""

    def __init__(self, status_code: int, code: str, detail: str, **extra) -> None:
        super().__init__(status_code, detail)
        self.code = code
        self.extra = extra


class RateLimited(ApiError):
    def __init__(self, wait: int) -> None:
        super().__init__(429, "rate_limited", _("Too many requests: try again in %d seconds.") % wait)
        self.wait = wait


# --- Rate limits --------------------------------------------------------------------------------------------------
# The counter is the web site's (copapp.limits): one implementation, fixed windows in the shared cache.


def meter(request: HttpRequest, key: str) -> None:
    """Count one request for ``key`` in the current window; raise ``RateLimited`` once over the limit."""
    wait = hit(f"api:{key}", getattr(settings, "API_RATE_LIMIT", ""))
    if wait is not None:
        raise RateLimited(wait)


def _client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


# --- Authentication -------------------------------------------------------------------------------------------------
class PersonalAccessTokenAuth(HttpBearer):
    """``Authorization: Bearer <token>``: a personal access token made on the member's account page."""

    def __init__(self, *, write: bool = False) -> None:
        self.write = write
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str):
        found = token_for_secret(token.strip())
        if found is None or not found.user.is_active or found.user.deleted_at is not None:
            raise ApiError(401, "invalid_token", _("This token is not valid."))
        if found.revoked_at is not None:
            raise ApiError(403, "token_revoked", _("This token has been revoked."))
        if found.is_expired:
            raise ApiError(403, "token_expired", _("This token has expired."))
        if (self.write or request.method not in SAFE_METHODS) and not found.can_write:
            raise ApiError(403, "token_read_only", _("This token may only read: make a read-and-write token."))
        meter(request, f"token:{found.pk}")
        token_touch(found)
        request.user = found.user
        request.api_token = found  # type: ignore[attr-defined]
        return found


class SessionCookieAuth(APIKeyCookie):
    """The signed-in browser session, with Django's CSRF check on unsafe methods (as for the web forms)."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest):
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise ApiError(403, "csrf_failed", _("CSRF check failed: send the X-CSRFToken header with the session."))
        meter(request, f"user:{user.pk}")
        request.api_token = None  # type: ignore[attr-defined]
        return user


def anonymous(request: HttpRequest):
    """Nobody signed in: allowed on reads, which then show what anyone may see."""
    meter(request, f"ip:{_client_address(request)}")
    request.user = AnonymousUser()
    request.api_token = None  # type: ignore[attr-defined]
    return request.user  # truthy: the request goes on as anonymous


token_auth = PersonalAccessTokenAuth()
write_token_auth = PersonalAccessTokenAuth(write=True)
session_auth = SessionCookieAuth()

# Reads anyone may make (what they get depends on who they are).
PUBLIC_AUTH = [token_auth, session_auth, anonymous]
# Reads for signed-in members only (the member directory, one's notifications).
MEMBER_AUTH = [token_auth, session_auth]
# Writes: a read-write token or the session.
WRITE_AUTH = [write_token_auth, session_auth]


def public() -> dict:
    """Keyword arguments for a read endpoint open to anonymous callers (``{}`` in OpenAPI: no credentials)."""
    return {"auth": PUBLIC_AUTH, "openapi_extra": {"security": [{}]}}


def member_only() -> dict:
    return {"auth": MEMBER_AUTH}


def writes() -> dict:
    return {"auth": WRITE_AUTH}


# --- Errors ---------------------------------------------------------------------------------------------------------
ERROR_RESPONSES = (400, 401, 403, 404, 409, 422, 429)


def error_body(detail: str, code: str, errors: list | None = None, **extra) -> dict:
    body = {"detail": str(detail), "code": code}
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return body


def _validation_errors(exc: DjangoValidationError) -> list[dict]:
    if hasattr(exc, "error_dict"):
        return [
            {"field": None if field == "__all__" else field, "message": str(message)}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    return [{"field": None, "message": str(message)} for message in exc.messages]


def install_error_handlers(api) -> None:
    """One JSON shape for every error: ``{"detail": ..., "code": ..., "errors": [...]}``."""

    def respond(request, status: int, body: dict, headers: dict | None = None):
        response = api.create_response(request, body, status=status)
        for name, value in (headers or {}).items():
            response[name] = value
        return response

    @api.exception_handler(ApiError)
    def api_error(request, exc: ApiError):
        headers = {"Retry-After": str(exc.wait)} if isinstance(exc, RateLimited) else {}
        if exc.status_code == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return respond(request, exc.status_code, error_body(exc.message, exc.code, **exc.extra), headers)

    @api.exception_handler(AuthenticationError)
    def not_authenticated(request, exc):
        body = error_body(_("Sign in, or send a personal access token."), "not_authenticated")
        return respond(request, 401, body, {"WWW-Authenticate": 'Bearer realm="api"'})

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        codes = {400: "bad_request", 403: "permission_denied", 404: "not_found", 405: "method_not_allowed"}
        return respond(request, exc.status_code, error_body(str(exc), codes.get(exc.status_code, "error")))

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return respond(request, 404, error_body(_("Not found."), "not_found"))

    @api.exception_handler(PermissionDenied)
    def forbidden(request, exc):
        detail = str(exc) or _("You cannot do this.")
        return respond(request, 403, error_body(detail, "permission_denied"))

    @api.exception_handler(OnboardingRequired)
    def onboarding(request, exc: OnboardingRequired):
        from django.urls import reverse

        url = reverse("communities:onboarding", kwargs={"community_slug": exc.community.slug})
        detail = _("Accept the community's guidelines first (in the browser, at %s).") % url
        return respond(request, 403, error_body(detail, "onboarding_required", onboarding_url=url))

    @api.exception_handler(NinjaValidationError)
    def invalid_request(request, exc: NinjaValidationError):
        errors = []
        for error in exc.errors:
            location = list(error.get("loc", ()))
            where = str(location[0]) if location else ""
            # ("body", "data", "title") -> "title": the body's parameter name means nothing to the caller.
            field = location[2:] if where == "body" else location[1:]
            errors.append(
                {
                    "field": ".".join(str(part) for part in field),
                    "message": str(error.get("msg", "")),
                    "location": where,
                }
            )
        return respond(request, 422, error_body(_("The request is not valid."), "validation_error", errors))

    @api.exception_handler(DjangoValidationError)
    def invalid_data(request, exc: DjangoValidationError):
        errors = _validation_errors(exc)
        detail = " ".join(error["message"] for error in errors) or _("The request is not valid.")
        return respond(request, 422, error_body(detail, "validation_error", errors))

    @api.exception_handler(RequestDataTooBig)
    def too_big(request, exc):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        detail = _("The request body is larger than this site accepts (%d bytes).") % limit
        return respond(request, 413, error_body(detail, "request_too_large"))

    @api.exception_handler(Exception)
    def server_error(request, exc: Exception):
        logger.exception("API error on %s %s", request.method, request.path, exc_info=exc)
        return respond(request, 500, error_body(_("Something went wrong on our side."), "server_error"))


# --- Paging ---------------------------------------------------------------------------------------------------------
def _page_url(request: HttpRequest, limit: int, offset: int) -> str:
    params = request.GET.copy()
    params["limit"], params["offset"] = str(limit), str(offset)
    return request.build_absolute_uri(f"{request.path}?{urlencode(sorted(params.items()))}")


def paginate(request: HttpRequest, queryset, paging, *, prepare=None) -> dict:
    """One page of a permission-filtered queryset: the total (one COUNT on the same query) and the rows (one
    query, plus whatever ``prefetch_related`` the queryset carries). ``prepare(rows)`` may decorate the rows
    (ready booleans, one query for all of them at most)."""
    count = queryset.count()
    limit, offset = paging.limit, paging.offset
    rows = list(queryset[offset : offset + limit]) if offset < count else []
    if prepare is not None and rows:
        rows = prepare(rows)
    return {
        "count": count,
        "limit": limit,
        "offset": offset,
        "next": _page_url(request, limit, offset + limit) if offset + limit < count else None,
        "previous": _page_url(request, limit, max(0, offset - limit)) if offset > 0 and count else None,
        "results": rows,
    }


def web_url(request: HttpRequest, path: str) -> str:
    """The absolute address of a web page, for a ``url`` field."""
    return request.build_absolute_uri(path)


def reject_nul(*values: str) -> None:
    """Path segments with a NUL character name nothing (and PostgreSQL could not even be asked)."""
    for value in values:
        if "\x00" in value:
            raise Http404
