"""Probabilistic matching as a data steward runs it: train, rerun, explain, evaluate, then sync with the model.

The estate (``linkage_estate``) is a clinic and a billing office with 180 people in common,
written with the mess of real clerks: typos, initials, swapped day and month, Cyrillic
names, missing postcodes, three impossible birth dates and relatives at the same address.
Every command runs as a subprocess, as a user types it.
"""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import yaml

from tests.helpers import run_cli
from tests.integration import linkage_estate

MODEL = Path("identity") / "customer.model.yaml"


def cli(folder: Path, *args: str, code: int = 0) -> str:
    done = run_cli("-p", str(folder), *args)
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert linkage_estate.SENTINEL not in done.stdout + done.stderr
    return done.stdout


def cli_json(folder: Path, *args: str) -> dict | list:
    return json.loads(cli(folder, *args, "--json"))


def hub(folder: Path) -> sqlite3.Connection:
    return sqlite3.connect(folder / ".officehub" / "hub.db")


def vendor_ids(folder: Path) -> dict[str, tuple[str, str]]:
    """Canonical id → (system, vendor id) of every record still in its sole form."""
    with hub(folder) as db:
        return {cid: (system, vid) for cid, system, vid in
                db.execute("SELECT canonical_id, sole_system, sole_vendor_id FROM customer WHERE sole_system IS NOT NULL")}


def as_pair(ids: dict[str, tuple[str, str]], a: str, b: str) -> tuple[str, str] | None:
    sides = dict([ids[a], ids[b]])
    return (sides["clinic"], sides["billing"]) if set(sides) == {"clinic", "billing"} else None


@pytest.fixture(scope="module")
def trained_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, linkage_estate.Estate]:
    folder, estate = linkage_estate.build(tmp_path_factory.mktemp("linkage") / "estate")
    cli(folder, "sync", "--all")
    cli(folder, "match", "train", "customer")
    return folder, estate


@pytest.fixture
def estate(trained_template: tuple[Path, linkage_estate.Estate], tmp_path: Path) -> tuple[Path, linkage_estate.Estate]:
    folder, truth = trained_template
    return Path(shutil.copytree(folder, tmp_path / "estate")), truth


def test_training_writes_a_versioned_model_with_no_rare_value(estate) -> None:
    folder, generated = estate
    text = (folder / MODEL).read_text(encoding="utf-8")
    model = yaml.safe_load(text)
    assert model["version"] == 1 and model["entity"] == "customer"
    assert model["trained"]["records"] == len(generated.clinic) + len(generated.billing)
    assert 0 < model["prior"] < 0.05
    for comparison in model["comparisons"]:
        exact = comparison["levels"][0]
        assert exact["label"] == "exact" and exact["m"] > exact["u"], comparison["name"]
    # Nothing the hub holds leaves in the model file but values many records share.
    assert linkage_estate.SENTINEL not in text
    streets = {row[4] for row in generated.clinic}
    assert not any(street.lower() in text.lower() for street in streets)
    # Before the rules name it, a model can be tried with --model.
    clinic_id, account = sorted(generated.truth)[0]
    unused = run_cli("-p", str(folder), "match", "explain", "customer", f"clinic:{clinic_id}", f"billing:{account}")
    assert unused.returncode != 0 and "customer has no match rules" in unused.stderr
    tried = cli_json(folder, "match", "explain", "customer", f"clinic:{clinic_id}", f"billing:{account}",
                     "--model", str(folder / MODEL))
    assert tried["decision"] == "link" and tried["model_version"] == 1
    retrained = cli_json(folder, "match", "train", "customer")
    assert (retrained["version"], retrained["previous_version"], retrained["configured"]) == (2, 1, False)
    with hub(folder) as db:
        entries = db.execute("SELECT detail FROM audit WHERE action = 'match.train'").fetchall()
    assert [json.loads(d)["version"] for (d,) in entries] == [1, 2]


