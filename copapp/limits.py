"""How much, how often: rate limits for the web site and the request-size limit (issue 10, item 5).

Rate limits, each a fixed window counted in the cache (local memory on the embedded default, Redis in
production, so every process counts together) and each switched off with "off":

- ``RATE_LIMIT_ANONYMOUS``: requests of any method from one address by someone not signed in;
- ``RATE_LIMIT_MEMBER_WRITES``: POST, PUT, PATCH and DELETE requests by one signed-in member, from anywhere;
- ``RATE_LIMIT_LOGIN``: sign-in attempts for one account from one address (right password or wrong), so a
  stranger guessing from elsewhere cannot lock the member out, while allauth's ``login_failed`` limit
  (``ACCOUNT_RATE_LIMITS``) still pauses an account after repeated failures from anywhere.

Over a limit the answer is 429 with the site's page (``templates/429.html``) and ``Retry-After``. Static files,
uploaded public images and the health check are never limited; the REST API has its own meter per token
(``API_RATE_LIMIT``, ``copapp.api_support``) built on the same counter.

The request-size limit: a request that announces a body over ``REQUEST_MAX_BYTES`` is answered 413 before
anything reads it; form fields over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (Django's own limit, checked as the body is
parsed) get the same page through ``copapp.views.bad_request``.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600, "d": 86400}
_PERIODS["day"] = 86400


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """ "600/hour" -> (600, 3600); an empty rate, "off", "0" or "none" means no limit."""
    rate = (rate or "").strip().lower()
    if not rate or rate in ("off", "0", "none"):
        return None
    count, _sep, period = rate.partition("/")
    seconds = _PERIODS.get(period.strip())
    if not count.strip().isdigit() or seconds is None:
        raise ValueError(f"A rate limit must look like 600/hour or 60/minute, or be off; not {rate!r}")
    return int(count), seconds


def hit(key: str, rate: str | None) -> int | None:
    """Count one request for ``key`` in the current window of ``rate``. Over the limit, return the seconds until
    the window ends (at least 1); otherwise None."""
    limit = parse_rate(rate)
    if limit is None:
        return None
    allowed, period = limit
    now = time.time()
    window = int(now // period)
    cache_key = f"rate:{key}:{period}:{window}"
    cache.add(cache_key, 0, timeout=period + 1)
    try:
        used = cache.incr(cache_key)
    except ValueError:  # evicted between add and incr: count this one as the first
        cache.set(cache_key, 1, timeout=period + 1)
        used = 1
    if used > allowed:
        return max(1, math.ceil((window + 1) * period - now))
    return None


def client_address(request: HttpRequest) -> str:
    """The caller's address as allauth sees it (``ALLAUTH_TRUSTED_PROXY_COUNT`` behind a proxy), so the site's
    limits and allauth's count the same person."""
    from allauth.account.adapter import get_adapter

    try:
        return get_adapter().get_client_ip(request)
    except Exception:  # noqa: BLE001 - a malformed X-Forwarded-For must not turn into a server error
        return request.META.get("REMOTE_ADDR", "") or "unknown"


def _exempt_prefixes() -> tuple[str, ...]:
    return (settings.STATIC_URL, settings.MEDIA_URL, reverse("healthz"), "/api/")


def _login_key(request: HttpRequest) -> str | None:
    if request.method != "POST" or request.path != reverse("account_login"):
        return None
    login = (request.POST.get("login") or "").strip().lower()
    if not login:
        return None
    digest = hashlib.sha256(f"{login}|{client_address(request)}".encode()).hexdigest()
    return f"login:{digest}"


def limit_request(request: HttpRequest) -> int | None:
    """The seconds to wait if ``request`` goes over one of the site's rate limits, else None."""
    unsafe = request.method in UNSAFE_METHODS
    rates = [settings.RATE_LIMIT_ANONYMOUS]
    if unsafe:
        rates += [settings.RATE_LIMIT_MEMBER_WRITES, settings.RATE_LIMIT_LOGIN]
    # With the limits that could apply switched off, the member is not even looked up (no query for it).
    if all(parse_rate(rate) is None for rate in rates) or request.path.startswith(_exempt_prefixes()):
        return None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        if unsafe:
            return hit(f"writes:{user.pk}", settings.RATE_LIMIT_MEMBER_WRITES)
        return None
    wait = hit(f"anon:{client_address(request)}", settings.RATE_LIMIT_ANONYMOUS)
    if wait is None and parse_rate(settings.RATE_LIMIT_LOGIN) is not None:
        key = _login_key(request)
        if key is not None:
            wait = hit(key, settings.RATE_LIMIT_LOGIN)
    return wait


def announced_length(request: HttpRequest) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


class LimitsMiddleware:
    """The request-size limit, then the rate limits; after ``AuthenticationMiddleware`` (it needs the member)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from copapp import views

        limit = settings.REQUEST_MAX_BYTES
        if limit and announced_length(request) > limit:
            return views.request_too_large(request, limit=limit)
        wait = limit_request(request)
        if wait is not None:
            return views.too_many_requests(request, retry_after=wait)
        return self.get_response(request)
