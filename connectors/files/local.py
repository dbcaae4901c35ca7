"""Files on a local (or mounted) disk: listing them as stream sources and writing them atomically."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from connectors.formats import Fetched


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


def list_files(folder: Path, pattern: str) -> list[LocalFile]:
    """Regular files matching ``pattern``; dot-files are uploads still in progress, so they are skipped."""
    paths = sorted(p for p in folder.glob(pattern) if p.is_file() and not p.name.startswith("."))
    return [LocalFile(p, _stat(p)) for p in paths]


def _stat(path: Path) -> dict[str, int]:
    info = path.stat()
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns}


def count_lines(path: Path) -> int:
    """Line breaks in a file, counted in 1 MiB chunks."""
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def atomic_write(path: Path, payload: bytes) -> None:
    """Write to a temporary name in the same folder, fsync, then rename: never a partial file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
