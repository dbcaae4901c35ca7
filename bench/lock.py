"""One benchmark at a time: runs share database and table names, so a second run would break the first."""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK = Path(tempfile.gettempdir()) / "officehub-bench.lock"


@contextmanager
def exclusive() -> Iterator[None]:
    """Hold the benchmark lock, or stop with a message if another run holds it."""
    with LOCK.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise SystemExit(f"another benchmark run holds {LOCK} (pid {handle.read().strip() or '?'}); "
                             "wait for it: runs share the bench databases") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
