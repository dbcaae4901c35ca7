"""Turning per-round results into medians, ratios and target checks; writing JSON, Markdown and PNG."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

TARGETS_DOC = "docs/benchmark.md#targets"


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summarise_variant(runs: list[dict]) -> dict[str, Any]:
    """Median seconds, rows/s at the median, the peak RSS over rounds, every round's figures."""
    good = [r for r in runs if "error" not in r]
    seconds = [r["seconds"] for r in good]
    median = _median(seconds)
    moved = good[0]["rows"] if good else None
    return {
        "seconds_median": round(median, 3) if median is not None else None,
        "rows_per_s": round(moved / median) if median else None,
        "peak_rss_mb": max((r["peak_rss_mb"] for r in runs), default=None),
        "rows": moved,
        "rounds_ok": len(good),
        "seconds_all": [round(s, 3) for s in seconds],
        "peak_rss_mb_all": [r["peak_rss_mb"] for r in runs],
        "errors": [f"round {r['round'] + 1}: {r['error']}" for r in runs if "error" in r],
        "detail_last_round": good[-1].get("detail") if good else None,
    }


def _ratio(variants: dict, a: str, b: str) -> float | None:
    x, y = (variants.get(a) or {}).get("seconds_median"), (variants.get(b) or {}).get("seconds_median")
    return round(x / y, 3) if x and y else None


def _target(name: str, value: float | None, limit: float, unit: str = "×") -> dict[str, Any]:
    return {"target": name, "value": value, "limit": limit, "unit": unit,
            "met": None if value is None else value <= limit}


def summarise(rows: int, runs: dict[str, list[dict]], meta: dict) -> dict[str, Any]:
    """The content of latest.json."""
    variants = {name: summarise_variant(r) for name, r in runs.items()}
    ratios = {
        "officehub_e2e / raw_vectorised": _ratio(variants, "officehub_e2e", "raw_vectorised"),
        "officehub_e2e / raw_rows": _ratio(variants, "officehub_e2e", "raw_rows"),
        "officehub_e2e / dlt_pyarrow": _ratio(variants, "officehub_e2e", "dlt_pyarrow"),
        "officehub_e2e / dlt_default": _ratio(variants, "officehub_e2e", "dlt_default"),
        "officehub_publish / raw_vectorised": _ratio(variants, "officehub_publish", "raw_vectorised"),
        "dlt_pyarrow / raw_vectorised": _ratio(variants, "dlt_pyarrow", "raw_vectorised"),
        "officehub_incremental / officehub_e2e": _ratio(variants, "officehub_incremental", "officehub_e2e"),
        "officehub_incremental / dlt_incremental": _ratio(variants, "officehub_incremental", "dlt_incremental"),
    }
    rss = (variants.get("officehub_e2e") or {}).get("peak_rss_mb")
    targets = [
        _target("officehub_e2e ≤ 0.5 × dlt_pyarrow", ratios["officehub_e2e / dlt_pyarrow"], 0.5),
        _target("officehub_e2e ≤ 4 × raw_vectorised", ratios["officehub_e2e / raw_vectorised"], 4.0),
        _target("officehub_e2e peak RSS ≤ 250 MB", rss, 250.0, "MB"),
        _target("officehub_incremental (1%) ≤ 5% of officehub_e2e",
                ratios["officehub_incremental / officehub_e2e"], 0.05),
        _target("officehub_incremental faster than dlt_incremental",
                ratios["officehub_incremental / dlt_incremental"], 1.0),
    ]
    return {"rows": rows, "rounds": meta["rounds"], **meta, "variants": variants, "ratios": ratios,
            "targets": targets}


def _fmt(value: Any, spec: str = ",.0f") -> str:
    return "—" if value is None else format(value, spec)


def _met(target: dict) -> str:
    return {True: "met", False: "NOT met", None: "not measured"}[target["met"]]


