"""Estates for the hub API's tests: the demo and the sentinel estate, each with API clients of every kind.

Each client is a destination with (or without) its own agreement and policy, written into
the built estate's officehub.yaml and policies/ folder the way a user would configure one:

- ``webshop`` (demo): the demo's own client, customers under policies/webshop.yaml.
- ``courier`` (demo): customers with the e-mail address hashed, so it may not search by it.
- ``staff-directory`` (demo) and ``hr-portal`` (sentinel): employees, every special category withheld.
- ``kiosk``: configured, but no agreement covers it (it receives nothing).
- ``archive``: its only agreement ended yesterday.

Tokens are issued with the services, as ``officehub token issue`` issues them; an expired
token is one whose expiry is moved into the past in the hub store (a token cannot be issued
already expired).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from officehub.config import load_project
from officehub.engine import open_store
from officehub.engine.context import utc_now
from officehub.services import api_tokens, links
from officehub.store import audit
from officehub.store.hub import HubStore
from officehub.store.schema import TABLES
from tests.conftest import copy_demo_config
from tests.helpers import sync_all
from tests.integration import sentinel_estate
from tests.leak_scan import register_secret

SETUP = "user:test-setup"
#: The scopes of the read endpoints.
SCOPES = ("read", "search", "changes")
#: Every scope a token may have.
ALL_SCOPES = api_tokens.SCOPES


def _agreement(destination: str, purpose: str, *, ended: bool = False) -> dict[str, Any]:
    today = date.today()
    return {"id": f"{destination}-api", "destination": destination, "purpose": purpose,
            "legal_basis": "GDPR Art. 6(1)(b) performance of a contract with the data subject",
            "valid_from": str(today - timedelta(days=400)),
            "valid_until": str(today - timedelta(days=1) if ended else today + timedelta(days=400))}


def _policy(destination: str, purpose: str, rules: list[dict[str, Any]], *, ended: bool = False) -> dict[str, Any]:
    return {"name": f"{destination}-api-sharing", "uses": ["gdpr-special-categories"],
            "agreements": [_agreement(destination, purpose, ended=ended)], "rules": rules}


def _write_yaml(path: Path, document: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))


def _add_clients(folder: Path, clients: dict[str, dict[str, Any]], policies: dict[str, dict[str, Any]]) -> None:
    config = yaml.safe_load((folder / "officehub.yaml").read_text())
    serve = config.setdefault("serve", {})
    serve.setdefault("clients", {}).update(clients)
    config.setdefault("policies", ["policies/*.yaml"])
    _write_yaml(folder / "officehub.yaml", config)
    (folder / "policies").mkdir(exist_ok=True)
    for name, document in policies.items():
        _write_yaml(folder / "policies" / f"{name}.yaml", document)


DEMO_CLIENTS = {
    "courier": {"description": "delivers parcels", "country": "UA", "purpose": "parcel delivery",
                "entities": ["customer"]},
    "staff-directory": {"description": "the intranet's staff pages", "country": "UA", "purpose": "staff directory",
                        "entities": ["employee"]},
    "kiosk": {"description": "no agreement covers it", "country": "UA", "purpose": "in-store lookups",
              "entities": ["customer"]},
    "archive": {"description": "its agreement has ended", "country": "UA", "purpose": "archiving",
                "entities": ["customer"]},
}
DEMO_POLICIES = {
    "courier": _policy("courier", "parcel delivery", [
        {"id": "delivery-details", "select": {"entity": "customer", "class": ["personal", "internal"]},
         "action": "allow"},
        {"id": "email-pseudonymous", "select": {"field": "customer.contact.email"}, "action": "hash"},
        {"id": "no-financial", "select": {"entity": "customer", "class": "financial"}, "action": "drop"},
        {"id": "no-notes", "select": {"field": "customer.notes"}, "action": "drop"}]),
    "staff-directory": _policy("staff-directory", "staff directory", [
        {"id": "directory-details", "select": {"entity": "employee", "class": ["personal", "internal"]},
         "action": "allow"},
        {"id": "no-pay", "select": {"entity": "employee", "class": "financial"}, "action": "drop"}]),
    "archive": _policy("archive", "archiving", [
        {"id": "everything-personal", "select": {"entity": "customer", "class": "personal"}, "action": "allow"}],
        ended=True),
}


def build_demo(folder: Path) -> Path:
    """The demo estate with its clients, seeded and synced, and one customer merged into another."""
    from officehub.demo.seed import seed_estate

    copy_demo_config(folder)
    _add_clients(folder, DEMO_CLIENTS, DEMO_POLICIES)
    seed_estate(folder / "data")
    results = sync_all(folder)
    assert {r.status for r in results.values()} == {"succeeded"}, {n: r.error for n, r in results.items()}
    return folder


def merge_two_customers(folder: Path) -> tuple[str, str]:
    """Fold one active customer into another (as a steward would); returns (survivor, merged)."""
    with store_of(folder) as store, store.begin() as conn:
        table = TABLES["customer"]
        ids = list(conn.execute(sa.select(table.c.canonical_id).where(table.c.status == "active")
                                .order_by(table.c.canonical_id).limit(2)).scalars())
    project = load_project(folder)
    with store_of(folder) as store:
        links.merge(project, store, SETUP, "customer", ids[0], ids[1])
    return ids[0], ids[1]


SENTINEL_CLIENTS = {
    "hr-portal": {"description": "the staff self-service portal", "country": "UA", "purpose": "staff self-service",
                  "entities": ["employee"]},
    "kiosk": DEMO_CLIENTS["kiosk"] | {"entities": ["employee"]},
}
SENTINEL_POLICIES = {
    # No rule names a special category: the template withholds them all, and every other class goes.
    "hr-portal": _policy("hr-portal", "staff self-service", [
        {"id": "portal-details", "select": {"entity": "employee", "class": ["personal", "internal", "financial"]},
         "action": "allow"}]),
}


def build_sentinel(folder: Path) -> Path:
    """The sentinel estate with an API client for its employees, synced."""
    sentinel_estate.build(folder)
    _add_clients(folder, SENTINEL_CLIENTS, SENTINEL_POLICIES)
    results = sync_all(folder)
    failed = {n: r.error for n, r in results.items() if r.status not in ("succeeded", "partial")}
    assert not failed, failed
    return folder


@contextmanager
def store_of(folder: Path) -> Iterator[HubStore]:
    """The project's hub store, closed afterwards."""
    store = open_store(load_project(folder))
    try:
        yield store
    finally:
        store.close()


