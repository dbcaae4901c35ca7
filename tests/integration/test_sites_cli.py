"""`officehub site …` as an operator runs it: init, add with the fingerprint read out of band, list, status, revoke."""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from tests.helpers import run_cli


def _project(folder: Path, name: str, peer: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "officehub.yaml").write_text(yaml.safe_dump({
        "hub": {"name": name}, "sites": {"name": name, "passphrase": {"env": f"{name.upper()}_PASS"}},
        "systems": {peer: {"type": "site", "country": "UA"}}}), encoding="utf-8")
    return folder


def test_two_operators_connect_their_sites_with_the_cli(tmp_path: Path):
    env = {**os.environ, "KYIV_PASS": "kyiv site passphrase", "LVIV_PASS": "lviv site passphrase"}
    kyiv, lviv = _project(tmp_path / "kyiv", "kyiv", "lviv"), _project(tmp_path / "lviv", "lviv", "kyiv")
    made = {}
    for name, folder in (("kyiv", kyiv), ("lviv", lviv)):
        done = run_cli("-p", str(folder), "site", "init", name, env=env)
        assert done.returncode == 0, done.stderr
        made[name] = done.stdout.split("Fingerprint: ")[1].split()[0]
    card = lviv / ".officehub" / "site" / "identity" / "site.json"

    wrong = run_cli("-p", str(kyiv), "site", "add", str(card), "--fingerprint", made["kyiv"], env=env)
    assert wrong.returncode == 2 and "do not add it" in wrong.stderr
    added = run_cli("-p", str(kyiv), "site", "add", str(card), "--fingerprint", made["lviv"], env=env)
    assert added.returncode == 0, added.stderr

    listed = json.loads(run_cli("-p", str(kyiv), "site", "list", "--json", env=env).stdout)
    assert [(r["site"], r["role"], r["fingerprint"], r["status"]) for r in listed] == [
        ("kyiv", "this site", made["kyiv"], "active"), ("lviv", "peer", made["lviv"], "active")]
    (status,) = json.loads(run_cli("-p", str(kyiv), "site", "status", "--json", env=env).stdout)
    assert (status["peer"], status["last_sent"], status["bundles_waiting"], status["last_error"]) == ("lviv", 0, 0, None)

    assert run_cli("-p", str(kyiv), "site", "revoke", "lviv", env=env).returncode == 0
    listed = json.loads(run_cli("-p", str(kyiv), "site", "list", "--json", env=env).stdout)
    assert listed[1]["status"] == "revoked"
    no_pass = {k: v for k, v in env.items() if k != "KYIV_PASS"}
    again = run_cli("-p", str(kyiv), "site", "init", "kyiv", env=no_pass)
    assert again.returncode == 2 and "KYIV_PASS" in again.stderr
