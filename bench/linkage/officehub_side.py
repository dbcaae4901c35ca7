"""officehub on FEBRL4, run as a user runs it: two systems, a mapping, `match train`, then a sync that matches.

Side A and side B become two SQLite systems (`a`, `b`) feeding `customer` through the same
mapping: given name and surname, the street from number + address lines, suburb as the city,
postcode, and the date of birth parsed as `%Y%m%d` with `on_error: flag` (an impossible date is
flagged, the record kept and matched on the rest). No identifier: `soc_sec_id` is not mapped,
and FEBRL's `state` has no canonical field.

1. **Train**: a hub with no matching syncs both systems (each record its own golden record),
   then `match train customer` proposes comparisons and blocking from the entity's fields and
   learns their weights (timed: `train_seconds`).
2. **Match**: a fresh hub store, the trained model configured, syncs A, then B (B's sync is the
   matching, timed: `match_seconds`). B's records that the hub linked to an A record now share
   its canonical id in xref; the pairs it was unsure of wait in `match_review`.
"""

import shutil
import sqlite3
import time
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench.linkage.febrl import MATCH_COLUMNS, LinkageData, Record
from bench.linkage.metrics import Pair

ENTITY = "customer"
SYSTEMS = ("a", "b")
MODEL_FILE = Path("identity") / f"{ENTITY}.model.yaml"
ACTOR = "bench:linkage"


@dataclass(frozen=True)
class OfficehubResult:
    """What the hub linked and queued, what it quarantined or flagged, and how long it took."""

    links: frozenset[Pair]
    reviews: frozenset[Pair]
    quarantined: int
    """Records quarantined by the matching hub's two syncs (A and B): none is expected."""
    flagged: int
    """Fields flagged on the way in (impossible dates), the records kept."""
    train_seconds: float
    match_seconds: float
    load_seconds: float
    """The training hub's sync of both systems, before `match train` (not in `seconds`)."""
    model: dict[str, Any] = field(default_factory=dict)
    """The trained model's summary: version, prior, blocking rules and their cost."""

    @property
    def seconds(self) -> float:
        """Training and matching together, as Splink's figure is."""
        return self.train_seconds + self.match_seconds


def run_officehub(data: LinkageData, workdir: Path, *, link_at: float = 0.99, review_at: float = 0.5) -> OfficehubResult:
    """Train officehub's model on both sides of `data`, then link B to A in a fresh hub; `workdir` is emptied first."""
    if workdir.exists():
        shutil.rmtree(workdir)
    systems = _write_systems(data, workdir / "data")
    training = _project(workdir / "train", systems, {ENTITY: {"match": {"keys": []}}})
    load_seconds, _ = _timed_sync(training, _pipelines())
    train_seconds, summary = _timed_train(training)
    matching = _project(workdir / "match", systems, {ENTITY: {"match": {"probabilistic": {
        "model": MODEL_FILE.as_posix(), "link_at": link_at, "review_at": review_at}}}})
    (matching / MODEL_FILE).parent.mkdir(parents=True)
    shutil.copyfile(training / MODEL_FILE, matching / MODEL_FILE)
    _, first = _timed_sync(matching, ["a_in"])
    match_seconds, second = _timed_sync(matching, ["b_in"])
    runs = first + second
    links, reviews = _read_hub(matching / ".officehub" / "hub.db")
    return OfficehubResult(links, reviews, sum(r.metrics.records_quarantined for r in runs),
                           sum(r.metrics.fields_flagged for r in runs), train_seconds, match_seconds,
                           load_seconds, summary)


# -- the estate ------------------------------------------------------------------------------
def _write_systems(data: LinkageData, folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True)
    paths = {}
    for system, records in zip(SYSTEMS, (data.a, data.b), strict=True):
        paths[system] = folder / f"{system}.db"
        write_people(paths[system], records)
    return paths


def write_people(path: Path, records: Iterable[Record]) -> None:
    """A SQLite database with one `people` table: the FEBRL columns as text, keyed by `id`."""
    columns = ("id", *MATCH_COLUMNS)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(f"CREATE TABLE people ({', '.join(f'{c} TEXT' for c in columns)}, PRIMARY KEY (id))")
        db.executemany(f"INSERT INTO people VALUES ({', '.join('?' for _ in columns)})",
                       ([r[c] for c in columns] for r in records))


#: FEBRL's columns onto the canonical customer; the same for both systems.
FIELDS: dict[str, Any] = {
    "name.first": "given_name",
    "name.last": "surname",
    "address.street": {"from": ["street_number", "address_1", "address_2"], "transforms": ["concat"]},
    "address.city": "suburb",
    "address.postal_code": "postcode",
    "birth_date": {"from": "date_of_birth", "transforms": [{"date": "%Y%m%d"}], "on_error": "flag"},
}


