"""Records an application submits through the hub API, taken in exactly like an ingest.

The client's ``submits`` names, per entity, an ingest pipeline of an ``api`` system. A
submission is kept in that system's inbox and the pipeline runs at once: the records go
through its mapping, the model's checks, identity resolution and the quarantine like
those of any system, and the run is on record. Each record's outcome is read back from
the hub: stored (with its canonical id, and whether it waits in the review queue as a
likely duplicate) or quarantined (with the reason, which names fields, never values).
Runs of one pipeline never overlap: submissions queue on a lock, across processes.
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from officehub.canonical_model.errors import FatalError, RetriableError
from officehub.config import Project
from officehub.connectors.api_inbox import ApiInboxConnector
from officehub.services.hub_api import ClientRefused
from officehub.store import audit, matches, xref
from officehub.store import bookkeeping as bk
from officehub.store.hub import HubStore

#: Records in one submission at most.
MAX_RECORDS = 1000
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def submit(project: Project, store: HubStore, client: str, entity: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Take ``records`` in through the client's pipeline for ``entity``; the run and each record's outcome."""
    config = project.config.serve.clients.get(client)
    if config is None:
        raise ClientRefused(f"API client '{client}' is not in the configuration")
    pipeline = config.submits.get(entity)
    if pipeline is None:
        raise ClientRefused(f"API client '{client}' submits no {entity} records (serve.clients.{client}.submits)")
    if not records:
        raise FatalError("submit at least one record")
    if len(records) > MAX_RECORDS:
        raise FatalError(f"submit at most {MAX_RECORDS} records at once")
    spec = project.config.mappings[project.config.pipelines[pipeline].mapping]
    key = list(spec.key)
    missing = [i for i, r in enumerate(records) if any(r.get(k) in (None, "") for k in key)]
    if missing:
        raise FatalError(f"record {missing[0] + 1} has no {' and '.join(key)}: each record needs the "
                         f"application's own id ({', '.join(key)}) to be updated later")
    inbox = project.connector(spec.system)
    if not isinstance(inbox, ApiInboxConnector):
        raise FatalError(f"system '{spec.system}' is not of type api", system=spec.system)
    from officehub.engine.runner import run_pipeline  # the sync engine: loaded by the first submission

    # Every column the mapping reads, present in every record: what an application leaves out is empty.
    columns = sorted({c for f in spec.fields.values() for c in f.sources} | set(key))
    with _running(pipeline, inbox.inbox):
        deposited = inbox.deposit(spec.stream, [{**dict.fromkeys(columns), **r} for r in records])
        try:
            result = run_pipeline(project, store, pipeline, raise_internal=False)
        finally:
            # Read and on record, or refused as a whole (the application is told and may send it again):
            # either way it must not wait in the inbox for the next submission's run.
            deposited.unlink(missing_ok=True)
    ids = ["/".join(str(r[k]) for k in key) for r in records]  # as the mapping keys them
    outcomes = _outcomes(store, spec.system, entity, pipeline, result.run_id, ids)
    with store.begin() as conn:
        audit.append(conn, actor=f"client:{client}", action="api.submit", subject=f"{entity} ← {client}",
                     detail={"pipeline": pipeline, "records": len(records), "run": result.run_id,
                             "status": result.status,
                             "quarantined": sum(1 for o in outcomes if o["status"] == "quarantined")},
                     run_id=result.run_id)
    if result.status != "succeeded":
        error = f"the {pipeline} run {result.run_id} failed: {result.error}"
        raise RetriableError(error) if result.exit_code == 75 else FatalError(error)
    return {"run": result.run_id, "records": outcomes}


def _outcomes(store: HubStore, system: str, entity: str, pipeline: str, run_id: int,
              ids: list[str]) -> list[dict[str, Any]]:
    with store.begin() as conn:
        rejected = {q["vendor_id"]: q for q in bk.list_quarantine(conn, pipeline, None, len(ids) + 100, 0, run_id)}
        stored = xref.lookup(conn, system, entity, ids)
        waiting = matches.pending_ids(conn, list(stored.values()))
    out = []
    for vid in ids:
        if vid in rejected:
            entry = rejected[vid]
            out.append({"id": vid, "status": "quarantined", "reason": entry["reason"], "quarantine": entry["id"]})
        elif vid in stored:
            cid = stored[vid]
            out.append({"id": vid, "status": "stored", "canonical_id": cid, "review": cid in waiting})
        else:  # an unchanged duplicate within the submission, or a row the source rejected without a key
            out.append({"id": vid, "status": "not stored", "reason": "see the run's quarantine"})
    return out


@contextlib.contextmanager
def _running(pipeline: str, inbox: Path) -> Iterator[None]:
    """One run of ``pipeline`` at a time: a lock in this process, and a file lock shared with other processes."""
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(pipeline, threading.Lock())
    with lock:
        inbox.mkdir(parents=True, exist_ok=True)
        with (inbox / ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
