"""A hub store made before revision 8 upgrades in place, with no record, version, copy or link lost.

The stores were made by officehub at revision 7 (``store_r7``): every record as a
cross-reference, a source copy and a golden row. Revision 8 folds each record that one system
alone supplies into its golden row (ADR 0018). Before and after, on SQLite and PostgreSQL:
every golden record and history version is the same, every system's id still finds its
record (with its echo hash and erasure mark), and every system's copy reads the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from officehub.store import migrate, sources, xref
from officehub.store.schema import sole_columns
from tests.integration import store_r7

_SOLE = {c.name for c in sole_columns()}
#: The source layer's bookkeeping that a sole-form copy does not keep (its row id, the run that read it).
_COPY_BOOKKEEPING = ("id", "run_id")


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hub.db'}"
    else:
        yield request.getfixturevalue("postgres_url")


def _rows(conn: sa.Connection, name: str, order: str) -> list[dict[str, Any]]:
    table = sa.Table(name, sa.MetaData(), autoload_with=conn)  # typed as the store declares them
    return [dict(r._mapping) for r in conn.execute(sa.select(table).order_by(table.c[order]))]


def _entities(conn: sa.Connection) -> list[str]:
    names = set(sa.inspect(conn).get_table_names())
    return sorted(n[: -len("__source")] for n in names if n.endswith("__source"))


def _snapshot(conn: sa.Connection) -> dict[str, Any]:
    """What a user sees of the store: records, history, links and copies (not how they are kept)."""
    out: dict[str, Any] = {"xref": _rows(conn, "xref", "id")}
    for entity in _entities(conn):
        out[entity] = [{k: v for k, v in r.items() if k not in _SOLE} for r in _rows(conn, entity, "canonical_id")]
        out[f"{entity}__history"] = _rows(conn, f"{entity}__history", "id")
        out[f"{entity}__source"] = _rows(conn, f"{entity}__source", "id")
    return out


@pytest.mark.parametrize("estate", ["identity", "single"])
def test_a_revision_7_store_upgrades_in_place_with_nothing_lost(empty_store: str, estate: str) -> None:
    _upgrade_and_compare(empty_store, estate)


def _upgrade_and_compare(url: str, estate: str) -> None:
    store_r7.load(url, estate)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            before = _snapshot(conn)
        assert migrate.upgrade(engine) == ("0007", migrate.HEAD)
        with engine.connect() as conn:
            after = _snapshot(conn)
            entities = _entities(conn)
            for entity in entities:
                # Every golden record and every superseded version is exactly as it was.
                assert after[entity] == before[entity], entity
                assert after[f"{entity}__history"] == before[f"{entity}__history"], entity
                # Every system's id still finds its record, with its echo hash and erasure mark.
                for link in [x for x in before["xref"] if x["entity"] == entity]:
                    found = xref.links(conn, link["system"], entity, [link["vendor_id"]])[link["vendor_id"]]
                    assert (found.canonical_id, found.sent_hash, found.erased) == \
                        (link["canonical_id"], link["sent_hash"], link["erased_at"] is not None), link["vendor_id"]
                # Every copy reads the same, whether it is still a source row or now the golden row.
                for copy in before[f"{entity}__source"]:
                    [(vid, now)] = sources.by_vendor_id(conn, entity, copy["system"], [copy["vendor_id"]]).items()
                    assert {k: v for k, v in now.items() if k not in _COPY_BOOKKEEPING} == \
                        {k: v for k, v in copy.items() if k not in _COPY_BOOKKEEPING}, (entity, vid)
            folded = {entity: [tuple(r) for r in conn.execute(sa.text(
                f'SELECT sole_system, sole_vendor_id FROM "{entity}" WHERE sole_system IS NOT NULL'))]
                for entity in entities}
    finally:
        engine.dispose()
    # Only records one system alone supplies were folded; their copies and links are now the golden row.
    kept_copies = {(r["system"], r["vendor_id"]) for e in entities for r in after[f"{e}__source"]}
    kept_links = {(x["system"], x["vendor_id"]) for x in after["xref"]}
    for entity, pairs in folded.items():
        assert not set(pairs) & (kept_copies | kept_links), entity
    if estate == "single":
        # CRM customers 3-11, 13 and 14 and ERP 2: one source each (4's phone, which its mapping does
        # not supply, reached the golden row when 4 changed). Not folded: 1 (two sources), 2 (erased),
        # 12 (deleted by the snapshot).
        assert sorted(folded["customer"]) == sorted(
            [("crm", str(i)) for i in (*range(3, 12), 13, 14)] + [("erp", "2")])
        assert {(x["system"], x["vendor_id"]) for x in after["xref"]} == {("crm", "1"), ("erp", "1"), ("crm", "2"),
                                                                          ("crm", "12")}
    else:
        # Every customer is in two systems (the hub wrote the CRM-only ones to accounting, which
        # reads them back): none folds. The one employee, HR's alone, does.
        assert folded["customer"] == [] and folded["employee"] == [("hr", "E-1")]
