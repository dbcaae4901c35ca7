"""Files on a local (or mounted) disk: listing them as stream sources and writing them atomically."""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from officehub.connectors.formats import Fetched

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LocalFile:
    """A file in the folder, read in place; ``stat`` is its size and mtime (ns) when it was listed."""

    path: Path
    stat: dict[str, int]

    @property
    def name(self) -> str:
        """The file's name."""
        return self.path.name

    @contextmanager
    def fetch(self) -> Iterator[Fetched]:
        """The file itself (no copy is needed on a local disk) and its sha256."""
        with self.path.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        yield Fetched(self.path, digest)


def list_files(folder: Path, pattern: str, *, follow_symlinks: bool = False) -> list[LocalFile]:
    """Regular files matching ``pattern``; dot-files are uploads still in progress, so they are skipped.

    Unless ``follow_symlinks``, a file that is, or sits under, a symbolic link inside the folder is
    skipped: a link can point anywhere on the host, and a drop folder is all the system may read.
    """
    matches = (p for p in folder.glob(pattern) if p.is_file() and not p.name.startswith("."))
    paths = sorted(p for p in matches if follow_symlinks or not _through_link(folder, p))
    return [LocalFile(p, _stat(p)) for p in paths]


def _through_link(folder: Path, path: Path) -> bool:
    """True if ``path`` or a folder between ``folder`` and it is a symbolic link (logged by name)."""
    relative = path.relative_to(folder)
    steps = [folder.joinpath(*relative.parts[:i]) for i in range(1, len(relative.parts) + 1)]
    if any(step.is_symlink() for step in steps):
        log.warning("skipping %s: it is reached through a symbolic link (set follow_symlinks: true to read it)",
                    relative)
        return True
    return False


def _stat(path: Path) -> dict[str, int]:
    info = path.stat()
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns}


def count_lines(path: Path) -> int:
    """Line breaks in a file, counted in 1 MiB chunks."""
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def atomic_write(path: Path, payload: bytes, mode: int | None = 0o600) -> None:
    """Write to a temporary name in the same folder, fsync, then rename: never a partial file.

    The file gets ``mode`` (private by default, and private while it is written, so a key is never
    readable by others even for a moment); ``None`` gives what the umask allows, as any new file.
    """
    tmp = path.parent / f".{path.name}.{secrets.token_hex(8)}.part"
    # O_EXCL keeps mkstemp's guarantee that the name is ours alone; mkstemp itself always makes 0600.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            if mode is not None and mode != 0o600:
                os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
