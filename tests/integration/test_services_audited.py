"""The audited operations as services: each writes exactly one audit entry (ids and counts, never a value)
in the transaction that read what it shows, names the actor it was given, and refuses a reveal without a
reason before reading or writing anything.

Every test works on its own copy of the identity estate after a sync (see ``identity_estate``): Petro
Bondar and "Bondarenko, Petro" wait in the review queue, Taras Shevchuk is an employee under a
litigation hold. The estate is given the demo's tokenisation key, for detokenize.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

from officehub.canonical_model.errors import FatalError
from officehub.config import Project, load_project
from officehub.engine import open_store
from officehub.policies.operators import OperatorContext, Tokenize
from officehub.services import links, quarantine, records, reviews, subjects, tokens
from officehub.services.reasons import ReasonRequired
from officehub.services.session import acting
from officehub.store import audit, matches, xref
from officehub.store import bookkeeping as bk
from officehub.store.hub import HubStore
from tests.conftest import DEMO
from tests.helpers import sync_all
from tests.integration import identity_estate

pytestmark = pytest.mark.slow

STEWARD = "user:steward-a"
REASON = "steward ticket ST-1042"
IBAN = "UA213223130000026007233566001"
#: The litigation hold's matter reference: a legal value that only a reveal shows.
MATTER = identity_estate.HR[0][5]
#: How that hold names itself once revealed: the field path and its class, no value.
HOLD = "employee.litigation_hold (legal)"


@pytest.fixture(scope="module")
def synced_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = identity_estate.build(tmp_path_factory.mktemp("services") / "estate")
    config = yaml.safe_load((folder / "officehub.yaml").read_text())
    config["hub"].update(keys={"demo-2026": {"file": "keys/demo-2026.key"}}, active_key="demo-2026")
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (folder / "keys").mkdir()
    shutil.copyfile(DEMO / "keys" / "demo-2026.key", folder / "keys" / "demo-2026.key")
    results = sync_all(folder)
    assert {r.status for r in results.values()} == {"succeeded"}, {n: r.error for n, r in results.items()}
    return folder


@pytest.fixture
def hub(synced_template: Path, tmp_path: Path) -> Iterator[tuple[Project, HubStore]]:
    """The project and its open hub store, on a private copy of the synced estate."""
    project = load_project(Path(shutil.copytree(synced_template, tmp_path / "estate")))
    store = open_store(project)
    try:
        yield project, store
    finally:
        store.close()


def trail(store: HubStore) -> list[dict[str, Any]]:
    """Every audit entry, oldest first."""
    with store.begin() as conn:
        return list(reversed(audit.entries(conn, None, 100_000)))


def added(store: HubStore, before: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return trail(store)[len(before):]


def cid(store: HubStore, system: str, vendor_id: str, entity: str = "customer") -> str:
    with store.begin() as conn:
        return xref.lookup(conn, system, entity, [vendor_id])[vendor_id]


# -- records ----------------------------------------------------------------------------------------
def test_a_record_reveal_writes_one_entry_naming_the_fields_not_their_values(hub):
    _, store = hub
    taras = cid(store, "hr", "E-1", "employee")
    before = trail(store)
    with acting(store, STEWARD) as ctx:
        hidden = records.show(ctx, taras)
    assert added(store, before) == [] and hidden["held_by"] == [records.WITHHELD]
    assert {f["field"]: f["value"] for f in hidden["fields"]}["litigation_hold.matter_ref"] == records.WITHHELD
    assert MATTER not in json.dumps(hidden, default=str)

    with acting(store, STEWARD) as ctx:
        shown = records.show(ctx, taras, reveal=True, reason=REASON)
    assert shown["held_by"] == [HOLD]
    assert {f["field"]: f["value"] for f in shown["fields"]}["litigation_hold.matter_ref"] == MATTER
    [entry] = added(store, before)
    assert (entry["actor"], entry["action"], entry["subject"]) == (STEWARD, "record.reveal", f"employee {taras}")
    assert entry["detail"]["reason"] == REASON and "litigation_hold.matter_ref" in entry["detail"]["fields"]
    assert MATTER not in json.dumps(entry, default=str)


@pytest.mark.parametrize("reason", [None, "", "   ", "because"])
def test_a_reveal_without_a_reason_is_refused_and_writes_nothing(hub, reason):
    _, store = hub
    taras, bondar = cid(store, "hr", "E-1", "employee"), cid(store, "crm", "3")
    before = trail(store)
    refusals = [lambda ctx: records.show(ctx, taras, reveal=True, reason=reason),
                lambda ctx: records.history(ctx, bondar, reveal=True, reason=reason),
                lambda ctx: reviews.queue(ctx, reveal=True, reason=reason),
                lambda ctx: subjects.export(ctx, bondar, to="stdout", reveal=True, reason=reason),
                lambda ctx: quarantine.show(ctx, 1, reveal=True, reason=reason)]
    for refuse in refusals:
        with pytest.raises(ReasonRequired, match="at least 10 characters"), acting(store, STEWARD) as ctx:
            refuse(ctx)
    assert added(store, before) == []


def test_a_history_reveal_is_audited_with_the_number_of_versions(hub):
    _, store = hub
    bondar = cid(store, "crm", "3")
    before = trail(store)
    with acting(store, STEWARD) as ctx:
        versions = records.history(ctx, bondar, reveal=True, reason=REASON)
    [entry] = added(store, before)
    assert entry["action"] == "record.reveal" and entry["subject"] == f"record {bondar}"
    assert entry["detail"] == {"history": len(versions), "reason": REASON}
    assert "7 Lesi Ukrainky" not in json.dumps(entry, default=str)


def test_the_audit_entry_commits_or_rolls_back_with_the_read_it_records(hub):
    _, store = hub
    taras = cid(store, "hr", "E-1", "employee")
    before = trail(store)
    with pytest.raises(RuntimeError), acting(store, STEWARD) as ctx:
        records.show(ctx, taras, reveal=True, reason=REASON)
        raise RuntimeError("the caller failed before the transaction ended")
    assert added(store, before) == []


def test_an_unknown_record_raises_and_writes_nothing(hub):
    _, store = hub
    before = trail(store)
    with pytest.raises(FatalError, match="no record"), acting(store, STEWARD) as ctx:
        records.show(ctx, "not-a-record", reveal=True, reason=REASON)
    assert added(store, before) == []


# -- the review queue and a steward's decisions ------------------------------------------------------
def test_a_queue_reveal_shows_both_records_and_audits_the_pair_ids(hub):
    _, store = hub
    before = trail(store)
    with acting(store, STEWARD) as ctx:
        [hidden] = reviews.queue(ctx)
        [shown] = reviews.queue(ctx, reveal=True, reason=REASON)
    assert set(hidden["record"]["values"].values()) == {reviews.HIDDEN}
    assert shown["record"]["values"]["address.street"] == "12 Zelena St"
    [entry] = added(store, before)
    assert (entry["actor"], entry["action"]) == (STEWARD, "match.reveal")
    assert entry["detail"] == {"reviews": [shown["id"]], "reason": REASON}
    assert "Zelena" not in json.dumps(entry, default=str)


def test_accepting_a_pair_links_the_records_audited_with_the_given_actor(hub):
    project, store = hub
    with acting(store, STEWARD) as ctx:
        [pair] = reviews.queue(ctx)
    survivor, other = pair["candidate"]["canonical_id"], pair["record"]["canonical_id"]
    before = trail(store)
    change = reviews.accept(project, store, STEWARD, pair["id"])
    assert (change.survivor_id, change.other_id, change.moved) == (survivor, other, [("acct", "D-4")])
    assert cid(store, "acct", "D-4") == survivor
    with store.begin() as conn:
        decided = matches.review(conn, pair["id"])
    assert (decided["status"], decided["decided_by"]) == ("linked", STEWARD)
    [entry] = added(store, before)
    assert (entry["actor"], entry["action"], entry["subject"]) == (STEWARD, "record.merge", f"customer {survivor}")
    assert entry["detail"] == {"merged": other, "xrefs": 1, "link_log": change.log_id, "review": pair["id"]}

    undone = links.undo(project, store, "user:steward-b", change.log_id)
    assert undone.log_id == change.log_id and cid(store, "acct", "D-4") == other
    with acting(store, STEWARD) as ctx:
        assert [p["id"] for p in reviews.queue(ctx)] == [pair["id"]]  # the question is open again
        assert links.entry(ctx, change.log_id)["undone_at"] is not None
    assert [(e["actor"], e["action"]) for e in added(store, before)][1:] == [("user:steward-b", "record.unmerge")]


def test_a_decided_pair_cannot_be_accepted_and_nothing_is_written(hub):
    project, store = hub
    with acting(store, STEWARD) as ctx:
        [pair] = reviews.queue(ctx)
    rejected = reviews.reject(project, store, STEWARD, pair["id"])
    assert rejected["id"] == pair["id"]
    before = trail(store)
    with pytest.raises(FatalError, match="already rejected"):
        reviews.accept(project, store, STEWARD, pair["id"])
    assert added(store, before) == []
    with store.begin() as conn:
        entries = audit.entries(conn, "match.reject")
    assert [(e["actor"], e["detail"]["review"]) for e in entries] == [(STEWARD, pair["id"])]


def test_a_merge_of_an_unknown_entity_is_refused(hub):
    project, store = hub
    with pytest.raises(FatalError, match="unknown entity 'suppliers'"):
        links.merge(project, store, STEWARD, "suppliers", "a", "b")


# -- data-subject requests --------------------------------------------------------------------------
def test_an_export_is_audited_with_its_destination_and_withholds_special_values(hub):
    _, store = hub
    taras = cid(store, "hr", "E-1", "employee")
    before = trail(store)
    with acting(store, STEWARD) as ctx:
        data = subjects.export(ctx, taras, to="request-17.json")
    assert MATTER not in json.dumps(data)
    [entry] = added(store, before)
    assert (entry["actor"], entry["action"], entry["subject"]) == (STEWARD, "subject.export", f"employee {taras}")
    assert entry["detail"] == {"to": "request-17.json", "reveal": False}


def test_a_dry_run_erasure_changes_nothing_and_writes_nothing(hub):
    project, store = hub
    bondar = cid(store, "crm", "3")
    before = trail(store)
    report = subjects.erase(project, store, STEWARD, bondar, dry_run=True)
    assert not report.erased and {line.outcome for line in report.lines} >= {"would erase"}
    assert added(store, before) == []
    with acting(store, STEWARD) as ctx:
        assert [h.canonical_id for h in subjects.find(ctx, "Bondar") if h.canonical_id == bondar]


# -- the quarantine ---------------------------------------------------------------------------------
def _quarantined(store: HubStore) -> int:
    with store.begin() as conn:
        run_id = bk.start_run(conn, "crm_in", "ingest")
        bk.quarantine(conn, run_id, "crm_in", "crm", "customers",
                      [bk.Quarantined("row 7", "contact.phone: not a phone number", {"PHONE": "n/a 0671234567"}, "7")])
        return int(bk.list_quarantine(conn, "crm_in")[0]["id"])


def test_a_quarantine_reveal_shows_the_raw_values_and_audits_where_they_came_from(hub):
    _, store = hub
    item = _quarantined(store)
    before = trail(store)
    with acting(store, STEWARD) as ctx:
        assert quarantine.page(ctx)["total"] == 1
        hidden = quarantine.show(ctx, item)
        shown = quarantine.show(ctx, item, reveal=True, reason=REASON)
    assert hidden["raw"] == {"PHONE": quarantine.HIDDEN} and shown["raw"] == {"PHONE": "n/a 0671234567"}
    [entry] = added(store, before)
    assert (entry["actor"], entry["action"], entry["subject"]) == (STEWARD, "quarantine.reveal", f"quarantine {item}")
    assert entry["detail"] == {"pipeline": "crm_in", "position": "row 7", "reason": REASON}
    assert "0671234567" not in json.dumps(entry, default=str)
    with pytest.raises(FatalError, match="no quarantined record"), acting(store, STEWARD) as ctx:
        quarantine.show(ctx, item + 1, reveal=True, reason=REASON)
    assert len(added(store, before)) == 1


# -- detokenize -------------------------------------------------------------------------------------
def _token(project: Project) -> str:
    ctx = OperatorContext("employee.bank_account_iban", project.keyring())
    return str(Tokenize(Tokenize.Params(), ctx).apply(pa.array([IBAN]))[0].as_py())


def test_detokenize_returns_the_value_and_audits_the_attempt_without_it(hub):
    project, store = hub
    token = _token(project)
    before = trail(store)
    assert tokens.detokenize(project, store, STEWARD, token, "employee.bank_account_iban", REASON) == IBAN
    [entry] = added(store, before)
    assert (entry["actor"], entry["action"], entry["subject"]) == (STEWARD, "detokenize", "employee.bank_account_iban")
    assert entry["detail"] == {"token_sha256": tokens.token_digest(token), "reason": REASON, "outcome": "recovered"}
    assert IBAN not in json.dumps(entry, default=str) and token not in json.dumps(entry, default=str)


@pytest.mark.parametrize(("what", "reason", "error"), [
    ("not a token", REASON, FatalError), ("a token for another field", REASON, FatalError),
    ("a good token", "because", ReasonRequired), ("a good token", None, ReasonRequired)])
def test_a_failed_or_unexplained_detokenize_is_audited_as_failed(hub, what, reason, error):
    project, store = hub
    token = "hello" if what == "not a token" else _token(project)
    field = "customer.notes" if what == "a token for another field" else "employee.bank_account_iban"
    before = trail(store)
    with pytest.raises(error):
        tokens.detokenize(project, store, STEWARD, token, field, reason)
    [entry] = added(store, before)
    assert (entry["actor"], entry["action"], entry["subject"]) == (STEWARD, "detokenize.failed", field)
    assert entry["detail"]["outcome"] == "failed" and entry["detail"]["error"]
    assert entry["detail"]["token_sha256"] == tokens.token_digest(token)
    assert IBAN not in json.dumps(entry, default=str) and token not in json.dumps(entry, default=str)
