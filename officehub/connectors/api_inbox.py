"""The ``api`` system type: records that applications submit through the hub API, read like a drop folder.

``officehub serve`` writes each submission as one JSON Lines file into the system's inbox
(``.officehub/api-inbox/<system>/<stream>-<sequence>.jsonl`` in the project folder) and
runs the system's ingest pipeline, so a submitted record goes through the mapping, the
checks, identity resolution and the quarantine exactly like a record of any other system.
This connector reads the inbox as the files connector reads a drop folder — each file
once, resumable mid-file — and writes nothing: applications read through the API, under
their policy.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import Field

from officehub.canonical_model.errors import FatalError
from officehub.connectors.base import (
    Capabilities,
    Connector,
    ConnectorConfig,
    Cursor,
    ReadBatch,
    ReadOptions,
    StreamInfo,
    WriteMode,
)
from officehub.connectors.files import FilesConfig, FilesConnector, FileStream
from officehub.connectors.files.local import atomic_write
from officehub.connectors.jsonable import json_default


class ApiInboxConfig(ConnectorConfig):
    """An application's submissions: the streams it submits to, and where the hub keeps them until read."""

    type: str = "api"
    streams: list[str] = Field(min_length=1, description="the streams the application submits records to")
    folder: Path = Field(Path(".officehub/api-inbox"), description="inbox folders, one per api system")


class ApiInboxConnector(Connector):
    """Reads what applications submitted (one JSON Lines file per submission); never writes."""

    Config = ApiInboxConfig
    config: ApiInboxConfig
    capabilities = Capabilities(write_modes=frozenset(), deletes=False, reads=True, incremental=True,
                                cursor_field=False)

    @property
    def inbox(self) -> Path:
        """This system's inbox folder."""
        folder = self.config.folder if self.config.folder.is_absolute() else self.base_dir / self.config.folder
        return folder / self.name

    def _files(self) -> FilesConnector:
        streams = {s: FileStream(pattern=f"{s}-*.jsonl", format="jsonl") for s in self.config.streams}
        return FilesConnector(self.name, FilesConfig(type="files", path=self.inbox, streams=streams, create=True),
                              self.base_dir)

    def check(self) -> None:
        """The inbox exists (it is the hub's own folder: made when missing); FatalError if it cannot be."""
        try:
            self.inbox.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FatalError(f"the inbox folder {self.inbox} cannot be made ({exc.strerror})", system=self.name) \
                from None

    def discover(self) -> list[StreamInfo]:
        """Each stream, with the fields of its oldest waiting submission."""
        self.check()
        return self._files().discover()

    def estimate_rows(self, stream: str) -> int | None:
        """Records waiting in the stream's submissions."""
        return self._files().estimate_rows(stream)

    def read(self, stream: str, cursor: Cursor | None, options: ReadOptions) -> Iterator[ReadBatch]:
        """Submissions not read yet, in the order they arrived."""
        self.check()
        yield from self._files().read(stream, cursor, options)

    def write(self, stream: str, batch: pa.RecordBatch, mode: WriteMode, *, key: tuple[str, ...],
              batch_id: str) -> int:
        """Refused: an application reads through the hub API, under its own agreement and policy."""
        raise FatalError("an api system receives nothing by publish: its application reads through the hub API",
                         system=self.name, stream=stream)

    def deposit(self, stream: str, records: Sequence[Mapping[str, Any]]) -> Path:
        """Keep one submission as the stream's next file (whole or not at all); returns its path."""
        if stream not in self.config.streams:
            raise FatalError("no such stream in the system's config", system=self.name, stream=stream)
        self.check()
        # Names sort in arrival order (the files connector reads in name order).
        path = self.inbox / f"{stream}-{time.time_ns():020d}.jsonl"
        body = "".join(json.dumps(dict(r), ensure_ascii=False, default=json_default) + "\n" for r in records)
        atomic_write(path, body.encode("utf-8"))
        return path
