"""A small HTTP receiver on loopback that keeps every POST or PUT (method, path, headers, body) and answers 200:
it stands in for an OpenLineage backend (JSON run events), an OpenTelemetry collector (OTLP/HTTP protobuf) and
a Prometheus Pushgateway (the text format, PUT under /metrics/job/…)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Post:
    """One request as received."""

    path: str
    headers: dict[str, str]
    body: bytes
    method: str = "POST"

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)

    def text(self) -> str:
        """The body as text."""
        return self.body.decode()


@dataclass
class Receiver:
    """The receiver's address and what it received."""

    url: str
    posts: list[Post] = field(default_factory=list)


@contextmanager
def receiver(accepts: Callable[[str], bool] = lambda _path: True) -> Iterator[Receiver]:
    """A running receiver on a free loopback port; a path it does not ``accepts`` is answered 404 and not kept."""
    got = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def _receive(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if accepts(self.path):
                got.posts.append(Post(self.path, {k.lower(): v for k, v in self.headers.items()}, body, self.command))
                self.send_response(200)
            else:
                self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_PUT = _receive

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    got.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield got
    finally:
        server.shutdown()
        server.server_close()
