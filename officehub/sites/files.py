"""Small, crash-safe file operations: atomic JSON state, an exclusive lock per link."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from officehub.connectors.files.local import atomic_write


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` so that a crash leaves the old file or the new one, never half of one.

    The temporary file is created private (0600), so a key is never readable by others,
    not even for a moment; ``mode`` is applied once it is in place.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, data)
    if mode != 0o600:
        os.chmod(path, mode)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    # The rename is durable only once the folder's entry is on disk.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def canonical_json(value: Any) -> bytes:
    """JSON with sorted keys and no spaces: the same value always gives the same bytes (for signatures)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def read_json(path: Path, default: Any = None) -> Any:
    """A JSON file's value, or ``default`` when it does not exist."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default


def write_json(path: Path, value: Any, mode: int = 0o644) -> None:
    """Write a JSON value atomically."""
    write_atomic(path, json.dumps(value, indent=2, sort_keys=True).encode() + b"\n", mode)


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on ``folder`` across processes (publish and exchange may run at once)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