def test_rerun_proposes_the_true_pairs_for_review_and_links_nothing_by_itself(estate) -> None:
    folder, generated = estate
    linkage_estate.use_model(folder)
    dry = cli_json(folder, "match", "rerun", "customer", "--dry-run")
    assert dry["proposed"] > 0 and cli_json(folder, "match", "review") == []
    done = cli_json(folder, "match", "rerun", "customer")
    assert done["proposed"] == dry["proposed"] and done["records"] == len(generated.clinic) + len(generated.billing)
    ids = vendor_ids(folder)
    assert len(ids) == done["records"]  # proposals only: every record is still on its own
    proposed = {as_pair(ids, p["canonical_id"], p["candidate_id"]) for p in done["proposals"]}
    true = proposed & generated.truth
    assert len(true) / len(generated.truth) >= 0.95
    # What the rules would link is right; relatives (same surname and address) are at most a question.
    linked = {as_pair(ids, p["canonical_id"], p["candidate_id"]) for p in done["proposals"] if p["outcome"] == "link"}
    assert linked <= generated.truth and len(linked) / len(generated.truth) >= 0.9
    assert proposed - generated.truth <= generated.relatives
    # The three impossible birth dates were flagged, not quarantined, and their people found.
    flagged = [row[0] for row in generated.billing if row[2].startswith("31.02.")]
    assert len(flagged) == 3
    found = {b for _, b in true}
    assert set(flagged) <= found
    queue = cli_json(folder, "match", "review")
    assert len(queue) == done["proposed"] and {e["method"] for e in queue} == {"probabilistic"}
    again = cli_json(folder, "match", "rerun", "customer")
    assert again["proposed"] == 0 and again["already_queued"] == done["proposed"] and again["doubted"] == []
    # A steward's wrong merge of two strangers: the rules doubt it and say how to split it off.
    by_vendor = {v: cid for cid, v in ids.items()}
    stranger, patient = by_vendor[("billing", "N-0")], by_vendor[("clinic", "200")]
    cli(folder, "match", "merge", "customer", patient, stranger)
    doubted = cli_json(folder, "match", "rerun", "customer")["doubted"]
    assert [(d["canonical_id"], d["system"], d["vendor_id"]) for d in doubted] == [(patient, "clinic", "200")]
    assert "officehub match unlink customer clinic 200" in cli(folder, "match", "rerun", "customer")


def test_explain_shows_levels_and_weights_that_add_up_and_no_value(estate) -> None:
    folder, generated = estate
    linkage_estate.use_model(folder)
    clinic_id, account = sorted(generated.truth)[0]
    found = cli_json(folder, "match", "explain", "customer", f"clinic:{clinic_id}", f"billing:{account}")
    assert found["total"] == pytest.approx(found["prior_weight"] + sum(f["weight"] for f in found["fields"]), abs=0.01)
    assert found["probability"] > 0.99 and found["decision"] == "link" and found["blocked"] is True
    assert {f["comparison"] for f in found["fields"]} >= {"first_name", "last_name", "birth_date", "street"}
    person = next(row for row in generated.clinic if str(row[0]) == clinic_id)
    text = cli(folder, "match", "explain", "customer", f"clinic:{clinic_id}", f"billing:{account}")
    assert "probability" in text and "Decision: link" in text
    for value in (person[1], person[2], person[3], person[4], person[5]):
        assert value not in text and value not in json.dumps(found)
    relative = next(iter(sorted(generated.relatives)))
    other = cli_json(folder, "match", "explain", "customer", f"clinic:{relative[0]}", f"billing:{relative[1]}")
    assert other["decision"] != "link"
    missing = run_cli("-p", str(folder), "match", "explain", "customer", "clinic:99999", f"billing:{account}")
    assert missing.returncode != 0 and "no record 99999 of system clinic" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_evaluate_measures_the_rules_on_file_labels_and_steward_decisions(estate, tmp_path: Path) -> None:
    folder, generated = estate
    linkage_estate.use_model(folder)
    labels = tmp_path / "labels.csv"
    with labels.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["left", "right", "match"])
        writer.writerows((f"clinic:{a}", f"billing:{b}", 1) for a, b in sorted(generated.truth))
        writer.writerows((f"clinic:{a}", f"billing:{b}", 0) for a, b in sorted(generated.relatives))
    found = cli_json(folder, "match", "evaluate", "customer", "--labels", str(labels))
    in_force = found["in_force"]
    assert found["labels"] == {"file": len(generated.truth) + len(generated.relatives), "steward": 0}
    assert in_force["precision"] == 1.0 and in_force["recall"] >= 0.9
    assert in_force["true_links"] + in_force["missed"] == len(generated.truth)
    recalls = [c["recall"] for c in found["by_threshold"]]
    assert recalls == sorted(recalls, reverse=True)  # a stricter threshold never links more
    # A steward's decisions count as labels too.
    cli(folder, "match", "rerun", "customer")
    queue = cli_json(folder, "match", "review")
    cli(folder, "match", "link", str(queue[0]["id"]))
    cli(folder, "match", "reject", str(queue[1]["id"]))
    again = cli_json(folder, "match", "evaluate", "customer", "--labels", str(labels))
    assert again["labels"]["steward"] == 2
    text = cli(folder, "match", "evaluate", "customer", "--labels", str(labels))
    assert "rules in force" in text and "link at 0.99" in text
    bad = tmp_path / "bad.csv"
    bad.write_text("left,right\nclinic:1,billing:B-1000\n")
    refused = run_cli("-p", str(folder), "match", "evaluate", "customer", "--labels", str(bad))
    assert refused.returncode != 0 and "needs the columns left, right and match" in refused.stderr


