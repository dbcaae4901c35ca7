"""Real receivers for alerts on loopback: an HTTP server that keeps every webhook body, and an SMTP
server (aiosmtpd) that keeps every e-mail, each able to refuse on demand."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.leak_scan import register_secret


@dataclass
class Webhook:
    """The bodies and headers posted to it, and the statuses it answers with next (then 204)."""

    url: str
    bodies: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    delay_s: float = 0.0  # how long it takes to answer (a slow receiver)

    def of(self, state: str) -> list[dict[str, Any]]:
        """The bodies of messages in ``state`` (opened, resolved, test)."""
        return [b for b in self.bodies if b["state"] == state]


@contextmanager
def webhook_server() -> Iterator[Webhook]:
    """An HTTP server on 127.0.0.1 that records each POST; it answers ``statuses`` in turn, then 204."""
    hook = Webhook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(hook.delay_s)
            status = hook.statuses.pop(0) if hook.statuses else 204
            if status < 300:
                hook.raw.append(body)
                hook.bodies.append(json.loads(body))
                hook.headers.append(dict(self.headers))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/alerts"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Mailbox:
    """The e-mails the SMTP server accepted, the logins it saw, and the reply codes it refuses with next."""

    port: int
    messages: list[Message] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    refuse: list[int] = field(default_factory=list)


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.box.refuse:
            return f"{self.box.refuse.pop(0)} mailbox unavailable"
        self.box.raw.append(envelope.content)
        self.box.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_server(user: str = "alerts", password: str = "mail-pass-0123") -> Iterator[Mailbox]:
    """An aiosmtpd server on 127.0.0.1 that takes a login of ``user`` with ``password`` (no TLS on loopback)."""
    register_secret(password, "SMTP password")
    box = Mailbox(port=free_port())

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == (user, password)
        if ok:
            box.logins.append((data.login.decode(), mechanism))
        return AuthResult(success=ok)

    controller = Controller(_Handler(box), hostname="127.0.0.1", port=box.port, authenticator=authenticate,
                            auth_require_tls=False)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
