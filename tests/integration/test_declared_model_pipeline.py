"""Generated models through the whole hub: store migration, ingest, mapping, policy, publish.

Hypothesis declares an entity with fields of every scalar type, random sensitivity classes
and a reference to the built-in customer, generates the rows a vendor system would hold
(some of them broken), and runs the project as a user would: the CRM's customers in, the
entity's rows in (the reference resolved through the xref), then published through a
generated data-sharing policy. Then the model grows a field, the store is upgraded, and a
row that fills it goes through as well.

It proves: every valid record arrives with its values (or its customer's canonical id),
every broken one is quarantined, and no value of a class the policy withholds reaches the
destination's database file or the audit trail.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from officehub.canonical_model import Sensitivity
from officehub.config import load_project
from officehub.engine import sync
from officehub.store import model_state
from officehub.store.hub import HubStore
from tests.helpers import hub_links
from tests.unit.test_declared_model_properties import TYPES, _field, _value

SPECIAL = (Sensitivity.MEDICAL, Sensitivity.CRIMINAL, Sensitivity.LEGAL)
BASIS = {Sensitivity.MEDICAL: "gdpr-9-2-h", Sensitivity.CRIMINAL: "gdpr-10-official-authority",
         Sensitivity.LEGAL: "gdpr-9-2-f"}
WITHHOLDING = ("drop", "nullify", "redact", "hash")
NAMES = st.from_regex(r"[a-z][a-z0-9]{1,8}", fullmatch=True).filter(lambda n: n not in ("customer", "id"))
CUSTOMERS = {"C1": "Petrenko", "C2": "Koval"}
#: A value each type refuses, as a vendor column would hold it.
BROKEN = {"string": "x" * 41, "integer": "12a", "decimal": "1.234", "boolean": "maybe", "date": "2021-02-30",
          "enum": "delta"}


@st.composite
def estates(draw) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    names = draw(st.lists(NAMES, min_size=2, max_size=6, unique=True))
    fields = {name: (draw(st.sampled_from(TYPES)), draw(st.sampled_from(list(Sensitivity)))) for name in names}
    rows = []
    for row in range(draw(st.integers(1, 6))):
        values = {name: draw(st.none() | _value(kind, f"⟪{row}{name}⟫")) for name, (kind, _) in fields.items()}
        broken = draw(st.none() | st.sampled_from([*names, "customer"]))
        if broken == "customer":
            values["customer"] = "C9"  # a customer the hub does not hold
        else:
            values["customer"] = draw(st.sampled_from(sorted(CUSTOMERS)))
            if broken is not None:
                values[broken] = BROKEN[fields[broken][0]]
        rows.append({"values": values, "broken": broken is not None})
    return {"fields": fields, "customer_class": draw(st.sampled_from(list(Sensitivity))), "rows": rows,
            "actions": {cls: draw(st.sampled_from(["allow", *WITHHOLDING])) for cls in Sensitivity},
            "permits": draw(st.lists(st.sampled_from(SPECIAL), unique=True, max_size=3)),
            "added": (draw(st.sampled_from(TYPES)), draw(st.sampled_from(list(Sensitivity))))}


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _model(estate: dict[str, Any], grown: bool) -> dict[str, Any]:
    fields = {name: _field(kind, cls) for name, (kind, cls) in estate["fields"].items()}
    fields["customer"] = {"type": "reference", "entity": "customer", "class": estate["customer_class"].value}
    if grown:
        fields["added_later"] = _field(*estate["added"])
    return {"entities": {"thing": {"fields": fields}}}


def _policy(estate: dict[str, Any]) -> dict[str, Any]:
    permits = estate["permits"]
    rules = [{"id": f"class-{cls.value}", "select": {"class": cls.value}, "action": action,
              **({"legal_basis": BASIS[cls]} if cls in permits else {})}
             for cls, action in estate["actions"].items()]
    return {"name": "generated", "rules": rules, "agreements": [{
        "id": "research", "destination": "out", "purpose": "research", "legal_basis": "GDPR Art. 6(1)(f)",
        "valid_from": "2026-01-01", "special_categories": [{"class": c.value, "basis": BASIS[c]} for c in permits]}]}


def _write_project(folder: Path, estate: dict[str, Any]) -> None:
    for sub in ("data", "model", "out", "keys"):
        (folder / sub).mkdir()
    (folder / "keys" / "k.key").write_text("Qla49kiSWRK02B08eiYZ2lGcwkbRIqA8Rwtz9OqsLLA\n")
    with sqlite3.connect(folder / "data" / "crm.db") as con:
        con.execute("CREATE TABLE clients (custno TEXT PRIMARY KEY, last TEXT)")
        con.executemany("INSERT INTO clients VALUES (?, ?)", CUSTOMERS.items())
    names = list(estate["fields"])
    with sqlite3.connect(folder / "data" / "app.db") as con:
        con.execute(f"CREATE TABLE things (id INTEGER PRIMARY KEY, client TEXT, added_later TEXT, "
                    f"{', '.join(f'{n} TEXT' for n in names)})")
        con.executemany(f"INSERT INTO things (id, client, {', '.join(names)}) VALUES ({', '.join('?' * (len(names) + 2))})",
                        [(i, r["values"]["customer"], *(_text(r["values"][n]) for n in names))
                         for i, r in enumerate(estate["rows"])])
    _write(folder / "model" / "thing.yaml", _model(estate, grown=False))
    _write(folder / "policy.yaml", _policy(estate))
    _write(folder / "officehub.yaml", _config(names))


def _config(names: list[str]) -> dict[str, Any]:
    fields = {n: n for n in names}
    return {
        "hub": {"keys": {"k": {"file": "keys/k.key"}}, "active_key": "k"},
        "include": ["model/*.yaml"],
        "policies": ["policy.yaml"],
        "systems": {"crm": {"type": "sql", "url": "sqlite:///data/crm.db"},
                    "app": {"type": "sql", "url": "sqlite:///data/app.db"},
                    "out": {"type": "sql", "url": "sqlite:///out/out.db", "schema_changes": "evolve"}},
        "mappings": {
            "crm_clients": {"system": "crm", "stream": "clients", "target": "customer", "key": "custno",
                            "fields": {"customer_number": "custno", "name.last": "last"}},
            "app_things": {"system": "app", "stream": "things", "target": "thing", "key": "id",
                           "fields": {**fields, "customer": {"from": "client", "ids_from": "crm"}}},
            "out_things": {"system": "out", "stream": "things", "target": "thing", "key": "hub_id",
                           "fields": {"canonical_id": "hub_id", **fields, "customer": "customer"}},
        },
        "pipelines": {"clients_in": {"kind": "ingest", "mapping": "crm_clients"},
                      "things_in": {"kind": "ingest", "mapping": "app_things"},
                      "things_out": {"kind": "publish", "mapping": "out_things", "purpose": "research"}},
    }


def _write(path: Path, body: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(body, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _grow(folder: Path, estate: dict[str, Any]) -> None:
    """Add a field to the model, upgrade the store, and give one new row a value for it."""
    _write(folder / "model" / "thing.yaml", _model(estate, grown=True))
    config = yaml.safe_load((folder / "officehub.yaml").read_text(encoding="utf-8"))
    for mapping in ("app_things", "out_things"):
        config["mappings"][mapping]["fields"]["added_later"] = "added_later"
    _write(folder / "officehub.yaml", config)
    project = load_project(folder)  # puts the grown model in force
    store = HubStore.open(project.config.hub.store, folder, check_model=False)
    try:
        with store.begin() as conn:
            assert [c.kind for c in model_state.upgrade(conn, "test").changes] == ["add column"] * 3
    finally:
        store.close()
    kind = estate["added"][0]
    value = {"string": "⟪added⟫", "integer": 7, "decimal": Decimal("1.50"), "boolean": True,
             "date": date(2026, 1, 2), "enum": "beta"}[kind]
    with sqlite3.connect(folder / "data" / "app.db") as con:
        con.execute("INSERT INTO things (id, client, added_later) VALUES (999, 'C1', ?)", (_text(value),))
    estate["fields"] = {**estate["fields"], "added_later": estate["added"]}
    for row in estate["rows"]:
        row["values"]["added_later"] = None
    estate["rows"].append({"values": {**{n: None for n in estate["fields"]}, "added_later": value, "customer": "C1"},
                           "broken": False})


def _run(folder: Path) -> dict[str, Any]:
    project = load_project(folder)
    results = {r.pipeline: r for r in sync(project, project.pipelines_in_order())}
    assert {r.status for r in results.values()} == {"succeeded"}, {n: r.status for n, r in results.items()}
    return results


def _withheld(estate: dict[str, Any], cls: Sensitivity) -> bool:
    return estate["actions"][cls] in WITHHOLDING or (cls in SPECIAL and cls not in estate["permits"])


def _plain(kind: str, value: Any) -> Any:
    """A value as comparable text, whether the source held it or the destination's SQLite returns it."""
    if value is None:
        return None
    try:
        if kind == "decimal":
            return str(Decimal(str(value)).quantize(Decimal("0.01")))
        if kind == "boolean":
            return str(bool(int(value)) if isinstance(value, (int, str)) and str(value) in "01" else value)
        if kind == "integer":
            return str(int(value))
    except (ArithmeticError, ValueError):
        pass  # a pseudonym or a redaction in a number's place: compared as text
    return str(value)[:10] if kind == "date" else str(value)