def token(folder: Path, client: str, scopes: tuple[str, ...] | list[str], state: str = "valid") -> str:
    """A token of ``client`` with ``scopes``: ``valid``, ``revoked`` or ``expired``."""
    return tokens(folder, [(client, tuple(scopes), state)])[0]


def tokens(folder: Path, wanted: list[tuple[str, tuple[str, ...], str]]) -> list[str]:
    """Tokens (client, scopes, state) as :func:`token` makes them, with the store opened once."""
    made = []
    with store_of(folder) as store:
        for client, scopes, state in wanted:
            issued, secret = api_tokens.issue(store, SETUP, client, f"tests-{state}", list(scopes))
            if state == "revoked":
                api_tokens.revoke(store, SETUP, issued.id)
            elif state == "expired":
                with store.begin() as conn:
                    table = TABLES["api_token"]
                    conn.execute(sa.update(table).where(table.c.id == issued.id)
                                 .values(expires_at=utc_now() - timedelta(minutes=1)))
            made.append(register_secret(secret, "api token"))
    return made


def audit_entries(folder: Path, *, after: int = 0, actions: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Audit entries newer than entry ``after``, oldest first (only ``actions`` when given)."""
    with store_of(folder) as store, store.begin() as conn:
        table = TABLES["audit"]
        query = sa.select(table).where(table.c.id > after).order_by(table.c.id)
        if actions:
            query = query.where(table.c.action.in_(actions))
        return [dict(r._mapping) for r in conn.execute(query)]


def last_audit_id(folder: Path) -> int:
    """The number of the newest audit entry."""
    with store_of(folder) as store, store.begin() as conn:
        newest = audit.entries(conn, None, 1)
        return int(newest[0]["id"]) if newest else 0


def audit_text(folder: Path) -> str:
    """Every column of every audit entry, as one text to look for values in."""
    with store_of(folder) as store, store.begin() as conn:
        rows = conn.execute(sa.select(TABLES["audit"])).all()
    return "\n".join(" ".join(str(v) for v in row) for row in rows)
