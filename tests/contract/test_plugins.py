"""A third-party package plugs in a connector and an operator through entry points alone."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent / "plugin_package"


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugin package installed by pip into a folder of its own (not the project's venv)."""
    target = tmp_path_factory.mktemp("site")
    source = tmp_path_factory.mktemp("src") / "plugin"
    shutil.copytree(PACKAGE, source)  # building writes into the source folder; keep the repository clean
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                           "--target", str(target), str(source)],
                          capture_output=True, text=True, timeout=300, cwd=source)
    assert done.returncode == 0, done.stderr
    assert list(target.glob("officehub_jsonfile_plugin-*.dist-info"))
    return target


def _officehub(plugin_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(plugin_path)}
    return subprocess.run([sys.executable, "-m", "officehub", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def _project(folder: Path) -> Path:
    (folder / "vendor").mkdir(parents=True)
    (folder / "vendor" / "people.json").write_text(json.dumps([
        {"id": "1", "surname": "Koval", "mail": "o.koval@example.org"},
        {"id": "2", "surname": "", "mail": "broken"},
    ]))
    (folder / "officehub.yaml").write_text("""
systems:
  vendor: {type: jsonfile, folder: vendor}
  partner: {type: jsonfile, folder: partner}
mappings:
  people_in:
    {system: vendor, stream: people, target: customer, key: id,
     fields: {customer_number: id, name.last: surname, contact.email: mail}}
  people_out:
    {system: partner, stream: contacts, target: customer, key: ref,
     fields: {customer_number: ref, name.last: surname}}
pipelines:
  people: {kind: ingest, mapping: people_in}
  partner_out: {kind: publish, mapping: people_out}
policies: [policy.yaml]
""")
    (folder / "policy.yaml").write_text("""
name: partner
agreements:
  - {id: p1, destination: partner, purpose: testing plugins, legal_basis: a test contract, valid_from: 2020-01-01}
rules:
  - {id: reversed-names, select: {field: customer.name.last}, action: reverse}
""")
    return folder


def test_a_plugin_connector_and_operator_work_end_to_end(plugin_path: Path, tmp_path: Path):
    folder = _project(tmp_path / "project")
    checked = _officehub(plugin_path, "-p", str(folder), "check")
    assert checked.returncode == 0, checked.stderr
    synced = _officehub(plugin_path, "-p", str(folder), "sync", "--all", "--json")
    assert synced.returncode == 0, synced.stderr
    results = {r["pipeline"]: r for r in json.loads(synced.stdout)}
    assert results["people"]["records_quarantined"] == 1
    written = json.loads((folder / "partner" / "contacts.json").read_text())
    assert written == [{"ref": "1", "surname": "lavoK"}]


def test_without_the_plugin_the_type_is_reported_as_not_installed(tmp_path: Path):
    folder = _project(tmp_path / "project")
    checked = subprocess.run([sys.executable, "-m", "officehub", "-p", str(folder), "check"],
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 2
    assert "no connector of type 'jsonfile' is installed" in checked.stderr
