"""The hub API's reads: golden records as one application may receive them, each response audited.

An API client is a destination like any publish target: it has its own data-sharing
agreement and the policy compiles into the same plan a publish applies. A client with no
agreement in force receives nothing (:class:`ClientRefused`, 403 with the reason). Each
response is one batch: its audit entry (``api.read``) names the client, the records' ids
or change numbers, the policy version, plan and agreement, and per field the action taken
and how many values it touched — the same detail a publish batch records, never a value.
Lookups by id that a server process gathers are one batch of responses (:func:`get_many`):
one entry names every id released and how many requests it answered.

A client searches only by fields its plan lets it receive as they are: searching by a
value it may not see would tell it whether the hub holds that value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import phonenumbers
import pyarrow as pa
import sqlalchemy as sa

from officehub.canonical_model import ENTITIES, layout
from officehub.canonical_model.errors import FatalError, NotFound
from officehub.config import Project
from officehub.config.serve_settings import ApiClient
from officehub.connectors.jsonable import jsonable
from officehub.engine.context import RunContext
from officehub.engine.publish import policy_context, release_detail
from officehub.identity import normalise_phone
from officehub.policies import Destination, PolicyPlan, compile_plan
from officehub.services.session import record as audited
from officehub.store import audit, golden, xref
from officehub.store.schema import TABLES

#: Exact-search criteria: the query parameter, the field it compares, how the value is put in stored form.
EXACT_FIELDS = {
    "email": "contact.email",
    "phone": "contact.phone",
    "tax_id": "tax_id.number",
    "registration_number": "organisation.registration_number",
}
#: Records in one response at most.
MAX_PAGE = 1000
#: Ids named in one audit entry at most (a longer response names its first ones and its count).
_AUDITED_IDS = 100


class ClientRefused(FatalError):
    """The API client may not receive this: no agreement in force, or an entity it was not given."""


@dataclass(frozen=True)
class Client:
    """An API client as the service needs it: its destination name and configuration."""

    name: str
    config: ApiClient

    @property
    def destination(self) -> Destination:
        """The client as a policy destination."""
        return Destination(self.name, self.config.country, self.config.purpose)


class Plans:
    """Each client's compiled plan per entity, compiled once a day (agreements start and end by date)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._plans: dict[tuple[str, str, date], PolicyPlan] = {}

    def client(self, name: str) -> Client:
        """The configured client ``name``; ClientRefused when the configuration no longer has it."""
        config = self.project.config.serve.clients.get(name)
        if config is None:
            raise ClientRefused(f"API client '{name}' is not in the configuration")
        return Client(name, config)

    def plan(self, client: Client, entity: str) -> PolicyPlan:
        """The plan ``client`` receives ``entity`` records under; ClientRefused without an agreement in force."""
        if entity not in ENTITIES:
            raise NotFound(f"unknown entity '{entity}' (known: {', '.join(ENTITIES)})")
        if entity not in client.config.entities:
            raise ClientRefused(f"API client '{client.name}' is not given {entity} records "
                                f"(serve.clients.{client.name}.entities)")
        if not self.project.policies.configured:
            raise ClientRefused(f"no data-sharing agreement covers API client '{client.name}'; it receives nothing")
        today = date.today()
        key = (client.name, entity, today)
        if key not in self._plans:
            context = policy_context(self.project)
            try:
                self._plans[key] = compile_plan(entity, client.destination, context)
            except ClientRefused:
                raise
            except FatalError as exc:  # no agreement in force: fail closed, saying why
                raise ClientRefused(exc.message) from None
        return self._plans[key]


def get(ctx: RunContext, plans: Plans, client: str, entity: str, canonical_id: str) -> dict[str, Any]:
    """One record by canonical id, as the client may receive it; a merged or erased record says so, no values."""
    who = plans.client(client)
    plan = plans.plan(who, entity)
    found = _released(ctx, plan, who, [canonical_id], "api.read")
    if not found:
        raise NotFound(f"no {entity} record {canonical_id}")
    return found[0]


def by_vendor_id(ctx: RunContext, plans: Plans, client: str, entity: str, system: str,
                 vendor_id: str) -> dict[str, Any]:
    """The record a system holds under its own id, as the client may receive it."""
    who = plans.client(client)
    plan = plans.plan(who, entity)
    canonical_id = _canonical_id_of(ctx.conn, entity, system, vendor_id)
    found = _released(ctx, plan, who, [canonical_id], "api.read") if canonical_id else []
    if not found:
        raise NotFound(f"{system} has no {entity} {vendor_id} in the hub", system=system)
    return found[0]


