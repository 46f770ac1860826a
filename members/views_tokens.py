"""The member's personal access tokens for the REST API (issue 8): list, create (the secret shown once), revoke.

The page works without JavaScript (plain forms and redirects); with htmx the token section is swapped in place.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from copapp.utils import add_service_errors
from members.forms_tokens import TokenForm
from members.models import PersonalAccessToken
from members.services_tokens import token_create, token_revoke


def _context(request, form=None, new_token=None) -> dict:
    tokens = PersonalAccessToken.objects.filter(user=request.user).order_by("revoked_at", "-created_at", "-pk")
    return {
        "form": form or TokenForm(),
        "tokens": list(tokens),
        "new_token": new_token,
        "api_docs_url": reverse("api:openapi-view"),
        "api_root_url": request.build_absolute_uri("/api/v1/"),
    }


def _render(request, context):
    template = "members/partials/api_tokens.html" if request.htmx else "members/api_tokens.html"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request):
    """The tokens, and the form for a new one. A new token's secret is shown in this answer only."""
    form = TokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            new_token = token_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                expires_at=form.expires_at(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            form = TokenForm()
    response = _render(request, _context(request, form, new_token))
    response["Cache-Control"] = "no-store"  # the page may carry a secret: never keep it in a cache
    return response


@login_required
@require_POST
def token_revoke_view(request, token_id):
    token = get_object_or_404(PersonalAccessToken, pk=token_id, user=request.user)
    token_revoke(actor=request.user, token=token)
    if request.htmx:
        return _render(request, _context(request))
    messages.success(request, _("The token “%s” was revoked: it no longer works.") % token.name)
    return redirect("members:api-tokens")
