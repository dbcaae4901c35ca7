"""Files on the SFTP server: listing a stream's files, downloading one, uploading one atomically."""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

import paramiko

from officehub.connectors.formats import Fetched
from officehub.connectors.sftp.session import CONNECTION_ERRORS

#: Read requests in flight while downloading: enough to fill a WAN link, few enough to keep memory flat.
PREFETCH_REQUESTS = 64


@dataclass(frozen=True)
class RemoteFile:
    """A file in the remote folder; its bytes are fetched to a private local temp file to be parsed."""

    sftp: paramiko.SFTPClient
    folder: str
    attrs: paramiko.SFTPAttributes

    @property
    def name(self) -> str:
        """The file's name."""
        return self.attrs.filename

    @property
    def stat(self) -> dict[str, int]:
        """Size and mtime (whole seconds: all SFTP v3 reports), the cheap change detector."""
        return {"size": int(self.attrs.st_size or 0), "mtime": int(self.attrs.st_mtime or 0)}

    @contextmanager
    def fetch(self) -> Iterator[Fetched]:
        """Download to a temp file (hashing on the way); an interrupted download leaves nothing behind."""
        fd, tmp = tempfile.mkstemp(prefix="officehub-sftp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                writer = _HashingWriter(handle)
                self.sftp.getfo(posixpath.join(self.folder, self.name), writer,
                                max_concurrent_prefetch_requests=PREFETCH_REQUESTS)
            yield Fetched(Path(tmp), writer.digest.hexdigest())
        finally:
            Path(tmp).unlink(missing_ok=True)


class ModeRefused(Exception):
    """The server would not set the permissions of an uploaded file."""


def _chmod(sftp: paramiko.SFTPClient, path: str, mode: int) -> None:
    try:
        sftp.chmod(path, mode)
    except OSError as exc:
        # paramiko raises a server's refusal (no SETSTAT, permission denied) as a bare OSError or
        # PermissionError; its subclasses (resets, timeouts) stay connection failures to retry.
        if type(exc) is OSError or isinstance(exc, PermissionError):
            raise ModeRefused from None
        raise


class _HashingWriter:
    """A file-like sink that hashes what passes through it, so a download is read only once."""

    def __init__(self, handle: io.BufferedWriter) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        """Hash, then store, one chunk."""
        self.digest.update(data)
        return self.handle.write(data)


def list_files(sftp: paramiko.SFTPClient, folder: str, pattern: str) -> list[RemoteFile]:
    """Regular files in ``folder`` matching ``pattern``, by name; dot-files are uploads in progress."""
    entries = sftp.listdir_attr(folder)
    return sorted((RemoteFile(sftp, folder, a) for a in entries
                   if stat.S_ISREG(a.st_mode or 0) and not a.filename.startswith(".")
                   and fnmatchcase(a.filename, pattern)), key=lambda f: f.name)


def first_line(sftp: paramiko.SFTPClient, folder: str, name: str) -> bytes:
    """The first line of a remote file (at most 64 KiB), for a header."""
    with sftp.open(posixpath.join(folder, name), "rb") as handle:
        return handle.readline(1 << 16)


def upload_atomic(sftp: paramiko.SFTPClient, folder: str, name: str, payload: bytes,
                  mode: int | None = None) -> None:
    """Upload under a hidden temporary name, check its size, then rename it over ``name`` in one step.

    Readers never see a partial file under ``name``: either the old file or the
    whole new one. A cut upload leaves at most ``.name.part``, which the retry
    truncates and rewrites. ``mode`` (permission bits) is set on the temporary file
    before the rename, so the file never appears under ``name`` with other permissions;
    None leaves them to the server's umask.
    """
    final = posixpath.join(folder, name)
    partial = posixpath.join(folder, f".{name}.part")
    try:
        # putfo stats the upload afterwards and raises if the size is not what was sent.
        sftp.putfo(io.BytesIO(payload), partial, file_size=len(payload), confirm=True)
        if mode is not None:
            _chmod(sftp, partial, mode)
        sftp.posix_rename(partial, final)
    except BaseException:
        with suppress(*CONNECTION_ERRORS):
            sftp.remove(partial)
        raise
