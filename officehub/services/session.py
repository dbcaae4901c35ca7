"""One hub-store transaction with its actor: what a service's reads and its audit entry share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from officehub.engine.context import RunContext
from officehub.store.hub import HubStore


@contextmanager
def acting(store: HubStore, actor: str) -> Iterator[RunContext]:
    """A transaction on ``store`` as ``actor``, committed when the block ends and rolled back on an error.

    An operation outside a run has no run id; its audit entry and its reads commit together.
    """
    with store.begin() as conn:
        yield RunContext(conn, actor)
