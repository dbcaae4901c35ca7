"""The hub API benchmark's results as Markdown, and the target's verdict."""

from __future__ import annotations

from typing import Any

TARGET_SIZE = 1_000_000
TARGET = "at 1,000,000 golden customers: by id ≥ 1,000 req/s with p99 ≤ 50 ms; fuzzy search p99 ≤ 200 ms"
_LABELS = {"by_id": "by id", "by_vendor_id": "by vendor id", "search_email": "search by e-mail",
           "changes": "changes (100 a page)", "match": "fuzzy search"}


def _best(size: dict[str, Any], scenario: str) -> dict[str, Any] | None:
    """The scenario's figures under the worker count that served it fastest."""
    found = [run["scenarios"][scenario] for run in size["runs"]
             if run["scenarios"].get(scenario, {}).get("available")]
    return max(found, key=lambda f: f["rps"], default=None)


def target(sizes: list[dict[str, Any]]) -> dict[str, Any]:
    """Whether the target is met at 1,000,000 golden customers (None when that size was not measured)."""
    at = next((s for s in sizes if s["golden_records"] == TARGET_SIZE), None)
    if at is None:
        return {"target": TARGET, "met": None}
    by_id, fuzzy = _best(at, "by_id"), _best(at, "match")
    ids_met = by_id is not None and by_id["rps"] >= 1000 and by_id["p99_ms"] <= 50 and by_id["errors"] == 0
    fuzzy_met = None if fuzzy is None else fuzzy["p99_ms"] <= 200 and fuzzy["errors"] == 0
    audited = all(run["audit"]["every_answer_audited"] and run["audit"]["chain_ok"] for run in at["runs"])
    return {"target": TARGET, "by_id": ids_met, "fuzzy": fuzzy_met, "audited": audited,
            "met": ids_met and audited and bool(fuzzy_met) if fuzzy_met is not None else None}


def _cell(figures: dict[str, Any] | None) -> str:
    if not figures:
        return "–"
    if not figures.get("available", True):
        return "not yet available"
    errors = f", **{figures['errors']:,} errors**" if figures["errors"] else ""
    return f"{figures['rps']:,.0f} req/s · {figures['p50_ms']:.1f} / {figures['p95_ms']:.1f} / " \
           f"{figures['p99_ms']:.1f} ms{errors}"


def _table(report: dict[str, Any]) -> list[str]:
    scenarios = list(_LABELS)
    lines = ["| golden customers | workers | " + " | ".join(_LABELS[s] for s in scenarios) + " |",
             "|---:|---:|" + "---|" * len(scenarios)]
    for size in report["sizes"]:
        for run in size["runs"]:
            cells = [_cell(run["scenarios"].get(s)) for s in scenarios]
            lines.append(f"| {size['golden_records']:,} | {run['workers']} | " + " | ".join(cells) + " |")
    return lines


def _scaling(report: dict[str, Any]) -> list[str]:
    """Each scenario's best figures at the smallest and the largest size, side by side."""
    sizes = sorted(report["sizes"], key=lambda s: s["golden_records"])
    if len(sizes) < 2:
        return []
    small, large = sizes[0], sizes[-1]
    lines = ["", f"From {small['golden_records']:,} to {large['golden_records']:,} golden customers (best worker "
             "count each):", "", "| scenario | req/s | p99 ms |", "|---|---:|---:|"]
    for scenario, label in _LABELS.items():
        a, b = _best(small, scenario), _best(large, scenario)
        if a and b:
            lines.append(f"| {label} | {a['rps']:,.0f} → {b['rps']:,.0f} ({b['rps'] / a['rps']:.2f}x) | "
                         f"{a['p99_ms']:.1f} → {b['p99_ms']:.1f} |")
    return lines


def _audit(report: dict[str, Any]) -> list[str]:
    lines = ["", "Audit after each server run: entries written for the answers counted, and the whole chain:", ""]
    for size in report["sizes"]:
        for run in size["runs"]:
            a = run["audit"]
            lines.append(f"- {size['golden_records']:,}, {run['workers']} workers: {a['answered']:,} answers, "
                         f"{a['entries']:,} api entries accounting for {a.get('audited_answers', a['entries']):,} answers "
                         f"({'each answer audited' if a['every_answer_audited'] else 'ANSWERS WITHOUT AN ENTRY'}); "
                         f"chain of {a['chain_entries']:,} entries {'verifies' if a['chain_ok'] else 'BROKEN: ' + str(a['problem'])}")
    return lines


def markdown(report: dict[str, Any]) -> str:
    """The results as Markdown."""
    env = report["environment"]
    verdicts = {True: "met", False: "NOT met", None: "not measured"}
    lines = [f"# Hub API under load ({report['date']})", "",
             f"`officehub serve` on a hub of N golden customers (PostgreSQL {env['postgres']}), the API client's "
             f"policy applied and every answer audited; {report['driver']} with {report['concurrency']} connections "
             f"on the same machine ({env['cpus']} cores), {report['seconds']:.0f} s per scenario after a "
             f"{report['warmup']:.0f} s warm-up. Each cell: requests/s · p50 / p95 / p99 latency.", "",
             *_table(report), *_scaling(report), *_audit(report), "",
             f"Target, {report['target']['target']}: **{verdicts[report['target']['met']]}**.", ""]
    return "\n".join(lines)
