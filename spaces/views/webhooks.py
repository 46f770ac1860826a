"""Outgoing webhooks of a space, managed by its admins (issue 8, item 3): a list, a form to add one, and each
webhook's page (settings, signing secret, test message, delivery log). Others get 404 (a closed space they cannot
see) or 403, as on the space's other settings pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from copapp.utils import add_service_errors
from spaces import permissions
from spaces.forms_webhooks import WebhookForm
from spaces.models import Space, Webhook
from spaces.services import webhooks as services
from spaces.webhooks import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER


def _managed_space(request, community_slug: str, space_slug: str) -> Space:
    space = permissions.get_space_for_user(request.user, community_slug, space_slug)
    if not permissions.can_manage_webhooks(request.user, space):
        raise PermissionDenied
    return space


def _webhook(request, community_slug: str, space_slug: str, webhook_id: int) -> Webhook:
    space = _managed_space(request, community_slug, space_slug)
    webhook = get_object_or_404(Webhook, pk=webhook_id, space=space)
    webhook.space = space
    return webhook


def _context(space: Space, **extra) -> dict:
    return {"space": space, "community": space.community, **extra}


@login_required
@require_http_methods(["GET"])
def webhook_list(request, community_slug, space_slug):
    space = _managed_space(request, community_slug, space_slug)
    hooks = list(Webhook.objects.filter(space=space).order_by("name", "pk"))
    return render(request, "spaces/webhooks/webhook_list.html", _context(space, webhooks=hooks))


@login_required
@require_http_methods(["GET", "POST"])
def webhook_create(request, community_slug, space_slug):
    space = _managed_space(request, community_slug, space_slug)
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            webhook = services.webhook_create(actor=request.user, space=space, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Webhook added. Give its secret to the receiver so it can check signatures."))
            return redirect(
                "spaces:webhook-detail", community_slug=community_slug, space_slug=space_slug, webhook_id=webhook.pk
            )
    return render(request, "spaces/webhooks/webhook_form.html", _context(space, form=form))


@login_required
@require_http_methods(["GET", "POST"])
def webhook_detail(request, community_slug, space_slug, webhook_id):
    """The webhook's settings (a form), its secret, a test button and the last deliveries."""
    webhook = _webhook(request, community_slug, space_slug, webhook_id)
    initial = {name: getattr(webhook, name) for name in services.WEBHOOK_FIELDS}
    form = WebhookForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.webhook_update(actor=request.user, webhook=webhook, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
            webhook.refresh_from_db()
        else:
            messages.success(request, _("Webhook saved."))
            return redirect(request.path)
    context = _context(
        webhook.space,
        webhook=webhook,
        form=form,
        deliveries=services.webhook_recent_deliveries(webhook),
        headers={
            "signature": SIGNATURE_HEADER,
            "timestamp": TIMESTAMP_HEADER,
            "event": EVENT_HEADER,
            "delivery": DELIVERY_HEADER,
        },
    )
    return render(request, "spaces/webhooks/webhook_detail.html", context)


@login_required
@require_POST
def webhook_test(request, community_slug, space_slug, webhook_id):
    webhook = _webhook(request, community_slug, space_slug, webhook_id)
    services.webhook_send_test(actor=request.user, webhook=webhook)
    messages.success(request, _("Test message sent. Its result is in the log below."))
    return redirect(
        "spaces:webhook-detail", community_slug=community_slug, space_slug=space_slug, webhook_id=webhook.pk
    )


@login_required
@require_POST
def webhook_secret(request, community_slug, space_slug, webhook_id):
    webhook = _webhook(request, community_slug, space_slug, webhook_id)
    services.webhook_secret_regenerate(actor=request.user, webhook=webhook)
    messages.success(request, _("New secret made. Give it to the receiver: the old one no longer matches."))
    return redirect(
        "spaces:webhook-detail", community_slug=community_slug, space_slug=space_slug, webhook_id=webhook.pk
    )


@login_required
@require_POST
def webhook_delete(request, community_slug, space_slug, webhook_id):
    webhook = _webhook(request, community_slug, space_slug, webhook_id)
    services.webhook_delete(actor=request.user, webhook=webhook)
    messages.success(request, _("Webhook deleted."))
    return redirect("spaces:webhooks", community_slug=community_slug, space_slug=space_slug)
