"""Webhook deliveries against a real local receiver (issue 8, item 3): signed JSON and Slack-compatible messages,
retries with exponential back-off and a delivery log, private-network addresses refused when saved and again
when delivering, and nothing sent that is not visible to every member of the space."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from spaces import services, webhooks
from spaces.models import DeliveryStatus, Visibility, WebhookDelivery, WebhookFormat
from spaces.services import moderation as moderation_services
from spaces.services import posts as post_services
from spaces.services import webhooks as webhook_services
from spaces.tasks import webhook_deliver_task
from tests.feeds.content import make_event


@pytest.fixture
def open_world(world_factory):
    return world_factory(Visibility.OPEN)


@pytest.fixture
def private_world(world_factory):
    return world_factory(Visibility.PRIVATE)


def hook(w, url, **kw):
    return webhook_services.webhook_create(actor=w.admin, space=w.space, name=kw.pop("name", "Team"), url=url, **kw)


def sent_json(request) -> dict:
    return json.loads(request.body)


# --- A delivery, end to end -------------------------------------------------------------------------------------------
def test_a_new_page_is_posted_as_signed_json(
    open_world, receiver, private_networks_allowed, django_capture_on_commit_callbacks
):
    w = open_world
    webhook = hook(w, receiver.url)

    with django_capture_on_commit_callbacks(execute=True):
        page = services.page_create(actor=w.editor, space=w.space, title="Linkage guide", body="How we **link**.")

    (request,) = receiver.requests
    assert request.path == "/hooks/copapp?team=data"
    headers = request.headers
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["X-Copapp-Event"] == "item.created"
    delivery = WebhookDelivery.objects.get()
    assert headers["X-Copapp-Delivery"] == str(delivery.pk)
    # The receiver's check: HMAC-SHA256 of "<timestamp>.<body>" with the secret shown to the space's admins.
    assert webhooks.verify(webhook.secret, headers["X-Copapp-Timestamp"], request.body, headers["X-Copapp-Signature"])
    assert not webhooks.verify(
        "another secret", headers["X-Copapp-Timestamp"], request.body, headers["X-Copapp-Signature"]
    )
    assert not webhooks.verify(
        webhook.secret, headers["X-Copapp-Timestamp"], request.body + b" ", headers["X-Copapp-Signature"]
    )
    assert abs(int(headers["X-Copapp-Timestamp"]) - timezone.now().timestamp()) < 60

    data = sent_json(request)
    assert data["event"] == "item.created"
    assert data["space"]["name"] == w.space.name
    assert data["space"]["community"]["name"] == w.community.name
    item = data["item"]
    assert item["kind"] == "page" and item["title"] == "Linkage guide"
    assert item["url"] == settings.SITE_URL + page.get_absolute_url()
    assert item["author"] == w.editor.public_name
    assert item["excerpt"] == "How we link."

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 1 and delivery.status_code == 200
    assert delivery.response_excerpt == '{"ok": true}'
    assert delivery.payload.encode() == request.body
    assert delivery.item_id == page.item_id


def test_slack_format_posts_a_text_with_mrkdwn_blocks(
    open_world, receiver, private_networks_allowed, django_capture_on_commit_callbacks
):
    w = open_world
    hook(w, receiver.url, format=WebhookFormat.SLACK)

    with django_capture_on_commit_callbacks(execute=True):
        question = services.question_ask(
            actor=w.editor, space=w.space, title="Names <or> dates?", body="We link census & tax records."
        )

    data = sent_json(receiver.requests[0])
    assert data["text"] == f"Question added in {w.space.name}: Names &lt;or&gt; dates?"
    section, context = data["blocks"]
    assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
    url = settings.SITE_URL + question.get_absolute_url()
    assert f"<{url}|Names &lt;or&gt; dates?>" in section["text"]["text"]
    assert f"*{w.space.name}*" in section["text"]["text"]
    assert context["elements"][0] == {"type": "mrkdwn", "text": "We link census &amp; tax records."}


def test_changes_are_sent_only_to_webhooks_that_ask_for_them(
    open_world, receiver, private_networks_allowed, django_capture_on_commit_callbacks
):
    w = open_world
    hook(w, receiver.url, name="New only")
    both = hook(w, receiver.url, name="Both", send_changed=True)
    event = make_event(w.editor, w.space, "Workshop")  # before commit callbacks are captured: not sent

    with django_capture_on_commit_callbacks(execute=True):
        from spaces.services import events as event_services

        event_services.event_edit(actor=w.editor, event=event, title="Workshop (moved)")

    (request,) = receiver.requests
    assert request.headers["X-Copapp-Event"] == "item.changed"
    assert sent_json(request)["item"]["title"] == "Workshop (moved)"
    assert WebhookDelivery.objects.get().webhook == both


def test_content_of_a_private_space_is_sent_when_every_member_sees_it(
    private_world, receiver, private_networks_allowed, django_capture_on_commit_callbacks
):
    w = private_world
    hook(w, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        post_services.post_create(actor=w.editor, space=w.space, body="Minutes are up")
    assert sent_json(receiver.requests[0])["item"]["title"] == "Minutes are up"


# --- Only what every member sees ----------------------------------------------------------------------------------
def test_restricted_hidden_and_scheduled_content_is_never_sent(
    open_world, receiver, private_networks_allowed, django_capture_on_commit_callbacks, time_machine
):
    w = open_world
    hook(w, receiver.url, send_changed=True)
    start = timezone.now()
    time_machine.move_to(start, tick=False)

    with django_capture_on_commit_callbacks(execute=True):
        restricted = services.page_create(actor=w.editor, space=w.space, title="Budget lines", body="Salaries.")
        services.page_set_restrictions(
            actor=w.editor, page=restricted, viewers=[w.viewer], restrict_view=True, restrict_edit=False
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.page_update(
            actor=w.editor, page=restricted, title="Budget lines", body="Salaries, revised.", base_version=1
        )
    post = post_services.post_create(actor=w.editor, space=w.space, body="Rant")
    moderation_services.item_hide(actor=w.moderator, item=post.item, reason="Off topic")
    post.item.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        post_services.post_edit(actor=w.editor, post=post, body="Rant, edited")
    with django_capture_on_commit_callbacks(execute=True):
        scheduled = post_services.post_create(
            actor=w.editor, space=w.space, body="Embargoed figures", publish_at=start + timedelta(hours=1)
        )

    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()

    # The scheduled post is sent when it goes out.
    time_machine.move_to(start + timedelta(hours=2), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        post_services.posts_publish_due()
    (request,) = receiver.requests
    assert sent_json(request)["item"]["id"] == scheduled.item_id
    body = b"".join(r.body for r in receiver.requests)
    for secret in (b"Budget", b"Salaries", b"Rant"):
        assert secret not in body


def test_content_hidden_before_its_attempt_is_cancelled_not_sent(open_world, dns, django_capture_on_commit_callbacks):
    w = open_world
    dns["hooks.example.net"] = ["93.184.216.34"]
    hook(w, "https://hooks.example.net/in")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        page = services.page_create(actor=w.editor, space=w.space, title="Draft plan", body="Plan.")
    # Dispatch runs, but the attempt waits (its task is captured, not run).
    with django_capture_on_commit_callbacks(execute=False):
        for callback in callbacks:
            callback()
    delivery = WebhookDelivery.objects.get()
    moderation_services.item_hide(actor=w.moderator, item=page.item, reason="Not ready")

    assert webhook_services.webhook_delivery_attempt(delivery_id=delivery.pk) is None
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.CANCELLED and delivery.attempts == 0
    assert "no longer visible" in delivery.error


def test_dispatching_the_same_activity_twice_makes_one_delivery(open_world, dns):
    w = open_world
    dns["hooks.example.net"] = ["93.184.216.34"]
    hook(w, "https://hooks.example.net/in")
    page = services.page_create(actor=w.editor, space=w.space, title="Plan", body="Plan.")
    args = {"event": "item.created", "target_type": "spaces.page", "target_id": page.pk, "space_id": w.space.pk}
    first = webhook_services.webhooks_dispatch(**args, source_event_id=991)
    again = webhook_services.webhooks_dispatch(**args, source_event_id=991)
    assert len(first) == 1 and again == []
    assert WebhookDelivery.objects.count() == 1


def test_every_member_visibility_agrees_with_the_anonymous_view_of_an_open_space(open_world):
    """In an open space, what every member sees is what anonymous visitors see (posts: once they went out)."""
    from django.contrib.auth.models import AnonymousUser

    from spaces.models import Item
    from spaces.permissions import items_for_every_member_q, visible_items_q
    from tests.feeds.content import secret_content, shared_content

    w = open_world
    content = shared_content(w)
    secret = secret_content(w)
    services.comment_create(actor=w.editor, target=content.page.item, body="Nice")
    on_restricted = services.comment_create(actor=w.editor, target=secret.restricted.item, body="Shh")
    answer_question = services.question_ask(actor=w.editor, space=w.space, title="Hidden question", body="?")
    answer = services.answer_post(actor=w.moderator, question=answer_question, body="An answer")
    moderation_services.item_hide(actor=w.moderator, item=answer_question.item, reason="Spam")

    everyone = set(Item.objects.filter(items_for_every_member_q(), space=w.space).values_list("pk", flat=True))
    anonymous = set(Item.objects.filter(visible_items_q(AnonymousUser()), space=w.space).values_list("pk", flat=True))
    assert everyone == anonymous
    assert content.page.item_id in everyone and answer_question.item_id not in everyone
    assert on_restricted.item_id not in everyone and answer.item_id not in everyone


# --- Retries with back-off and the delivery log ---------------------------------------------------------------------
def test_a_failing_receiver_is_retried_with_exponential_back_off(
    open_world, receiver, private_networks_allowed, django_capture_on_commit_callbacks, time_machine
):
    w = open_world
    receiver.statuses = [500]
    hook(w, receiver.url)
    start = timezone.now()
    time_machine.move_to(start, tick=False)

    # The first attempt runs when the page is saved (eager Celery); the next ones when each is due.
    with django_capture_on_commit_callbacks(execute=True):
        services.page_create(actor=w.editor, space=w.space, title="Plan", body="Plan.")
    delivery = WebhookDelivery.objects.get()
    countdowns, now = [], start
    for attempt in range(1, 6):
        delivery.refresh_from_db()
        assert delivery.attempts == attempt
        assert delivery.status_code == 500
        assert delivery.response_excerpt == "Something broke on our side"
        assert "500" in delivery.error
        if attempt == 5:
            break
        assert delivery.status == DeliveryStatus.PENDING
        wait = (delivery.next_attempt_at - now).total_seconds()
        countdowns.append(wait)
        # Not due yet: a task arriving early (a duplicate) makes no attempt.
        assert (
            webhook_services.webhook_delivery_attempt(delivery_id=delivery.pk, now=now + timedelta(seconds=1)) is None
        )
        now += timedelta(seconds=wait)
        time_machine.move_to(now, tick=False)
        webhook_deliver_task.delay(delivery.pk)

    assert countdowns == [30, 120, 480, 1920]
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.next_attempt_at is None
    assert len(receiver.requests) == 5
    # Every attempt sends the same body and delivery id, signed again with its own timestamp.
    assert {r.body for r in receiver.requests} == {delivery.payload.encode()}
    assert {r.headers["X-Copapp-Delivery"] for r in receiver.requests} == {str(delivery.pk)}
    secret = delivery.webhook.secret
    assert all(
        webhooks.verify(secret, r.headers["X-Copapp-Timestamp"], r.body, r.headers["X-Copapp-Signature"])
        for r in receiver.requests
    )
    # A sixth call does nothing.
    assert webhook_services.webhook_delivery_attempt(delivery_id=delivery.pk) is None
    assert len(receiver.requests) == 5


def test_a_receiver_that_recovers_gets_the_delivery_on_the_next_attempt(
    open_world, receiver, private_networks_allowed, django_capture_on_commit_callbacks, time_machine
):
    w = open_world
    receiver.statuses = [503, 200]
    hook(w, receiver.url)
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.page_create(actor=w.editor, space=w.space, title="Plan", body="Plan.")
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1

    # Beat's sweep sends what is due (under eager Celery there is no delayed retry task to wait for).
    time_machine.move_to(start + timedelta(seconds=30) + webhook_services.LOST_AFTER, tick=False)
    assert webhook_services.webhook_deliveries_retry_due() == [delivery.pk]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 2 and delivery.status_code == 200
    assert webhook_services.webhook_deliveries_retry_due() == []


def test_the_retry_command_sends_due_attempts_for_cron(open_world, receiver, private_networks_allowed, time_machine):
    from io import StringIO

    from django.core.management import call_command

    w = open_world
    receiver.statuses = [500, 200]
    webhook = hook(w, receiver.url)
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    delivery = WebhookDelivery.objects.create(webhook=webhook, event="ping", payload="{}")
    assert webhook_services.webhook_delivery_attempt(delivery_id=delivery.pk) == 30

    out = StringIO()
    call_command("retry_webhooks", stdout=out)  # not due yet
    assert out.getvalue().startswith("0 ")
    time_machine.move_to(start + timedelta(minutes=5), tick=False)
    call_command("retry_webhooks", stdout=out)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 2
    assert len(receiver.requests) == 2


def test_on_a_worker_the_task_schedules_the_retry_with_its_countdown(
    open_world, receiver, private_networks_allowed, monkeypatch
):
    w = open_world
    receiver.statuses = [500]
    webhook = hook(w, receiver.url)
    delivery = WebhookDelivery.objects.create(webhook=webhook, event="ping", payload="{}")
    retries = []

    class Retry(Exception):
        pass

    def fake_retry(countdown=None, **kwargs):
        retries.append(countdown)
        return Retry()

    monkeypatch.setattr(webhook_deliver_task, "retry", fake_retry)
    with pytest.raises(Retry):
        webhook_deliver_task.run(delivery.pk)  # as a worker runs it (not eagerly)
    assert retries == [30]


def test_a_client_error_is_not_retried(open_world, receiver, private_networks_allowed):
    w = open_world
    receiver.statuses = [404]
    webhook = hook(w, receiver.url)
    delivery = webhook_services.webhook_send_test(actor=w.admin, webhook=webhook)
    assert webhook_services.webhook_delivery_attempt(delivery_id=delivery.pk) is None
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1 and delivery.status_code == 404


def test_an_unreachable_receiver_is_logged_and_retried(open_world, private_networks_allowed):
    import socket

    w = open_world
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    webhook = hook(w, f"http://127.0.0.1:{port}/")
    delivery = WebhookDelivery.objects.create(webhook=webhook, event="ping", payload="{}")
    assert webhook_services.webhook_delivery_attempt(delivery_id=delivery.pk) == 30
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.status_code is None
    assert "Connection" in delivery.error or "refused" in delivery.error


# --- Private networks -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://172.16.0.5/hook",
        "http://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
        "http://240.0.0.1/hook",
        "http://[::1]/hook",
        "http://[fd12:3456::1]/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "https://intranet.example.net/hook",  # a public-looking name that resolves to a private address
    ],
)
def test_private_network_addresses_are_refused_when_saving(open_world, dns, url):
    w = open_world
    dns["intranet.example.net"] = ["93.184.216.34", "192.168.7.7"]
    dns["localhost"] = ["127.0.0.1", "::1"]
    with pytest.raises(ValidationError) as caught:
        hook(w, url)
    assert "private or reserved network address" in " ".join(caught.value.message_dict["url"])
    assert not w.space.webhooks.exists()


def test_private_networks_are_allowed_by_the_site_setting(open_world, settings):
    w = open_world
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    assert hook(w, "http://127.0.0.1:9/hook").pk


def test_a_name_that_resolves_to_a_private_address_at_delivery_is_refused(open_world, receiver, dns):
    """DNS rebinding: public when the webhook was saved, the receiver's loopback address a moment later."""
    w = open_world
    port = receiver.server.server_address[1]
    dns["hooks.example.net"] = ["93.184.216.34"]
    webhook = hook(w, f"http://hooks.example.net:{port}/in")
    dns["hooks.example.net"] = ["127.0.0.1"]
    delivery = webhook_services.webhook_send_test(actor=w.admin, webhook=webhook)

    assert webhook_services.webhook_delivery_attempt(delivery_id=delivery.pk) is None
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert "private or reserved network address (127.0.0.1)" in delivery.error
    assert receiver.requests == []


