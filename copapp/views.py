from django.http import HttpResponse
from django.shortcuts import render

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
