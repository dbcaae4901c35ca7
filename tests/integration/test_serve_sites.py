"""The sites page of the web console, served for real on loopback: the links ``officehub site status`` reports.

Two sites are set up as their operators do it with the command line (init, then add the
peer's card); the console of one of them shows its link with the other.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from tests.helpers import run_cli
from tests.integration.served import Console, add_users, serve

pytestmark = pytest.mark.slow


def _project(folder: Path, name: str, peer: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "officehub.yaml").write_text(yaml.safe_dump({
        "hub": {"name": name}, "sites": {"name": name, "passphrase": {"env": f"{name.upper()}_PASS"}},
        "systems": {peer: {"type": "site", "country": "UA"}}}), encoding="utf-8")
    add_users(folder, {"viewer": ["viewer"]})
    return folder


def _sites_page(folder: Path) -> str:
    served = serve(folder)
    try:
        console = Console(served)
        assert console.login("viewer").status_code == 303
        page = console.get("/sites")
        assert page.status_code == 200, page.text
        return page.text
    finally:
        served.stop()


def test_the_page_shows_each_peer_link_and_a_chart_of_its_lag(tmp_path: Path) -> None:
    env = {**os.environ, "KYIV_PASS": "kyiv site passphrase", "LVIV_PASS": "lviv site passphrase"}
    kyiv, lviv = _project(tmp_path / "kyiv", "kyiv", "lviv"), _project(tmp_path / "lviv", "lviv", "kyiv")
    for name, folder in (("kyiv", kyiv), ("lviv", lviv)):
        assert run_cli("-p", str(folder), "site", "init", name, env=env).returncode == 0
    card = lviv / ".officehub" / "site" / "identity" / "site.json"
    assert run_cli("-p", str(kyiv), "site", "add", str(card), env=env).returncode == 0

    page = _sites_page(kyiv)
    assert "this hub is site kyiv" in page
    [row] = re.findall(r"<tr class=\"\">(.*?)</tr>", page, re.S)
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
    assert cells[:8] == ["lviv", "0", "0", "0", "0.0", "0.0", "never", "0"]
    assert cells[9:] == ["none", "0", ""]
    assert '<svg class="lag"' in page and "<script" not in page.split("<main>", 1)[1]
    assert "lviv: 0.0 s lag, 0 bundle(s) waiting" in page


def test_a_peer_before_this_site_has_an_identity_is_explained(tmp_path: Path) -> None:
    page = _sites_page(_project(tmp_path / "odesa", "odesa", "kyiv"))
    assert "this site has no identity yet" in page and "officehub site init" in page
    assert str(tmp_path) not in page
