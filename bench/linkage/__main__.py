"""``python -m bench.linkage``: officehub and Splink link FEBRL4, in Latin script and with Cyrillic names.

Both tools see the same records in one run: FEBRL4 as it ships (5,000 + 5,000 people, every A
record with one true match in B), then the same data with some side-B people's names written
in Ukrainian Cyrillic. Neither uses the social security number. officehub trains its model
with ``match train`` on a hub that synced both sides, then a fresh hub with the model syncs A,
then B (see :mod:`bench.linkage.officehub_side`); Splink is trained and predicts in-process
(:mod:`bench.linkage.splink_side`). Writes ``results/linkage/latest.md`` and ``latest.json``.

Environment:

- ``LINKAGE_CYRILLIC`` (300): side-B people whose names are written in Cyrillic in the second
  data set; 0 runs the Latin data only.
- ``LINKAGE_LINK_AT`` (0.99), ``LINKAGE_REVIEW_AT`` (0.5): officehub's thresholds.
- ``LINKAGE_SPLINK_AT`` (0.9): the match probability from which Splink links.
- ``LINKAGE_WORKDIR``: where officehub's projects and hub stores go (a temporary folder).
- ``BENCH_RESULTS``: the results folder (``bench/results``), as for ``python -m bench``.
"""

import json
import os
import platform
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from bench.linkage import febrl
from bench.linkage.metrics import Scores, format_table, score
from bench.linkage.officehub_side import OfficehubResult, run_officehub
from bench.linkage.splink_side import run_splink
from bench.lock import exclusive
from bench.settings import RESULTS_DIR


@dataclass(frozen=True)
class Knobs:
    """One run's settings, from the environment."""

    cyrillic: int
    link_at: float
    review_at: float
    splink_at: float
    workdir: Path | None

    @classmethod
    def from_env(cls) -> "Knobs":
        """LINKAGE_CYRILLIC, LINKAGE_LINK_AT, LINKAGE_REVIEW_AT, LINKAGE_SPLINK_AT, LINKAGE_WORKDIR."""
        env = os.environ
        workdir = env.get("LINKAGE_WORKDIR")
        return cls(cyrillic=int(env.get("LINKAGE_CYRILLIC", "300")), link_at=float(env.get("LINKAGE_LINK_AT", "0.99")),
                   review_at=float(env.get("LINKAGE_REVIEW_AT", "0.5")),
                   splink_at=float(env.get("LINKAGE_SPLINK_AT", "0.9")), workdir=Path(workdir) if workdir else None)


def _log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


def _measure(name: str, data: febrl.LinkageData, knobs: Knobs, workdir: Path) -> dict[str, Any]:
    """Both tools on one data set: their scores and what officehub did besides."""
    _log(f"{name}: officehub")
    hub = run_officehub(data, workdir, link_at=knobs.link_at, review_at=knobs.review_at)
    if hub.quarantined:
        _log(f"{name}: officehub quarantined {hub.quarantined} records (a record with no name at all is refused)")
    _log(f"{name}: Splink")
    splink = run_splink(data, threshold=knobs.splink_at)
    tools = {"officehub": score(hub.links, data.truth, hub.reviews, seconds=hub.seconds),
             f"Splink {splink.version}": score(splink.links, data.truth, seconds=splink.seconds)}
    out: dict[str, Any] = {"name": name, "records": [len(data.a), len(data.b)], "true_pairs": len(data.truth),
                           "tools": tools, "officehub": _hub_detail(hub),
                           "splink": {"train_seconds": splink.train_seconds, "predict_seconds": splink.predict_seconds}}
    if data.cyrillic_ids:
        converted = frozenset(pair for pair in data.truth if pair[1] in data.cyrillic_ids)
        out["cyrillic_pairs"] = {"truth": len(converted),
                                 "officehub": score(hub.links & converted, converted, hub.reviews),
                                 "splink": score(splink.links & converted, converted)}
    return out


def _hub_detail(hub: OfficehubResult) -> dict[str, Any]:
    return {"train_seconds": hub.train_seconds, "match_seconds": hub.match_seconds, "load_seconds": hub.load_seconds,
            "quarantined": hub.quarantined, "flagged_fields": hub.flagged, "pairs_queued": len(hub.reviews),
            "model": hub.model}


def _versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for package in ("officehub", "splink", "recordlinkage", "duckdb", "rapidfuzz", "anyascii"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = None
    return found


def _markdown(report: dict[str, Any]) -> str:
    knobs = report["thresholds"]
    lines = [f"# Identity resolution: FEBRL4 ({report['date']})", "",
             f"officehub links at {knobs['officehub_link_at']} and queues for review from {knobs['officehub_review_at']}; "
             f"Splink links at {knobs['splink_at']}. Seconds: training and matching (officehub: `match train` and the "
             f"sync of side B; Splink: training and prediction). {report['environment']['cpus']} cores, "
             f"Python {report['environment']['python']}.", ""]
    for run in report["runs"]:
        lines += [f"## {run['name']}: {run['records'][0]:,} + {run['records'][1]:,} records, "
                  f"{run['true_pairs']:,} true pairs", "", format_table(list(run["tools"].items()))]
        hub = run["officehub"]
        lines.append(f"officehub: training {hub['train_seconds']:.2f} s, matching {hub['match_seconds']:.2f} s; "
                     f"{hub['quarantined']} records quarantined, {hub['flagged_fields']} fields flagged, "
                     f"{hub['pairs_queued']} pairs queued for review.")
        if cyr := run.get("cyrillic_pairs"):
            lines.append(f"The {cyr['truth']} true pairs with a Cyrillic name: officehub recall "
                         f"{cyr['officehub'].recall:.3f}, Splink recall {cyr['splink'].recall:.3f}.")
        lines.append("")
    return "\n".join(lines)


def _json_ready(value: Any) -> Any:
    if isinstance(value, Scores):
        return value.as_dict()
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    return value


def main() -> int:
    """Run both data sets, print the tables and write the results."""
    knobs = Knobs.from_env()
    sets = {"latin": ("Latin", 0), "cyrillic": (f"Cyrillic ({knobs.cyrillic} side-B names)", knobs.cyrillic)}
    if not knobs.cyrillic:
        del sets["cyrillic"]
    with tempfile.TemporaryDirectory(prefix="linkage-") as scratch:
        workdir = knobs.workdir or Path(scratch)
        runs = [_measure(name, febrl.load(cyrillic=count), knobs, workdir / folder)
                for folder, (name, count) in sets.items()]
    report = {"date": datetime.now(UTC).replace(microsecond=0).isoformat(), "runs": runs,
              "thresholds": {"officehub_link_at": knobs.link_at, "officehub_review_at": knobs.review_at,
                             "splink_at": knobs.splink_at},
              "environment": {"python": platform.python_version(), "cpus": os.cpu_count(),
                              "platform": platform.platform(), "packages": _versions()}}
    text = _markdown(report)
    print(text)
    out = RESULTS_DIR / "linkage"
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.md").write_text(text, encoding="utf-8")
    (out / "latest.json").write_text(json.dumps(_json_ready(report), indent=2, ensure_ascii=False) + "\n",
                                     encoding="utf-8")
    return 0


if __name__ == "__main__":
    with exclusive():
        raise SystemExit(main())
