"""Killing an `officehub` process at a chosen point of its progress, and the state a run leaves.

A kill point is a number of progress units (records read and written by the runs a command
started, bytes a site exchange put at its peer, ...): the command is started in a subprocess,
its progress polled, and the process SIGKILLed once it reached the point. The state a test
compares after the rerun is the hub store's tables without their volatile columns, canonical
ids named by their sources (:func:`tests.helpers.canonical_names`), and the destinations' output.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from tests.helpers import canonical_names, named, named_files, table_rows

# content_hash is left out too: it is computed from the values compared here, and a child row's
# hash covers its parent's canonical id, which is new in each hub store.
VOLATILE = ("updated_at", "created_at", "run_id", "resolved_run_id", "id", "changed_at", "seen_run", "deleted_at",
            "purge_after", "content_hash", "sole_changed_at", "sole_seen_run")
# What records the runs themselves (their ids, timings and counts differ between a killed run
# and an uninterrupted one) rather than the records a run moved.
BOOKKEEPING = ("run", "checkpoint", "audit", "audit_checkpoint", "alembic_version", "hub_model")
POLL_S = 0.005
Progress = Callable[[], int]


def hub_state(url: str) -> dict[str, list[tuple]]:
    """The hub store's tables (bookkeeping left out), volatile columns dropped, canonical ids named."""
    tables = table_rows(url, ignore=VOLATILE)
    for bookkeeping in BOOKKEEPING:
        tables.pop(bookkeeping, None)
    return named(tables, canonical_names(url))


def output_state(folder: Path, hub_url: str) -> dict[str, object]:
    """Every file under ``folder``: a SQLite database by its tables, any other file by its bytes;
    canonical ids named by ``hub_url``'s sources."""
    names = canonical_names(hub_url)
    out: dict[str, object] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        key = str(path.relative_to(folder))
        if path.suffix == ".db":
            out[key] = named(table_rows(f"sqlite:///{path}"), names)
        elif path.suffix not in (".db-wal", ".db-shm", ".db-journal"):
            data = path.read_bytes()
            try:
                out[key] = named_files({key: data}, names)[key]
            except UnicodeDecodeError:  # a legacy export in another encoding holds no canonical id
                out[key] = data
    return out


def files_state(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by its relative path (a missing folder holds none).

    A killed writer's temporary file (hidden, ``.NAME.<random>.part``) is left out: it is never
    renamed into place, and every reader of these folders skips hidden files.
    """
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not (p.name.startswith(".") and p.name.endswith(".part"))}


class RunProgress:
    """Records read plus written, plus runs started, by the runs of a hub store newer than when this was made."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None
        self._engine: sa.Engine | None = None
        self.after = self._read(after=None)

    def _read(self, after: int | None) -> int:
        if self.sqlite is not None and not self.sqlite.exists():
            return 0  # the store is created by the run itself: polling must not create it first
        if self._engine is None:
            self._engine = sa.create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
                                            if self.sqlite is not None else sa.pool.QueuePool)
        try:
            with self._engine.connect() as conn:
                if after is None:
                    return int(conn.execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM run")).scalar_one())
                return int(conn.execute(sa.text(
                    "SELECT COUNT(*) + COALESCE(SUM(records_read + records_written), 0) FROM run WHERE id > :after"),
                    {"after": after}).scalar_one())
        except sa.exc.OperationalError:  # schema not created yet, or the database busy for a moment
            return 0
        except sa.exc.ProgrammingError:  # PostgreSQL: no run table yet
            return 0

    def __call__(self) -> int:
        return self._read(after=self.after)

    def close(self) -> None:
        """Release the polling connection."""
        if self._engine is not None:
            self._engine.dispose()


def bytes_under(*folders: Path) -> Progress:
    """Bytes of every file under ``folders`` (partial uploads included)."""
    def progress() -> int:
        total = 0
        for folder in folders:
            for path in folder.rglob("*"):
                try:
                    total += path.stat().st_size if path.is_file() else 0
                except FileNotFoundError:  # renamed or removed between listing and stat
                    pass
        return total
    return progress


def cli(folder: Path, *args: str) -> list[str]:
    """The command line of ``officehub -p FOLDER ARGS``."""
    return [sys.executable, "-m", "officehub", *(["--debug"] if os.environ.get("FAULT_DEBUG") else []), "-p", str(folder), *args]


def measure(command: list[str], progress: Progress, timeout_s: float = 120) -> tuple[int, float]:
    """Run ``command`` to completion while polling ``progress``: the units it reached and the seconds it took."""
    started = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    try:
        while proc.poll() is None:
            peak = max(peak, progress())
            assert time.monotonic() - started < timeout_s, f"{command[3:]} did not finish in {timeout_s} s"
            time.sleep(POLL_S)
    finally:
        proc.kill()
        _, err = proc.communicate()
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    return max(peak, progress()), time.monotonic() - started


def kill_at(command: list[str], progress: Progress, units: int, timeout_s: float = 120) -> bool:
    """Start ``command`` and SIGKILL it once ``progress`` reached ``units``; whether it was killed mid-run
    (False: it finished before reaching them)."""
    started = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while proc.poll() is None:
            if progress() >= units:
                proc.kill()
                proc.wait()
                return True
            assert time.monotonic() - started < timeout_s, f"{command[3:]} did not finish in {timeout_s} s"
            time.sleep(POLL_S)
        return False
    finally:
        proc.kill()
        proc.wait()
