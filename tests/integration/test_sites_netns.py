"""The two sites in their own network namespaces, across a link with netem latency and loss.

kyiv's exchange runs in namespace a, lviv's sshd in namespace b; the bundles cross a veth pair
that delays and drops packets (or, on a kernel without netem, a link narrowed to 8 Mbit/s).
Skipped, with the kernel's reason, only where namespaces are refused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.netns import in_ns, wan
from tests.integration.sshd import SshServer
from tests.integration.test_sites_exchange import expected, make_pair

pytestmark = pytest.mark.slow


def _start_sshd_in(ns: str, server: SshServer, address: str) -> subprocess.Popen:
    text = server.config.read_text().replace(f"ListenAddress 127.0.0.1:{server.port}",
                                             f"ListenAddress {address}:{server.port}")
    server.config.write_text(text)
    sshd = "/usr/sbin/sshd" if Path("/usr/sbin/sshd").exists() else "sshd"
    process = subprocess.Popen(in_ns(ns, sshd, "-D", "-e", "-f", str(server.config)), stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=server.log.open("ab"), start_new_session=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        listening = subprocess.run(in_ns(ns, "ss", "-ltn"), capture_output=True, text=True).stdout
        if f"{address}:{server.port}" in listening:
            return process
        time.sleep(0.1)
    process.kill()
    pytest.fail(f"sshd did not listen in namespace {ns}: {server.log.read_text()[-2000:]}")


def test_bundles_cross_a_lossy_high_latency_link_between_namespaces(tmp_path, postgres_url, monkeypatch):
    with wan(delay_ms=40, loss_pct=2.0) as link:
        server = SshServer(tmp_path / "sshd")
        process = _start_sshd_in(link.b, server, link.address_b)
        try:
            pair = make_pair(tmp_path, postgres_url, server, monkeypatch)
            pair.set_link(sftp={**pair.sftp(), "host": link.address_b, "timeout_s": 30})
            pair.customers_csv(range(1, 5001))
            pair.set_publish_batch(1000)
            pair.sync_kyiv()
            started = time.monotonic()
            done = subprocess.run(in_ns(link.a, sys.executable, "-m", "officehub", "-p", str(pair.kyiv),
                                        "site", "exchange", "--json"),
                                  capture_output=True, text=True, timeout=300, env=dict(os.environ))
            assert done.returncode == 0, done.stderr
            (result,) = json.loads(done.stdout)
            assert result["uploaded"] == 5 and result["waiting"] == 5
            assert pair.sync_lviv().status == "succeeded"
            assert pair.lviv_customers() == expected(range(1, 5001))
            print(f"\n{link.impairment}: {result['bytes_sent']} B in {time.monotonic() - started:.1f} s")
        finally:
            process.terminate()
            process.wait(timeout=10)