def _check_destination(folder: Path, estate: dict[str, Any]) -> None:
    with sqlite3.connect(folder / ".officehub" / "hub.db") as hub:
        canonical = {vendor: cid for system, _, vendor, cid in hub_links(hub) if system == "crm"}
        audit = " ".join(json.dumps(row, default=str) for row in hub.execute("SELECT * FROM audit"))
    with sqlite3.connect(folder / "out" / "out.db") as out:
        out.row_factory = sqlite3.Row
        made = out.execute("SELECT count(*) FROM sqlite_master WHERE name = 'things'").fetchone()[0]
        sent = [dict(row) for row in out.execute("SELECT * FROM things")] if made else []  # none valid yet
    valid = [r["values"] for r in estate["rows"] if not r["broken"]]
    assert len(sent) == len(valid)

    fields = {**estate["fields"], "customer": ("reference", estate["customer_class"])}
    for name, (kind, cls) in fields.items():
        received = Counter(_plain(kind, row.get(name)) for row in sent)
        held = Counter(_plain(kind, canonical[r["customer"]] if name == "customer" else r[name]) for r in valid)
        if _withheld(estate, cls):  # not one value arrives as it is
            assert not (set(received) & set(held)) - {None}, (name, estate["actions"][cls])
        else:
            assert received == held, name

    # No marker of a withheld string, valid or broken, is in the destination's file or the audit trail.
    stored = (folder / "out" / "out.db").read_bytes().decode("utf-8", "replace")
    for name, (kind, cls) in fields.items():
        if kind != "string" or not _withheld(estate, cls):
            continue
        for row in estate["rows"]:
            value = row["values"].get(name)
            if isinstance(value, str) and value.startswith("⟪") and len(value) > 6:
                assert value not in stored and value not in audit, (name, estate["actions"][cls])


# Each example is a whole project run twice (seconds): no shrinking, the failing estate is printed as drawn.
@settings(max_examples=25, deadline=None, database=None, phases=[Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(estates())
def test_generated_models_round_trip_through_the_hub_and_withheld_classes_never_leave(estate) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _write_project(folder, estate)

        results = _run(folder)

        broken = sum(r["broken"] for r in estate["rows"])
        assert results["things_in"].metrics.records_quarantined == broken
        assert results["things_in"].metrics.records_written == len(estate["rows"]) - broken
        _check_destination(folder, estate)

        _grow(folder, estate)
        _run(folder)
        _check_destination(folder, estate)
