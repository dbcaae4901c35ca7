"""The contract every connector must pass, run against real systems of each kind.

Kinds: SQLite, PostgreSQL and MariaDB (sql), a local drop folder (files), an OpenSSH
server (sftp) and an HTTP vendor API (rest), each a real server on loopback.

check, discover, full read, incremental read after changes, resume from a saved
cursor, upsert twice = same state, delete by key, and a bad record quarantined
with its position when read through the hub.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
import yaml

from officehub.canonical_model.errors import FatalError
from officehub.connectors import WriteMode
from tests.contract.harnesses import OUT, STREAM, FilesHarness, Harness, RestHarness, SftpHarness, SqlHarness, rows
from tests.helpers import sync_all

KINDS = ["sqlite", "postgres", "mariadb", "files", "sftp", "rest"]


@pytest.fixture(params=KINDS)
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    kind = request.param
    if kind == "sqlite":
        made: Harness = SqlHarness(tmp_path, f"sqlite:///{tmp_path / 'vendor.db'}")
    elif kind in ("postgres", "mariadb"):
        made = SqlHarness(tmp_path, request.getfixturevalue(f"{kind}_url"))
    elif kind == "files":
        made = FilesHarness(tmp_path)
    elif kind == "sftp":
        made = SftpHarness(tmp_path)
    else:
        made = RestHarness(tmp_path)
    yield made
    made.close()


def _batch_ids(batch) -> list[int]:  # type: ignore[no-untyped-def]
    """Ids in one read batch (an empty batch may carry only a cursor, and no columns)."""
    return [int(v) for v in batch.batch.column("id").to_pylist()] if batch.batch.num_rows else []


def _ids(harness: Harness, cursor: dict | None = None, batch_size: int = 4) -> tuple[list[int], dict | None]:
    seen: list[int] = []
    with harness.connector() as connector:
        for batch in connector.read(STREAM, cursor, harness.options(batch_size)):
            seen += _batch_ids(batch)
            cursor = batch.cursor
    return seen, cursor


def test_check_and_discover(harness: Harness):
    harness.seed(rows(range(1, 4)))
    with harness.connector() as connector:
        connector.check()
        streams = {s.name: s for s in connector.discover()}
    assert STREAM in streams
    assert {"id", "name", "email", "updated_at"} <= {f.name for f in streams[STREAM].fields}


def test_full_read_returns_every_record_once(harness: Harness):
    harness.seed(rows(range(1, 12)))
    seen, _ = _ids(harness)
    assert sorted(seen) == list(range(1, 12))
    assert len(seen) == len(set(seen))


def test_incremental_read_after_changes_returns_only_what_changed(harness: Harness):
    harness.seed(rows(range(1, 9)))
    _, cursor = _ids(harness)
    harness.change(rows(range(3, 4), minute=120, tag=" (moved)") + rows(range(20, 22), minute=120))
    changed, _ = _ids(harness, cursor)
    assert sorted(changed) == [3, 20, 21]


def test_reading_resumes_from_any_saved_cursor(harness: Harness):
    harness.seed(rows(range(1, 10)))
    with harness.connector() as connector:
        batches = list(connector.read(STREAM, None, harness.options(2)))
    everything = [i for b in batches for i in _batch_ids(b)]
    for index, batch in enumerate(batches[:-1]):
        if batch.cursor is None:
            continue
        before = [i for b in batches[:index + 1] for i in _batch_ids(b)]
        rest, _ = _ids(harness, batch.cursor, batch_size=2)
        assert before + rest == everything, f"resuming after batch {index}"


def _batch(ids: list[int], tag: str = "") -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([{"id": i, "name": f"Contact {i}{tag}", "email": f"c{i}@example.org"}
                                       for i in ids])


def test_upserting_the_same_batch_twice_leaves_the_same_state(harness: Harness):
    with harness.connector() as connector:
        connector.write(OUT, _batch([1, 2]), WriteMode.UPSERT, key=("id",), batch_id="1-2")
        once = harness.written()
        connector.write(OUT, _batch([1, 2]), WriteMode.UPSERT, key=("id",), batch_id="1-2")
        twice = harness.written()
        connector.write(OUT, _batch([2], " (new)"), WriteMode.UPSERT, key=("id",), batch_id="3-3")
        changed = harness.written()
    assert once == twice
    assert [r["id"] for r in once] == ["1", "2"]
    assert "Contact 2 (new)" in [r["name"] for r in changed] and [r["id"] for r in changed].count("1") == 1


def test_delete_removes_by_key_or_says_it_cannot(harness: Harness):
    with harness.connector() as connector:
        connector.write(OUT, _batch([1, 2, 3]), WriteMode.UPSERT, key=("id",), batch_id="1-3")
        if not harness.supports_delete:
            with pytest.raises(FatalError, match="cannot delete"):
                connector.write(OUT, _batch([2]), WriteMode.DELETE, key=("id",), batch_id="4-4")
            return
        connector.write(OUT, _batch([2]), WriteMode.DELETE, key=("id",), batch_id="4-4")
    assert [r["id"] for r in harness.written()] == ["1", "3"]


def test_a_bad_record_is_quarantined_with_its_position(harness: Harness, tmp_path: Path):
    good = rows(range(1, 4))
    bad = {**rows(range(4, 5))[0], "email": "not-an-address"}
    harness.seed(good + [bad])
    (harness.base_dir / "officehub.yaml").write_text(yaml.safe_dump({
        "systems": {"vendor": harness.settings()},
        "mappings": {"contacts_in": {
            "system": "vendor", "stream": STREAM, "target": "customer", "key": "id",
            **({"cursor": harness.cursor_field} if harness.cursor_field else {}),
            "fields": {"customer_number": "id", "name.last": "name", "contact.email": "email"}}},
        "pipelines": {"contacts": {"kind": "ingest", "mapping": "contacts_in"}},
    }))
    result = sync_all(harness.base_dir)["contacts"]
    assert (result.status, result.metrics.records_written, result.metrics.records_quarantined) == ("succeeded", 3, 1)
    import sqlite3

    hub = sqlite3.connect(harness.base_dir / ".officehub" / "hub.db")
    [(position, reason, raw)] = hub.execute("SELECT position, reason, raw FROM quarantine").fetchall()
    hub.close()
    assert position == harness.position_of(4, 3)
    assert reason.startswith("contact.email") and "not-an-address" not in reason
    assert json.loads(raw)["email"] == "not-an-address"