def test_an_unknown_host_is_refused_when_saving_and_retried_when_delivering(open_world, dns):
    w = open_world
    with pytest.raises(ValidationError) as caught:
        hook(w, "https://nowhere.example.net/hook")
    assert "could not be found" in " ".join(caught.value.message_dict["url"])

    dns["later.example.net"] = ["93.184.216.34"]
    webhook = hook(w, "https://later.example.net/hook")
    del dns["later.example.net"]
    delivery = WebhookDelivery.objects.create(webhook=webhook, event="ping", payload="{}")
    assert webhook_services.webhook_delivery_attempt(delivery_id=delivery.pk) == 30


def test_a_webhook_whose_host_went_private_can_still_be_switched_off(open_world, dns):
    w = open_world
    dns["hooks.example.net"] = ["93.184.216.34"]
    webhook = hook(w, "https://hooks.example.net/in")
    dns["hooks.example.net"] = ["10.0.0.8"]
    webhook_services.webhook_update(actor=w.admin, webhook=webhook, is_active=False, name="Paused")
    with pytest.raises(ValidationError):
        webhook_services.webhook_update(actor=w.admin, webhook=webhook, is_active=True)


@pytest.mark.parametrize("url", ["ftp://example.net/x", "https://user:pw@example.net/x", "https:///x"])
def test_odd_addresses_are_refused(open_world, dns, url):
    with pytest.raises(ValidationError):
        hook(open_world, url)
