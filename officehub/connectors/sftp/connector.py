"""The sftp connector: the files connector's streams, on a remote SFTP server.

One connection per connector, opened on first use and replaced if the server
dropped it. Reads download each new or changed file to a private temp file and
parse it there; the cursor is the same as the files connector's (see
``officehub.connectors.formats.incremental``). Writes upload under a hidden name and
rename it into place, so a file appears whole or not at all.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator

import paramiko
import pyarrow as pa

from officehub.canonical_model.errors import FatalError
from officehub.connectors.base import Capabilities, Connector, Cursor, ReadBatch, ReadOptions, StreamInfo, WriteMode
from officehub.connectors.formats import FileStream, Where, read_files, render, stream_fields
from officehub.connectors.sftp import remote
from officehub.connectors.sftp.config import SftpConfig
from officehub.connectors.sftp.session import Session, connect, translated


class SftpConnector(Connector):
    """File families in a folder on an SFTP server."""

    Config = SftpConfig
    config: SftpConfig
    # As the files connector: one file per batch, no deletes, new files found without a cursor field.
    capabilities = Capabilities(write_modes={WriteMode.APPEND, WriteMode.UPSERT}, deletes=False,
                                incremental=True, cursor_field=False)
    _session: Session | None = None

    def _sftp(self) -> paramiko.SFTPClient:
        """The open SFTP client; a connection the server dropped is replaced by a new one."""
        if self._session is not None and not self._session.alive():
            self.close()
        if self._session is None:
            self._session = connect(self.config, self.base_dir, self.name)
        return self._session.sftp

    def _spec(self, stream: str) -> FileStream:
        try:
            return self.config.streams[stream]
        except KeyError:
            raise FatalError("no such stream in the system's config", system=self.name, stream=stream) from None

    def check(self) -> None:
        """Connect, verify the host key, log in, and find the folder."""
        with translated(self.name):
            self._folder_exists(self._sftp())

    def _folder_exists(self, sftp: paramiko.SFTPClient) -> None:
        try:
            attrs = sftp.stat(self.config.folder)
        except FileNotFoundError:
            attrs = None
        if attrs is None or not stat.S_ISDIR(attrs.st_mode or 0):
            raise FatalError(f"remote folder {self.config.folder} does not exist (the hub never creates a "
                             "remote drop folder: check the path or the share)", system=self.name)

    def discover(self) -> list[StreamInfo]:
        """Each configured stream, with fields from its layout or its first file's header."""
        with translated(self.name):
            sftp = self._sftp()
            return [self._stream_info(sftp, name, spec) for name, spec in sorted(self.config.streams.items())]

    def _stream_info(self, sftp: paramiko.SFTPClient, name: str, spec: FileStream) -> StreamInfo:
        head = None
        if not spec.layout:
            files = self._files(sftp, spec)
            head = remote.first_line(sftp, self.config.folder, files[0].name) if files else None
        return StreamInfo(name, stream_fields(spec, head), kind="files")

    def _files(self, sftp: paramiko.SFTPClient, spec: FileStream) -> list[remote.RemoteFile]:
        self._folder_exists(sftp)
        return remote.list_files(sftp, self.config.folder, spec.pattern)

    def read(self, stream: str, cursor: Cursor | None, options: ReadOptions) -> Iterator[ReadBatch]:
        """Batches of every remote file not read yet (or changed since), resuming mid-file from ``cursor``."""
        spec = self._spec(stream)
        with translated(self.name, stream):
            files = self._files(self._sftp(), spec)
            yield from read_files(files, spec, cursor, options.batch_size, Where(self.name, stream))

    def write(self, stream: str, batch: pa.RecordBatch, mode: WriteMode, *, key: tuple[str, ...],
              batch_id: str) -> int:
        """One file per batch, named after ``batch_id``, renamed into place once complete."""
        if mode is WriteMode.DELETE:
            raise FatalError("an SFTP drop folder cannot delete records", system=self.name, stream=stream)
        if batch.num_rows == 0:
            return 0
        spec = self._spec(stream)
        payload = render(batch, spec, self.name, stream)
        with translated(self.name, stream):
            try:
                remote.upload_atomic(self._sftp(), self.config.folder, spec.file_name(stream, batch_id), payload,
                                     self.config.mode)
            except FileNotFoundError:
                # A drop folder that is not there (a typo, an unmounted share) fails the run; it is
                # never created, and it is not a file that vanished mid-read, so no retry helps.
                self._folder_exists(self._sftp())
                raise
            except remote.ModeRefused:
                raise FatalError(f"the server refused to set file_mode {self.config.file_mode} on the written "
                                 "file; remove file_mode to leave permissions to the server", system=self.name,
                                 stream=stream) from None
        return batch.num_rows

    def close(self) -> None:
        """Close the connection, if one is open."""
        if self._session is not None:
            self._session.close()
            self._session = None
