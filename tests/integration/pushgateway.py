"""A small Pushgateway-compatible receiver on loopback: it keeps every push (method, path, headers, body) and
answers as the Pushgateway does (200 to a PUT or POST under /metrics/job/…)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Push:
    """One push as received."""

    method: str
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class Pushgateway:
    """The receiver's address and what it received."""

    url: str
    pushes: list[Push] = field(default_factory=list)


@contextmanager
def pushgateway() -> Iterator[Pushgateway]:
    """A running receiver on a free loopback port."""
    gateway = Pushgateway("")

    class Handler(BaseHTTPRequestHandler):
        def _receive(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            if not self.path.startswith("/metrics/job/"):
                self.send_response(404)
            else:
                gateway.pushes.append(Push(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                           body))
                self.send_response(200)
            self.end_headers()

        do_PUT = do_POST = _receive

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()
