"""The anchored audit trail: signed checkpoints of the head, an operator's saved head, malformed entries."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa

from officehub.config import load_project
from officehub.engine import run_pipeline, sync
from officehub.store import audit, audit_anchor
from officehub.store.audit_anchor import AuditKeys
from officehub.store.hub import HubStore
from officehub.store.migrate import HEAD
from tests.helpers import run_cli
from tests.integration.test_hub_store_upkeep import _store_at

SERVERS = ["sqlite", "postgres"]


def _url(server: str, request: pytest.FixtureRequest, folder: Path) -> str:
    return f"sqlite:///{folder / 'hub.db'}" if server == "sqlite" else request.getfixturevalue("postgres_url")


def _hub(folder: Path, url: str, signing: bool = True) -> Path:
    """A project with no systems: a hub store and, if ``signing``, an audit key file beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    hub = f"hub: {{name: t, store: '{url}'"
    if signing:
        (folder / "audit.key").write_text(audit_anchor.new_signing_key()[0])
        hub += ", audit_key: {file: audit.key}"
    (folder / "officehub.yaml").write_text(hub + "}\n")
    return folder


def _append(folder: Path, count: int, start: int = 1) -> None:
    store = _open(folder)
    with store.begin() as conn:
        for n in range(start, start + count):
            audit.append(conn, actor="user:test", action="detokenize", subject="employee.bank_account_iban",
                         detail={"records": n})
    store.close()


def _open(folder: Path) -> HubStore:
    project = load_project(folder)
    return HubStore.open(project.config.hub.store, folder)


def _checkpoint(folder: Path, keys: AuditKeys | None = None) -> None:
    store = _open(folder)
    with store.begin() as conn:
        audit_anchor.checkpoint(conn, keys or load_project(folder).audit_keys)
    store.close()


def _sql(folder: Path, *statements: str) -> None:
    store = _open(folder)
    with store.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))
    store.close()


def _verify(folder: Path, *args: str) -> tuple[int, dict]:
    done = run_cli("-p", str(folder), "audit", "verify", "--json", *args)
    assert "internal error" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


