"""The site_lag rule on a real pair of sites: bundles for the peer wait longer than allowed → one alert;
the exchange over SFTP delivers them and the peer acknowledges → the incident closes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from officehub import orchestrate
from tests.integration import alert_estate as estate
from tests.integration.alert_servers import webhook_server
from tests.integration.sshd import SshServer
from tests.integration.test_sites_exchange import make_pair


def test_a_site_link_whose_bundles_wait_too_long_alerts_until_the_peer_acknowledges(
        tmp_path: Path, postgres_url: str, sshd: SshServer, monkeypatch: pytest.MonkeyPatch):
    pair = make_pair(tmp_path, postgres_url, sshd, monkeypatch)
    config_path = pair.kyiv / "officehub.yaml"
    with webhook_server() as hook:
        config = yaml.safe_load(config_path.read_text())
        config["alerts"] = {"channels": {"ops": {"type": "webhook", "url": hook.url}},
                            "rules": [{"id": "links", "kind": "site_lag", "minutes": 0.005, "channels": ["ops"]}]}
        config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        pair.customers_csv(range(1, 11))
        pair.sync_kyiv()  # one bundle for lviv waits in the outbox
        time.sleep(0.6)  # longer than 0.005 min

        estate.check(pair.kyiv)
        estate.check(pair.kyiv)

        [body] = hook.bodies
        assert body["subject"] == "site lviv" and body["kind"] == "site_lag"
        assert body["figures"]["bundles_waiting"] == 1 and body["figures"]["lag_s"] >= 0.3
        assert body["text"].startswith("[officehub kyiv] links: the link with site lviv: bundles waiting")

        assert pair.exchange().uploaded == 1
        assert pair.sync_lviv().status == "succeeded"
        assert orchestrate.exchange(pair.kyiv, "lviv")["acknowledged"] == 1
        cleared = estate.check(pair.kyiv)

    assert len(cleared.closed) == 1 and cleared.open_incidents == 0
    assert [b["state"] for b in hook.bodies] == ["opened", "resolved"]
