"""The background reader that overlaps a pipeline's reading with its writing."""

from __future__ import annotations

import threading
import time

import pytest

from officehub.engine.prefetch import prefetched


def test_items_arrive_in_order_and_are_produced_in_another_thread():
    threads = []

    def produce():
        for i in range(50):
            threads.append(threading.current_thread().name)
            yield i

    assert list(prefetched(produce())) == list(range(50))
    assert set(threads) == {"officehub-prefetch"}


def test_the_producer_stays_at_most_depth_items_ahead():
    produced = []

    def produce():
        for i in range(10):
            produced.append(i)
            yield i

    items = prefetched(produce(), depth=2)
    assert next(items) == 0
    time.sleep(0.3)  # ample time for the producer to run ahead as far as it may
    # One handed out, two waiting in the queue, one more made and blocked on the full queue:
    # the producer ran ahead of the consumer, but no further than the queue allows.
    assert 3 <= len(produced) <= 4
    items.close()


def test_an_error_while_producing_is_raised_at_the_item_it_replaced():
    def produce():
        yield 1
        yield 2
        raise RuntimeError("source went away")

    got = []
    with pytest.raises(RuntimeError, match="source went away"):
        for item in prefetched(produce()):
            got.append(item)
    assert got == [1, 2]


def test_a_consumer_that_fails_stops_the_producer_and_its_cleanup_runs():
    closed = threading.Event()

    def produce():
        try:
            for i in range(1_000_000):
                yield i
        finally:
            closed.set()

    with pytest.raises(ValueError):
        for item in prefetched(produce()):
            if item == 3:
                raise ValueError("the destination refused the batch")
    assert closed.wait(2), "the source's cleanup did not run"