def _pipelines() -> list[str]:
    return [f"{system}_in" for system in SYSTEMS]


def _project(folder: Path, systems: dict[str, Path], identity: dict[str, Any]) -> Path:
    return write_project(folder, "sqlite:///.officehub/hub.db", systems, FIELDS, identity)


def write_project(folder: Path, store: str, systems: dict[str, Path], fields: dict[str, Any],
                  identity: dict[str, Any]) -> Path:
    """officehub.yaml: the hub store at ``store``, one ingest of ``people`` per SQLite system into customer."""
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "hub": {"name": "linkage", "store": store},
        "identity": identity,
        "systems": {name: {"type": "sql", "url": f"sqlite:///{path.resolve()}"} for name, path in systems.items()},
        "mappings": {f"{name}_in": {"system": name, "stream": "people", "target": ENTITY, "key": "id",
                                    "fields": fields} for name in systems},
        "pipelines": {f"{name}_in": {"kind": "ingest", "mapping": f"{name}_in"} for name in systems},
    }
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return folder


# -- running the hub ---------------------------------------------------------------------------
def _timed_sync(folder: Path, pipelines: list[str]) -> tuple[float, list[Any]]:
    """Seconds and run results of syncing `pipelines` in order; a failed run stops the benchmark."""
    from officehub.config import load_project
    from officehub.engine import sync

    project = load_project(folder)
    started = time.perf_counter()
    results = sync(project, pipelines)
    seconds = time.perf_counter() - started
    if failed := [f"{r.pipeline}: {r.error}" for r in results if r.status != "succeeded"]:
        raise RuntimeError("officehub sync failed: " + "; ".join(failed))
    return seconds, results


def _timed_train(folder: Path) -> tuple[float, dict[str, Any]]:
    """Seconds of `match train customer` and a summary of the model it wrote."""
    from officehub.config import load_project
    from officehub.engine import open_store
    from officehub.services import matching

    project = load_project(folder)
    store = open_store(project)
    try:
        started = time.perf_counter()
        trained = matching.train(project, store, ACTOR, ENTITY)
        seconds = time.perf_counter() - started
    finally:
        store.close()
    model = trained.model
    assert model.trained is not None
    return seconds, {"version": model.version, "prior": model.prior, "records": model.trained.records,
                     "blocking": {"+".join(rule.columns): rule.pairs for rule in model.blocking},
                     "blocked_pairs": model.trained.blocked_pairs,
                     "expected_matches": model.trained.expected_matches,
                     "comparisons": [c.name for c in model.comparisons], "untrained": model.trained.untrained}


# -- reading what the hub decided ----------------------------------------------------------
def _read_hub(path: Path) -> tuple[frozenset[Pair], frozenset[Pair]]:
    """(A id, B id) pairs sharing a canonical id, and the pairs pending review."""
    with closing(sqlite3.connect(path)) as db:
        owners = _owners(db)
        queued = db.execute("SELECT canonical_id, candidate_id FROM match_review "
                            "WHERE entity = ? AND status = 'pending'", (ENTITY,)).fetchall()
    links = frozenset(pair for ids in owners.values() for pair in _pairs(ids))
    reviews = frozenset(pair for left, right in queued
                        for pair in _pairs(owners.get(left, {}), owners.get(right, {})))
    return links, reviews


def _owners(db: sqlite3.Connection) -> dict[str, dict[str, list[str]]]:
    """Each canonical id's vendor ids by system: its xref links and, in sole form, the golden row's own."""
    owners: dict[str, dict[str, list[str]]] = {}
    rows = db.execute("SELECT canonical_id, system, vendor_id FROM xref WHERE entity = ? AND erased_at IS NULL",
                      (ENTITY,)).fetchall()
    rows += db.execute(f"SELECT canonical_id, sole_system, sole_vendor_id FROM {ENTITY} "
                       "WHERE sole_system IS NOT NULL").fetchall()
    for canonical_id, system, vendor_id in rows:
        owners.setdefault(canonical_id, {}).setdefault(system, []).append(vendor_id)
    return owners


def _pairs(*records: dict[str, list[str]]) -> list[Pair]:
    """Every (A id, B id) among the vendor ids of `records` (one golden record, or a queued pair's two)."""
    a_ids = dict.fromkeys(vid for ids in records for vid in ids.get("a", ()))
    b_ids = dict.fromkeys(vid for ids in records for vid in ids.get("b", ()))
    return [(a, b) for a in a_ids for b in b_ids]
