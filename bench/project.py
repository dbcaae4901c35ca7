"""The officehub project the benchmark runs: written as YAML into a folder, like a user's own.

Source: the seeded MariaDB table (system ``crm``). Destination: PostgreSQL (system
``warehouse``) through a policy that hashes e-mail (keyed HMAC), generalises the
birth date to its year and redacts the notes. Two publish pipelines share the
mapping: ``customers_out`` (the end-to-end run) and ``customers_out_pub`` (publish
measured on its own, into a second table).
"""

from __future__ import annotations

import os
from pathlib import Path

from bench.settings import DEST_DB, HUB_DB, MULTI_HUB_DB, SOURCE_DB, mariadb_url, pg_url

DEST_TABLE = "oh_customers"
PUBLISH_TABLE = "oh_customers_pub"
INGEST, PUBLISH, PUBLISH_ALONE = "customers_in", "customers_out", "customers_out_pub"
BILLING_INGEST = "billing_in"

#: Inbound: vendor columns → canonical customer fields. No transforms on purpose: the
#: benchmark measures the engine (read, validate, xref, golden records, policy, write).
FIELDS_IN = {
    "customer_number": "external_ref", "name.first": "first_name", "name.last": "last_name",
    "birth_date": "birth_date", "contact.email": "email", "contact.phone": "phone",
    "address.street": "street", "address.city": "city", "address.postal_code": "postal_code",
    "address.country": "country", "notes": "notes",
}
#: Outbound: canonical fields (and hub columns) → destination columns.
FIELDS_OUT = {
    "canonical_id": "hub_id", "version": "hub_version", "customer_number": "customer_ref",
    "name.first": "first_name", "name.last": "last_name", "birth_date": "birth_year",
    "contact.email": "email_pseudonym", "contact.phone": "phone", "address.street": "street",
    "address.city": "city", "address.postal_code": "postal_code", "address.country": "country",
    "notes": "notes",
}

#: The billing system's columns: the same customers, fewer fields.
FIELDS_BILLING = {
    "customer_number": "external_ref", "name.first": "first_name", "name.last": "last_name",
    "contact.email": "email", "address.street": "street", "address.city": "city",
    "address.postal_code": "postal_code", "address.country": "country",
}

POLICY = """\
name: warehouse-sharing
description: What the benchmark's warehouse may receive
agreements:
  - id: warehouse-bench
    destination: warehouse
    purpose: analytics
    legal_basis: "GDPR Art. 6(1)(f) legitimate interest (benchmark)"
    valid_from: 2020-01-01
    valid_until: 2099-12-31
rules:
  - id: email-pseudonym
    select: {field: customer.contact.email}
    action: hash
  - id: birth-year
    select: {field: customer.birth_date}
    action: generalize
    params: {to: year}
  - id: notes-redacted
    select: {field: customer.notes}
    action: redact
"""


def _fields(fields: dict[str, str]) -> str:
    return "".join(f"      {path}: {column}\n" for path, column in fields.items())


def _password(env: str) -> str:
    # The local servers trust loopback; a password, if one is needed, goes by reference only.
    return f"    password: {{env: {env}}}\n" if os.environ.get(env) else ""


def write_project(folder: Path, source_table: str, batch_size: int) -> Path:
    """Write officehub.yaml, the policy and the hash key into ``folder``; returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "keys").mkdir(exist_ok=True)
    # A fixed benchmark key (not a secret): pseudonyms come out the same in every run.
    (folder / "keys" / "bench.key").write_text("officehub-benchmark-key-0123456789abcdef\n")
    (folder / "policies").mkdir(exist_ok=True)
    (folder / "policies" / "warehouse.yaml").write_text(POLICY)
    store_password = "  store_password: {env: BENCH_PG_PASSWORD}\n" if os.environ.get("BENCH_PG_PASSWORD") else ""
    mapping_out = "".join(
        f"  {name}:\n    system: warehouse\n    stream: {table}\n    target: customer\n    key: hub_id\n"
        f"    fields:\n{_fields(FIELDS_OUT)}"
        for name, table in (("warehouse_customers", DEST_TABLE), ("warehouse_customers_pub", PUBLISH_TABLE)))
    (folder / "officehub.yaml").write_text(f"""\
# Written by bench/project.py for one benchmark round.
hub:
  name: bench
  store: {pg_url(HUB_DB, '+psycopg')}
{store_password}  batch_size: {batch_size}
  keys:
    bench-2026: {{file: keys/bench.key}}
  active_key: bench-2026

systems:
  crm:
    type: sql
    url: {mariadb_url(SOURCE_DB, '+pymysql')}?charset=utf8mb4
{_password('BENCH_MARIADB_PASSWORD')}  warehouse:
    type: sql
    url: {pg_url(DEST_DB, '+psycopg')}
{_password('BENCH_PG_PASSWORD')}
mappings:
  crm_customers:
    system: crm
    stream: {source_table}
    target: customer
    key: id
    cursor: updated_at
    fields:
{_fields(FIELDS_IN)}{mapping_out}
pipelines:
  {INGEST}: {{kind: ingest, mapping: crm_customers}}
  {PUBLISH}: {{kind: publish, mapping: warehouse_customers, purpose: analytics}}
  {PUBLISH_ALONE}: {{kind: publish, mapping: warehouse_customers_pub, purpose: analytics}}

policies:
  - policies/*.yaml
""")
    return folder


def write_multisource_project(folder: Path, source_table: str, billing_table: str, batch_size: int) -> Path:
    """Two systems supplying the same customers, linked by customer number, into their own hub."""
    folder.mkdir(parents=True, exist_ok=True)
    store_password = "  store_password: {env: BENCH_PG_PASSWORD}\n" if os.environ.get("BENCH_PG_PASSWORD") else ""
    source = f"{mariadb_url(SOURCE_DB, '+pymysql')}?charset=utf8mb4"
    (folder / "officehub.yaml").write_text(f"""\
# Written by bench/project.py for the multi-source variant.
hub:
  name: bench-multi
  store: {pg_url(MULTI_HUB_DB, '+psycopg')}
{store_password}  batch_size: {batch_size}

systems:
  crm:
    type: sql
    url: {source}
{_password('BENCH_MARIADB_PASSWORD')}  billing:
    type: sql
    url: {source}
{_password('BENCH_MARIADB_PASSWORD')}
identity:
  customer:
    match:
      keys:
        - {{name: number, columns: [customer_number], normalise: id}}

mappings:
  crm_customers:
    system: crm
    stream: {source_table}
    target: customer
    key: id
    cursor: updated_at
    fields:
{_fields(FIELDS_IN)}  billing_customers:
    system: billing
    stream: {billing_table}
    target: customer
    key: account
    cursor: updated_at
    fields:
{_fields(FIELDS_BILLING)}
pipelines:
  {INGEST}: {{kind: ingest, mapping: crm_customers}}
  {BILLING_INGEST}: {{kind: ingest, mapping: billing_customers}}
""")
    return folder
