"""A third-party officehub plugin: streams kept as JSON files, and an operator that reverses text.

It uses only officehub's public contracts, as any vendor's plugin would.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from officehub.canonical_model.errors import FatalError
from officehub.connectors import Connector, ConnectorConfig, ReadBatch, ReadOptions, StreamField, StreamInfo, WriteMode
from officehub.connectors.base import Capabilities
from officehub.policies import Operator


class JsonFileConfig(ConnectorConfig):
    """A folder holding one JSON array per stream."""

    type: str = "jsonfile"
    folder: str


class JsonFileConnector(Connector):
    """Each stream is ``<folder>/<stream>.json``, a list of objects."""

    Config = JsonFileConfig
    # Records are kept by key. A cursor counts the rows read, so it resumes a read but does not
    # find records changed in place: no incremental reads.
    capabilities = Capabilities(write_modes={WriteMode.APPEND, WriteMode.UPSERT}, deletes=True)

    def _path(self, stream: str) -> Path:
        return self.base_dir / self.config.folder / f"{stream}.json"

    def _rows(self, stream: str) -> list[dict]:
        path = self._path(stream)
        return json.loads(path.read_text()) if path.exists() else []

    def check(self) -> None:
        if not (self.base_dir / self.config.folder).is_dir():
            raise FatalError("folder does not exist", system=self.name)

    def discover(self) -> list[StreamInfo]:
        folder = self.base_dir / self.config.folder
        return [StreamInfo(p.stem, tuple(StreamField(k, "string") for k in (self._rows(p.stem) or [{}])[0]))
                for p in sorted(folder.glob("*.json"))]

    def read(self, stream, cursor, options: ReadOptions):  # type: ignore[no-untyped-def]
        if not self._path(stream).is_file():
            raise FatalError("no such stream (no JSON file of that name)", system=self.name, stream=stream)
        rows = self._rows(stream)
        done = (cursor or {}).get("rows", 0)
        for start in range(done, len(rows), options.batch_size):
            page = rows[start:start + options.batch_size]
            positions = [f"{stream}.json[{start + i}]" for i in range(len(page))]
            yield ReadBatch(pa.RecordBatch.from_pylist(page), positions, {"rows": start + len(page)})

    def write(self, stream, batch, mode, *, key, batch_id):  # type: ignore[no-untyped-def]
        rows = {tuple(r[k] for k in key): r for r in self._rows(stream)}
        for row in batch.to_pylist():
            if mode is WriteMode.DELETE:
                rows.pop(tuple(row[k] for k in key), None)
            else:
                rows[tuple(row[k] for k in key)] = row
        path = self._path(stream)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(list(rows.values()), default=str, ensure_ascii=False))
        return batch.num_rows


class Reverse(Operator):
    """Reverse text (a toy transformation, to prove third-party operators plug in)."""

    name, strictness = "reverse", 10

    def apply(self, column: pa.Array) -> pa.Array:
        return pc.utf8_reverse(pc.cast(column, pa.string()))
