"""The webhook pages of a space (issue 8, item 3): only the space's admins reach them; create, edit, test, new
secret and delete; the private-network refusal shown on the form; the delivery log on the webhook's page."""

from __future__ import annotations

import pytest
from django.test import Client

from spaces.models import DeliveryStatus, Visibility, Webhook, WebhookDelivery
from spaces.services import webhooks as webhook_services
from tests.factories import make_user
from tests.spaces.helpers import client_for, form_errors, space_url

ALLOWED = ["admin", "community_admin", "staff"]
REFUSED = ["viewer", "editor", "moderator", "community_moderator", "banned", "requester", "invited"]


@pytest.fixture
def open_world(world_factory):
    return world_factory(Visibility.OPEN)


def make_hook(w, url="https://93.184.216.34/in", **kw) -> Webhook:
    return webhook_services.webhook_create(actor=w.admin, space=w.space, name="Team chat", url=url, **kw)


def hook_url(name: str, webhook: Webhook) -> str:
    return space_url(name, webhook.space, webhook_id=webhook.pk)


def test_only_space_admins_reach_the_webhook_pages(world):
    w = world
    webhook = make_hook(w)
    urls = [space_url("webhooks", w.space), space_url("webhook-create", w.space), hook_url("webhook-detail", webhook)]
    posts = [hook_url(name, webhook) for name in ("webhook-test", "webhook-secret", "webhook-delete")]

    for url in urls + posts:
        response = Client().get(url) if url in urls else Client().post(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    for name in ["outsider", *REFUSED]:
        browser = client_for(getattr(w, name))
        # A closed space does not exist for people without a role there; everyone else sees it but may not act.
        hidden = w.visibility == Visibility.CLOSED and name in ("outsider", "banned", "requester", "invited")
        expected = 404 if hidden else 403
        for url in urls:
            assert browser.get(url).status_code == expected, (name, url)
        for url in posts:
            assert browser.post(url).status_code == expected, (name, url)
    for name in ALLOWED:
        browser = client_for(getattr(w, name))
        for url in urls:
            assert browser.get(url).status_code == 200, (name, url)
    assert Webhook.objects.filter(pk=webhook.pk).exists()
    assert not WebhookDelivery.objects.exists()


def test_an_admin_adds_a_webhook_and_sees_its_secret(open_world, dns):
    w = open_world
    dns["hooks.example.net"] = ["93.184.216.34"]
    browser = client_for(w.admin)
    response = browser.post(
        space_url("webhook-create", w.space),
        {
            "name": "Team chat",
            "url": "https://hooks.example.net/in",
            "format": "slack",
            "send_created": "on",
            "is_active": "on",
        },
    )
    webhook = Webhook.objects.get(space=w.space)
    assert response.status_code == 302 and response["Location"] == hook_url("webhook-detail", webhook)
    assert (webhook.name, webhook.format, webhook.is_active, webhook.send_created, webhook.send_changed) == (
        "Team chat",
        "slack",
        True,
        True,
        False,
    )
    assert webhook.created_by == w.admin
    html = browser.get(hook_url("webhook-detail", webhook)).content.decode()
    assert webhook.secret in html
    assert "X-Copapp-Signature" in html and "X-Copapp-Timestamp" in html
    assert "Team chat" in browser.get(space_url("webhooks", w.space)).content.decode()


def test_the_form_explains_a_refused_private_address(open_world):
    w = open_world
    response = client_for(w.admin).post(
        space_url("webhook-create", w.space),
        {"name": "Intranet", "url": "http://10.0.0.8/hook", "format": "json", "send_created": "on", "is_active": "on"},
    )
    assert response.status_code == 200
    (error,) = form_errors(response)["url"]
    assert "private or reserved network address (10.0.0.8)" in error
    assert "WEBHOOK_ALLOW_PRIVATE_NETWORKS" in error
    assert not Webhook.objects.exists()


def test_an_active_webhook_needs_an_event(open_world):
    w = open_world
    response = client_for(w.admin).post(
        space_url("webhook-create", w.space),
        {"name": "Quiet", "url": "https://93.184.216.34/in", "format": "json", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "Choose at least one kind of event" in form_errors(response)["send_created"][0]


def test_an_admin_edits_switches_off_renews_the_secret_and_deletes(open_world):
    w = open_world
    webhook = make_hook(w)
    browser = client_for(w.admin)
    old_secret = webhook.secret

    response = browser.post(
        hook_url("webhook-detail", webhook),
        {"name": "Website", "url": "https://93.184.216.35/in", "format": "json", "send_changed": "on"},
    )
    assert response.status_code == 302
    webhook.refresh_from_db()
    assert (webhook.name, webhook.url, webhook.is_active, webhook.send_created, webhook.send_changed) == (
        "Website",
        "https://93.184.216.35/in",
        False,
        False,
        True,
    )

    assert browser.post(hook_url("webhook-secret", webhook)).status_code == 302
    webhook.refresh_from_db()
    assert webhook.secret != old_secret and len(webhook.secret) == 64

    assert browser.get(hook_url("webhook-delete", webhook)).status_code == 405
    assert browser.post(hook_url("webhook-delete", webhook)).status_code == 302
    assert not Webhook.objects.exists()


def test_send_test_posts_a_ping_and_the_log_shows_it(
    open_world, receiver, private_networks_allowed, django_capture_on_commit_callbacks
):
    w = open_world
    webhook = make_hook(w, url=receiver.url)
    browser = client_for(w.admin)

    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(hook_url("webhook-test", webhook))

    assert response.status_code == 302
    (request,) = receiver.requests
    assert request.headers["X-Copapp-Event"] == "ping"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.status_code == 200
    html = browser.get(hook_url("webhook-detail", webhook)).content.decode()
    assert "Last deliveries" in html and "Delivered" in html and "HTTP 200" in html
    assert browser.get(hook_url("webhook-test", webhook)).status_code == 405


def test_a_webhook_of_another_space_is_not_found(open_world, world_factory):
    w = open_world
    other = world_factory(Visibility.PRIVATE)
    webhook = make_hook(other)
    url = space_url("webhook-detail", w.space, webhook_id=webhook.pk)
    assert client_for(w.admin).get(url).status_code == 404


def test_the_space_settings_page_links_to_the_webhooks(open_world):
    w = open_world
    html = client_for(w.admin).get(space_url("settings", w.space)).content.decode()
    assert space_url("webhooks", w.space) in html


def test_the_django_admin_refuses_a_private_address_too(open_world, dns):
    """Site staff adding a webhook in the admin get the same check as space admins (not just at delivery)."""
    w = open_world
    root = make_user("root", staff=True)
    root.is_superuser = True
    root.save(update_fields=["is_superuser"])
    browser = Client()
    browser.force_login(root)
    add_url = "/admin/spaces/webhook/add/"
    fields = {"space": w.space.pk, "name": "Intranet", "format": "json", "send_created": "on", "is_active": "on"}

    refused = browser.post(add_url, {**fields, "url": "http://10.0.0.8/hook"})
    assert refused.status_code == 200
    assert "private or reserved network address (10.0.0.8)" in refused.content.decode()
    assert not Webhook.objects.exists()

    dns["hooks.example.net"] = ["93.184.216.34"]
    accepted = browser.post(add_url, {**fields, "url": "https://hooks.example.net/in"})
    assert accepted.status_code == 302
    assert Webhook.objects.get().url == "https://hooks.example.net/in"
