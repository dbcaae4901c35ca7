"""The local-files connector: CSV and fixed-width drop folders.

Reads every file of a stream's glob in name order, remembering in the cursor
which files are done (name, size, mtime, sha256) and how far into the current
file it got, so a crash resumes mid-file. Writes one file per batch, atomically,
named after the batch id, so a retried batch replaces its own file.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from canonical_model.errors import FatalError
from connectors.base import Connector, Cursor, ReadBatch, ReadOptions, RejectedRow, StreamField, StreamInfo, WriteMode
from connectors.files.config import FilesConfig, FileStream
from connectors.files.formats import atomic_write, read_csv, read_fixed_width, render_csv, render_fixed_width

log = logging.getLogger(__name__)

_READERS = {"csv": read_csv, "fixed_width": read_fixed_width}
_RENDERERS = {"csv": render_csv, "fixed_width": render_fixed_width}


def _fingerprint(path: Path) -> dict[str, object]:
    stat = path.stat()
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest}


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


class FilesConnector(Connector):
    """Files in a folder, grouped into streams by glob pattern."""

    Config = FilesConfig
    config: FilesConfig

    @property
    def folder(self) -> Path:
        """The folder, resolved against the project directory."""
        path = self.config.path
        return path if path.is_absolute() else self.base_dir / path

    def _spec(self, stream: str) -> FileStream:
        try:
            return self.config.streams[stream]
        except KeyError:
            raise FatalError("no such stream in the system's config", system=self.name, stream=stream) from None

    def _files(self, spec: FileStream) -> list[Path]:
        return sorted(p for p in self.folder.glob(spec.pattern) if p.is_file())

    def check(self) -> None:
        if not self.folder.is_dir():
            raise FatalError(f"folder {self.folder} does not exist", system=self.name)

    def discover(self) -> list[StreamInfo]:
        return [self._stream_info(name, spec) for name, spec in sorted(self.config.streams.items())]

    def _stream_info(self, name: str, spec: FileStream) -> StreamInfo:
        if spec.layout:
            names = [c.name for c in spec.layout]
        else:
            first = next(iter(self._files(spec)), None)
            names = next(iter(self._header(first, spec)), []) if first else []
        return StreamInfo(name, tuple(StreamField(n, "string") for n in names), kind="files")

    @staticmethod
    def _header(path: Path, spec: FileStream) -> Iterator[list[str]]:
        with path.open(encoding=spec.encoding, errors="replace", newline="") as handle:
            yield handle.readline().rstrip("\r\n").split(spec.delimiter)

    def estimate_rows(self, stream: str) -> int | None:
        spec = self._spec(stream)
        return sum(_count_lines(p) for p in self._files(spec))

    def read(self, stream: str, cursor: Cursor | None, options: ReadOptions) -> Iterator[ReadBatch]:
        self.check()
        spec = self._spec(stream)
        state = {"done": dict((cursor or {}).get("done", {})), "current": (cursor or {}).get("current")}
        for path in self._files(spec):
            seen = state["done"].get(path.name)
            fingerprint = _fingerprint(path)
            if seen == fingerprint:
                continue
            if seen is not None:
                log.warning("system '%s' stream '%s': file %s changed after it was read; reading it again",
                            self.name, stream, path.name)
            yield from self._read_file(path, spec, state, fingerprint, options.batch_size)

    def _read_file(self, path: Path, spec: FileStream, state: dict, fingerprint: dict,
                   batch_size: int) -> Iterator[ReadBatch]:
        current = state["current"] or {}
        skip = current.get("rows", 0) if current.get("file") == path.name else 0
        done_rows = 0
        rows: list[dict] = []
        positions: list[str] = []
        rejects: list[RejectedRow] = []
        for item in _READERS[spec.format](path, spec):
            done_rows += 1
            if done_rows <= skip:
                continue
            if isinstance(item, RejectedRow):
                rejects.append(item)
            else:
                positions.append(f"{path.name}:{item[0]}")
                rows.append(item[1])
            if len(rows) + len(rejects) >= batch_size:
                state["current"] = {"file": path.name, "rows": done_rows}
                yield self._batch(rows, positions, rejects, state)
                rows, positions, rejects = [], [], []
        state["done"][path.name] = fingerprint
        state["current"] = None
        yield self._batch(rows, positions, rejects, state)

    @staticmethod
    def _batch(rows: list[dict], positions: list[str], rejects: list[RejectedRow], state: dict) -> ReadBatch:
        names = list(rows[0]) if rows else []
        arrays = [pa.array([r.get(n) for r in rows], pa.string()) for n in names]
        batch = pa.RecordBatch.from_arrays(arrays, names=names) if names else pa.RecordBatch.from_pylist([])
        cursor = {"done": dict(state["done"]), "current": state["current"]}
        return ReadBatch(batch, positions, cursor, rejects)

    def write(self, stream: str, batch: pa.RecordBatch, mode: WriteMode, *, key: tuple[str, ...],
              batch_id: str) -> int:
        if mode is WriteMode.DELETE:
            raise FatalError("a drop folder cannot delete records", system=self.name, stream=stream)
        if batch.num_rows == 0:
            return 0
        spec = self._spec(stream)
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            payload = _RENDERERS[spec.format](batch, spec)
        except (UnicodeEncodeError, ValueError) as exc:
            reason = f"cannot encode a value in {spec.encoding}" if isinstance(exc, UnicodeEncodeError) else str(exc)
            raise FatalError(reason, system=self.name, stream=stream) from None
        atomic_write(self.folder / spec.write_name.format(stream=stream, batch_id=batch_id), payload)
        return batch.num_rows
