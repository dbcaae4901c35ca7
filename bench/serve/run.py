"""The hub API benchmark (``python -m bench.serve``): the hub API under load, against a hub of N golden customers on PostgreSQL.

For each size N a hub is built (:mod:`bench.serve.hub`), then the real server is started as
users start it (``python -m officehub -p DIR serve --workers W --port P``, a subprocess) and
driven from another process (:mod:`bench.serve.load`) with a fixed number of connections, one
scenario at a time, each after a warm-up of its own:

- **by_id**: ``GET /api/v1/customer/records/{id}``
- **by_vendor_id**: ``GET /api/v1/customer/systems/crm/records/{vendor id}``
- **search_email**: ``GET /api/v1/customer/search?email=…`` (exact search, upper-cased as typed)
- **changes**: ``GET /api/v1/customer/changes?after=…&limit=100`` (a page of the changes feed)
- **match**: ``GET /api/v1/customer/match?first_name=…&last_name=…&birth_date=…&postal_code=…``
  (fuzzy search for a person typed with a typo or two), when the server has it

Every request is the API client ``shop``'s, under its policy; every answered request must be
accounted for by an ``api.*`` audit entry (lookups a server process gathers into one batch
share one entry, which says how many requests it answered), and the chain must verify after
the run (both reported).

The target, at 1,000,000 golden customers: lookups by id ≥ 1,000 requests/s with p99 ≤ 50 ms,
fuzzy search p99 ≤ 200 ms. Writes ``results/serve/latest.md`` and ``latest.json``.

Environment:

- ``SERVE_BENCH_SIZES`` (100000,1000000): golden customers per size.
- ``SERVE_BENCH_WORKERS`` (2): server processes; a list (``1,2,4``) measures each.
- ``SERVE_BENCH_CONCURRENCY`` (16): connections the driver keeps busy.
- ``SERVE_BENCH_SECONDS`` (15), ``SERVE_BENCH_WARMUP`` (3): seconds measured and warmed up per scenario.
- ``SERVE_BENCH_DRIVER`` (``wrk`` when installed, else ``httpx``).
- ``SERVE_BENCH_SCENARIOS`` (all): a subset, e.g. ``by_id,match``.
- ``SERVE_BENCH_SEED`` (20261204), ``SERVE_WORKDIR`` (a temporary folder), ``BENCH_PG``, ``BENCH_RESULTS``.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.serve import hub, load, server
from bench.serve.report import markdown, target
from bench.settings import RESULTS_DIR

DATABASE = "serve_bench"
SCENARIOS = ("by_id", "by_vendor_id", "search_email", "changes", "match")


@dataclass(frozen=True)
class Knobs:
    """One run's settings, from the environment."""

    sizes: tuple[int, ...]
    workers: tuple[int, ...]
    concurrency: int
    seconds: float
    warmup: float
    driver: str
    scenarios: tuple[str, ...]
    seed: int
    workdir: Path | None

    @classmethod
    def from_env(cls) -> Knobs:
        """SERVE_BENCH_* and SERVE_WORKDIR (see the module's docstring)."""
        env = os.environ

        def ints(name: str, default: str) -> tuple[int, ...]:
            return tuple(int(s.replace("_", "")) for s in env.get(name, default).split(",") if s.strip())

        scenarios = tuple(s.strip() for s in env.get("SERVE_BENCH_SCENARIOS", ",".join(SCENARIOS)).split(",")
                          if s.strip())
        if unknown := [s for s in scenarios if s not in SCENARIOS]:
            raise SystemExit(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
        driver = env.get("SERVE_BENCH_DRIVER") or ("wrk" if load.wrk_available() else "httpx")
        if driver not in ("wrk", "httpx"):
            raise SystemExit("SERVE_BENCH_DRIVER is wrk or httpx")
        workdir = env.get("SERVE_WORKDIR")
        return cls(ints("SERVE_BENCH_SIZES", "100000,1000000"), ints("SERVE_BENCH_WORKERS", "2"),
                   int(env.get("SERVE_BENCH_CONCURRENCY", "16")), float(env.get("SERVE_BENCH_SECONDS", "15")),
                   float(env.get("SERVE_BENCH_WARMUP", "3")), driver, scenarios,
                   int(env.get("SERVE_BENCH_SEED", "20261204")), Path(workdir) if workdir else None)


def _log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


def measure_size(size: int, knobs: Knobs, workdir: Path, *, url: str | None = None) -> dict[str, Any]:
    """Build a hub of ``size`` customers, then serve and drive it with each worker count."""
    started = time.perf_counter()
    served = hub.build(workdir, DATABASE, size, knobs.seed, url=url)
    built = time.perf_counter() - started
    _log(f"{size:,}: hub built in {built:.0f} s")
    out: dict[str, Any] = {"golden_records": size, "build_seconds": round(built, 1), "runs": []}
    try:
        for workers in knobs.workers:
            out["runs"].append(measure_server(served, workers, knobs))
    finally:
        if url is None:
            server.drop(DATABASE)
    return out


def measure_server(served: hub.Served, workers: int, knobs: Knobs) -> dict[str, Any]:
    """One server with ``workers`` processes, each scenario driven in turn; the figures and the audit check."""
    run: dict[str, Any] = {"workers": workers, "scenarios": {}}
    with server.running(served.folder, workers) as (address, log):
        available = server.routes(address)
        audited_before = server.audited(served.folder)
        answered = 0
        for name in knobs.scenarios:
            paths = served.queries[name]
            if name == "match" and not any(p.endswith("/match") for p in available):
                run["scenarios"][name] = {"available": False}
                _log(f"  {workers} workers, {name}: not yet available on this server")
                continue
            if knobs.warmup > 0:
                answered += load.run(knobs.driver, address, served.token, paths, concurrency=knobs.concurrency,
                                     seconds=knobs.warmup)["ok"]
            figures = load.run(knobs.driver, address, served.token, paths, concurrency=knobs.concurrency,
                               seconds=knobs.seconds)
            answered += figures["ok"]
            run["scenarios"][name] = {"available": True, **figures}
            _log(f"  {workers} workers, {name}: {figures['rps']:,.0f} req/s, p50 {figures['p50_ms']} ms, "
                 f"p99 {figures['p99_ms']} ms, {figures['errors']} errors")
        run["log_tail"] = log.read_text(errors="replace")[-1500:] if _errors(run) else ""
    run["audit"] = server.audit_check(served.folder, audited_before, answered)
    _log(f"  {workers} workers: audit {run['audit']}")
    return run


def _errors(run: dict[str, Any]) -> int:
    return sum(s.get("errors", 0) for s in run["scenarios"].values())


def _environment() -> dict[str, Any]:
    from importlib.metadata import version

    from bench.db import pg_connect

    with pg_connect("postgres") as conn:
        server_version = conn.execute("SHOW server_version").fetchone()
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "postgres": server_version[0] if server_version else None,
            "packages": {p: version(p) for p in ("officehub", "fastapi", "uvicorn", "SQLAlchemy", "psycopg")}}


def main() -> int:
    """Measure every size, print and write the results."""
    knobs = Knobs.from_env()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="serve-bench-") as scratch:
        workdir = knobs.workdir or Path(scratch)
        sizes = [measure_size(size, knobs, workdir / str(size)) for size in knobs.sizes]
    report = {"date": datetime.now(UTC).replace(microsecond=0).isoformat(), "driver": knobs.driver,
              "concurrency": knobs.concurrency, "seconds": knobs.seconds, "warmup": knobs.warmup,
              "seed": knobs.seed, "total_seconds": round(time.perf_counter() - started), "sizes": sizes,
              "environment": _environment()}
    report["target"] = target(sizes)
    text = markdown(report)
    print(text)
    out = RESULTS_DIR / "serve"
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.md").write_text(text, encoding="utf-8")
    (out / "latest.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0
