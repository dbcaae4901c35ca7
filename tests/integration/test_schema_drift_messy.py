"""Schema drift on a messy estate: a table and columns with spaces and odd casing, duplicated-looking
columns, renames told by name and by values, and new special-category columns named in English,
Ukrainian and transliterated Ukrainian, or innocently named with telling content."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run_cli
from tests.integration.drift_estate import build, change_facts, execute, hub_query, q, run, source_url

TABLE = "Client List"


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    servers = {} if request.param == "sqlite" else {request.param: request.getfixturevalue(f"{request.param}_url")}
    return source_url(request.param, tmp_path, servers)


def _messy(url: str, folder: Path) -> Path:
    folder = build(folder, url, table=TABLE, columns={"employee_number": "id", "name.last": "Client Name"})
    t = q(url, TABLE)
    execute(url, f'DROP TABLE {t}',
            f'CREATE TABLE {t} (id INTEGER PRIMARY KEY, {q(url, "Client Name")} VARCHAR(100), '
            f'client_name VARCHAR(100), {q(url, "E-Mail")} VARCHAR(100), {q(url, "Code")} VARCHAR(20))',
            *(f"INSERT INTO {t} VALUES ({i}, '{name}', '{name.lower()}', '{name.lower()}@example.com', '{code}')"
              for i, name, code in [(1, "Koval", "AB-1234"), (2, "Bondar", "CD-5678"), (3, "Lysenko", "EF-9012")]))
    return folder


def test_renames_duplicates_and_special_columns_in_a_messy_table(url: str, tmp_path: Path):
    folder = _messy(url, tmp_path / "estate")
    assert run(folder)["staff_in"].status == "succeeded"
    t, col = q(url, TABLE), lambda name: q(url, name)

    execute(url, f'ALTER TABLE {t} RENAME COLUMN {col("E-Mail")} TO e_mail',
            f'ALTER TABLE {t} RENAME COLUMN {col("Code")} TO {col("Ref No")}',
            f'ALTER TABLE {t} ADD {col("CLIENT  NAME")} VARCHAR(100)',
            f'ALTER TABLE {t} ADD {col("Діагноз")} VARCHAR(100)',
            f'ALTER TABLE {t} ADD {col("sudymist")} VARCHAR(100)',
            f'ALTER TABLE {t} ADD {col("SudovaSprava")} VARCHAR(100)',
            f'ALTER TABLE {t} ADD {col("notes")} VARCHAR(100)',
            f"UPDATE {t} SET {col('CLIENT  NAME')} = 'KOVAL', notes = 'J45.0', {col('Діагноз')} = 'x'")
    result = run(folder)["staff_in"]

    assert result.status == "succeeded" and result.metrics.records_read == 3
    assert sorted(change_facts(folder)) == sorted([
        ("renamed", "e_mail", "evolve", None), ("renamed", "Ref No", "evolve", None),
        ("added", "CLIENT  NAME", "evolve", None), ("added", "Діагноз", "evolve", "medical"),
        ("added", "sudymist", "evolve", "criminal"), ("added", "SudovaSprava", "evolve", "legal"),
        ("added", "notes", "evolve", "medical")])
    listed = json.loads(run_cli("-p", str(folder), "drift", "--json").stdout)
    evidence = {c["column_name"]: c["detail"].get("evidence") for c in listed if c["kind"] == "renamed"}
    assert evidence == {"e_mail": "name", "Ref No": "values"}
    audited = hub_query(folder, "SELECT subject, detail FROM audit WHERE action = 'schema.special_category'")
    assert {(s, json.loads(d)["column"], json.loads(d)["class"]) for s, d in audited} == {
        (f"hr/{TABLE}", "Діагноз", "medical"), (f"hr/{TABLE}", "sudymist", "criminal"),
        (f"hr/{TABLE}", "SudovaSprava", "legal"), (f"hr/{TABLE}", "notes", "medical")}
    # What is kept of the schema: names, types and value profiles, never a value.
    [(columns,)] = hub_query(folder, "SELECT columns FROM stream_schema")
    assert "J45" not in columns and "AB-1234" not in columns and "Koval" not in columns
