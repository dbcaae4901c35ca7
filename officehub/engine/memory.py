"""Keeping a long sync's memory flat: freed batch memory goes back to the operating system.

A sync allocates and frees the same few megabytes per batch thousands of times. Arrow's
default allocator (mimalloc) keeps freed pages for reuse, and glibc gives every thread
that allocates (the prefetch thread, the database drivers' threads) an arena of its
own; both show up as resident memory that never shrinks. Measured on the benchmark at
100k rows: 331 MB peak with the defaults, 260 MB with Arrow on the system allocator and
at most two glibc arenas, at the same speed. ADR 0007 records the choice.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import pyarrow as pa

log = logging.getLogger(__name__)

#: glibc's mallopt parameters (malloc.h): the number of malloc arenas, and the size from
#: which a block gets its own mapping. Fixing the latter stops glibc from raising it after
#: each large free, which would leave batch-sized buffers in the heap, where freed memory
#: is rarely given back.
_M_ARENA_MAX, _M_MMAP_THRESHOLD = -8, -3
_ARENAS = 2
_MMAP_FROM_BYTES = 256 * 1024
_applied = False


def keep_memory_flat() -> None:
    """Put Arrow on the system allocator and cap glibc's arenas, once per process.

    Operators can opt out with ``ARROW_DEFAULT_MEMORY_POOL`` (Arrow's own setting, which
    then wins) or ``MALLOC_ARENA_MAX`` (glibc's, likewise).
    """
    global _applied
    if _applied:
        return
    _applied = True
    if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
        pa.set_memory_pool(pa.system_memory_pool())
    if "MALLOC_ARENA_MAX" not in os.environ:
        _cap_arenas()


def give_back_free_memory() -> None:
    """Hand memory freed by a finished pipeline back to the operating system.

    Between pipelines of one sync: the next one (a publish after an ingest) then starts
    from what is really in use, not from the last one's high-water mark.
    """
    gc.collect()
    pa.default_memory_pool().release_unused()
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


@contextmanager
def settled_heap() -> Iterator[None]:
    """Keep Python's cyclic garbage collector off the objects a sync starts with.

    A batch makes and drops tens of thousands of small objects (rows, dicts, keys), so
    the collector runs often, and each pass over its oldest generation walks every object
    the process holds: the hundred thousand or so that the imported libraries, the project
    and the compiled pipelines consist of, none of which a sync frees. Freezing them
    (after collecting what is already garbage) takes them out of every pass; unfreezing
    at the end hands them back, so a long-lived process that runs many syncs still
    collects what each one leaves behind. Reference counting frees batch memory as before;
    only the search for cycles changes. Nested use unfreezes at the innermost exit.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@cache
def _glibc() -> ctypes.CDLL | None:
    """The C library this process runs on, if it is glibc (musl and macOS lack these calls)."""
    try:
        libc = ctypes.CDLL(None)  # the symbols already loaded: no search of the library path
        libc.mallopt, libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def _cap_arenas() -> None:
    libc = _glibc()
    if libc is None:  # not glibc: nothing to cap
        return
    mallopt = libc.mallopt
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    if not (mallopt(_M_ARENA_MAX, _ARENAS) and mallopt(_M_MMAP_THRESHOLD, _MMAP_FROM_BYTES)):
        log.debug("mallopt refused; memory arenas stay as glibc sets them")
