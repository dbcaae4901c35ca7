"""A scrape is a handful of aggregate queries whatever the hub holds: the same statements, returning a row per
pipeline or per field, before and after the store gains thousands of runs and audit entries (SQLite and
PostgreSQL); and the withheld counts of the newest publishes still come from their own audit entries."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from officehub.config import load_project
from officehub.engine import open_store
from officehub.services import metrics
from officehub.store.hub import HubStore
from tests.integration import metrics_estate as estate

EXTRA_RUNS = 20_000


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest) -> str:
    """The hub store: a SQLite file in the project, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return "sqlite:///.officehub/hub.db"
    return str(request.getfixturevalue("postgres_url"))


def _scrape(store: HubStore, folder: Path) -> tuple[list[int], bytes]:
    """The rows each statement of one scrape returned, and the exposition."""
    returned: list[int] = []

    def after(conn: sa.Connection, cursor: object, *_: object) -> None:
        returned.append(max(getattr(cursor, "rowcount", -1), -1))

    sa.event.listen(store.engine, "after_cursor_execute", after)
    try:
        text = metrics.exposition(load_project(folder), store)
    finally:
        sa.event.remove(store.engine, "after_cursor_execute", after)
    return returned, text


def _old_history(store: HubStore) -> None:
    """Years of runs of an old pipeline, each with an audit entry, all before the estate's runs."""
    start = datetime.now(UTC) - timedelta(days=800)
    with store.begin() as conn:
        first_audit = conn.execute(sa.text("SELECT min(id) FROM audit")).scalar_one()
        conn.execute(store.tables["run"].insert(), [
            {"pipeline": f"old_{n % 40}", "kind": "publish" if n % 2 else "ingest", "status": "succeeded",
             "started_at": start + timedelta(minutes=2 * n), "finished_at": start + timedelta(minutes=2 * n + 1),
             "records_read": 10, "records_written": 10, "records_unchanged": 0, "records_quarantined": 0,
             "fields_redacted": 3} for n in range(EXTRA_RUNS)])
        # Older audit entries go below the estate's (ids before the first), as a long-lived hub's would be.
        conn.execute(store.tables["audit"].insert(), [
            {"id": first_audit - EXTRA_RUNS - 1 + n, "at": start + timedelta(minutes=2 * n), "run_id": None,
             "actor": "test", "action": "publish", "subject": "employee → old/x", "detail": {"fields": {}},
             "prev_hash": f"{n:064x}", "hash": f"{n + 1:064x}"} for n in range(EXTRA_RUNS)])


def test_a_scrape_reads_aggregates_not_history(tmp_path: Path, store_url: str):
    folder = estate.build(tmp_path / "estate", store_url)
    estate.synced(folder)
    store = open_store(load_project(folder))
    try:
        before, first = _scrape(store, folder)
        _old_history(store)
        after, second = _scrape(store, folder)
    finally:
        store.close()

    # The same few statements; only the audit look-up's probes grow, with the log of the trail's length
    # (two bounds for each of the two publishes' last runs).
    assert len(before) <= 40 and len(after) <= len(before) + 2 * 2 * math.ceil(math.log2(EXTRA_RUNS))
    # No statement returns more rows than there are pipelines × outcomes or fields: nothing per run or record.
    assert max(after) <= 100
    totals = estate.by_label(estate.samples(second.decode()), "officehub_pipeline_records_read_total", "pipeline")
    assert totals["old_1"] == EXTRA_RUNS // 40 * 10
    withheld = lambda text: {k: v for k, v in estate.samples(text.decode()).items()  # noqa: E731
                             if k[0] == "officehub_publish_last_run_values_withheld"}
    assert withheld(second) == withheld(first) and withheld(first)
