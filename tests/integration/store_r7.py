"""A hub store as officehub made it at schema revision 7, kept as data, for the upgrade test of revision 8.

``python -m tests.integration.store_r7 OUT.json`` was run once with officehub at revision 7
(every record stored as a cross-reference, a source copy and a golden row) on two estates:

- ``identity``: two customer systems subscribed both ways with e-mail and fuzzy matching, HR
  with a legal hold, a reporting destination; then a steward's merge, an erasure, one of two
  sources deleted, a change the other systems echo back, and a record a complete snapshot
  no longer holds (soft-deleted);
- ``single``: a CRM whose customers only it supplies and an ERP, one record merged from both,
  one erased, a copy holding a value its mapping does not supply, then a complete snapshot
  that lacks one single-source customer (soft-deleted) and changes others.

The dump holds every table's rows per estate; :func:`load` recreates a store on any database
the hub runs on, at revision 7, ready to be upgraded.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import sys
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

FIXTURE = Path(__file__).parent / "fixtures" / "hub_store_r7.json"


def make_identity(folder: Path) -> str:
    """Build the identity estate in ``folder`` with the installed officehub; returns its hub store URL."""
    from officehub.config import load_project
    from officehub.engine import open_store
    from officehub.engine.stewardship import Steward
    from officehub.engine.subjects import erase
    from officehub.store import matches
    from tests.helpers import sync_all
    from tests.integration import identity_estate

    url = f"sqlite:///{folder / 'hub.db'}"
    identity_estate.build(folder, url, crm_deletes="snapshot")
    sync_all(folder)
    project = load_project(folder)
    store = open_store(project)
    try:
        with store.begin() as conn:
            [review] = matches.reviews(conn)
            ids = dict(conn.execute(sa.text(
                "SELECT system || ':' || vendor_id, canonical_id FROM xref WHERE entity = 'customer'")).all())
        Steward(project, store, "steward").merge("customer", review["candidate_id"], review["canonical_id"],
                                                 review_id=review["id"])
        erase(project, store, ids["acct:D-9"], "compliance")
    finally:
        store.close()
    with sqlite3.connect(folder / "data" / "crm.db") as db:
        db.execute("UPDATE customers SET street = '22 New Road' WHERE id = 1")  # reaches acct, read back as echo
    with sqlite3.connect(folder / "data" / "acct.db") as db:
        db.execute("UPDATE debtors SET status = 'X' WHERE acct_no = 'D-2'")  # one of two sources deleted
    sync_all(folder)
    sync_all(folder)
    with sqlite3.connect(folder / "data" / "crm.db") as db:
        db.execute("DELETE FROM customers WHERE id = 4")
    with sqlite3.connect(folder / "data" / "acct.db") as db:
        db.execute("INSERT INTO debtors (acct_no, name, street, zip, town, dob, status) "
                   "VALUES ('D-7', 'Lysenko, Anna', '4 Tykha St', '07007', 'Poltava', '1991-07-07', 'X')")
    sync_all(folder)
    return url


def make_single(folder: Path) -> str:
    """Build the single-source estate of the set-based update test in ``folder``; returns its hub store URL."""
    from tests.helpers import sync_all
    from tests.integration import test_in_place_updates as estate

    url = f"sqlite:///{folder / 'hub.db'}"
    estate._project(folder, url)
    estate._estate(folder)
    config = folder / "officehub.yaml"
    config.write_text(config.read_text().replace("crm_in: {kind: ingest, mapping: crm_customers}",
                                                 "crm_in: {kind: ingest, mapping: crm_customers, deletes: snapshot}"))
    with sqlite3.connect(folder / "crm.db") as db:
        db.execute("DELETE FROM customers WHERE id = 12")  # the only source of customer 12: soft-deleted
    sync_all(folder)
    return url


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return {"t": value.isoformat()}
    if isinstance(value, bytes):
        return {"b": base64.b64encode(value).decode()}
    return value


def dump(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows, in primary-key order, as JSON can hold them."""
    engine = sa.create_engine(url)
    try:
        meta = sa.MetaData()
        meta.reflect(engine)
        with engine.connect() as conn:
            return {name: [{k: _plain(v) for k, v in row._mapping.items()}
                           for row in conn.execute(sa.select(table).order_by(*table.primary_key.columns))]
                    for name, table in sorted(meta.tables.items())}
    finally:
        engine.dispose()


def _typed(value: Any, column: sa.Column) -> Any:
    if isinstance(value, dict) and set(value) == {"t"}:
        parsed = datetime.fromisoformat(value["t"])
        return parsed.date() if isinstance(column.type, sa.Date) and not isinstance(column.type, sa.DateTime) \
            else parsed
    if isinstance(value, dict) and set(value) == {"b"}:
        return base64.b64decode(value["b"])
    return value


def load(url: str, estate: str, fixture: Path = FIXTURE) -> None:
    """Recreate the dumped revision-7 store of ``estate`` in the empty database at ``url``."""
    from officehub.store.schema import hub_metadata

    rows = json.loads(fixture.read_text())[estate]
    metadata = hub_metadata(7)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            metadata.create_all(conn)
            version = sa.Table("alembic_version", sa.MetaData(), sa.Column("version_num", sa.String(32)))
            version.create(conn)
            for name, table in metadata.tables.items():
                if rows.get(name):
                    conn.execute(sa.insert(table), [{k: _typed(v, table.c[k]) for k, v in row.items()}
                                                    for row in rows[name]])
            conn.execute(sa.insert(version), rows["alembic_version"])
            if conn.dialect.name == "postgresql":  # the loaded ids were given explicitly: move the sequences on
                for table in metadata.tables.values():
                    pk = list(table.primary_key.columns)
                    if len(pk) == 1 and pk[0].autoincrement is True and isinstance(pk[0].type, sa.Integer):
                        conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                                             f"COALESCE((SELECT MAX({pk[0].name}) FROM \"{table.name}\"), 0) + 1, false)"))
    finally:
        engine.dispose()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        stores = {"identity": make_identity(Path(tmp) / "identity"), "single": make_single(Path(tmp) / "single")}
        Path(sys.argv[1]).write_text(json.dumps({name: dump(url) for name, url in stores.items()},
                                                indent=0, sort_keys=True) + "\n")