def get_many(ctx: RunContext, plans: Plans, client: str, entity: str, ids: Sequence[str], *,
             requests: int | None = None) -> dict[str, dict[str, Any]]:
    """Records ``ids`` by canonical id, asked for together (by ``requests`` concurrent requests), by id.

    One read, one application of the plan and one audit entry (``api.read``) naming every id
    released, how many requests the batch answered and how many ids it did not find: the batch
    is the unit a response is audited in. An id the hub does not hold is absent from the result
    (its request answers 404); nothing is audited when no record is released.
    """
    who = plans.client(client)
    plan = plans.plan(who, entity)
    unique = list(dict.fromkeys(ids))
    if not unique:
        return {}
    found = _released(ctx, plan, who, unique, "api.read",
                      batch={"requests": requests if requests is not None else len(ids)}, audit_empty=False)
    return {record["canonical_id"]: record for record in found}


def by_vendor_ids(ctx: RunContext, plans: Plans, client: str, entity: str, system: str,
                  vendor_ids: Sequence[str], *, requests: int | None = None) -> dict[str, dict[str, Any]]:
    """The records ``system`` holds under ``vendor_ids``, by vendor id, read and audited as one batch
    (see :func:`get_many`); a vendor id the hub does not know is absent from the result."""
    who = plans.client(client)
    plans.plan(who, entity)  # refuse a client without an agreement before reading anything
    unique = list(dict.fromkeys(vendor_ids))
    links = xref.links(ctx.conn, system, entity, unique) if unique else {}
    canonical = {vid: link.canonical_id for vid, link in links.items() if not link.erased}
    found = get_many(ctx, plans, client, entity, list(canonical.values()),
                     requests=requests if requests is not None else len(vendor_ids))
    return {vid: found[cid] for vid, cid in canonical.items() if cid in found}


def search(ctx: RunContext, plans: Plans, client: str, entity: str, criteria: dict[str, str],
           limit: int = 20) -> list[dict[str, Any]]:
    """Active records whose fields equal every criterion (see :data:`EXACT_FIELDS`), as the client may see them."""
    who = plans.client(client)
    plan = plans.plan(who, entity)
    given = {name: value.strip() for name, value in criteria.items() if value and value.strip()}
    if not given:
        raise FatalError(f"say what to search by: {', '.join(EXACT_FIELDS)}")
    table = TABLES[entity]
    conditions = [table.c.status == "active"]
    for name, value in given.items():
        path = EXACT_FIELDS[name]
        column = layout(entity).field(path).column if _has(entity, path) else None
        if column is None:
            raise FatalError(f"{entity} records have no field {path} to search by {name}")
        if plan.decision(path).action != "allow":
            raise ClientRefused(f"API client '{client}' may not search by {name}: its policy does not let it "
                                f"receive {path} as it is")
        conditions.append(_equals(table.c[column], name, value, who.config.country))
    ids = list(ctx.conn.execute(sa.select(table.c.canonical_id).where(*conditions)
                                .order_by(table.c.canonical_id).limit(min(limit, MAX_PAGE))).scalars())
    return _released(ctx, plan, who, ids, "api.search") if ids else _audit_empty(ctx, plan, who, "api.search")


def changes(ctx: RunContext, plans: Plans, client: str, entity: str, after: int, limit: int = 500) -> dict[str, Any]:
    """Records changed after change number ``after``, oldest first, and the number to ask from next.

    A record gone from the hub (merged, erased, purged) comes with its status and no values,
    so a client keeping a local copy can drop it.
    """
    who = plans.client(client)
    plan = plans.plan(who, entity)
    wanted = min(max(limit, 1), MAX_PAGE)
    # One change more than asked for says whether more are waiting, without a second query.
    read = golden.changes_since(ctx.conn, entity, max(after, 0), wanted + 1)
    page = read.slice(0, wanted)
    seqs = page.column("change_seq").to_pylist()
    policed = plan.apply(page)
    records = _policed_records(plan, page, _merged_into(ctx.conn, entity, page), policed.columns)
    audited(ctx, audit.Entry(f"client:{who.name}", "api.changes", f"{entity} → {who.name}",
                             {"records": len(records), "changes": [seqs[0], seqs[-1]] if seqs else [],
                              **release_detail(policed)}, ctx.run_id))
    return {"changes": records, "next": seqs[-1] if seqs else max(after, 0), "more": read.num_rows > wanted}


def release(ctx: RunContext, plan: PolicyPlan, who: Client, ids: list[str], action: str) -> list[dict[str, Any]]:
    """Records ``ids`` as ``who`` may receive them under ``plan``, in the order of ``ids``, audited as ``action``."""
    return _released(ctx, plan, who, ids, action)


