"""``python -m tests.fuzz [--seconds-per-target N] [--target NAME]``: the bounded fuzz campaign.

Exits non-zero when any target found a crash, a hang or a value in a message; the inputs
are in ``tests/fuzz/regressions/<target>/`` (replayed by tests/unit/test_fuzz_regressions.py).
FUZZ_SECONDS sets the seconds per target when the option is not given.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from tests.fuzz.campaign import ROOT, fuzz_target
from tests.fuzz.targets import TARGETS

DEFAULT_SECONDS = 25


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds-per-target", type=int,
                        default=int(os.environ.get("FUZZ_SECONDS", DEFAULT_SECONDS)))
    parser.add_argument("--target", action="append", choices=sorted(TARGETS),
                        help="fuzz only this target (repeatable); default: every target")
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    return parser.parse_args()


def main() -> int:
    """Run the campaign; print the counts per target; 1 if anything was found."""
    args = _arguments()
    outcomes = [fuzz_target(name, args.seconds_per_target) for name in args.target or TARGETS]
    for outcome in outcomes:
        for report in outcome.reports:
            print(f"--- {outcome.target}: finding\n{report}", file=sys.stderr)
    if args.json:
        print(json.dumps([{"target": o.target, "seconds": round(o.seconds, 1), "executions": o.executions,
                           "findings": [str(p.relative_to(ROOT)) for p in o.findings]} for o in outcomes], indent=2))
    else:
        print(f"{'target':<14}{'seconds':>9}{'inputs':>10}{'findings':>10}")
        for o in outcomes:
            print(f"{o.target:<14}{o.seconds:>9.0f}{o.executions:>10}{len(o.findings):>10}")
    return 1 if any(o.findings for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
