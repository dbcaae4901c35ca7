"""Profile officehub_e2e with py-spy: ``python -m bench.profile`` (BENCH_ROWS, default 100,000).

``BENCH_PROFILE=officehub_incremental`` profiles the incremental run instead: the full
end-to-end run goes first, unprofiled, then 1% of the rows change and the incremental
run is sampled.

Seeds (or reuses) the source table, makes a fresh hub and project, and samples the
variant's subprocess with py-spy (``--native`` off, 100 Hz, idle time included, so
waiting on the databases shows up as well). Writes results/profile_officehub_e2e.txt
(top functions by own time and by total time, and the top officehub/connectors/
policies frames) and the raw collapsed stacks next to it for flamegraph tools.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from bench.db import pg_ensure_database, pg_fresh_database
from bench.project import write_project
from bench.runner import REPO, log
from bench.seed import ensure_seeded
from bench.settings import DEST_DB, HUB_DB, RESULTS_DIR, Settings

OWN_CODE = ("officehub/", "connectors/", "policies/", "canonical_model/")


def _frame_name(frame: str) -> str:
    # py-spy raw frames look like "function (path/to/file.py:123)"; drop the line number, keep the file tail.
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    tail = "/".join(path.split("/")[-2:])
    return f"{name} ({tail})"


def summarise(raw: Path, variant: str = "officehub_e2e", top: int = 15) -> str:
    """Own-time and total-time tables from py-spy's collapsed stacks."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        samples += n
        frames = [_frame_name(f) for f in stack.split(";")]
        own[frames[-1]] += n
        for frame in set(frames):
            total[frame] += n
        mine = [f for f, rawf in zip(frames, stack.split(";")) if any(p in rawf for p in OWN_CODE)]
        if mine:
            ours[mine[-1]] += n   # the innermost frame of our own code: where our code spends (incl. callees)

    def table(title: str, counter: Counter[str]) -> list[str]:
        rows = [f"## {title}", "", "| share | function |", "|---:|---|"]
        rows += [f"| {100 * n / samples:5.1f}% | `{name}` |" for name, n in counter.most_common(top)]
        return rows + [""]

    lines = [f"# py-spy profile of {variant} ({samples} samples)", ""]
    lines += table("Own time (leaf frames)", own)
    lines += table("Innermost officehub/connectors/policies/canonical_model frame (own + library callees)", ours)
    lines += table("Total time (inclusive)", total)
    return "\n".join(lines)


def main() -> int:
    settings = Settings.from_env()
    rows = settings.rows if "BENCH_ROWS" in os.environ else 100_000
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    table = ensure_seeded(rows, settings.seed, log)
    pg_ensure_database(DEST_DB)
    pg_fresh_database(HUB_DB)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    project_dir = Path(tempfile.mkdtemp(prefix="officehub-bench-project-"))
    variant = os.environ.get("BENCH_PROFILE", "officehub_e2e")
    raw = RESULTS_DIR / f"profile_{variant}.collapsed"
    try:
        write_project(project_dir, table, settings.batch_size)
        out = project_dir / "result.json"
        child = [sys.executable, "-m", "bench.child", variant, "--out", str(out), "--rows", str(rows),
                 "--table", table, "--project-dir", str(project_dir), "--batch-size", str(settings.batch_size)]
        if variant != "officehub_e2e":  # the incremental run needs the full run's hub first
            subprocess.run([*child[:3], "officehub_e2e", *child[4:]], cwd=REPO, check=True)
        cmd = [py_spy, "record", "--format", "raw", "--rate", "100", "--idle", "--output", str(raw), "--", *child]
        log(f"profiling {variant} at {rows:,} rows with py-spy")
        subprocess.run(cmd, cwd=REPO, check=True)
        log(f"result: {out.read_text()[:400]}")
    finally:
        shutil.rmtree(project_dir, ignore_errors=True)
    text = summarise(raw, variant)
    (RESULTS_DIR / f"profile_{variant}.txt").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    from bench.lock import exclusive

    with exclusive():
        raise SystemExit(main())