def markdown(results: dict[str, Any]) -> str:
    """The latest.md table."""
    v = results["variants"]
    raw = (v.get("raw_vectorised") or {}).get("seconds_median")
    peer = (v.get("dlt_pyarrow") or {}).get("seconds_median")
    lines = [f"# officehub benchmark: {results['rows']:,} rows, {results['rounds']} rounds (medians)", "",
             f"Started {results['started']} · {results['environment']['cpus']} CPUs · Python "
             f"{results['environment']['python']} · dlt {results['environment']['packages'].get('dlt')} · "
             f"hub batch size {results['batch_size']:,} · PostgreSQL autovacuum "
             f"{results['environment'].get('postgres_autovacuum')} · hub auto-analyze emulation "
             f"{results.get('hub_autoanalyze_s') or 'off'}", "",
             "| variant | rows | seconds | rows/s | peak RSS MB | × raw_vectorised | × dlt_pyarrow |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, s in v.items():
        sec = s["seconds_median"]
        if "incremental" in name:  # 1% of the rows: a ratio to a full copy says nothing
            raw_, peer_ = None, None
        else:
            raw_, peer_ = raw, peer
        lines.append(f"| {name} | {_fmt(s['rows'])} | {_fmt(sec, '.2f')} | {_fmt(s['rows_per_s'])} | "
                     f"{_fmt(s['peak_rss_mb'], '.0f')} | {_fmt(sec / raw_ if sec and raw_ else None, '.2f')} | "
                     f"{_fmt(sec / peer_ if sec and peer_ else None, '.2f')} |")
    lines += ["", "Incremental variants move the 1% of rows changed in the source (rows = rows changed); "
              "they are compared in the targets, not with the full copies.", "", "## Targets", "",
              "| target | measured | limit | |", "|---|---:|---:|---|"]
    for t in results["targets"]:
        lines.append(f"| {t['target']} | {_fmt(t['value'], '.3f')} | {t['limit']} | {_met(t)} |")
    errors = [(n, e) for n, s in v.items() for e in s["errors"]]
    if errors:
        lines += ["", "## Failures", ""] + [f"- {n}, {e}" for n, e in errors]
    return "\n".join(lines) + "\n"


def chart(results: dict[str, Any], path: Path) -> None:
    """Bar charts of median seconds and peak RSS per variant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    v = {n: s for n, s in results["variants"].items() if s["seconds_median"] is not None}
    names = list(v)
    colours = ["#1f77b4" if n.startswith("officehub") else "#7f7f7f" if n.startswith("raw") else "#ff7f0e"
               for n in names]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    bars = left.barh(names, [v[n]["seconds_median"] for n in names], color=colours)
    left.bar_label(bars, fmt="%.2f s", padding=3, fontsize=8)
    secs = [v[n]["seconds_median"] for n in names]
    if secs and min(secs) > 0 and max(secs) / min(secs) > 50:
        left.set_xscale("log")
    left.set_xlabel("seconds (median, lower is better" + (", log scale)" if left.get_xscale() == "log" else ")"))
    left.invert_yaxis()
    bars = right.barh(names, [v[n]["peak_rss_mb"] for n in names], color=colours)
    right.bar_label(bars, fmt="%.0f MB", padding=3, fontsize=8)
    right.axvline(250, color="red", linestyle="--", linewidth=1, label="250 MB target")
    right.set_xlabel("peak RSS MB (lower is better)")
    right.invert_yaxis()
    right.legend(loc="lower right", fontsize=8)
    fig.suptitle(f"MariaDB → PostgreSQL, {results['rows']:,} CRM rows, median of {results['rounds']} rounds "
                 "(blue officehub, grey raw copy, orange dlt; incremental = 1% changed)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _write(results: dict[str, Any], folder: Path, stem: str, render_md, render_png) -> None:  # type: ignore[no-untyped-def]
    (folder / f"{stem}.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (folder / f"{stem}.md").write_text(render_md(results))
    render_png(results, folder / f"{stem}.png")


def write_latest(results: dict[str, Any], folder: Path) -> None:
    """latest.json, latest.md and latest.png of a standard run."""
    _write(results, folder, "latest", markdown, chart)


# -- scaling ---------------------------------------------------------------------------------------
def summarise_scaling(by_size: dict[int, dict[str, list[dict]]], meta: dict) -> dict[str, Any]:
    """The content of scaling.json: per variant, per size, medians and µs per row."""
    sizes = sorted(by_size)
    variants: dict[str, dict[str, Any]] = {}
    for size in sizes:
        for name, runs in by_size[size].items():
            s = summarise_variant(runs)
            s["us_per_row"] = round(s["seconds_median"] / size * 1e6, 2) if s["seconds_median"] else None
            variants.setdefault(name, {})[str(size)] = s
    checks = {}
    for name, per in variants.items():
        small, large = per.get(str(sizes[0])), per.get(str(sizes[-1]))
        if small and large and small["us_per_row"] and large["us_per_row"]:
            checks[name] = {"us_per_row_growth": round(large["us_per_row"] / small["us_per_row"], 3),
                            "rss_growth_mb": round(large["peak_rss_mb"] - small["peak_rss_mb"], 1),
                            "peak_rss_mb_max": max(p["peak_rss_mb"] for p in per.values())}
    rss = checks.get("officehub_e2e", {})
    targets = [_target(f"officehub_e2e peak RSS ≤ 250 MB at every size {sizes[0]:,}→{sizes[-1]:,}",
                       rss.get("peak_rss_mb_max"), 250.0, "MB")]
    return {"sizes": sizes, **meta, "variants": variants, "linearity": checks, "targets": targets}


def scaling_markdown(results: dict[str, Any]) -> str:
    sizes = results["sizes"]
    lines = [f"# officehub scaling: {', '.join(f'{s:,}' for s in sizes)} rows, {results['rounds']} round(s)", "",
             "| variant | rows | seconds | µs/row | rows/s | peak RSS MB |", "|---|---:|---:|---:|---:|---:|"]
    for name, per in results["variants"].items():
        for size in sizes:
            s = per.get(str(size)) or {}
            lines.append(f"| {name} | {size:,} | {_fmt(s.get('seconds_median'), '.2f')} | "
                         f"{_fmt(s.get('us_per_row'), '.2f')} | {_fmt(s.get('rows_per_s'))} | "
                         f"{_fmt(s.get('peak_rss_mb'), '.0f')} |")
    lines += ["", "Linear time means µs/row stays the same as the size grows; flat memory means peak RSS does.", "",
              "| variant | µs/row largest ÷ smallest | peak RSS growth MB | peak RSS max MB |", "|---|---:|---:|---:|"]
    for name, c in results["linearity"].items():
        lines.append(f"| {name} | {c['us_per_row_growth']:.2f} | {c['rss_growth_mb']:+.0f} | {c['peak_rss_mb_max']:.0f} |")
    lines += ["", "## Targets", ""] + [f"- {t['target']}: {_fmt(t['value'], '.0f')} MB — {_met(t)}"
                                       for t in results["targets"]]
    return "\n".join(lines) + "\n"


def scaling_chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = results["sizes"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
    for name, per in results["variants"].items():
        xs = [s for s in sizes if (per.get(str(s)) or {}).get("seconds_median") is not None]
        left.plot(xs, [per[str(s)]["seconds_median"] for s in xs], marker="o", label=name)
        right.plot(xs, [per[str(s)]["peak_rss_mb"] for s in xs], marker="o", label=name)
    left.set_xlabel("rows")
    left.set_ylabel("seconds (median)")
    left.set_title("time: a straight line means linear")
    right.axhline(250, color="red", linestyle="--", linewidth=1, label="250 MB target")
    right.set_xlabel("rows")
    right.set_ylabel("peak RSS MB")
    right.set_title("memory: flat means independent of size")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.ticklabel_format(axis="x", style="plain")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_scaling(results: dict[str, Any], folder: Path) -> None:
    """scaling.json, scaling.md and scaling.png of a scaling run."""
    _write(results, folder, "scaling", scaling_markdown, scaling_chart)
