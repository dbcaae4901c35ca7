"""The hub API benchmark's harness at tiny scale: build a hub, serve it, drive it, check the audit, report."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.serve import hub, load, report
from bench.serve.run import Knobs, measure_size


def test_percentiles_are_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]

    assert [load.percentile(values, p) for p in (50, 95, 99, 100)] == [50.0, 95.0, 99.0, 100.0]
    assert load.percentile([], 99) == 0.0


def test_queries_ask_for_the_same_people_in_every_scenario() -> None:
    rows = hub.people(50, seed=7)
    ids = {row[0]: f"id-{row[0]}" for row in rows}

    asked = hub.queries(rows, ids, __import__("random").Random(1), samples=10)

    assert set(asked) == {"by_id", "by_vendor_id", "search_email", "changes", "match"}
    assert all(len(paths) == 10 for paths in asked.values())
    assert all(path.startswith("/api/v1/customer/records/id-C") for path in asked["by_id"])
    assert all("birth_date=" in path and "postal_code=" in path for path in asked["match"])


def _figures(rps: float, p99: float, errors: int = 0) -> dict[str, object]:
    return {"available": True, "rps": rps, "p50_ms": p99 / 4, "p95_ms": p99 / 2, "p99_ms": p99, "errors": errors}


def _size(records: int, by_id: dict[str, object], match: dict[str, object]) -> dict[str, object]:
    audit = {"answered": 10, "entries": 10, "every_answer_audited": True, "chain_entries": 12, "chain_ok": True,
             "problem": None}
    return {"golden_records": records, "runs": [{"workers": 2, "scenarios": {"by_id": by_id, "match": match},
                                                 "audit": audit}]}


def test_the_target_needs_rate_latency_and_an_audited_answer_each() -> None:
    met = report.target([_size(1_000_000, _figures(1200, 30), _figures(90, 150))])
    slow = report.target([_size(1_000_000, _figures(800, 30), _figures(90, 150))])
    no_match = report.target([_size(1_000_000, _figures(1200, 30), {"available": False})])

    assert met["met"] is True
    assert slow["met"] is False and slow["by_id"] is False
    assert no_match["met"] is None and no_match["fuzzy"] is None
    assert report.target([_size(100_000, _figures(1200, 30), _figures(90, 150))])["met"] is None


def test_the_report_shows_scaling_and_what_is_not_yet_available() -> None:
    sizes = [_size(100_000, _figures(1000, 20), {"available": False}),
             _size(1_000_000, _figures(900, 40), {"available": False})]
    text = report.markdown({"date": "today", "driver": "wrk", "concurrency": 16, "seconds": 15, "warmup": 3,
                            "sizes": sizes, "target": report.target(sizes),
                            "environment": {"postgres": "15", "cpus": 2}})

    assert "not yet available" in text
    assert "1,000 → 900 (0.90x)" in text
    assert "each answer audited" in text and "verifies" in text


@pytest.mark.skipif(os.environ.get("OFFICEHUB_SKIP_SERVER_TESTS") == "1", reason="no server tests here")
def test_a_tiny_hub_is_served_driven_and_every_answer_audited(tmp_path: Path, postgres_url: str) -> None:
    knobs = Knobs(sizes=(300,), workers=(2,), concurrency=4, seconds=1.0, warmup=0.5, driver="httpx",
                  scenarios=("by_id", "by_vendor_id", "search_email", "changes"), seed=3, workdir=tmp_path)

    size = measure_size(300, knobs, tmp_path, url=postgres_url)

    (run,) = size["runs"]
    for name in knobs.scenarios:
        figures = run["scenarios"][name]
        assert figures["requests"] > 0 and figures["errors"] == 0, (name, figures, run.get("log_tail"))
    assert run["audit"]["every_answer_audited"] and run["audit"]["chain_ok"], run["audit"]
