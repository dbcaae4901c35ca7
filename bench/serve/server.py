"""``officehub serve`` as a subprocess on a free loopback port, and what its audit trail says afterwards."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(folder: Path, workers: int, *, timeout: float = 120) -> Iterator[tuple[str, Path]]:
    """The server for the project in ``folder`` with ``workers`` processes: its address and log, until the block ends."""
    port = free_port()
    log = folder / f"serve-{port}.log"
    with log.open("w") as handle:
        process = subprocess.Popen([sys.executable, "-m", "officehub", "-p", str(folder), "serve", "--workers",
                                    str(workers), "--port", str(port)], stdout=handle, stderr=subprocess.STDOUT)
        try:
            address = f"http://127.0.0.1:{port}"
            _wait(address, process, log, timeout, workers)
            yield address, log
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


#: What each uvicorn worker logs once it serves.
READY = "Application startup complete."


def _wait(address: str, process: subprocess.Popen[bytes], log: Path, timeout: float, workers: int) -> None:
    """Until every worker serves: a driver that connects while one is still starting puts all its
    connections on the others for the whole run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"officehub serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if (httpx.get(f"{address}/api/v1/health", timeout=2).status_code == 200
                    and log.read_text().count(READY) >= workers):
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"officehub serve did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def routes(address: str) -> set[str]:
    """The paths the server's API description lists."""
    return set(httpx.get(f"{address}/openapi.json", timeout=10).json()["paths"])


def audited(folder: Path) -> tuple[int, int]:
    """The hub API's audit entries (``api.*``) so far, and the requests they answered.

    An entry of a batch of lookups says how many requests it answered (``requests``); any
    other entry answered one.
    """
    import sqlalchemy as sa

    from officehub.store.schema import TABLES

    table = TABLES["audit"]
    with _store(folder) as store, store.begin() as conn:
        details = conn.execute(sa.select(table.c.detail).where(table.c.action.like("api.%"))).scalars()
        entries = answers = 0
        for detail in details:
            entries += 1
            answers += int(detail.get("requests", 1))
        return entries, answers


def audit_check(folder: Path, before: tuple[int, int], answered: int) -> dict[str, Any]:
    """Whether every answered request is in an entry, and whether the whole chain verifies.

    A batch of lookups is one entry naming how many requests it answered. A driver stops
    counting at its deadline while the server still answers what was in flight, so the
    trail may account for a few more answers than the driver counted, never fewer.
    """
    from officehub.store import audit

    entries, answers = audited(folder)
    entries, answers = entries - before[0], answers - before[1]
    with _store(folder) as store, store.begin() as conn:
        verified = audit.verify(conn)
    return {"answered": answered, "entries": entries, "audited_answers": answers,
            "every_answer_audited": answers >= answered,
            "chain_entries": verified.entries, "chain_ok": verified.ok, "problem": verified.problem}


@contextmanager
def _store(folder: Path) -> Iterator[Any]:
    from officehub.config import load_project
    from officehub.engine import open_store

    store = open_store(load_project(folder))
    try:
        yield store
    finally:
        store.close()


def drop(database: str) -> None:
    """Drop the benchmark's hub database (closing its sessions)."""
    import psycopg

    from bench.settings import PG_ROOT

    with psycopg.connect(f"{PG_ROOT}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