@pytest.fixture(params=SERVERS)
def signed_hub(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A hub with five entries, the fifth signed by a checkpoint."""
    folder = _hub(tmp_path / "hub", _url(request.param, request, tmp_path))
    _append(folder, 5)
    _checkpoint(folder)
    return folder


def test_an_intact_signed_chain_verifies_with_its_last_checkpoint(signed_hub: Path):
    _append(signed_hub, 2, start=6)
    code, result = _verify(signed_hub)
    assert code == 0, result
    assert result["status"] == "ok" and result["entries"] == 7 and result["anchored"]
    assert result["last_checkpoint"]["entry_id"] == 5 and result["last_checkpoint"]["entries"] == 5
    assert result["unanchored_entries"] == 2


def test_truncating_the_newest_entries_after_a_checkpoint_is_detected(signed_hub: Path):
    _sql(signed_hub, "DELETE FROM audit WHERE id > 3")
    code, result = _verify(signed_hub)
    assert code == 1
    assert result["status"] == "tampered" and result["broken_at"] == 5
    assert "truncated" in result["problem"] and result["entries"] == 3


def _rewrite(folder: Path) -> None:
    """Every entry edited in place, with every hash recomputed so the chain itself holds."""
    store = _open(folder)
    table = store.tables["audit"]
    with store.begin() as conn:
        prev = audit.GENESIS
        for row in conn.execute(sa.select(table).order_by(table.c.id)).all():
            detail = {**row.detail, "records": 0}
            digest = audit.entry_hash(prev, row.at, row.run_id, row.actor, row.action, row.subject, detail)
            conn.execute(sa.update(table).where(table.c.id == row.id).values(detail=detail, prev_hash=prev,
                                                                              hash=digest))
            prev = digest
    store.close()


def test_rewriting_the_whole_chain_with_recomputed_hashes_is_detected(signed_hub: Path):
    _rewrite(signed_hub)
    code, result = _verify(signed_hub)
    assert code == 1
    assert result["broken_at"] == 5 and "rewritten" in result["problem"]


def test_expect_head_catches_a_truncation_that_also_deleted_the_checkpoints(signed_hub: Path):
    code, saved = _verify(signed_hub)            # the operator keeps this head elsewhere
    assert code == 0
    store = _open(signed_hub)
    with store.begin() as conn:
        early = conn.execute(sa.text("SELECT hash FROM audit WHERE id = 2")).scalar_one()
    store.close()
    _sql(signed_hub, "DELETE FROM audit WHERE id > 3", "DELETE FROM audit_checkpoint")
    assert _verify(signed_hub)[0] == 0           # what the store alone can no longer show…
    code, result = _verify(signed_hub, "--expect-head", saved["head"])
    assert code == 1                             # …the saved head does
    assert "expected head" in result["problem"] and result["expected_head"] == saved["head"]
    assert _verify(signed_hub, "--expect-head", early)[0] == 0   # a head at or before the current one is fine


def test_a_checkpoint_signed_with_another_key_fails(signed_hub: Path):
    _append(signed_hub, 1, start=6)
    _checkpoint(signed_hub, AuditKeys.of(audit_anchor.new_signing_key()[1]))
    code, result = _verify(signed_hub)
    assert code == 1 and "does not trust" in result["problem"]


def test_a_checkpoint_claiming_the_hub_key_with_another_signature_fails(signed_hub: Path):
    own = audit_anchor.key_id(load_project(signed_hub).audit_keys.signer.public_key())
    _append(signed_hub, 1, start=6)
    _checkpoint(signed_hub, AuditKeys.of(audit_anchor.new_signing_key()[1]))
    _sql(signed_hub, f"UPDATE audit_checkpoint SET key_id = '{own}' WHERE entry_id = 6")
    code, result = _verify(signed_hub)
    assert code == 1 and "does not verify" in result["problem"]


def test_a_verifier_holding_only_the_public_key_checks_the_checkpoints(signed_hub: Path, tmp_path: Path):
    public = audit_anchor.public_text(load_project(signed_hub).audit_keys.signer.public_key())
    config = signed_hub / "officehub.yaml"
    config.write_text(config.read_text().replace("audit_key: {file: audit.key}", f"audit_verify_keys: ['{public}']"))
    (signed_hub / "audit.key").unlink()
    code, result = _verify(signed_hub)
    assert code == 0 and result["anchored"] and result["last_checkpoint"]["entry_id"] == 5
    _sql(signed_hub, "DELETE FROM audit WHERE id > 3")
    assert _verify(signed_hub)[0] == 1


MALFORMED = {
    "detail that is not JSON": "UPDATE audit SET detail = '{not json' WHERE id = 3",
    "detail that is not an object": "UPDATE audit SET detail = '[1, 2]' WHERE id = 3",
    "a hash that is not hex": "UPDATE audit SET hash = 'zz' WHERE id = 3",
    "an unparseable timestamp": "UPDATE audit SET at = 'yesterday' WHERE id = 3",
}


@pytest.mark.parametrize("edit", MALFORMED, ids=list(MALFORMED))
def test_a_malformed_entry_fails_verification_naming_it(edit: str, tmp_path: Path):
    folder = _hub(tmp_path / "hub", f"sqlite:///{tmp_path / 'hub.db'}")
    _append(folder, 5)
    _sql(folder, MALFORMED[edit])
    done = run_cli("-p", str(folder), "audit", "verify")
    assert done.returncode == 1, done.stderr
    assert "entry 3:" in done.stderr and "internal error" not in done.stderr
    code, result = _verify(folder)
    assert code == 1 and result["broken_at"] == 3


@pytest.mark.parametrize("edit", ["detail that is not an object", "a NULL hash"])
def test_a_malformed_entry_in_a_postgres_store_fails_verification_naming_it(edit: str, postgres_url: str,
                                                                            tmp_path: Path):
    folder = _hub(tmp_path / "hub", postgres_url)
    _append(folder, 5)
    if edit == "a NULL hash":  # someone with the rights to alter the table
        _sql(folder, "ALTER TABLE audit ALTER COLUMN hash DROP NOT NULL", "UPDATE audit SET hash = NULL WHERE id = 3")
    else:
        _sql(folder, MALFORMED[edit])
    code, result = _verify(folder)
    assert code == 1 and result["broken_at"] == 3 and "malformed" in result["problem"]


def test_without_a_signing_key_verify_says_unanchored_and_check_warns(tmp_path: Path):
    folder = _hub(tmp_path / "hub", f"sqlite:///{tmp_path / 'hub.db'}", signing=False)
    _append(folder, 2)
    done = run_cli("-p", str(folder), "audit", "verify")
    assert done.returncode == 0 and "unanchored" in done.stderr
    assert not _verify(folder)[1]["anchored"]
    checked = run_cli("-p", str(folder), "check", "--json")
    assert checked.returncode == 0
    assert any("hub.audit_key" in w and "unanchored" in w for w in json.loads(checked.stdout)["warnings"])
    cron = run_cli("-p", str(folder), "audit", "checkpoint")
    assert cron.returncode == 2 and "hub.audit_key" in cron.stderr


def test_audit_checkpoint_signs_the_head_once(tmp_path: Path):
    folder = _hub(tmp_path / "hub", f"sqlite:///{tmp_path / 'hub.db'}")
    _append(folder, 3)
    first = run_cli("-p", str(folder), "audit", "checkpoint", "--json")
    again = run_cli("-p", str(folder), "audit", "checkpoint", "--json")
    assert first.returncode == again.returncode == 0, first.stderr
    assert json.loads(first.stdout) == json.loads(again.stdout)      # nothing new to sign: no second row
    assert json.loads(first.stdout)["entry_id"] == 3 and json.loads(first.stdout)["entries"] == 3


def test_keygen_writes_a_private_key_only_its_owner_reads_and_never_replaces_one(tmp_path: Path):
    path = tmp_path / "audit.key"
    done = run_cli("audit", "keygen", str(path), "--json")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    key = audit_anchor.signing_key_from_text(path.read_text(), "test")
    assert audit_anchor.public_text(key.public_key()) == shown["public_key"]
    assert path.read_text().strip() not in done.stdout + done.stderr
    again = run_cli("audit", "keygen", str(path))
    assert again.returncode == 2 and path.read_text().strip() not in again.stdout + again.stderr


def _checkpointed_entries(folder: Path) -> tuple[list[int], list[int]]:
    """Ids of publish entries, and the entry ids checkpoints signed."""
    store = _open(folder)
    with store.begin() as conn:
        published = conn.execute(sa.text("SELECT id FROM audit WHERE action = 'publish' ORDER BY id")).scalars().all()
        signed = conn.execute(sa.text("SELECT entry_id FROM audit_checkpoint ORDER BY id")).scalars().all()
    store.close()
    return published, signed


def test_every_publish_batch_is_signed_and_a_sync_signs_the_head_at_its_end(demo_project):
    folder = demo_project(employees=30)
    project = load_project(folder)
    store = _open(folder)
    try:
        for name in ("hr_employees_in", "reporting_employees_out"):
            assert run_pipeline(project, store, name).status == "succeeded"
        published, signed = _checkpointed_entries(folder)
        assert published and signed == published       # each publish entry was the head of a checkpoint
        with store.begin() as conn:                     # an entry no publish made, e.g. a detokenize
            audit.append(conn, actor="user:test", action="detokenize", subject="employee.bank_account_iban",
                         detail={"records": 1})
        sync(project, ["hr_employees_in"], store=store)  # nothing published: the end of the sync signs it
        with store.begin() as conn:
            head = conn.execute(sa.text("SELECT max(id) FROM audit")).scalar_one()
    finally:
        store.close()
    assert _checkpointed_entries(folder)[1][-1] == head


@pytest.mark.parametrize("server", SERVERS)
def test_a_store_at_revision_3_upgrades_to_4_and_keeps_its_chain(server: str, request: pytest.FixtureRequest,
                                                                 tmp_path: Path):
    url = _url(server, request, tmp_path)
    _store_at(url, "0003")
    engine = sa.create_engine(url)
    with engine.begin() as conn:                     # entries written by the version before anchoring
        for n in range(3):
            audit.append(conn, actor="user:test", action="detokenize", subject="x", detail={"n": n})
    engine.dispose()
    folder = _hub(tmp_path / "hub", url)
    code, before = _verify(folder)                   # opening the store migrates it
    assert code == 0 and before["entries"] == 3 and before["last_checkpoint"] is None
    assert before["unanchored_entries"] == 3
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == HEAD
    engine.dispose()
    assert run_cli("-p", str(folder), "audit", "checkpoint").returncode == 0
    code, after = _verify(folder)
    assert code == 0 and after["last_checkpoint"]["entries"] == 3 and after["unanchored_entries"] == 0
