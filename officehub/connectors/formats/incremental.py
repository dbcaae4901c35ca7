"""Reading a family of files once each, resumable mid-file: the cursor both file connectors share.

The cursor remembers every file already read by its fingerprint (size, mtime,
sha256) and how many rows of the current file are stored. A file whose size or
mtime moved is hashed again: same content → only the fingerprint is updated;
new content → a warning naming the file, and the file is read again. Files that
are gone from the listing are forgotten, so the cursor stays as small as the folder.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, closing
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Protocol

from officehub.canonical_model.errors import FatalError
from officehub.connectors.base import Cursor, ReadBatch, RejectedRow
from officehub.connectors.formats.batches import to_batch
from officehub.connectors.formats.dispatch import parse
from officehub.connectors.formats.spec import FileStream
from officehub.connectors.formats.text import FormatProblem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fetched:
    """A file's bytes available locally, and their sha256."""

    path: Path
    sha256: str


class SourceFile(Protocol):
    """One file of a stream as a connector lists it."""

    @property
    def name(self) -> str:
        """The file's name (no folder)."""

    @property
    def stat(self) -> dict[str, int]:
        """What cheaply tells a change: size and mtime, as JSON-able ints."""

    def fetch(self) -> AbstractContextManager[Fetched]:
        """The file's bytes as a local file for the duration of the ``with`` block."""


@dataclass
class _State:
    """Files done (name → fingerprint) and the file in progress; the cursor's content."""

    done: dict[str, dict[str, Any]]
    current: dict[str, Any] | None

    @classmethod
    def load(cls, cursor: Cursor | None, present: set[str]) -> _State:
        """The state a cursor describes, forgetting files no longer ``present``."""
        cursor = cursor or {}
        done = {name: fp for name, fp in (cursor.get("done") or {}).items() if name in present}
        return cls(done, cursor.get("current"))

    def cursor(self) -> Cursor:
        """A JSON-able snapshot, safe to keep while the state moves on."""
        return {"done": dict(self.done), "current": dict(self.current) if self.current else None}


@dataclass
class Where:
    """Whose stream is read, for log lines."""

    system: str
    stream: str

    def warn(self, name: str, what: str) -> None:
        """Log a warning about one file, naming the file only: its content may be sensitive."""
        log.warning("system '%s' stream '%s': file %s %s", self.system, self.stream, name, what)


def read_files(files: Iterable[SourceFile], spec: FileStream, cursor: Cursor | None, batch_size: int,
               where: Where) -> Iterator[ReadBatch]:
    """Batches of every new or changed file in name order, each with the cursor to resume after it."""
    ordered = sorted(files, key=lambda f: f.name)
    state = _State.load(cursor, {f.name for f in ordered})
    for source in ordered:
        seen = state.done.get(source.name)
        if seen is not None and _quick(seen) == source.stat:
            continue
        with source.fetch() as fetched:
            fingerprint = {**source.stat, "sha256": fetched.sha256}
            if seen is not None and seen.get("sha256") == fetched.sha256:
                state.done[source.name] = fingerprint  # touched, not changed: nothing to read
                yield _Pending(spec).flush(state)
                continue
            if seen is not None:
                where.warn(source.name, "changed after it was read; reading it again")
            try:
                yield from _read_file(fetched, source.name, fingerprint, spec, state, batch_size, where)
            except FormatProblem as problem:
                # Only a file the format cannot read at all (its header) gets here; rows are rejected alone.
                raise FatalError(str(problem), system=where.system, stream=where.stream) from None


def _quick(fingerprint: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fingerprint.items() if k != "sha256"}


def _resume_at(state: _State, name: str, sha256: str, where: Where) -> int:
    current = state.current or {}
    if current.get("file") != name:
        return 0
    if current.get("sha256", sha256) != sha256:
        where.warn(name, "changed while it was being read; reading it again from the start")
        return 0
    return int(current.get("rows", 0))


def _read_file(fetched: Fetched, name: str, fingerprint: dict[str, Any], spec: FileStream, state: _State,
               batch_size: int, where: Where) -> Iterator[ReadBatch]:
    skip = _resume_at(state, name, fetched.sha256, where)
    pending = _Pending(spec)
    with fetched.path.open("rb") as handle, closing(parse(handle, name, spec)) as items:
        for consumed, item in enumerate(islice(items, skip, None), start=skip + 1):
            pending.add(item, name)
            if len(pending) >= batch_size:
                state.current = {"file": name, "sha256": fetched.sha256, "rows": consumed}
                yield pending.flush(state)
    state.done[name] = fingerprint
    state.current = None
    yield pending.flush(state)


@dataclass
class _Pending:
    """Rows collected for the next batch."""

    spec: FileStream
    rows: list[dict[str, Any]] = field(default_factory=list)
    positions: list[str] = field(default_factory=list)
    rejects: list[RejectedRow] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows) + len(self.rejects)

    def add(self, item: Any, name: str) -> None:
        """Collect a parsed row (with its position) or a reject."""
        if isinstance(item, RejectedRow):
            self.rejects.append(item)
        else:
            self.rows.append(item.values)
            self.positions.append(f"{name}:{item.line}")

    def flush(self, state: _State) -> ReadBatch:
        """The collected rows as a batch carrying the cursor after them; starts collecting anew."""
        batch = ReadBatch(to_batch(self.rows, self.spec), self.positions, state.cursor(), self.rejects)
        self.rows, self.positions, self.rejects = [], [], []
        return batch
