"""The general reader: one keyset query streamed through SQLAlchemy with a server-side cursor.

It works for every database SQLAlchemy reaches (SQLite, SQL Server, Oracle, …) and
is the fallback of the Arrow-native readers. Memory stays flat because the driver
hands rows over ``batch_size`` at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from officehub.arrowsql.arrow_rows import rows_to_batch
from officehub.arrowsql.keyset import Keyset


def read_rows(engine: sa.Engine, keyset: Keyset, after: Sequence[Any] | None, batch_size: int,
              types: Mapping[str, pa.DataType | None]) -> Iterator[pa.RecordBatch]:
    """Batches of the keyset's table after ``after``, typed as ``types`` declares."""
    with engine.connect() as conn:
        streaming = conn.execution_options(stream_results=True, yield_per=batch_size)
        result = streaming.execute(keyset.select(after))
        names = list(result.keys())
        for rows in result.partitions():
            yield rows_to_batch(names, rows, types)