def _released(ctx: RunContext, plan: PolicyPlan, who: Client, ids: list[str], action: str, *,
              batch: dict[str, int] | None = None, audit_empty: bool = True) -> list[dict[str, Any]]:
    page = golden.records(ctx.conn, plan.entity, ids)
    policed = plan.apply(page)
    records = _policed_records(plan, page, _merged_into(ctx.conn, plan.entity, page), policed.columns)
    order = {cid: i for i, cid in enumerate(ids)}
    records.sort(key=lambda r: order.get(r["canonical_id"], len(order)))
    if records or audit_empty:
        # A batch of requests says how many it answered and how many ids it did not find (counts, no ids).
        counts = {**batch, "not_found": len(ids) - len(records)} if batch is not None else {}
        audited(ctx, audit.Entry(f"client:{who.name}", action, f"{plan.entity} → {who.name}",
                                 {"records": len(records), "ids": [r["canonical_id"] for r in records][:_AUDITED_IDS],
                                  **counts, **release_detail(policed)}, ctx.run_id))
    return records


def _audit_empty(ctx: RunContext, plan: PolicyPlan, who: Client, action: str) -> list[dict[str, Any]]:
    audited(ctx, audit.Entry(f"client:{who.name}", action, f"{plan.entity} → {who.name}",
                             {"records": 0, "ids": [], "policy_version": plan.policy_version, "plan": plan.fingerprint,
                              "agreement": plan.agreement.id if plan.agreement else None}, ctx.run_id))
    return []


def _policed_records(plan: PolicyPlan, page: pa.Table, merged: dict[str, str],
                     columns: dict[str, pa.Array] | None = None) -> list[dict[str, Any]]:
    """One JSON-ready record per row: hub ids and status, and the fields the plan released, nested by path.

    Only active records carry values; a record gone from the hub carries its status (and, when
    merged, the record it was merged into).
    """
    released = columns if columns is not None else plan.apply(page).columns
    paths = {leaf.column: leaf.path for leaf in layout(plan.entity).fields}
    values = {column: released[column].to_pylist() for column in paths if column in released}
    out = []
    for row, (cid, status, version, seq, updated) in enumerate(zip(*(page.column(c).to_pylist() for c in (
            "canonical_id", "status", "version", "change_seq", "updated_at")))):
        record: dict[str, Any] = {"canonical_id": cid, "status": status, "version": version, "change": seq}
        if updated is not None:
            record["updated_at"] = jsonable(updated)
        if status == "active":
            fields: dict[str, Any] = {}
            for column, column_values in values.items():
                if column_values[row] is not None:
                    _put(fields, paths[column], jsonable(column_values[row]))
            record["fields"] = fields
        elif cid in merged:
            record["merged_into"] = merged[cid]
        out.append(record)
    return out


def _put(target: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value


def _merged_into(conn: sa.Connection, entity: str, page: pa.Table) -> dict[str, str]:
    merged = [cid for cid, status in zip(page.column("canonical_id").to_pylist(), page.column("status").to_pylist())
              if status == "merged"]
    if not merged:
        return {}
    table = TABLES[entity]
    rows = conn.execute(sa.select(table.c.canonical_id, table.c.merged_into).where(table.c.canonical_id.in_(merged)))
    return {r.canonical_id: r.merged_into for r in rows if r.merged_into}


def _canonical_id_of(conn: sa.Connection, entity: str, system: str, vendor_id: str) -> str | None:
    """The record a system's id is filed under (its cross-reference, or a sole-form golden row's key),
    unless the link was erased."""
    link = xref.links(conn, system, entity, [vendor_id]).get(vendor_id)
    return link.canonical_id if link is not None and not link.erased else None


def _has(entity: str, path: str) -> bool:
    try:
        layout(entity).field(path)
    except KeyError:
        return False
    return True


def _equals(column: sa.ColumnElement[Any], name: str, value: str, country: str | None) -> sa.ColumnElement[bool]:
    """``column`` equal to ``value`` as the hub stores that kind of value (a national phone number is read in
    the client's country, as an ingest mapping reads it in its region)."""
    if name == "email":
        return sa.func.lower(column) == value.lower()
    if name == "phone":
        return column == (_e164(value, country) or normalise_phone(value) or value)
    return column == "".join(value.split()).replace("-", "").upper()


def _e164(text: str, country: str | None) -> str | None:
    try:
        number = phonenumbers.parse(text, country or "ZZ")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
