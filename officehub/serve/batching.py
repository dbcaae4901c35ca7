"""Concurrent API reads of one server process, gathered into batches that a single transaction serves.

A lookup by id costs a transaction, a plan application and an audit append whatever the
number of records it reads; almost all of that is the same for one record or fifty. So
requests of the same kind (client, entity, what they look up by) that arrive together wait
a moment (:data:`WINDOW_SECONDS`, or until :data:`MAX_BATCH` are waiting) and are served by
one call of the service in a worker thread: one read, one plan application, one audit entry
naming every id of the batch, one commit. Each request then gets its own record, or None
(its own 404). Nothing is handed to a request before the batch's transaction committed; when
the batch fails, every request of it fails with the same error.

Audit entries of other reads (searches, fuzzy searches, the changes feed) are gathered the same
way (:class:`AuditWriter`): each request reads in its own transaction and keeps its entry; the
entries that arrive together are appended in one transaction, one wait for the chain's head and
one commit for all, and each request answers once its entry is committed.

While a batch of a kind is being served, at most :data:`IN_FLIGHT` per kind, new requests of
that kind gather for the next one, so under load batches grow by themselves and the window
only matters when the server is quiet.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from officehub.services.session import Reading, reading
from officehub.store import audit
from officehub.store.hub import HubStore

T = TypeVar("T")

#: How long the first request of a batch waits for others to join it.
WINDOW_SECONDS = 0.002
#: Requests in one batch at most (the audit entry names every id of a batch: keep it under its limit).
MAX_BATCH = 64
#: Batches of one kind served at once: one, so that what arrives meanwhile gathers for the next (two made
#: smaller batches and fewer answers a second).
IN_FLIGHT = 1

Serve = Callable[[list[Any]], Mapping[Any, Any]]


@dataclass
class _Kind:
    """The requests of one kind waiting for a batch, and the batches of it being served."""

    serve: Serve
    waiting: list[tuple[Hashable, asyncio.Future[Any]]] = field(default_factory=list)
    running: int = 0
    timer: asyncio.TimerHandle | None = None


class Batcher:
    """Gathers concurrent requests by kind and serves each gathering with one call (see the module's docstring)."""

    def __init__(self, *, window: float = WINDOW_SECONDS, max_batch: int = MAX_BATCH,
                 in_flight: int = IN_FLIGHT) -> None:
        self.window, self.max_batch, self.in_flight = window, max_batch, in_flight
        self._kinds: dict[tuple[int, Hashable], _Kind] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def ask(self, kind: Hashable, item: Hashable, serve: Serve) -> Any:
        """The answer to ``item``, from ``serve`` called (in a worker thread) with the items of ``kind``
        waiting with it; None when its answer has no entry for ``item``.

        ``serve`` is called with a list of items (repeated when two requests ask the same) and
        returns the answer of each it found; requests of one kind must be interchangeable
        for it (the same client, entity and kind of lookup). Its exception is raised for
        every request of the batch.
        """
        loop = asyncio.get_running_loop()
        key = (id(loop), kind)
        waiting = self._kinds.get(key)
        if waiting is None:
            waiting = self._kinds[key] = _Kind(serve)
        future: asyncio.Future[Any] = loop.create_future()
        waiting.waiting.append((item, future))
        self._next(loop, key, waiting)
        return await future

    def _next(self, loop: asyncio.AbstractEventLoop, key: tuple[int, Hashable], kind: _Kind) -> None:
        """Start a batch of ``kind`` if one is due and a slot is free; else make sure one will start."""
        if not kind.waiting:
            if kind.running == 0 and kind.timer is None:
                del self._kinds[key]
            return
        if kind.running >= self.in_flight:
            return  # the end of a running batch starts the next one
        if len(kind.waiting) >= self.max_batch or self.window <= 0:
            self._start(loop, key, kind)
        elif kind.timer is None:
            kind.timer = loop.call_later(self.window, self._due, loop, key, kind)

    def _due(self, loop: asyncio.AbstractEventLoop, key: tuple[int, Hashable], kind: _Kind) -> None:
        kind.timer = None
        if kind.waiting and kind.running < self.in_flight:
            self._start(loop, key, kind)
        else:
            self._next(loop, key, kind)

    def _start(self, loop: asyncio.AbstractEventLoop, key: tuple[int, Hashable], kind: _Kind) -> None:
        if kind.timer is not None:
            kind.timer.cancel()
            kind.timer = None
        batch, kind.waiting = kind.waiting[:self.max_batch], kind.waiting[self.max_batch:]
        kind.running += 1
        task = loop.create_task(self._serve(loop, key, kind, batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, loop: asyncio.AbstractEventLoop, key: tuple[int, Hashable], kind: _Kind,
                     batch: list[tuple[Hashable, asyncio.Future[Any]]]) -> None:
        try:
            answers = await asyncio.to_thread(kind.serve, [item for item, _ in batch])
        except Exception as exc:  # noqa: BLE001 - the batch's failure is each of its requests' failure
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
        else:
            for item, future in batch:
                if not future.done():
                    future.set_result(answers.get(item))
        finally:
            kind.running -= 1
            self._next(loop, key, kind)


class AuditWriter:
    """Appends the audit entries of concurrent reads together (see the module's docstring)."""

    def __init__(self, batcher: Batcher, append: Callable[[list[audit.Entry]], None]) -> None:
        self.batcher, self._append = batcher, append

    async def write(self, entries: list[audit.Entry]) -> None:
        """Return once ``entries`` are committed to the audit trail (with whatever else was waiting)."""
        await asyncio.gather(*(self.batcher.ask("audit", entry, self._serve) for entry in entries))

    def _serve(self, entries: list[audit.Entry]) -> Mapping[Any, Any]:
        self._append(entries)
        return {}


#: Reads one process computes at once (:func:`audited_read`); the others wait their turn, first come first served.
READS_AT_ONCE = 2


class ReadTurns:
    """Turns for reads that mostly compute (a fuzzy search ranks a hundred candidates in Python).

    Sixteen of them in sixteen threads share the processor and the interpreter lock, so each
    takes sixteen times its own time and all finish late together; taken in turns, two at a
    time (one computing while the other waits for the database), each finishes in its own time
    after those before it: the same throughput with a fraction of the slowest answers' latency.
    """

    def __init__(self, at_once: int = READS_AT_ONCE) -> None:
        self.at_once = at_once
        self._turns: dict[int, asyncio.Semaphore] = {}

    def turn(self) -> asyncio.Semaphore:
        """This event loop's turns (a semaphore belongs to one loop; tests run apps on several)."""
        loop = id(asyncio.get_running_loop())
        if loop not in self._turns:
            self._turns[loop] = asyncio.Semaphore(self.at_once)
        return self._turns[loop]


async def audited_read(hub_store: HubStore, writer: AuditWriter, turns: ReadTurns, actor: str,
                       read: Callable[[Reading], T]) -> T:
    """``read`` in a read transaction as ``actor`` (in a worker thread, in its turn), its audit entries then
    appended through ``writer``; its result only once they are committed."""
    def run() -> tuple[T, list[audit.Entry]]:
        with reading(hub_store, actor) as ctx:
            return read(ctx), ctx.entries

    async with turns.turn():
        result, entries = await asyncio.to_thread(run)
    await writer.write(entries)
    return result
