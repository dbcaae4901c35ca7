"""Audit appends from concurrent transactions on PostgreSQL: each lands, chained to the one before it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from officehub.canonical_model.errors import RetriableError
from officehub.store import audit
from officehub.store.hub import HubStore
from officehub.store.schema import TABLES

THREADS, EACH = 8, 25


@pytest.fixture
def store(postgres_url: str, tmp_path: Path) -> HubStore:
    opened = HubStore.open(postgres_url, tmp_path)
    yield opened
    opened.close()


def _appends(store: HubStore, worker: int) -> None:
    for n in range(EACH):
        with store.begin() as conn:
            # A read before the append, as a service reads what it is about to record.
            conn.execute(sa.select(sa.func.count()).select_from(TABLES["audit"]))
            audit.append(conn, actor=f"client:{worker}", action="api.read", subject="customer → shop",
                         detail={"records": 1, "ids": [f"{worker}-{n}"]})


def test_concurrent_appends_all_land_on_one_chain(store: HubStore) -> None:
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(lambda worker: _appends(store, worker), range(THREADS)))

    with store.begin() as conn:
        verified = audit.verify(conn)
        prev_hashes = conn.execute(sa.select(TABLES["audit"].c.prev_hash)).scalars().all()
    assert verified.ok, verified.problem
    assert verified.entries == THREADS * EACH
    assert len(set(prev_hashes)) == len(prev_hashes)  # no two entries on one head: no fork


def test_an_append_that_cannot_chain_fails_its_transaction_retriably(store: HubStore,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "entry_hash", lambda *args: "f" * 64)
    with store.begin() as conn:
        audit.append(conn, actor="a", action="api.read", subject="s", detail={})

    with pytest.raises(RetriableError, match="try again"), store.begin() as conn:
        conn.execute(sa.insert(TABLES["audit"]).values(at=audit._moment(), actor="b", action="other", subject="s",
                                                       detail={}, prev_hash="0" * 64, hash="e" * 64))
        audit.append(conn, actor="a", action="api.read", subject="s", detail={})

    with store.begin() as conn:  # the transaction's own write went with it: nothing done unrecorded
        assert conn.execute(sa.select(sa.func.count()).select_from(TABLES["audit"])).scalar_one() == 1
