"""One batch of mapped records on its way into the hub store, as the ingest's steps read it.

The sorting step (:mod:`officehub.engine.ingest_sort`) and the steps that apply each group
(:mod:`officehub.engine.ingest_sole`, :mod:`officehub.engine.ingest_layered`) share these
types: what is stored (:class:`BatchRows`), where (:class:`RecordTarget`), and what storing
it did (:class:`BatchOutcome`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from officehub.engine.golden_writer import GoldenWriter
from officehub.mapping import MappedBatch
from officehub.store import bookkeeping as bk

_UTC = pa.timestamp("us", tz="UTC")


def latest_per_key(keys: list[str]) -> list[int]:
    """Row indexes with the last occurrence of each key: a later row supersedes an earlier one."""
    return sorted({key: i for i, key in enumerate(keys)}.values())


class ChangeTimes:
    """When the source says each mapped row changed (null where it does not say), in UTC."""

    def __init__(self, vendor_ids: list[str], times: pa.Array | None) -> None:
        self._vendor_ids, self._times = vendor_ids, times
        self._by_id: dict[str, datetime] | None = None

    @classmethod
    def unknown(cls) -> ChangeTimes:
        """The source gives no change times."""
        return cls([], None)

    def take(self, indexes: list[int], default: datetime) -> pa.Array:
        """The times of mapped rows ``indexes``, ``default`` where unknown."""
        if self._times is None:
            return pa.array([default] * len(indexes), _UTC)
        return pc.fill_null(self._times.take(pa.array(indexes, pa.int64())), pa.scalar(default, _UTC))

    def get(self, vendor_id: str, default: datetime) -> datetime:
        """The time of ``vendor_id``'s row (its last one in the batch), ``default`` where unknown."""
        if self._times is None:
            return default
        if self._by_id is None:
            self._by_id = {vid: t for vid, t in zip(self._vendor_ids, self._times.to_pylist(), strict=True)
                           if t is not None}
        return self._by_id.get(vendor_id, default)


class Records(Mapping[str, dict[str, Any]]):
    """Some of a batch's records by vendor id, each built as a dict only when something asks for it."""

    def __init__(self, vendor_ids: list[str], columns: dict[str, pa.Array], rows: list[int]) -> None:
        self._columns = columns
        self._values: dict[str, list[Any]] | None = None  # Python lists, made on first use only
        self._row = {vendor_ids[i]: i for i in rows}

    def __getitem__(self, vendor_id: str) -> dict[str, Any]:
        i = self._row[vendor_id]
        if self._values is None:
            self._values = {name: col.to_pylist() for name, col in self._columns.items()}
        return {name: col[i] for name, col in self._values.items()}

    def __iter__(self) -> Iterator[str]:
        return iter(self._row)

    def __len__(self) -> int:
        return len(self._row)


@dataclass
class BatchOutcome:
    """What storing one batch did, counted by record."""

    written: int = 0
    unchanged: int = 0
    linked: int = 0
    added: int = 0  # rows new to the hub's tables (updates do not change the planner's picture)


@dataclass(frozen=True)
class RecordTarget:
    """Where an ingest stores records: the system whose keys they carry, the entity and its writer."""

    system: str
    entity: str
    writer: GoldenWriter
    #: the columns whose hash recognises a record the hub itself wrote to this system (empty: no echo check)
    echo: tuple[str, ...]
    #: the entity's golden columns
    columns: list[str]


@dataclass
class BatchRows:
    """One batch's mapped records with what the store steps need beside their values."""

    mapped: MappedBatch
    positions: list[str]             # of the mapped rows, for the quarantine
    bad: list[bk.Quarantined]        # grows as rows turn out unlinkable
    raw: Callable[[int], dict[str, Any]]  # the vendor row behind mapped row i
    digests: list[str]               # content hash of each mapped row
    times: ChangeTimes

    @property
    def vendor_ids(self) -> list[str]:
        """The vendor id of each mapped row."""
        return self.mapped.vendor_ids

    def ids(self, indexes: list[int]) -> list[str]:
        """The vendor ids of rows ``indexes``."""
        return [self.mapped.vendor_ids[i] for i in indexes]

    def records(self, indexes: list[int]) -> Records:
        """Rows ``indexes`` as records by vendor id."""
        return Records(self.mapped.vendor_ids, self.mapped.columns, indexes)

    @cached_property
    def digest_of(self) -> dict[str, str]:
        """Content hash by vendor id (of the last row of each)."""
        return dict(zip(self.mapped.vendor_ids, self.digests, strict=True))

    def latest(self) -> list[int]:
        """Row indexes with the last occurrence of each vendor id (:func:`latest_per_key`)."""
        return latest_per_key(self.mapped.vendor_ids)

    def unmapped(self, columns: list[str]) -> list[str]:
        """Those of ``columns`` the mapping does not supply (a stored value there is kept)."""
        return [c for c in columns if c not in self.mapped.columns]
