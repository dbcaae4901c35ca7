"""A bounded fuzz campaign: each target for some seconds, seeded from its corpus, crashes kept.

libFuzzer stops at the first crash; a target whose time is not used up is started again,
so one finding does not end the search for others (up to :data:`MAX_FINDINGS` a target).
Crash, timeout and out-of-memory inputs land in ``regressions/<target>/``, where the unit
suite replays them.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CORPUS = HERE / "corpus"
REGRESSIONS = HERE / "regressions"
DICTIONARY = HERE / "fuzz.dict"
#: An input that takes longer than this is a hang (a finding).
HANG_SECONDS = 10
MAX_FINDINGS = 5
_EXECUTED = re.compile(r"stat::number_of_executed_units:\s*(\d+)")
_PROGRESS = re.compile(r"^#(\d+)\s", re.MULTILINE)


@dataclass
class Outcome:
    """What one target's share of the campaign did."""

    target: str
    seconds: float = 0.0
    executions: int = 0
    findings: list[Path] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)


def _executions(log: str) -> int:
    found = _EXECUTED.findall(log) or _PROGRESS.findall(log)
    return int(found[-1]) if found else 0


def _command(name: str, seconds: int, work: Path, regressions: Path) -> list[str]:
    return [sys.executable, "-m", "tests.fuzz.one", name, f"-max_total_time={seconds}", f"-timeout={HANG_SECONDS}",
            "-rss_limit_mb=2048", "-max_len=16384", "-print_final_stats=1", f"-dict={DICTIONARY}",
            f"-artifact_prefix={regressions}/", str(work), str(CORPUS / name)]


def _report(log: str) -> str:
    """The part of libFuzzer's log that says what went wrong (the Python traceback, or the alarm)."""
    for mark in ("=== Uncaught Python exception", "ALARM:", "ERROR: libFuzzer"):
        start = log.rfind(mark)
        if start >= 0:
            return log[start:start + 3000]
    return log[-3000:]


def fuzz_target(name: str, seconds: int) -> Outcome:
    """Run one target for ``seconds`` in all; new inputs the fuzzer finds are kept only while it runs."""
    regressions = REGRESSIONS / name
    regressions.mkdir(parents=True, exist_ok=True)
    outcome, started = Outcome(name), time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{name}-") as work:
        while len(outcome.findings) < MAX_FINDINGS:
            left = int(seconds - (time.monotonic() - started))
            if left < 1:
                break
            before = set(regressions.iterdir())
            done = subprocess.run(_command(name, left, Path(work), regressions), cwd=ROOT, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT,
                                  text=True, errors="replace", timeout=left + 4 * HANG_SECONDS + 60)
            outcome.executions += _executions(done.stdout)
            new = sorted(set(regressions.iterdir()) - before)
            if done.returncode == 0 and not new:
                break
            outcome.findings += new
            outcome.reports.append(_report(done.stdout))
            if not new:  # libFuzzer failed without an input to show for it: do not loop on it
                break
    outcome.seconds = time.monotonic() - started
    return outcome
