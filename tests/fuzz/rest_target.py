"""Fuzz target for REST pagination bodies: a vendor on loopback answers the first page with the input.

The connector reads the stream as an ingest run does (cursor pagination, incremental on a
change-time field, a key), so the body's record list, its next-page token and the records'
cursor values all come from the fuzzer. Every later page is empty, so a read always ends.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from officehub.canonical_model.errors import OfficehubError
from officehub.connectors.base import ReadBatch, ReadOptions
from officehub.connectors.rest import RestConfig, RestConnector
from tests.fuzz.outcomes import check_text, logged

_LAST_PAGE = b'{"items": [], "next": null}'


class _Vendor(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: one connection for the whole campaign
    # Headers and body leave in one write, without Nagle's delay: thousands of pages a second, not 25.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        body = _LAST_PAGE if "cursor=" in self.path else self.server.body  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        """Quiet: a fuzz campaign makes thousands of requests."""


def stream_spec() -> dict[str, Any]:
    """The stream as a vendor API's YAML would describe it."""
    return {"path": "/items", "record_path": "items", "primary_key": ["id"],
            "pagination": {"style": "cursor", "token_path": "next"},
            "incremental": {"param": "updated_since", "cursor_field": "updated_at"}}


class RestPages:
    """A loopback vendor serving each input as its first page, and the connector reading it."""

    def __init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Vendor)
        self._server.daemon_threads = True
        self._server.body = _LAST_PAGE  # type: ignore[attr-defined]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        config = RestConfig(base_url=f"http://127.0.0.1:{self._server.server_port}", streams={"items": stream_spec()},
                            retries={"max_attempts": 1}, timeouts={"connect_s": 5, "read_s": 10})
        self._connector = RestConnector("vendor", config, Path("."))

    def read(self, data: bytes) -> Iterator[ReadBatch]:
        """The batches of a read whose first page's body is ``data``."""
        self._server.body = data  # type: ignore[attr-defined]
        return self._connector.read("items", None, ReadOptions())

    def __call__(self, data: bytes) -> None:
        """Read the stream with ``data`` as the first page's body; a finding raises."""
        with logged() as lines:
            try:
                for batch in self.read(data):
                    for reject in batch.rejects:
                        check_text("a reject reason", f"{reject.position} {reject.reason}")
            except OfficehubError as exc:
                check_text("an error message", str(exc))
        for line in lines:
            check_text("a log line", line)

    def close(self) -> None:
        """Stop the vendor and close the connector's connections."""
        self._connector.close()
        self._server.shutdown()
        self._server.server_close()


def rest_target() -> RestPages:
    """REST pagination bodies."""
    return RestPages()
