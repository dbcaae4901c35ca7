"""Helpers for reading what the hub and the destinations hold, in tests."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from officehub.config import load_project
from officehub.engine import sync
from tests.leak_scan import note_output


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``officehub ARGS`` in a subprocess; returns the completed process."""
    done = subprocess.run([sys.executable, "-m", "officehub", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)
    note_output("officehub " + " ".join([a for a in args if not a.startswith(("-", "/"))][:2]), done.stdout + done.stderr)
    return done


def sync_all(folder: Path):
    """Run every pipeline of the project in ``folder``; returns the results by pipeline."""
    project = load_project(folder)
    return {r.pipeline: r for r in sync(project, project.pipelines_in_order())}


def table_rows(url: str, ignore: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    """Every table's rows (sorted), without the ``ignore``d columns."""
    engine = sa.create_engine(url)
    try:
        meta = sa.MetaData()
        meta.reflect(engine)
        out = {}
        with engine.connect() as conn:
            for name, table in meta.tables.items():
                cols = [c for c in table.columns if c.name not in ignore]
                out[name] = sorted(tuple(str(v) for v in row) for row in conn.execute(sa.select(*cols)))
        return out
    finally:
        engine.dispose()


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def canonical_names(hub_url: str) -> dict[str, str]:
    """Each canonical id of a hub store, named by the first (system, vendor id) linked to it.

    A link whose vendor id is the canonical id itself (a record the hub created in that
    system) names it only when there is no other.

    Canonical ids are new each time a record is first seen, so two hub stores fed the same
    data hold the same records under different ids; compare them through these names.
    """
    engine = sa.create_engine(hub_url)
    try:
        with engine.connect() as conn:
            pairs = conn.execute(sa.text("SELECT canonical_id, system, vendor_id FROM xref")).all()
            pairs += sole_links(conn)
            merges = conn.execute(sa.text("SELECT survivor_id, other_id FROM link_log WHERE action = 'merge'")).all()
    finally:
        engine.dispose()
    names: dict[str, str] = {}
    for cid, system, vendor_id in sorted(pairs, key=lambda p: (p[2] == p[0], p[1], p[2])):
        names.setdefault(cid, f"<{system}:{vendor_id}>")
    # A record merged away keeps no link of its own: it is named after the one it went into.
    for survivor, other in merges:
        names.setdefault(other, f"<merged into {names.get(survivor, survivor)}>")
    return names


def hub_links(con: Any, entity: str | None = None) -> list[tuple[str, str, str, str]]:
    """(system, entity, vendor id, canonical id) of every link a hub store keeps: its xref rows and
    the keys of its sole-form golden rows (ADR 0018). ``con`` is a sqlite3 or SQLAlchemy connection."""
    def rows(sql: str) -> list[tuple]:
        result = con.execute(sql) if isinstance(con, sqlite3.Connection) else con.execute(sa.text(sql))
        return [tuple(r) for r in result]

    if isinstance(con, sqlite3.Connection):
        tables = {r[0] for r in rows("SELECT name FROM sqlite_master WHERE type = 'table'")}
    else:
        tables = set(sa.inspect(con).get_table_names())
    found = rows("SELECT system, entity, vendor_id, canonical_id FROM xref")
    for name in sorted(n[: -len("__source")] for n in tables if n.endswith("__source")):
        found += [(system, name, vid, cid) for system, vid, cid in rows(
            f'SELECT sole_system, sole_vendor_id, canonical_id FROM "{name}" WHERE sole_system IS NOT NULL')]
    return [link for link in found if entity is None or link[1] == entity]


def sole_links(conn: sa.Connection) -> list[tuple[str, str, str]]:
    """(canonical id, system, vendor id) of every sole-form record: the links its golden row keeps."""
    inspector = sa.inspect(conn)
    found: list[tuple[str, str, str]] = []
    for table in inspector.get_table_names():
        if table.endswith("__source") and inspector.has_table(entity := table[: -len("__source")]):
            found += [tuple(r) for r in conn.execute(sa.text(
                f'SELECT canonical_id, sole_system, sole_vendor_id FROM "{entity}" WHERE sole_system IS NOT NULL'))]
    return found


def _swap_ids(text: str, names: dict[str, str]) -> str:
    return _UUID.sub(lambda m: names.get(m.group(), m.group()), text)


def named(tables: dict[str, list[tuple]], names: dict[str, str]) -> dict[str, list[tuple]]:
    """``tables`` (as :func:`table_rows` gives them) with canonical ids replaced by their ``names``."""
    return {name: sorted(tuple(_swap_ids(v, names) for v in row) for row in rows) for name, rows in tables.items()}


def named_files(files: dict[str, bytes], names: dict[str, str]) -> dict[str, bytes]:
    """``files`` (as :func:`folder_files` gives them) with canonical ids replaced by their ``names``."""
    return {name: _swap_ids(data.decode(), names).encode() for name, data in files.items()}


def folder_files(folder: Path) -> dict[str, bytes]:
    """Every file in ``folder`` by name."""
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*")) if p.is_file()}


def synced_demo(folder: Path) -> Path:
    """A seeded copy of the demo estate in ``folder``, after `officehub sync --all` ran in a subprocess."""
    from officehub.demo.seed import seed_estate
    from tests.conftest import copy_demo_config

    copy_demo_config(folder)
    seed_estate(folder / "data")
    done = run_cli("-p", str(folder), "sync", "--all", "--json")
    assert done.returncode == 0, done.stderr
    return folder
