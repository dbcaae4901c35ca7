"""Canonical ids are UUIDv7: unique, and each greater than every id made before it."""

from __future__ import annotations

import threading
import uuid

import pytest

from officehub.store import ids


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch):
    """Sets the time the ids are made at (ns), from a fresh id state; the real state comes back after."""
    monkeypatch.setattr(ids, "_last_ms", 0)
    monkeypatch.setattr(ids, "_next", 0)

    def set_to(*times_ns: int) -> None:
        moments = iter(times_ns)
        monkeypatch.setattr(ids.time, "time_ns", lambda: next(moments))

    return set_to


def test_ids_are_version_7_uuids_in_the_rfc_variant():
    for text in ids.new_canonical_ids(100):
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 7 and parsed.variant == uuid.RFC_4122


def test_ids_grow_across_calls_and_never_repeat():
    made = [cid for _ in range(50) for cid in ids.new_canonical_ids(1000)] + [ids.new_canonical_id()]
    assert made == sorted(made)
    assert len(set(made)) == len(made)


def test_ids_carry_the_time_they_were_made(clock):
    clock(1_767_225_600_123_456_789)  # 2026-01-01T00:00:00.123456789Z
    assert uuid.UUID(ids.new_canonical_id()).int >> 80 == 1_767_225_600_123


def test_a_clock_that_steps_back_does_not_make_smaller_ids(clock):
    clock(2_000_000_000_000_000_000, 1_999_999_999_000_000_000)
    first, second = ids.new_canonical_ids(3), ids.new_canonical_ids(3)
    assert first + second == sorted(first + second)


def test_a_full_millisecond_moves_on_to_the_next(clock, monkeypatch: pytest.MonkeyPatch):
    clock(3_000_000_000_000_000_000, 3_000_000_000_000_000_000)
    first = ids.new_canonical_ids(2)
    monkeypatch.setattr(ids, "_next", (1 << 26) - 1)  # the counter is one short of full
    later = ids.new_canonical_ids(2)
    assert first + later == sorted(first + later)
    assert uuid.UUID(later[0]).int >> 80 == 3_000_000_000_001


def test_threads_making_ids_at_once_never_share_one():
    made: list[list[str]] = [[] for _ in range(4)]

    def work(k: int) -> None:
        for _ in range(200):
            made[k] += ids.new_canonical_ids(50)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [cid for part in made for cid in part]
    assert len(set(every)) == len(every) == 40_000
    assert all(part == sorted(part) for part in made)
