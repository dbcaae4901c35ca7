"""The connector contract: what every vendor-system plugin offers the hub.

A connector is configured by a pydantic model, reads Arrow record batches with
a cursor, and writes Arrow batches in append, upsert or delete mode. It declares
what it can do as data (:class:`Capabilities`), which the contract suite tests
and ``officehub check`` holds pipelines to. The base class does the plumbing so a
plugin stays small.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
from pydantic import BaseModel, ConfigDict

from officehub.arrowsql.modes import WriteMode  # the write modes are the Arrow ↔ SQL layer's (ADR 0016)
from officehub.canonical_model.errors import RecordError

#: A connector's resumable position in a stream; JSON-serialisable.
Cursor = dict[str, Any]


class ConnectorConfig(BaseModel):
    """Base of connector settings; each connector adds its own fields."""

    model_config = ConfigDict(extra="forbid")

    type: str


@dataclass(frozen=True)
class Capabilities:
    """What a connector can do, declared as data on its class (``capabilities = Capabilities(...)``).

    The contract suite tests exactly this declaration, and ``officehub check`` refuses a
    pipeline that asks a system for more, before any run.
    """

    #: Write modes that land records (append, upsert); deleting is declared by ``deletes``.
    write_modes: frozenset[WriteMode] = frozenset()
    #: ``write(..., WriteMode.DELETE, ...)`` removes the records with the batch's keys.
    deletes: bool = False
    #: ``read`` returns the stream's records (False: a destination only).
    reads: bool = True
    #: A read after a saved cursor returns only records added or changed since.
    incremental: bool = False
    #: Changes are found by the mapping's cursor field (``ReadOptions.cursor_field``); without it
    #: the connector keeps its own position (files already read, bundles applied).
    cursor_field: bool = False

    def __post_init__(self) -> None:
        # Accept any iterable of modes or their names, so a declaration reads naturally.
        modes = self.write_modes
        if isinstance(modes, str) or not isinstance(modes, Iterable):
            raise TypeError("write_modes is a set of WriteMode, e.g. {WriteMode.APPEND, WriteMode.UPSERT}")
        object.__setattr__(self, "write_modes", frozenset(WriteMode(m) for m in modes))
        for flag in ("deletes", "reads", "incremental", "cursor_field"):
            if not isinstance(getattr(self, flag), bool):
                raise TypeError(f"Capabilities.{flag} is True or False")
        if WriteMode.DELETE in self.write_modes:
            raise ValueError("declare deletes=True instead of listing WriteMode.DELETE in write_modes")
        if self.incremental and not self.reads:
            raise ValueError("a connector that does not read cannot read incrementally")
        if self.cursor_field and not self.incremental:
            raise ValueError("reading by a cursor field is an incremental read: set incremental=True")

    def accepts(self, mode: WriteMode) -> bool:
        """Whether ``write`` in ``mode`` is declared."""
        return self.deletes if mode is WriteMode.DELETE else mode in self.write_modes

    def within(self, other: Capabilities) -> bool:
        """Whether this declares nothing ``other`` does not (a stream narrows its connector's)."""
        flags = ("deletes", "reads", "incremental", "cursor_field")
        return self.write_modes <= other.write_modes and all(getattr(other, f) or not getattr(self, f) for f in flags)

    def describe_writes(self) -> str:
        """The declared write modes in words, e.g. ``append, upsert; no deletes``."""
        modes = ", ".join(sorted(self.write_modes)) or "no write modes"
        return f"{modes}; {'deletes' if self.deletes else 'no deletes'}"


@dataclass(frozen=True)
class StreamField:
    """One field of a vendor stream as the connector sees it."""

    name: str
    type: str
    nullable: bool = True


@dataclass(frozen=True)
class StreamInfo:
    """A vendor stream (table, view, file family, endpoint) and its fields."""

    name: str
    fields: tuple[StreamField, ...]
    primary_key: tuple[str, ...] = ()
    cursor_candidates: tuple[str, ...] = ()
    kind: str = "table"


@dataclass(frozen=True)
class ReadOptions:
    """What the hub asks of one read: the key, the cursor field, the batch size."""

    key: tuple[str, ...] = ()
    cursor_field: str | None = None
    batch_size: int = 10_000


@dataclass(frozen=True)
class RejectedRow:
    """A row the connector could not even parse (e.g. an undecodable byte)."""

    position: str
    reason: str
    raw: dict[str, Any]


class RejectedRecords(RecordError):
    """A destination refused some records of a write; the others were written.

    Raised by ``Connector.write`` so the hub can quarantine ``rejects`` (position,
    reason, raw record) and count ``written``. Re-sending the batch under the same
    batch id must stay harmless.
    """

    def __init__(self, *, system: str, stream: str, written: int, rejects: list[RejectedRow]) -> None:
        self.written = written
        self.rejects = rejects
        first = rejects[0]
        super().__init__(f"the destination rejected {len(rejects)} record(s), wrote {written}; "
                         f"first: {first.reason}", system=system, stream=stream, position=first.position)


@dataclass
class ReadBatch:
    """A batch of vendor records, where each came from, and the cursor after it.

    ``cursor`` may only be committed once the batch is safely stored.
    """

    batch: pa.RecordBatch
    positions: list[str]
    cursor: Cursor | None
    rejects: list[RejectedRow] = field(default_factory=list)

    @property
    def num_rows(self) -> int:
        """Rows read, parsed or not."""
        return self.batch.num_rows + len(self.rejects)


class Connector(ABC):
    """Base of every connector: subclasses set ``Config`` and implement the four calls."""

    Config: ClassVar[type[ConnectorConfig]]
    #: What the connector can do; every connector declares it. None (a plugin written before
    #: capabilities existed) leaves its pipelines unchecked until the first run.
    capabilities: ClassVar[Capabilities | None] = None
    #: Whether the engine may ask ``read`` for the next batch before the previous one is committed
    #: to the hub store (it prepares the next batch in a thread meanwhile). False for a connector
    #: that acts on a batch once the next is asked for, as the site connector acknowledges a bundle.
    read_ahead: ClassVar[bool] = True

    @classmethod
    def stream_capabilities(cls, config: ConnectorConfig, stream: str) -> Capabilities | None:
        """What the connector can do with ``stream`` as ``config`` sets it up.

        The class's declaration, unless a connector narrows it per stream (a REST stream
        without a delete endpoint cannot delete); never more than the class declares.
        """
        return cls.capabilities

    def __init__(self, name: str, config: ConnectorConfig, base_dir: Path) -> None:
        self.name = name
        self.config = config
        self.base_dir = base_dir

    @abstractmethod
    def check(self) -> None:
        """Raise FatalError or RetriableError unless the system is reachable and usable."""

    @abstractmethod
    def discover(self) -> list[StreamInfo]:
        """The streams this system offers, with their fields."""

    def discover_stream(self, stream: str) -> StreamInfo | None:
        """``stream`` as :meth:`discover` lists it (None if it does not); a connector may find one stream cheaper."""
        return next((info for info in self.discover() if info.name == stream), None)

    @abstractmethod
    def read(self, stream: str, cursor: Cursor | None, options: ReadOptions) -> Iterator[ReadBatch]:
        """Batches of ``stream`` after ``cursor``, each with the cursor to resume after it."""

    @abstractmethod
    def write(self, stream: str, batch: pa.RecordBatch, mode: WriteMode, *, key: tuple[str, ...],
              batch_id: str) -> int:
        """Write ``batch``; return rows written. ``batch_id`` is stable across retries.

        Records the destination refuses one by one are reported by raising
        :class:`RejectedRecords` after the others are written.
        """

    def estimate_rows(self, stream: str) -> int | None:
        """A cheap guess of the number of rows in ``stream``, for progress bars."""
        return None

    def close(self) -> None:
        """Release connections and files."""

    def __enter__(self) -> Connector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
