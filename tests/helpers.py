"""Helpers for reading what the hub and the destinations hold, in tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from officehub.config import load_project
from officehub.engine import sync


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``officehub ARGS`` in a subprocess; returns the completed process."""
    return subprocess.run([sys.executable, "-m", "officehub", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


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
