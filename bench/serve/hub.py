"""The served hub: N golden customers on PostgreSQL, an API client with its agreement, and its token.

Built through the hub itself: synthetic people (the linkage benchmark's generator, plus an
e-mail address and a phone number each) go into a SQLite ``crm`` system, ``officehub sync``
loads them with no matching (each record its own golden record, as a hub is before matching
is switched on), then the fuzzy rules of docs/identity.md are configured and their match keys
built as ``match rerun`` builds them, so the fuzzy search has its blocks. The project gives an
API client ``shop`` a policy with an agreement: names, contacts, birth dates and addresses as
they are, the phone masked, notes and financial fields dropped.
"""

from __future__ import annotations

import random
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml

from bench.linkage import scale
from bench.settings import pg_url

ENTITY = "customer"
SYSTEM = "crm"
CLIENT = "shop"
ACTOR = "bench:serve"
COLUMNS = (*scale.COLUMNS, "email", "phone")
FIELDS: dict[str, Any] = {**scale.FIELDS, "contact.email": "email", "contact.phone": "phone"}
POLICY: dict[str, Any] = {
    "name": "shop-sharing",
    "description": "What the online shop reads through the hub API",
    "agreements": [{"id": "shop-checkout", "destination": CLIENT, "purpose": "online sales",
                    "legal_basis": "performance of the sales contract with the customer",
                    "valid_from": "2020-01-01", "valid_until": "2099-12-31"}],
    "rules": [
        {"id": "checkout-details", "select": {"entity": ENTITY, "class": ["personal", "internal"]},
         "action": "allow"},
        {"id": "phone-masked", "select": {"field": "customer.contact.phone"}, "action": "mask",
         "params": {"keep_last": 3}},
        {"id": "no-notes", "select": {"field": "customer.notes"}, "action": "drop"},
        {"id": "no-financial-data", "select": {"entity": ENTITY, "class": "financial"}, "action": "drop"},
    ],
}

Row = tuple[str, ...]


@dataclass(frozen=True)
class Served:
    """A built hub: its project folder, its database, the client's token and the queries to ask."""

    folder: Path
    database: str
    token: str
    queries: dict[str, list[str]]


def people(size: int, seed: int) -> list[Row]:
    """``size`` synthetic customers: the linkage benchmark's people with an e-mail and an E.164 phone."""
    rows = scale.People(seed).make(size, "C")
    return [(*row, f"{row[1]}.{row[2]}.{n}@example.net".lower().replace(" ", ""), f"+38067{n:07d}")
            for n, row in enumerate(rows)]


def write_system(path: Path, rows: list[Row]) -> None:
    """The ``crm`` system: a SQLite database with one ``people`` table of text columns, keyed by ``id``."""
    path.unlink(missing_ok=True)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(f"CREATE TABLE people ({', '.join(f'{c} TEXT' for c in COLUMNS)}, PRIMARY KEY (id))")
        db.executemany(f"INSERT INTO people VALUES ({', '.join('?' for _ in COLUMNS)})", rows)


def write_project(folder: Path, store: str, system: Path, match: dict[str, Any]) -> Path:
    """officehub.yaml and the client's policy: the hub store at ``store``, one ingest, ``match`` as the rules."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "policies").mkdir(exist_ok=True)
    (folder / "policies" / f"{CLIENT}.yaml").write_text(yaml.safe_dump(POLICY, sort_keys=False), encoding="utf-8")
    config = {
        "hub": {"name": "serve-bench", "store": store},
        "identity": {ENTITY: {"match": match}},
        "systems": {SYSTEM: {"type": "sql", "url": f"sqlite:///{system.resolve()}"}},
        "mappings": {f"{SYSTEM}_in": {"system": SYSTEM, "stream": "people", "target": ENTITY, "key": "id",
                                      "fields": FIELDS}},
        "pipelines": {f"{SYSTEM}_in": {"kind": "ingest", "mapping": f"{SYSTEM}_in"}},
        "policies": ["policies/*.yaml"],
        "serve": {"clients": {CLIENT: {"description": "the online shop", "purpose": "online sales",
                                       "entities": [ENTITY]}}},
    }
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return folder


def build(folder: Path, database: str, size: int, seed: int, samples: int = 2000,
          url: str | None = None) -> Served:
    """A hub of ``size`` golden customers in ``database`` (created fresh), ready to serve; the queries to ask it."""
    from bench.db import pg_fresh_database

    rows = people(size, seed)
    system = folder / "data" / "crm.db"
    system.parent.mkdir(parents=True, exist_ok=True)
    write_system(system, rows)
    if url is None:
        pg_fresh_database(database)
    store = url or pg_url(database, "+psycopg")
    write_project(folder, store, system, {"keys": []})
    scale._sync(folder, [f"{SYSTEM}_in"])
    write_project(folder, store, system, scale.FUZZY)
    scale._build_keys(folder)
    token, ids = _prepare(folder)
    return Served(folder, database, token, queries(rows, ids, random.Random(seed), samples))


def _prepare(folder: Path) -> tuple[str, dict[str, str]]:
    """A settled store (vacuumed, fresh planner statistics), the client's token, and each vendor id's canonical id.

    VACUUM as autovacuum would have long since on a hub in service: right after a bulk load the
    first read of each row also marks it as visible to all (hint bits), writing the page again,
    which made the first scenario of a 1,000,000-customer run its slowest (p99 149 ms by id, 27
    for the same lookups once settled).
    """
    import sqlalchemy as sa

    from officehub.config import load_project
    from officehub.engine import open_store
    from officehub.services import api_tokens
    from officehub.store.schema import TABLES

    project = load_project(folder)
    store = open_store(project)
    try:
        if store.engine.dialect.name == "postgresql":
            with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("VACUUM ANALYZE"))
        _, token = api_tokens.issue(store, ACTOR, CLIENT, "bench", ["read", "search", "changes"],
                                    known_clients=project.config.serve.client_names())
        table = TABLES[ENTITY]
        with store.begin() as conn:
            ids = {r.sole_vendor_id: r.canonical_id for r in conn.execute(
                sa.select(table.c.sole_vendor_id, table.c.canonical_id))}
    finally:
        store.close()
    return token, ids


def queries(rows: list[Row], ids: dict[str, str], rng: random.Random, samples: int) -> dict[str, list[str]]:
    """Request paths per scenario, drawn from ``rows`` (the same people in each)."""
    picked = rng.sample(rows, min(samples, len(rows)))
    retyper = scale.People.__new__(scale.People)
    retyper.rng = rng  # retyped() needs only the random source
    base = f"/api/v1/{ENTITY}"
    pages = max(1, len(rows) // 100)
    return {
        "by_id": [f"{base}/records/{ids[row[0]]}" for row in picked],
        "by_vendor_id": [f"{base}/systems/{SYSTEM}/records/{row[0]}" for row in picked],
        "search_email": [f"{base}/search?{urlencode({'email': row[7].upper()})}" for row in picked],
        "changes": [f"{base}/changes?{urlencode({'after': rng.randrange(pages) * 100, 'limit': 100})}"
                    for _ in picked],
        "match": [f"{base}/match?{_match_query(retyper.retyped(row[:7], row[0]))}" for row in picked],
    }


def _match_query(person: Row) -> str:
    """A fuzzy search for ``person`` as a clerk typed them: name, birth date and postcode."""
    fields = dict(zip(scale.COLUMNS, person, strict=True))
    return urlencode({"first_name": fields["first_name"], "last_name": fields["last_name"],
                      "birth_date": fields["birth_date"], "postal_code": fields["postcode"]})
