"""Two network namespaces joined by a veth pair with `tc netem` latency and loss: a WAN between two sites.

Created and removed by the test itself (root only). Where the kernel lacks the netem queueing
discipline (module sch_netem), the link is narrowed with a token bucket (tbf) instead, so the
sites still talk across a slow link between namespaces; where it refuses namespaces or veth
pairs, the test is skipped with the kernel's own words.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class Wan:
    """Namespace names and addresses of the two ends."""

    a: str
    b: str
    address_a: str
    address_b: str
    #: What the link does to traffic: "netem 40 ms / 2 % loss", or "tbf 8 Mbit/s" without netem.
    impairment: str = ""


def _ip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)


@contextmanager
def wan(delay_ms: int = 40, loss_pct: float = 1.0) -> Iterator[Wan]:
    """Namespaces ``a`` and ``b`` on 10.213.x.1/.2, each direction delayed ``delay_ms`` and losing ``loss_pct`` %."""
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("tc"):
        pytest.skip("network namespaces need root and iproute2 (apt-get install iproute2)")
    tag = secrets.token_hex(3)
    net = f"10.213.{int(tag[:2], 16)}"
    ends = Wan(f"oha{tag}", f"ohb{tag}", f"{net}.1", f"{net}.2")
    created: list[str] = []
    try:
        for ns in (ends.a, ends.b):
            _require(_ip("netns", "add", ns), "the kernel refuses network namespaces")
            created.append(ns)
            _ip("-n", ns, "link", "set", "lo", "up")
        _require(_ip("link", "add", f"va{tag}", "netns", ends.a, "type", "veth", "peer", "name", f"vb{tag}",
                     "netns", ends.b), "the kernel refuses veth pairs")
        impairments = []
        for ns, dev, address in ((ends.a, f"va{tag}", ends.address_a), (ends.b, f"vb{tag}", ends.address_b)):
            _ip("-n", ns, "addr", "add", f"{address}/30", "dev", dev)
            _ip("-n", ns, "link", "set", dev, "up")
            impairments.append(_impair(ns, dev, delay_ms, loss_pct))
        yield Wan(ends.a, ends.b, ends.address_a, ends.address_b, impairments[0])
    finally:
        for ns in created:
            _ip("netns", "del", ns)  # removes the veth ends inside it too


def _tc(ns: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", "netns", "exec", ns, "tc", "qdisc", "add", *args],
                          capture_output=True, text=True, timeout=30)


def _impair(ns: str, dev: str, delay_ms: int, loss_pct: float) -> str:
    """Latency and loss with netem; a narrow link with tbf where the kernel has no netem."""
    if _tc(ns, "dev", dev, "root", "netem", "delay", f"{delay_ms}ms", "loss", f"{loss_pct}%").returncode == 0:
        return f"netem {delay_ms} ms / {loss_pct} % loss"
    _require(_tc(ns, "dev", dev, "root", "tbf", "rate", "8mbit", "burst", "32kbit", "latency", "400ms"),
             "the kernel refuses both tc netem and tbf")
    return "tbf 8 Mbit/s (this kernel has no netem)"


def _require(done: subprocess.CompletedProcess, what: str) -> None:
    if done.returncode != 0:
        pytest.skip(f"{what}: {done.stderr.strip()}")


def in_ns(ns: str, *command: str) -> list[str]:
    """``command`` run inside namespace ``ns``."""
    return ["ip", "netns", "exec", ns, *command]
