"""Concurrent lookups gathered into batches: each request gets its own answer, a batch fails as one."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping

import pytest

from officehub.canonical_model.errors import RetriableError
from officehub.serve.batching import Batcher


class Recorder:
    """A serve function that answers ``item`` with ``item.upper()`` (except ``missing``) and records each call."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.threads: set[str] = set()
        self.fail = fail

    def __call__(self, items: list[str]) -> Mapping[str, str]:
        self.calls.append(list(items))
        self.threads.add(threading.current_thread().name)
        if self.fail:
            raise RetriableError("the audit trail could not record this operation; nothing was done, try again")
        return {item: item.upper() for item in items if item != "missing"}


def _ask_all(batcher: Batcher, serve: Recorder, items: list[str], kind: str = "records") -> list[object]:
    async def asked() -> list[object]:
        return await asyncio.gather(*(batcher.ask(kind, item, serve) for item in items), return_exceptions=True)

    return asyncio.run(asked())


def test_requests_that_arrive_together_are_served_by_one_call_each_getting_its_own_answer() -> None:
    serve = Recorder()
    answers = _ask_all(Batcher(window=0.05), serve, ["a", "b", "c", "b"])
    assert answers == ["A", "B", "C", "B"]
    assert serve.calls == [["a", "b", "c", "b"]]
    assert threading.main_thread().name not in serve.threads  # the store is never read on the event loop


def test_an_item_the_batch_did_not_find_fails_only_its_own_request() -> None:
    serve = Recorder()
    assert _ask_all(Batcher(window=0.05), serve, ["a", "missing", "c"]) == ["A", None, "C"]
    assert len(serve.calls) == 1


def test_a_failing_batch_fails_each_of_its_requests_with_the_same_error() -> None:
    serve = Recorder(fail=True)
    answers = _ask_all(Batcher(window=0.05), serve, ["a", "b", "c"])
    assert len(serve.calls) == 1
    assert all(isinstance(a, RetriableError) for a in answers)
    assert len({str(a) for a in answers}) == 1 and "\n" not in str(answers[0])


def test_a_batch_holds_at_most_max_batch_requests_and_the_rest_follow() -> None:
    serve = Recorder()
    items = [f"i{n}" for n in range(10)]
    answers = _ask_all(Batcher(window=0.05, max_batch=4, in_flight=1), serve, items)
    assert answers == [i.upper() for i in items]
    assert [len(c) for c in serve.calls] == [4, 4, 2]
    assert [i for c in serve.calls for i in c] == items


def test_requests_of_different_kinds_never_share_a_batch() -> None:
    serve = Recorder()
    batcher = Batcher(window=0.05)

    async def asked() -> list[object]:
        return await asyncio.gather(batcher.ask(("records", "shop"), "a", serve),
                                    batcher.ask(("records", "kiosk"), "a", serve),
                                    batcher.ask(("records", "shop"), "b", serve))

    assert asyncio.run(asked()) == ["A", "A", "B"]
    assert sorted(serve.calls) == [["a"], ["a", "b"]]


def test_a_lone_request_is_served_after_the_window_and_the_batcher_keeps_nothing_afterwards() -> None:
    serve = Recorder()
    batcher = Batcher(window=0.001)
    assert _ask_all(batcher, serve, ["a"]) == ["A"]
    assert _ask_all(batcher, serve, ["b"]) == ["B"]
    assert serve.calls == [["a"], ["b"]]
    assert not batcher._kinds


@pytest.mark.parametrize("in_flight", [1, 2])
def test_under_steady_load_every_request_is_answered_once(in_flight: int) -> None:
    serve = Recorder()
    batcher = Batcher(window=0.001, max_batch=8, in_flight=in_flight)

    async def load() -> list[object]:
        async def client(n: int) -> list[object]:
            return [await batcher.ask("records", f"c{n}-{k}", serve) for k in range(20)]

        return await asyncio.gather(*(client(n) for n in range(12)))

    answers = asyncio.run(load())
    assert answers == [[f"C{n}-{k}" for k in range(20)] for n in range(12)]
    assert sorted(i for c in serve.calls for i in c) == sorted(f"c{n}-{k}" for n in range(12) for k in range(20))
    assert max(len(c) for c in serve.calls) > 1
