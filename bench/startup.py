"""``python -m bench.startup``: how long the command line takes to start, as a whole process.

Prepares a demo project in a temporary folder (seeded and synced once, so ``runs`` has a
history to list), then starts each command ``BENCH_STARTUP_ROUNDS`` times (default 5) as a
fresh process and prints the median wall time with the budget it should stay under
(docs/benchmark.md, "Start-up"), and the median CPU time (user + system), which other
load on the machine disturbs less than the wall time. Needs no database server; the demo
needs Faker (``pip install -e '.[demo]'``), without it the project is an empty
``officehub init`` one.

Python's bytecode caches are on, kept in the temporary folder (``PYTHONPYCACHEPREFIX``), as
an installed package has them. ``BENCH_STARTUP_BYTECODE=0`` runs with
``PYTHONDONTWRITEBYTECODE=1`` instead: modules without a ``__pycache__`` of their own (an
editable install's) are compiled from source on every run.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "demo"
ROUNDS = int(os.environ.get("BENCH_STARTUP_ROUNDS", "5"))
BYTECODE = os.environ.get("BENCH_STARTUP_BYTECODE", "1") != "0"

#: Budgets in seconds (median, whole process); None: measured for reference only.
TARGETS: dict[str, float | None] = {"python -c pass": None, "officehub --help": 0.3, "officehub --version": 0.3,
                                    "officehub runs": 0.6}


def officehub() -> list[str]:
    """How to start the command line: the console script next to this interpreter, else ``python -m``."""
    script = Path(sys.executable).with_name("officehub")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "officehub"]


def _environment(folder: Path) -> dict[str, str]:
    """The commands' environment: a fixed width, no inherited project, bytecode caches under ``folder``."""
    env = {**os.environ, "COLUMNS": "120"}  # a fixed width: no run pays for asking the terminal
    env.pop("OFFICEHUB_PROJECT", None)
    if BYTECODE:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")  # written here, not into the source tree
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)  # a prefix's caches would still be read
    return env


def _run(argv: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), cwd=cwd, env=_environment(cwd), capture_output=True, text=True, check=False)


def prepare(folder: Path) -> Path:
    """A project with a run history in ``folder``: the demo estate, seeded small and synced once."""
    project = folder / "demo"
    shutil.copytree(DEMO, project, ignore=shutil.ignore_patterns("data", "out", ".officehub"))
    seeded = _run([*officehub(), "demo", str(project), "--customers", "50", "--employees", "20",
                   "--products", "20", "--json"], folder)
    if seeded.returncode == 0:
        return project
    print(f"the demo did not run (exit {seeded.returncode}); measuring an empty project instead", file=sys.stderr)
    shutil.rmtree(project)
    for argv in (["init", str(project)], ["-p", str(project), "sync", "--all"]):
        done = _run([*officehub(), *argv], folder)
        if done.returncode != 0:
            raise SystemExit(f"cannot prepare a project: officehub {' '.join(argv)}\n{done.stderr}")
    return project


def _cpu_of_children() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timings(argv: Sequence[str], cwd: Path, rounds: int = ROUNDS) -> tuple[list[float], list[float]] | None:
    """Wall and CPU seconds of ``rounds`` runs after one untimed warm-up; None when the command fails."""
    if _run(argv, cwd).returncode != 0:  # the warm-up also writes the bytecode caches
        return None
    wall, cpu = [], []
    for _ in range(rounds):
        cpu_before, start = _cpu_of_children(), time.perf_counter()
        done = _run(argv, cwd)
        wall.append(time.perf_counter() - start)
        cpu.append(_cpu_of_children() - cpu_before)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed (exit {done.returncode}):\n{done.stderr}")
    return wall, cpu


def commands(project: Path) -> dict[str, list[str]]:
    """What is measured, by label."""
    return {"python -c pass": [sys.executable, "-c", "pass"],
            "officehub --help": [*officehub(), "--help"],
            "officehub --version": [*officehub(), "--version"],
            "officehub runs": [*officehub(), "-p", str(project), "runs"]}


def report(results: dict[str, tuple[list[float], list[float]] | None]) -> str:
    """The results as a small Markdown table."""
    caches = "bytecode caches on" if BYTECODE else "no bytecode caches"
    lines = [f"Start-up, whole process, {ROUNDS} runs each, {caches}:", "",
             "| command | median s | min s | max s | CPU s (median) | budget s |", "|---|---:|---:|---:|---:|---:|"]
    for label, measured in results.items():
        target = TARGETS.get(label)
        budget = "—" if target is None else f"{target:.2f}"
        if measured is None:
            lines.append(f"| {label} | not offered | | | | {budget} |")
            continue
        wall, cpu = measured
        median = statistics.median(wall)
        over = " (over)" if target is not None and median > target else ""
        lines.append(f"| {label} | {median:.3f}{over} | {min(wall):.3f} | {max(wall):.3f} | "
                     f"{statistics.median(cpu):.3f} | {budget} |")
    return "\n".join(lines)


def main() -> int:
    """Prepare the project, measure every command, print the table."""
    with tempfile.TemporaryDirectory(prefix="officehub-startup-") as tmp:
        # Run from a folder without a policies/ folder of its own, as an operator's shell would be.
        folder = Path(tmp)
        project = prepare(folder)
        results = {label: timings(argv, folder) for label, argv in commands(project).items()}
    print(report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
