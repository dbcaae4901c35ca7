"""Canonical ids: time-ordered UUIDs (version 7, RFC 9562), so new records append to indexes.

A golden record's id is the key of three indexes on the hub store (the golden table's
primary key, the cross-references and the source copies). Random ids scatter a first
load's inserts over every page of those indexes; ids that grow with time put them at the
right-hand edge, where the pages are already in memory (ADR 0008).

Layout (RFC 9562, section 6.2, method 1): 48 bits of Unix milliseconds, the version, a
26-bit counter that orders ids made in the same millisecond (12 bits in ``rand_a``, 14 at
the top of ``rand_b``), the variant, then 48 random bits so that ids made by separate
processes in the same millisecond do not collide.
"""

from __future__ import annotations

import os
import threading
import time

_COUNTER_BITS = 26
_lock = threading.Lock()
_last_ms = 0
_next = 0


def _claim(count: int) -> tuple[int, int]:
    """A millisecond and the first of ``count`` counter values no earlier call of this process had."""
    global _last_ms, _next
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms > _last_ms:
            _last_ms, _next = ms, 0
        # A clock that stepped back keeps the last millisecond, so ids still grow.
        if _next + count > 1 << _COUNTER_BITS:
            _last_ms, _next = _last_ms + 1, 0
        start = _next
        _next += count
        return _last_ms, start


def new_canonical_ids(count: int) -> list[str]:
    """``count`` new canonical ids, each greater than every id this process made before."""
    if count <= 0:
        return []
    ms, start = _claim(count)
    prefix = f"{ms & 0xFFFF_FFFF_FFFF:012x}"
    head, mid = prefix[:8], prefix[8:]
    noise = os.urandom(6 * count)
    ids = []
    for k in range(count):
        counter = start + k
        low = ((0x8000 | (counter & 0x3FFF)) << 48) | int.from_bytes(noise[6 * k:6 * k + 6], "big")
        tail = f"{low:016x}"
        ids.append(f"{head}-{mid}-{0x7000 | (counter >> 14):04x}-{tail[:4]}-{tail[4:]}")
    return ids


def new_canonical_id() -> str:
    """One new canonical id."""
    return new_canonical_ids(1)[0]