def test_a_record_arriving_after_training_is_linked_on_arrival(estate) -> None:
    folder, generated = estate
    linkage_estate.use_model(folder)
    cli(folder, "match", "rerun", "customer")  # builds the model's match keys for the records already in
    newcomer = next(row for row in generated.clinic if row[0] > linkage_estate.IN_BILLING)
    born = newcomer[3].split("-")
    with sqlite3.connect(folder / "data" / "billing.db") as db:
        db.execute("INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?)",
                   ("B-NEW", f"{newcomer[2]}, {newcomer[1][0]}.", f"{born[2]}.{born[1]}.{born[0]}",
                    newcomer[4], None, newcomer[6]))
    result = cli_json(folder, "sync", "billing_in")
    assert result[0]["records_linked"] == 1 and result[0]["status"] == "succeeded"
    with hub(folder) as db:
        systems = db.execute(
            "SELECT system, vendor_id FROM xref WHERE canonical_id = "
            "(SELECT canonical_id FROM xref WHERE system = 'billing' AND vendor_id = 'B-NEW') ORDER BY system").fetchall()
    assert systems == [("billing", "B-NEW"), ("clinic", str(newcomer[0]))]


def test_train_rerun_and_matching_on_arrival_with_the_hub_store_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    folder, generated = linkage_estate.build(tmp_path / "estate", store_url=postgres_url)
    cli(folder, "sync", "--all")
    trained = cli_json(folder, "match", "train", "customer")
    assert trained["trained"]["records"] == len(generated.clinic) + len(generated.billing)
    linkage_estate.use_model(folder)
    rerun = cli_json(folder, "match", "rerun", "customer")
    assert rerun["proposed"] >= len(generated.truth) and rerun["records"] == trained["trained"]["records"]
    labels = tmp_path / "labels.csv"
    labels.write_text("left,right,match\n" + "".join(f"clinic:{a},billing:{b},1\n" for a, b in sorted(generated.truth)))
    found = cli_json(folder, "match", "evaluate", "customer", "--labels", str(labels))
    assert found["in_force"]["recall"] >= 0.95
    newcomer = next(row for row in generated.clinic if row[0] > linkage_estate.IN_BILLING)
    born = newcomer[3].split("-")
    with sqlite3.connect(folder / "data" / "billing.db") as db:
        db.execute("INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?)",
                   ("B-NEW", f"{newcomer[2]}, {newcomer[1]}", f"{born[2]}.{born[1]}.{born[0]}", newcomer[4],
                    newcomer[5], newcomer[6]))
    assert cli_json(folder, "sync", "billing_in")[0]["records_linked"] == 1
