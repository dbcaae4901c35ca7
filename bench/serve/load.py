"""Load on a running server, from a process of its own: requests per second and latency percentiles.

Two drivers, the same closed loop: a fixed number of connections, each sending its next
request as soon as the last one is answered, cycling through a list of request paths for a
fixed time.

- **wrk** (Debian's ``wrk``): C and LuaJIT, so the driver takes little of the CPU the server
  needs; used when it is installed (``make bench`` installs it).
- **httpx**: a bounded asyncio loop in Python (``python -m bench.serve.load``), for machines
  without wrk and for the tests; it costs more CPU per request than the server's own work on
  a small machine, so its figures are a floor.

Either reports ``{"requests", "seconds", "rps", "ok", "errors", "statuses", "p50_ms", "p95_ms",
"p99_ms", "max_ms"}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

#: wrk's script: cycle through the paths (one list per thread, each thread from its own offset),
#: report the latency percentiles and error counts as one JSON line.
_WRK_SCRIPT = """
local paths, i = {}, 0
for line in io.lines(os.getenv("SERVE_BENCH_PATHS")) do paths[#paths + 1] = line end
local token = os.getenv("SERVE_BENCH_TOKEN")
local threads, counter = {}, 0
function setup(thread) counter = counter + 1; thread:set("offset", counter * 997); table.insert(threads, thread) end
function init(args) i = offset or 0 end
function request()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1], {["Authorization"] = "Bearer " .. token})
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests": %d, "micros": %d, "connect": %d, "read": %d, "write": %d, '
    .. '"status": %d, "timeout": %d, "p50": %d, "p95": %d, "p99": %d, "max": %d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


def wrk_available() -> bool:
    """Whether Debian's wrk is installed."""
    return shutil.which("wrk") is not None


def run(driver: str, url: str, token: str, paths: list[str], *, concurrency: int, seconds: float) -> dict[str, Any]:
    """Drive ``paths`` at ``url`` with ``driver`` (wrk or httpx) for ``seconds``; the figures."""
    with tempfile.TemporaryDirectory(prefix="serve-load-") as scratch:
        listed = Path(scratch) / "paths.txt"
        listed.write_text("\n".join(paths) + "\n", encoding="utf-8")
        if driver == "wrk":
            return _wrk(url, token, listed, Path(scratch), concurrency, seconds)
        command = [sys.executable, "-m", "bench.serve.load", "--url", url, "--paths", str(listed),
                   "--concurrency", str(concurrency), "--seconds", str(seconds)]
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=seconds + 120,
                              env=_env(token, listed))
        if done.returncode != 0:
            raise RuntimeError(f"the httpx load driver failed ({done.returncode}): {done.stderr[-2000:]}")
        figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return figures


def _env(token: str, listed: Path) -> dict[str, str]:
    import os

    return {**os.environ, "SERVE_BENCH_TOKEN": token, "SERVE_BENCH_PATHS": str(listed)}


def _wrk(url: str, token: str, listed: Path, scratch: Path, concurrency: int, seconds: float) -> dict[str, Any]:
    script = scratch / "paths.lua"
    script.write_text(_WRK_SCRIPT, encoding="utf-8")
    command = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--timeout", "10s", "-s", str(script),
               url]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=seconds + 60,
                          env=_env(token, listed))
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr[-2000:]}")
    raw = json.loads(next(line for line in reversed(done.stdout.splitlines()) if line.startswith("{")))
    errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"] + raw["status"]
    elapsed = raw["micros"] / 1e6
    return {"driver": "wrk", "requests": raw["requests"], "seconds": round(elapsed, 2),
            "rps": round(raw["requests"] / elapsed, 1) if elapsed else 0.0, "ok": raw["requests"] - raw["status"],
            "errors": errors, "statuses": {"non-2xx/3xx": raw["status"]} if raw["status"] else {},
            **{f"{p}_ms": round(raw[p] / 1000, 2) for p in ("p50", "p95", "p99")},
            "max_ms": round(raw["max"] / 1000, 2)}


# -- the httpx driver, run as its own process -------------------------------------------------
def percentile(sorted_ms: list[float], share: float) -> float:
    """The ``share`` (0–100) percentile of ascending ``sorted_ms`` (nearest rank)."""
    if not sorted_ms:
        return 0.0
    rank = max(1, -(-len(sorted_ms) * share // 100))
    return sorted_ms[int(rank) - 1]


async def _drive(url: str, token: str, paths: list[str], concurrency: int, seconds: float) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    statuses: dict[str, int] = {}
    failures = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, limits=limits,
                                 timeout=10) as client:
        started = time.perf_counter()
        deadline = started + seconds

        async def connection(offset: int) -> None:
            nonlocal failures
            i = offset
            while time.perf_counter() < deadline:
                i += 1
                sent = time.perf_counter()
                try:
                    response = await client.get(paths[i % len(paths)])
                except httpx.HTTPError:
                    failures += 1
                    continue
                latencies.append((time.perf_counter() - sent) * 1000)
                statuses[str(response.status_code)] = statuses.get(str(response.status_code), 0) + 1

        await asyncio.gather(*(connection(n * 997) for n in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    ok = sum(n for status, n in statuses.items() if status.startswith("2"))
    return {"driver": "httpx", "requests": len(latencies), "seconds": round(elapsed, 2),
            "rps": round(len(latencies) / elapsed, 1), "ok": ok, "errors": len(latencies) - ok + failures,
            "statuses": {s: n for s, n in statuses.items() if not s.startswith("2")},
            **{f"p{p}_ms": round(percentile(latencies, p), 2) for p in (50, 95, 99)},
            "max_ms": round(latencies[-1], 2) if latencies else 0.0}


def main(argv: list[str] | None = None) -> int:
    """Drive a server with httpx; prints the figures as one JSON line (token from SERVE_BENCH_TOKEN)."""
    import os

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--paths", required=True, type=Path)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args(argv)
    paths = args.paths.read_text(encoding="utf-8").split()
    try:
        from uvloop import run as run_loop
    except ImportError:
        run_loop = asyncio.run
    figures = run_loop(_drive(args.url, os.environ["SERVE_BENCH_TOKEN"], paths, args.concurrency, args.seconds))
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
