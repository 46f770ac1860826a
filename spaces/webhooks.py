"""Webhook delivery mechanics: address checks, signing, the payloads and the HTTP request (issue 8, item 3).

Nothing here decides *what* is sent or *when* (``spaces/services/webhooks.py`` does); this module only turns a
payload into a signed request to an address that is allowed.

Addresses. A webhook may never reach the site's own network: loopback, private (RFC 1918, ULA), link-local,
multicast, shared (CGNAT), reserved and unspecified addresses are refused, unless the site setting
``WEBHOOK_ALLOW_PRIVATE_NETWORKS`` is on. The host is resolved when the webhook is saved and again at every
delivery, and the request is sent to the very address that was checked (the connection is pinned to it, with
the host name kept for TLS and the Host header), so a name that resolves elsewhere a second later (DNS
rebinding) cannot slip through.

Signature. Every request carries ``X-Copapp-Timestamp`` (Unix seconds) and ``X-Copapp-Signature:
sha256=<hex>``, the HMAC-SHA256 with the webhook's secret of ``<timestamp>.<body>``; receivers recompute it,
compare in constant time and refuse old timestamps (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.utils.translation import gettext as _

SIGNATURE_HEADER = "X-Copapp-Signature"
TIMESTAMP_HEADER = "X-Copapp-Timestamp"
EVENT_HEADER = "X-Copapp-Event"
DELIVERY_HEADER = "X-Copapp-Delivery"
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
TOTAL_TIMEOUT = 20.0
RESPONSE_EXCERPT_CHARS = 500
_READ_AT_MOST = 4096


class WebhookAddressError(ValueError):
    """The URL may not be used: wrong scheme, no host, unknown host or a refused (private) address.

    ``permanent`` is False only for a host that could not be resolved (DNS may answer on the next attempt)."""

    def __init__(self, message: str, *, permanent: bool = True):
        super().__init__(message)
        self.permanent = permanent


@dataclass
class DeliveryResult:
    status_code: int
    excerpt: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300


# --- Addresses ------------------------------------------------------------------------------------------------
def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (a separate function so tests can stand in for DNS)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def is_refused_address(address: str) -> bool:
    """True for addresses a webhook may not reach: anything but a global unicast address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone ("fe80::1%eth0") is link-local anyway
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and is_refused_address(str(embedded)):
            return True
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


@dataclass
class Target:
    scheme: str
    host: str
    port: int
    path: str
    host_header: str
    addresses: list[str]


def check_url(url: str) -> Target:
    """Where ``url`` leads, or ``WebhookAddressError`` with a message for the form. Resolves the host."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookAddressError(_("This is not a valid address.")) from exc
    if parts.scheme not in ("http", "https"):
        raise WebhookAddressError(_("The address must start with https:// (or http://)."))
    if not parts.hostname:
        raise WebhookAddressError(_("The address has no host name."))
    if parts.username or parts.password:
        raise WebhookAddressError(
            _("Put no user name or password in the address; the receiver checks the signature instead.")
        )
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = resolve_host(parts.hostname, port)
    except (OSError, UnicodeError) as exc:
        raise WebhookAddressError(
            _("The host “%(host)s” could not be found.") % {"host": parts.hostname}, permanent=False
        ) from exc
    if not addresses:
        raise WebhookAddressError(
            _("The host “%(host)s” could not be found.") % {"host": parts.hostname}, permanent=False
        )
    if not settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS:
        refused = [a for a in addresses if is_refused_address(a)]
        if refused:
            raise WebhookAddressError(
                _(
                    "“%(host)s” leads to a private or reserved network address (%(address)s). Webhooks may only "
                    "post to public internet addresses; a site administrator can allow private networks "
                    "(WEBHOOK_ALLOW_PRIVATE_NETWORKS)."
                )
                % {"host": parts.hostname, "address": refused[0]}
            )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    default_port = 443 if parts.scheme == "https" else 80
    host_header = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if port != default_port:
        host_header = f"{host_header}:{port}"
    return Target(parts.scheme, parts.hostname, port, path, host_header, addresses)


# --- Signing ------------------------------------------------------------------------------------------------
def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of ``<timestamp>.<body>`` with ``secret``."""
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """What a receiver does (used by the tests and shown in the README)."""
    return hmac.compare_digest(signature(secret, int(timestamp), body), header)


def signed_headers(*, secret: str, body: bytes, event: str, delivery_id: int, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": f"{settings.SITE_NAME}-webhooks/1",
        EVENT_HEADER: event,
        DELIVERY_HEADER: str(delivery_id),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


# --- Payloads -----------------------------------------------------------------------------------------------
def _slack_escape(text: str) -> str:
    """Slack's mrkdwn treats &, < and > as control characters (links are <url|label>)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def json_body(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def slack_body(data: dict) -> str:
    """A Slack-compatible message (incoming webhooks, also understood by Mattermost, Rocket.Chat and others)."""
    space, item = data["space"], data.get("item")
    if item is None:
        headline = _("Test message from %(site)s for *%(space)s*: the webhook works.") % {
            "site": _slack_escape(settings.SITE_NAME),
            "space": _slack_escape(space["name"]),
        }
        text = _("Test message from %(site)s: the webhook works.") % {"site": settings.SITE_NAME}
        return json_body({"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": headline}}]})
    link = f"<{item['url']}|{_slack_escape(item['title'].replace('|', '/'))}>"
    values = {
        "kind": item["kind_label"],
        "link": link,
        "space": _slack_escape(space["name"]),
        "author": _slack_escape(item["author"]),
    }
    if data["event"] == "item.changed":
        headline = _("%(kind)s changed in *%(space)s* by %(author)s: %(link)s") % values
        text = _("%(kind)s changed in %(space)s: %(title)s") % {**values, "title": _slack_escape(item["title"])}
    else:
        headline = _("%(kind)s added in *%(space)s* by %(author)s: %(link)s") % values
        text = _("%(kind)s added in %(space)s: %(title)s") % {**values, "title": _slack_escape(item["title"])}
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": headline}}]
    if item.get("excerpt"):
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _slack_escape(item["excerpt"])}]})
    return json_body({"text": text, "blocks": blocks, "unfurl_links": False})


# --- The request ----------------------------------------------------------------------------------------------
def _tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    try:
        import certifi

        context.load_verify_locations(certifi.where())
    except ImportError:  # the system's certificates only
        pass
    return context


def post(url: str, body: bytes, headers: dict[str, str]) -> DeliveryResult:
    """POST ``body`` to ``url``: the host is checked again now and the connection goes to that checked address.

    Raises ``WebhookAddressError`` (refused address, unknown host) or ``urllib3`` / ``OSError`` errors
    (connection refused, timeout, TLS). Redirects are not followed: a receiver answers where it was asked.
    """
    target = check_url(url)
    address = target.addresses[0]
    timeout = urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT, total=TOTAL_TIMEOUT)
    options = {"host": address, "port": target.port, "timeout": timeout, "retries": False, "maxsize": 1}
    if target.scheme == "https":
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            **options, server_hostname=target.host, assert_hostname=target.host, ssl_context=_tls_context()
        )
    else:
        pool = urllib3.HTTPConnectionPool(**options)
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={**headers, "Host": target.host_header},
            redirect=False,
            assert_same_host=False,
            preload_content=False,
        )
        try:
            raw = response.read(_READ_AT_MOST)
        finally:
            response.release_conn()
    finally:
        pool.close()
    excerpt = raw.decode("utf-8", errors="replace")[:RESPONSE_EXCERPT_CHARS]
    return DeliveryResult(status_code=response.status, excerpt=excerpt)
