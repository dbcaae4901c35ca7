"""The variants: each is a function run in its own subprocess (see bench.child).

A variant does its untimed set-up itself (fresh tables, state), then times only the
movement of the rows, and returns a :class:`Measured`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Context:
    """What a variant gets from the runner."""

    rows: int
    round: int
    seed: int
    batch_size: int
    table: str
    project_dir: Path


@dataclass
class Measured:
    """One timed run: seconds of the timed part, rows it moved, and details worth keeping."""

    seconds: float
    rows: int
    detail: dict[str, Any] = field(default_factory=dict)


Variant = Callable[[Context], Measured]


def registry() -> dict[str, Variant]:
    """Variant name → function (imports are deferred so each subprocess loads only its own)."""
    from bench.variants import dlt_peer, officehub_runs, raw

    return {
        "officehub_e2e": officehub_runs.e2e,
        "officehub_publish": officehub_runs.publish_alone,
        "officehub_incremental": officehub_runs.incremental,
        "officehub_multisource": officehub_runs.multisource,
        "raw_vectorised": raw.vectorised,
        "raw_rows": raw.rows,
        "dlt_pyarrow": dlt_peer.full_pyarrow,
        "dlt_default": dlt_peer.full_default,
        "dlt_incremental": dlt_peer.incremental,
    }
