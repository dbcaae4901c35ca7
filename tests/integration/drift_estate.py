"""A small estate whose source table changes its columns between runs, for the schema-drift tests.

An HR table (SQLite, PostgreSQL or MariaDB) is read into the hub by ``staff_in`` and the hub's
employees are published to a reporting database by ``staff_out``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from officehub.config import load_project
from officehub.engine import sync

STAFF = [(1, "Koval", "sales"), (2, "Bondar", "stock"), (3, "Shevchuk", "sales")]
#: Hub tables a run may change without storing anything of the source (its own bookkeeping).
BOOKKEEPING = {"run", "schema_change", "stream_schema", "audit", "audit_checkpoint", "alembic_version"}


def source_url(kind: str, folder: Path, server_urls: dict[str, str]) -> str:
    """The HR database: a SQLite file in the estate, or a fresh server database."""
    return f"sqlite:///{folder / 'hr.db'}" if kind == "sqlite" else server_urls[kind]


def build(folder: Path, url: str, *, handling: str | None = None, table: str = "staff",
          columns: dict[str, str] | None = None) -> Path:
    """The estate in ``folder`` with the table created and filled; ``columns`` maps canonical → source column."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "out").mkdir(exist_ok=True)
    cols = columns or {"employee_number": "id", "name.last": "last"}
    execute(url, f"CREATE TABLE {q(url, table)} (id INTEGER PRIMARY KEY, last VARCHAR(100), dept VARCHAR(50))",
            *(f"INSERT INTO {q(url, table)} VALUES ({i}, '{last}', '{dept}')" for i, last, dept in STAFF))
    pipeline: dict[str, Any] = {"kind": "ingest", "mapping": "hr_staff"}
    if handling:
        pipeline["schema_changes"] = handling
    config = {
        "systems": {"hr": {"type": "sql", "url": url},
                    "reporting": {"type": "sql", "url": f"sqlite:///{folder / 'out' / 'reporting.db'}"}},
        "mappings": {
            "hr_staff": {"system": "hr", "stream": table, "target": "employee", "key": "id", "fields": cols},
            "reporting_staff": {"system": "reporting", "stream": "employees", "target": "employee", "key": "hub_id",
                                "fields": {"canonical_id": "hub_id", "employee_number": "employee_number",
                                           "name.last": "last"}},
        },
        "pipelines": {"staff_in": pipeline, "staff_out": {"kind": "publish", "mapping": "reporting_staff"}},
    }
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    return folder


def q(url: str, name: str) -> str:
    """``name`` quoted for the database at ``url``."""
    return f"`{name}`" if url.startswith("mysql") else f'"{name}"'


def execute(url: str, *statements: str) -> None:
    """Run SQL statements on the source database, in one transaction."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))
    finally:
        engine.dispose()


def run(folder: Path, *names: str) -> dict[str, Any]:
    """Run pipelines in process; the results by pipeline."""
    project = load_project(folder)
    return {r.pipeline: r for r in sync(project, list(names) or project.pipelines_in_order())}


def hub_query(folder: Path, sql: str) -> list[tuple]:
    """Rows a query of the hub store returns."""
    con = sqlite3.connect(folder / ".officehub" / "hub.db")
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def change_facts(folder: Path) -> list[tuple]:
    """(kind, column, handling, special category) of every recorded change, oldest first."""
    return hub_query(folder, "SELECT kind, column_name, handling, special_category FROM schema_change ORDER BY id")
