"""The REST connector: a vendor's JSON API, described in YAML, as readable and writable streams.

The plumbing (retries, timeouts, credentials, pagination, incremental cursors,
idempotent writes, Arrow) lives here and in the modules beside it. A vendor that
YAML cannot describe is a small subclass overriding a hook: ``authenticator``,
``paginator``, ``records`` or ``payload``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import requests

from officehub.canonical_model.errors import FatalError
from officehub.connectors.base import (
    Capabilities,
    Connector,
    ConnectorConfig,
    Cursor,
    ReadBatch,
    ReadOptions,
    StreamField,
    StreamInfo,
    WriteMode,
)
from officehub.connectors.rest.auth import Authenticator
from officehub.connectors.rest.client import HttpClient
from officehub.connectors.rest.config import Endpoint, RestConfig, StreamSpec
from officehub.connectors.rest.errors import RejectedRecords, Where, raise_for_status
from officehub.connectors.rest.incremental import Progress
from officehub.connectors.rest.pagination import (
    PageRequest,
    PageState,
    Paginator,
    build_paginator,
)
from officehub.connectors.rest.reader import Page, RecordReader
from officehub.connectors.rest.records import dig, flatten, to_batch, type_name, unflatten
from officehub.connectors.rest.writes import BatchWriter

log = logging.getLogger(__name__)

# Answers to a saved page position that mean "I no longer know that page" (an expired token).
_STALE_PAGE = frozenset({400, 404, 409, 410, 422})


class RestConnector(Connector):
    """Endpoints of a REST/JSON vendor API as streams."""

    Config = RestConfig
    config: RestConfig
    capabilities = Capabilities(write_modes={WriteMode.APPEND, WriteMode.UPSERT}, deletes=True,
                                incremental=True, cursor_field=True)

    @classmethod
    def stream_capabilities(cls, config: ConnectorConfig, stream: str) -> Capabilities | None:
        """The class's declaration, with only the write modes the stream has an endpoint for."""
        declared = cls.capabilities
        spec = config.streams.get(stream) if isinstance(config, RestConfig) else None
        if declared is None or spec is None:  # an unknown stream is reported when it is used
            return declared
        offered = {mode for mode in WriteMode if spec.write is not None and getattr(spec.write, mode.value)}
        return replace(declared, write_modes=declared.write_modes & offered,
                       deletes=declared.deletes and WriteMode.DELETE in offered)

    def __init__(self, name: str, config: RestConfig, base_dir: Path) -> None:
        super().__init__(name, config, base_dir)
        self._client: HttpClient | None = None

    # -- hooks: override these for a vendor the YAML settings cannot describe ------------------
    def authenticator(self) -> Authenticator | None:
        """The credentials for every request; None builds them from the ``auth`` setting."""
        return None

    def paginator(self, stream: str) -> Paginator:
        """How ``stream`` is paged."""
        return build_paginator(self._spec(stream).pagination, self.config.base_url)

    def records(self, stream: str, body: Any) -> list[Any]:
        """The records in one answer's JSON body."""
        spec = self._spec(stream)
        try:
            found = dig(body, spec.record_path)
        except KeyError:
            raise FatalError(f"the answer has no '{spec.record_path}' (record_path)",
                             system=self.name, stream=stream) from None
        if found is None:
            return []
        if not isinstance(found, list):
            raise FatalError(f"'{spec.record_path or '(the body)'}' is not a list of records (record_path)",
                             system=self.name, stream=stream)
        return found

    def payload(self, stream: str, row: dict[str, Any]) -> Any:
        """The JSON body for one record of a written batch."""
        return unflatten(row, self.config.flatten_separator)

    # -- plumbing -------------------------------------------------------------------------------
    @property
    def client(self) -> HttpClient:
        """The HTTP client, created on first use."""
        if self._client is None:
            self._client = HttpClient(self.name, self.config, self.base_dir, self.authenticator())
        return self._client

    def _spec(self, stream: str) -> StreamSpec:
        try:
            return self.config.streams[stream]
        except KeyError:
            raise FatalError("no such stream in the system's config", system=self.name, stream=stream) from None

    def _get(self, stream: str, request: PageRequest, since: Any) -> requests.Response:
        spec = self._spec(stream)
        where = Where(self.name, stream, f"GET {spec.path}")
        if request.url is not None:  # the vendor's own next-page URL already says everything
            return self.client.send(where, "GET", request.url, headers=spec.headers)
        params = {**spec.params, **request.params}
        if since is not None and spec.incremental is not None:
            params[spec.incremental.param] = str(since)
        return self.client.send(where, "GET", self.client.url(spec.path), params=params, headers=spec.headers)

    def _body(self, stream: str, response: requests.Response) -> Any:
        raise_for_status(Where(self.name, stream, f"GET {self._spec(stream).path}"), response)
        try:
            return response.json()
        except (ValueError, RecursionError):  # not JSON, or nested past what Python can decode
            raise FatalError(f"GET {self._spec(stream).path} answered with something that is not JSON",
                             system=self.name, stream=stream) from None

    def _pages(self, stream: str, progress: Progress) -> Iterator[Page]:
        paginator = self.paginator(stream)
        state: PageState | None = progress.page or paginator.first()
        resuming, number = progress.page is not None, 0
        while state is not None:
            response = self._get(stream, paginator.request(state), progress.since)
            if resuming and response.status_code in _STALE_PAGE:
                log.warning("system '%s' stream '%s': the saved page is no longer valid (HTTP %s); "
                            "reading this pass again from its start", self.name, stream, response.status_code)
                state, resuming = paginator.first(), False
                continue
            resuming = False
            body = self._body(stream, response)
            records = self.records(stream, body)
            following = self._next(stream, paginator, state, response, body, records)
            yield Page(number, records, following)
            state, number = following, number + 1

    def _next(self, stream: str, paginator: Paginator, state: PageState, response: requests.Response,
              body: Any, records: list) -> PageState | None:
        try:
            return paginator.next(state, response, body, records)
        except FatalError as exc:
            raise FatalError(exc.message, system=self.name, stream=stream) from None

    # -- the contract ---------------------------------------------------------------------------
    def check(self) -> None:
        first = next(iter(self.config.streams))
        path = self.config.check_path or self._spec(first).path
        where = Where(self.name, None, f"GET {path}")
        raise_for_status(where, self.client.send(where, "GET", self.client.url(path)))

    def discover(self) -> list[StreamInfo]:
        return [self._stream_info(name) for name in sorted(self.config.streams)]

    def discover_stream(self, stream: str) -> StreamInfo | None:
        """One configured stream, from its first page alone."""
        return self._stream_info(stream) if stream in self.config.streams else None

    def _stream_info(self, stream: str) -> StreamInfo:
        """Fields and types inferred from the first page, plus the configured key and cursor."""
        spec = self._spec(stream)
        paginator = self.paginator(stream)
        body = self._body(stream, self._get(stream, paginator.request(paginator.first()), None))
        rows = [flatten(r, self.config.flatten_separator) for r in self.records(stream, body) if isinstance(r, dict)]
        schema = to_batch(rows).schema
        fields = tuple(StreamField(f.name, type_name(f.type)) for f in schema)
        cursors = (spec.incremental.cursor_field,) if spec.incremental else ()
        return StreamInfo(stream, fields, tuple(spec.primary_key), cursors, kind="endpoint")

    def read(self, stream: str, cursor: Cursor | None, options: ReadOptions) -> Iterator[ReadBatch]:
        spec = self._spec(stream)
        key = options.key or tuple(spec.primary_key)
        cursor_field = self._cursor_field(stream, spec, options)
        if cursor_field and not key:
            raise FatalError("an incremental read needs a key (primary_key) to tell apart records "
                             "changed at the same moment", system=self.name, stream=stream)
        progress = Progress.resume(cursor, incremental=cursor_field is not None)
        reader = RecordReader(key, cursor_field, self.config.flatten_separator, options.batch_size)
        yield from reader.batches(self._pages(stream, progress), progress)

    def _cursor_field(self, stream: str, spec: StreamSpec, options: ReadOptions) -> str | None:
        configured = spec.incremental.cursor_field if spec.incremental else None
        if options.cursor_field and configured and options.cursor_field != configured:
            # The vendor filters on the configured field; tracking another one would skip records.
            raise FatalError(f"the mapping's cursor {options.cursor_field} is not the stream's "
                             f"incremental.cursor_field {configured}", system=self.name, stream=stream)
        return options.cursor_field or configured

    def write(self, stream: str, batch: pa.RecordBatch, mode: WriteMode, *, key: tuple[str, ...],
              batch_id: str) -> int:
        """Write every record; refused records are raised together as ``RejectedRecords``."""
        endpoint = self._endpoint(stream, mode)
        if batch.num_rows == 0:
            return 0
        where = Where(self.name, stream, f"{endpoint.method} {endpoint.path}")
        writer = BatchWriter(self.client, where, endpoint, mode=mode.value, batch_id=batch_id,
                             idempotency_header=self.config.idempotency_header, headers=self._spec(stream).headers,
                             payload=lambda row: self.payload(stream, row))
        outcome = writer.write(batch.to_pylist(), key)
        if outcome.rejects:
            raise RejectedRecords(system=self.name, stream=stream, written=outcome.written, rejects=outcome.rejects)
        return outcome.written

    def _endpoint(self, stream: str, mode: WriteMode) -> Endpoint:
        spec = self._spec(stream)
        endpoint = getattr(spec.write, mode.value, None) if spec.write else None
        if endpoint is None:
            raise FatalError(f"the stream has no '{mode.value}' endpoint under 'write'",
                             system=self.name, stream=stream)
        return endpoint

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
