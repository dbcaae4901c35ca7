"""Arrow-native reads: keyset pages fetched straight into Arrow by a database's fast driver.

Each page is one ``SELECT … WHERE (cursor, key) > (last) ORDER BY cursor, key LIMIT n``,
so memory holds one page whatever the table's size. The drivers (connectorx, ADBC)
live in their own modules; this one pages and gives every column its declared type.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

import pyarrow as pa
import sqlalchemy as sa

from officehub.arrowsql.keyset import Keyset

#: Runs one page query and returns its rows as Arrow.
PageFetcher = Callable[[sa.Select], pa.Table]


class UnfitStream(Exception):
    """The fast reader cannot serve this stream (a value or type it does not carry faithfully)."""


class FastReader(Protocol):
    """A driver that reads pages straight into Arrow."""

    name: str

    def supports(self, types: Mapping[str, pa.DataType | None]) -> bool:
        """Whether every column comes out faithfully as its declared type."""

    def pages(self) -> AbstractContextManager[PageFetcher]:
        """A page fetcher, open for the length of one read."""


def read_pages(fetch: PageFetcher, keyset: Keyset, after: Sequence[Any] | None, batch_size: int,
               types: Mapping[str, pa.DataType]) -> Iterator[pa.RecordBatch]:
    """Batches of the keyset's table after ``after``, one page query each."""
    while True:
        page = conform(fetch(keyset.select(after, limit=batch_size)), types)
        if page.num_rows:
            yield page
        if page.num_rows < batch_size:
            return
        after = keyset.last_values(page)


def conform(table: pa.Table, types: Mapping[str, pa.DataType]) -> pa.RecordBatch:
    """The page's columns in table order, each cast to its declared type.

    The same declared types are what the general reader produces, so a stream looks
    the same whichever path read it. A value that does not survive the cast
    unchanged raises UnfitStream rather than arriving altered.
    """
    return pa.RecordBatch.from_arrays([_as_type(table.column(name), t) for name, t in types.items()],
                                      names=list(types))


def _as_type(column: pa.ChunkedArray, arrow_type: pa.DataType) -> pa.Array:
    array = column.combine_chunks()
    if isinstance(array.type, pa.BaseExtensionType):
        array = array.storage  # ADBC hands NUMERIC over as exact text in an opaque extension type
    try:
        return array.cast(arrow_type)  # safe cast: overflow or lost digits raise
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise UnfitStream(f"{array.type} does not cast to {arrow_type}") from exc
