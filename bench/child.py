"""One variant in its own process: ``python -m bench.child VARIANT --out FILE …`` (the runner calls it).

Writes ``{"seconds", "rows", "detail"}`` (or ``{"error"}``) as JSON to FILE. The peak
RSS is taken by the parent from this process's rusage (``os.wait4``), so imports,
set-up and the timed part all count, as they would for a real run.
"""

from __future__ import annotations

import argparse
import json
import traceback
from pathlib import Path

from bench.variants import Context, registry


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("variant")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--round", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--table", required=True)
    parser.add_argument("--project-dir", type=Path, required=True)
    args = parser.parse_args()
    ctx = Context(args.rows, args.round, args.seed, args.batch_size, args.table, args.project_dir)
    try:
        measured = registry()[args.variant](ctx)
    except Exception as exc:  # noqa: BLE001 - reported in the results, never hidden
        traceback.print_exc()
        args.out.write_text(json.dumps({"error": f"{type(exc).__name__}: {exc}"[:2000]}))
        return 1
    args.out.write_text(json.dumps({"seconds": measured.seconds, "rows": measured.rows, "detail": measured.detail},
                                   default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
