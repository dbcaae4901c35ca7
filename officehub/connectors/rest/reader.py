"""Turning pages of JSON records into read batches, each with the cursor to resume after it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from officehub.connectors.base import ReadBatch, RejectedRow
from officehub.connectors.jsonable import jsonable
from officehub.connectors.rest.incremental import Progress
from officehub.connectors.rest.pagination import PageState
from officehub.connectors.rest.records import flatten, to_batch


@dataclass(frozen=True)
class Page:
    """One answer's records, its number in this read, and where the next page is."""

    number: int
    records: list[Any]
    next: PageState | None


@dataclass
class _Pending:
    rows: list[dict] = field(default_factory=list)
    positions: list[str] = field(default_factory=list)
    rejects: list[RejectedRow] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows) + len(self.rejects)


@dataclass(frozen=True)
class RecordReader:
    """How records become rows: the key, the cursor field and the flattening separator."""

    key: tuple[str, ...]
    cursor_field: str | None
    separator: str
    batch_size: int

    def batches(self, pages: Iterable[Page], progress: Progress) -> Iterator[ReadBatch]:
        """Whole pages gathered into batches of at least ``batch_size`` rows (the last may be smaller).

        A batch ends on a page boundary so that its cursor can name the next page.
        The last batch is yielded even when empty, so the cursor reaches the end of the read.
        """
        pending = _Pending()
        for page in pages:
            for index, record in enumerate(page.records):
                self._take(record, page.number, index, progress, pending)
            progress.page = page.next
            if len(pending) >= self.batch_size or page.next is None:
                yield ReadBatch(to_batch(pending.rows), pending.positions, progress.cursor(), pending.rejects)
                pending = _Pending()

    def _take(self, record: Any, page: int, index: int, progress: Progress, pending: _Pending) -> None:
        if not isinstance(record, dict):
            pending.rejects.append(RejectedRow(f"page {page} item {index}", "the record is not a JSON object",
                                               {"record": jsonable(record)}))
            return
        try:
            row = flatten(record, self.separator)
        except RecursionError:  # flattening goes one call deeper per nested object
            pending.rejects.append(RejectedRow(f"page {page} item {index}", "the record is nested too deeply to read",
                                               {"record": "(not kept: nested too deeply)"}))
            return
        key = tuple(row.get(k) for k in self.key)
        value = row.get(self.cursor_field) if self.cursor_field else None
        if not progress.admit(value, key):
            return
        pending.rows.append(row)
        known = self.key and all(v is not None for v in key)
        pending.positions.append(f"key {'/'.join(str(v) for v in key)}" if known else f"page {page} item {index}")
