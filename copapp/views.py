import math

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.shortcuts import render
from django.views import defaults

from communities.selectors import communities_with_counts


def home(request):
    """Signed-in members land on their spaces; visitors see the communities they can explore."""
    from spaces.selectors import spaces_of_member

    context = {"communities": communities_with_counts()}
    if request.user.is_authenticated:
        context["my_spaces"] = spaces_of_member(request.user)
    return render(request, "home.html", context)


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


# --- Limits (copapp.limits) -------------------------------------------------------------------------------
def too_many_requests(request, exception=None, *, retry_after: int = 60):
    """429 with the site's page and ``Retry-After``; also allauth's answer over its own limits (``handler429``),
    whose windows are a minute long at most for a single request."""
    minutes = math.ceil(retry_after / 60) if retry_after >= 120 else 0
    context = {"retry_after": retry_after, "retry_minutes": minutes}
    response = render(request, "429.html", context, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def request_too_large(request, *, limit: int):
    """413 with a page that names the limit, for a body larger than the site accepts."""
    return render(request, "413.html", {"limit": limit}, status=413)


def bad_request(request, exception=None):
    """Django answers 400 to what it cannot accept; a body over the limit is a 413, with a page that says so."""
    if isinstance(exception, RequestDataTooBig):
        return request_too_large(request, limit=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    return defaults.bad_request(request, exception)
