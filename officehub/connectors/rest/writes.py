"""Writing a batch: a request per record (or per bulk chunk), each with an idempotency key.

The key is derived from the stream, the mode, the batch id and the record's key, so
the same record of the same batch always carries the same key: a batch re-sent after
a crash, or a request repeated after its answer was lost, is recognised by the vendor
instead of creating a second record.

A 4xx about one record does not stop the batch: the other records are written and the
refused ones are reported together (``RejectedRecords``) for the quarantine.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from officehub.connectors.base import RejectedRow
from officehub.connectors.jsonable import jsonable
from officehub.connectors.rest.client import HttpClient
from officehub.connectors.rest.config import Bulk, Endpoint, placeholders
from officehub.connectors.rest.errors import Where, rejects_record, status_error
from officehub.connectors.rest.records import to_json

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:officehub:rest:idempotency")

Row = dict[str, Any]
#: Turns a flat batch row into the JSON object the vendor expects (a connector hook).
Payload = Callable[[Row], Any]


def idempotency_key(stream: str, mode: str, batch_id: str, identity: tuple) -> str:
    """The same for the same record of the same batch, and for nothing else."""
    return str(uuid.uuid5(_NAMESPACE, json.dumps([stream, mode, batch_id, list(identity)], default=str)))


def _wrap(payload: Any, body_key: str | None) -> Any:
    return {body_key: payload} if body_key else payload


@dataclass
class WriteOutcome:
    """Records the vendor accepted, and those it refused."""

    written: int = 0
    rejects: list[RejectedRow] = field(default_factory=list)


@dataclass
class _Record:
    index: int
    row: Row
    identity: tuple
    position: str


class BatchWriter:
    """Writes one batch to one endpoint; build one per ``write`` call."""

    def __init__(self, client: HttpClient, where: Where, endpoint: Endpoint, *, mode: str, batch_id: str,
                 idempotency_header: str | None, headers: dict[str, str], payload: Payload) -> None:
        self.client, self.where, self.endpoint, self.mode = client, where, endpoint, mode
        self.batch_id, self.header, self.extra_headers, self.payload = batch_id, idempotency_header, headers, payload
        self.outcome = WriteOutcome()

    def write(self, rows: list[Row], key: tuple[str, ...]) -> WriteOutcome:
        """Send every row; returns what was written and what was refused."""
        records = [self._record(i, row, key) for i, row in enumerate(rows)]
        sendable = [r for r in records if self._sendable(r, key)]
        bulk = self.endpoint.bulk
        if bulk is None:
            for record in sendable:
                self._send_one(record)
        else:
            for start in range(0, len(sendable), bulk.size):
                self._send_chunk(bulk, sendable[start:start + bulk.size])
        return self.outcome

    def _record(self, index: int, row: Row, key: tuple[str, ...]) -> _Record:
        # Without a key the row's place in the batch identifies it: batches are cut
        # deterministically, so a re-sent batch has the same rows in the same order.
        identity = tuple(row.get(k) for k in key) if key else ("row", index)
        return _Record(index, row, identity, f"batch {self.batch_id} row {index}")

    def _sendable(self, record: _Record, key: tuple[str, ...]) -> bool:
        needed = [*key, *placeholders(self.endpoint.path)]
        missing = next((name for name in needed if record.row.get(name) is None), None)
        if missing is not None:
            self._reject(record, f"field {missing} is missing (needed for the record's key or path)")
        return missing is None

    def _headers(self, identity: tuple) -> dict[str, str]:
        if not self.header:
            return self.extra_headers
        key = idempotency_key(self.where.stream or "", self.mode, self.batch_id, identity)
        return {**self.extra_headers, self.header: key}

    def _send_one(self, record: _Record) -> None:
        names = placeholders(self.endpoint.path)
        path = self.endpoint.path.format_map({n: quote(str(jsonable(record.row[n])), safe="") for n in names})
        body = None if self.endpoint.method == "DELETE" else \
            to_json(_wrap(self.payload(record.row), self.endpoint.body_key))
        response = self.client.send(self.where, self.endpoint.method, self.client.url(path), body=body,
                                    headers=self._headers(record.identity))
        status = response.status_code
        if 200 <= status < 300 or (self.endpoint.method == "DELETE" and status in (404, 410)):
            self.outcome.written += 1  # a record already gone is what a delete wants
        elif rejects_record(status, path_names_record=bool(names)):
            self._reject(record, f"the vendor refused the record (HTTP {status})")
        else:
            raise status_error(self.where, status)

    def _send_chunk(self, bulk: Bulk, chunk: list[_Record]) -> None:
        body = to_json(_wrap([self.payload(r.row) for r in chunk], bulk.body_key))
        identity = ("bulk", *(json.dumps(r.identity, default=str) for r in chunk))
        bulk_where = Where(self.where.system, self.where.stream, f"{bulk.method} {bulk.path}")
        response = self.client.send(bulk_where, bulk.method, self.client.url(bulk.path), body=body,
                                    headers=self._headers(identity))
        if 200 <= response.status_code < 300:
            self.outcome.written += len(chunk)
        elif rejects_record(response.status_code, path_names_record=False):
            # The vendor refused the chunk as a whole; one by one, only the bad records fail.
            for record in chunk:
                self._send_one(record)
        else:
            raise status_error(bulk_where, response.status_code)

    def _reject(self, record: _Record, reason: str) -> None:
        raw = {name: jsonable(value) for name, value in record.row.items()}
        self.outcome.rejects.append(RejectedRow(record.position, reason, raw))
