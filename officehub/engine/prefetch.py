"""Overlapping a pipeline's reading with its writing: the next batch is prepared in a thread.

A batch's time is split between work in this process (decoding, mapping, hashing) and
waiting for a database to take what was sent (COPY, upserts). Preparing batch N+1 in a
background thread while batch N is being written keeps both busy: the waiting releases
the interpreter lock, and so do connectorx, Arrow compute and the database drivers'
network I/O. Order is kept; at most ``depth`` prepared batches wait, so memory stays flat.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetched(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """Yield what ``items`` yields, producing up to ``depth`` items ahead in a background thread.

    An exception raised while producing is raised here, at the item it replaced. When the
    consumer stops early (an error while writing, or a ``break``), the producer is told to
    stop, and ``items`` is closed in its own thread so its ``finally`` blocks run.
    """
    waiting: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                waiting.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer(item):
                    return
            offer(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, never lost
            offer(_Failed(exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    # The producer sees the consumer's context variables (the run being traced, officehub.engine.tracing).
    worker = threading.Thread(target=contextvars.copy_context().run, args=(produce,), name="officehub-prefetch",
                              daemon=True)
    worker.start()
    try:
        while True:
            item = waiting.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()
