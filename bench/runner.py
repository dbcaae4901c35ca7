"""The benchmark run: seed, then rounds of every variant interleaved, each in its own subprocess.

Standard mode (BENCH_ROWS, default 1,000,000): every variant, A B C … A B C … for
BENCH_ROUNDS rounds (default 3); medians to results/latest.{json,md,png}.
Scaling mode (BENCH_SIZES=100000,1000000,3000000): the officehub and raw variants at
each size; results/scaling.{json,md,png}.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import report
from bench.db import pg_ensure_database, pg_fresh_database
from bench.project import write_project
from bench.seed import ensure_seeded
from bench.settings import DEST_DB, HUB_DB, RESULTS_DIR, SCALING_VARIANTS, Settings

REPO = Path(__file__).resolve().parent.parent


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


def run_variant(name: str, settings: Settings, rows: int, round_no: int, table: str, project_dir: Path,
                logs: Path) -> dict[str, Any]:
    """Run one variant in a subprocess; its result plus the subprocess's peak RSS and exit status."""
    out = Path(tempfile.mkstemp(prefix=f"bench-{name}-", suffix=".json")[1])
    log_file = logs / f"{name}-{rows}-r{round_no}.log"
    cmd = [sys.executable, "-m", "bench.child", name, "--out", str(out), "--rows", str(rows), "--round",
           str(round_no), "--seed", str(settings.seed), "--batch-size", str(settings.batch_size), "--table", table,
           "--project-dir", str(project_dir)]
    wall = time.perf_counter()
    with log_file.open("w") as sink:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=sink, stderr=subprocess.STDOUT)
        # wait4 gives this child's own rusage (RUSAGE_CHILDREN would be the max over all children so far).
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    try:
        result = json.loads(out.read_text() or "{}")
    except json.JSONDecodeError:
        result = {}
    out.unlink(missing_ok=True)
    if proc.returncode != 0 and "error" not in result:
        result["error"] = f"exit status {proc.returncode} (see {log_file})"
    result.update(peak_rss_mb=round(usage.ru_maxrss / 1024, 1), wall_seconds=round(time.perf_counter() - wall, 2),
                  round=round_no)
    if "error" in result:
        log(f"  {name:22s} FAILED: {result['error'][:300]}  (log: {log_file})")
    else:
        rate = result["rows"] / result["seconds"] if result["seconds"] else 0
        log(f"  {name:22s} {result['seconds']:8.2f} s  {rate:11,.0f} rows/s  {result['peak_rss_mb']:7.1f} MB")
    return result


def run_rounds(settings: Settings, rows: int, variants: tuple[str, ...], logs: Path) -> dict[str, list[dict]]:
    """``settings.rounds`` rounds of ``variants`` at ``rows``, interleaved; per variant, one result a round."""
    table = ensure_seeded(rows, settings.seed, log)
    pg_ensure_database(DEST_DB)
    runs: dict[str, list[dict]] = {v: [] for v in variants}
    for round_no in range(settings.rounds):
        log(f"round {round_no + 1}/{settings.rounds} at {rows:,} rows")
        project_dir = Path(tempfile.mkdtemp(prefix="officehub-bench-project-"))
        try:
            write_project(project_dir, table, settings.batch_size)
            pg_fresh_database(HUB_DB)
            for name in variants:
                runs[name].append(run_variant(name, settings, rows, round_no, table, project_dir, logs))
        finally:
            shutil.rmtree(project_dir, ignore_errors=True)
    return runs


def environment() -> dict[str, Any]:
    """What the figures were measured on."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for package in ("officehub", "dlt", "connectorx", "pyarrow", "psycopg", "PyMySQL", "SQLAlchemy"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    try:
        from bench.db import pg_connect

        with pg_connect("postgres") as conn:
            autovacuum = conn.execute("SHOW autovacuum").fetchone()[0]
    except Exception:  # noqa: BLE001 - informational only
        autovacuum = None
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "postgres_autovacuum": autovacuum, "packages": versions}


def main() -> int:
    settings = Settings.from_env()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    logs = RESULTS_DIR / "logs"
    logs.mkdir(exist_ok=True)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    meta = {"started": started, "rounds": settings.rounds, "seed": settings.seed, "batch_size": settings.batch_size,
            "hub_autoanalyze_s": float(os.environ.get("BENCH_HUB_AUTOANALYZE", "0") or 0),
            "environment": environment()}
    if settings.sizes:
        variants = tuple(v for v in settings.variants if v in SCALING_VARIANTS) or SCALING_VARIANTS
        by_size = {size: run_rounds(settings, size, variants, logs) for size in settings.sizes}
        results = report.summarise_scaling(by_size, meta)
        report.write_scaling(results, RESULTS_DIR)
        log(f"wrote {RESULTS_DIR}/scaling.json, .md, .png")
    else:
        runs = run_rounds(settings, settings.rows, settings.variants, logs)
        results = report.summarise(settings.rows, runs, meta)
        report.write_latest(results, RESULTS_DIR)
        log(f"wrote {RESULTS_DIR}/latest.json, .md, .png")
    print((RESULTS_DIR / ("scaling.md" if settings.sizes else "latest.md")).read_text())
    return 0
