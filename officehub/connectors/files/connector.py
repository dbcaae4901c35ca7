"""The local-files connector: CSV, JSON Lines and fixed-width drop folders.

Reads every file of a stream's glob in name order, remembering in the cursor
which files are done and how far into the current one it got (see
``officehub.connectors.formats.incremental``), so a crash resumes mid-file. Writes one
file per batch, atomically, named after the batch id, so a retried batch
replaces its own file.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from officehub.canonical_model.errors import FatalError, RetriableError
from officehub.connectors.base import Capabilities, Connector, Cursor, ReadBatch, ReadOptions, StreamInfo, WriteMode
from officehub.connectors.files.config import FilesConfig, FileStream
from officehub.connectors.files.local import LocalFile, atomic_write, count_lines, list_files
from officehub.connectors.formats import Where, read_files, render, stream_fields


class FilesConnector(Connector):
    """Files in a folder, grouped into streams by glob pattern."""

    Config = FilesConfig
    config: FilesConfig
    # A batch becomes a file either way; an upsert is honoured as far as a file can be (a re-sent
    # batch replaces its own file). New and changed records arrive in new files, found without a cursor field.
    capabilities = Capabilities(write_modes={WriteMode.APPEND, WriteMode.UPSERT}, deletes=False,
                                incremental=True, cursor_field=False)

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

    def check(self) -> None:
        """FatalError unless the folder exists (or the system lets the first write create it)."""
        if not self.folder.is_dir() and not self.config.create:
            raise FatalError(f"folder {self.folder} does not exist (set create: true to make it at the first write)",
                             system=self.name)

    def _files(self, spec: FileStream) -> list[LocalFile]:
        return list_files(self.folder, spec.pattern, follow_symlinks=self.config.follow_symlinks)

    def discover(self) -> list[StreamInfo]:
        """Each configured stream, with fields from its layout or its first file's header."""
        return [self._stream_info(name, spec) for name, spec in sorted(self.config.streams.items())]

    def _stream_info(self, name: str, spec: FileStream) -> StreamInfo:
        first = next(iter(self._files(spec)), None)
        head = None
        if first is not None and not spec.layout:
            with first.path.open("rb") as handle:
                head = handle.readline(1 << 16)
        return StreamInfo(name, stream_fields(spec, head), kind="files")

    def estimate_rows(self, stream: str) -> int | None:
        """Lines in the stream's files (headers included: it is a guess for a progress bar)."""
        return sum(count_lines(f.path) for f in self._files(self._spec(stream)))

    def read(self, stream: str, cursor: Cursor | None, options: ReadOptions) -> Iterator[ReadBatch]:
        """Batches of every file not read yet (or changed since), resuming mid-file from ``cursor``."""
        self.check()
        spec = self._spec(stream)
        files = self._files(spec)
        yield from read_files(files, spec, cursor, options.batch_size, Where(self.name, stream))

    def write(self, stream: str, batch: pa.RecordBatch, mode: WriteMode, *, key: tuple[str, ...],
              batch_id: str) -> int:
        """One file per batch, named after ``batch_id``; it appears whole or not at all."""
        if mode is WriteMode.DELETE:
            raise FatalError("a drop folder cannot delete records", system=self.name, stream=stream)
        if batch.num_rows == 0:
            return 0
        spec = self._spec(stream)
        # A missing folder is a typo or an unmounted share: creating it would make the publish "succeed".
        self.check()
        self.folder.mkdir(parents=True, exist_ok=True)
        payload = render(batch, spec, self.name, stream)
        name = spec.file_name(stream, batch_id)
        try:
            atomic_write(self.folder / name, payload, self.config.mode)
        except OSError as exc:
            # A full disk or quota frees up; the next run writes the same file name again.
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise RetriableError(f"no space left on the drop folder's disk ({errno.errorcode[exc.errno]}); "
                                     "nothing of this file was left", system=self.name, stream=stream,
                                     position=name) from None
            raise
        return batch.num_rows
