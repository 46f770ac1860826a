"""A real HTTP receiver on 127.0.0.1 for the webhook tests, and stand-ins for DNS."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from spaces import webhooks


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each POST with the next status of ``statuses`` (the last one repeats) and keeps the requests."""

    server: ThreadingHTTPServer
    statuses: list[int] = field(default_factory=lambda: [200])
    requests: list[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks/copapp?team=data"

    def next_status(self) -> int:
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]


@pytest.fixture
def receiver():
    state: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            rec = state["receiver"]
            rec.requests.append(Received(self.path, {k: v for k, v in self.headers.items()}, body))
            status = rec.next_status()
            reply = b'{"ok": true}' if status < 300 else b"Something broke on our side"
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["receiver"] = rec = Receiver(server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield rec
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def private_networks_allowed(settings):
    """The local receiver is on 127.0.0.1: the site setting lets webhooks reach it."""
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True


@pytest.fixture
def dns(monkeypatch):
    """Stand-in DNS: ``dns["host"] = ["203.0.113.9"]``; other names do not resolve (tests never use the network)."""
    table: dict[str, list[str]] = {}
    real = webhooks.resolve_host

    def resolve(host: str, port: int) -> list[str]:
        if host in table:
            return list(table[host])
        try:
            import ipaddress

            ipaddress.ip_address(host)
        except ValueError as exc:
            raise OSError(f"no such host in the test DNS: {host}") from exc
        return real(host, port)

    monkeypatch.setattr(webhooks, "resolve_host", resolve)
    return table
