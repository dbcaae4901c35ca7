"""OpenTelemetry traces of real runs on the sentinel estate, received by an OTLP/HTTP endpoint on loopback and
decoded with opentelemetry-proto: one span per run, one child per stage per batch (read, map, validate, store
of an ingest; read, policy, map, write of a publish), with pipeline, run id, batch and row counts and no
special-category value; and without a collector, no SDK at all."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from officehub.config import load_project
from officehub.engine import sync
from tests.integration import sentinel_estate
from tests.integration.http_receiver import Receiver, receiver

INGEST_STAGES = ("read", "map", "validate", "store")
PUBLISH_STAGES = ("read", "policy", "map", "write")


def estate(folder: Path, telemetry: dict[str, Any] | None) -> Path:
    """The sentinel estate (batches of two rows), with ``telemetry:`` set if given."""
    sentinel_estate.build(folder)
    if telemetry is not None:
        config = yaml.safe_load((folder / "officehub.yaml").read_text())
        config["telemetry"] = telemetry
        (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder


def spans(collector: Receiver) -> list[dict[str, Any]]:
    """Every span received, decoded from OTLP protobuf: name, ids, attributes, status, service."""
    found = []
    for post in collector.posts:
        assert post.path == "/v1/traces" and post.headers["content-type"] == "application/x-protobuf"
        request = ExportTraceServiceRequest()
        request.ParseFromString(post.body)
        for resource in request.resource_spans:
            service = {a.key: a.value.string_value for a in resource.resource.attributes}["service.name"]
            for scope in resource.scope_spans:
                for span in scope.spans:
                    found.append({"name": span.name, "trace": span.trace_id.hex(), "id": span.span_id.hex(),
                                  "parent": span.parent_span_id.hex(), "status": span.status.code,
                                  "service": service, "attributes": {
                                      a.key: a.value.int_value if a.value.HasField("int_value")
                                      else a.value.string_value for a in span.attributes}})
    return found


def test_an_ingest_and_a_publish_are_traced_stage_by_stage_per_batch(tmp_path: Path):
    with receiver() as collector:
        folder = estate(tmp_path / "estate", {"endpoint": collector.url, "service_name": "hub-sentinel"})
        ingest, publish = sync(load_project(folder), ["hr_employees_in", "payroll_out"])
        received = spans(collector)
    assert (ingest.status, publish.status) == ("succeeded", "succeeded")
    runs = {s["name"]: s for s in received if s["parent"] == ""}
    assert set(runs) == {"ingest hr_employees_in", "publish payroll_out"}
    assert {s["service"] for s in received} == {"hub-sentinel"}

    for result, stages in ((ingest, INGEST_STAGES), (publish, PUBLISH_STAGES)):
        run = runs[f"{result.kind} {result.pipeline}"]
        assert run["attributes"] == {
            "officehub.pipeline": result.pipeline, "officehub.run_id": result.run_id, "officehub.kind": result.kind,
            "officehub.status": "succeeded", "officehub.records_read": result.metrics.records_read,
            "officehub.records_written": result.metrics.records_written,
            "officehub.records_quarantined": result.metrics.records_quarantined}
        children = [s for s in received if s["parent"] == run["id"]]
        assert {s["trace"] for s in children} == {run["trace"]}
        assert {s["name"] for s in children} == set(stages)
        for s in children:
            assert s["attributes"]["officehub.pipeline"] == result.pipeline
            assert s["attributes"]["officehub.run_id"] == result.run_id
        # Batches numbered from 1 in each stage, once each.
        numbers: dict[str, list[int]] = {}
        for s in children:
            numbers.setdefault(s["name"], []).append(s["attributes"]["officehub.batch"])
        assert all(sorted(n) == list(range(1, len(n) + 1)) for n in numbers.values()), numbers
        # Every span of a run is a child of the run: nothing deeper, nothing detached.
        assert all(s["parent"] in {"", runs["ingest hr_employees_in"]["id"], runs["publish payroll_out"]["id"]}
                   for s in received)

    ingest_spans = [s for s in received if s["parent"] == runs["ingest hr_employees_in"]["id"]]
    by_stage = Counter(s["name"] for s in ingest_spans)
    # Four employees in batches of two: two batches read, mapped, validated and stored.
    assert by_stage == {"read": 2, "map": 2, "validate": 2, "store": 2}
    rows = {name: sum(s["attributes"].get("officehub.rows_out", 0) for s in ingest_spans if s["name"] == name)
            for name in ("read", "map", "store")}
    # Read 4; the over-long health note fails validation, so 3 map cleanly and 3 are written.
    assert rows == {"read": ingest.metrics.records_read, "map": 3, "store": ingest.metrics.records_written}
    assert sum(s["attributes"]["officehub.rows"] for s in ingest_spans if s["name"] == "validate") == 4
    publish_spans = [s for s in received if s["parent"] == runs["publish payroll_out"]["id"]]
    assert sum(s["attributes"]["officehub.rows_out"] for s in publish_spans if s["name"] == "write") == \
        publish.metrics.records_written == 3
    assert sum(s["attributes"]["officehub.rows"] for s in publish_spans if s["name"] == "policy") == 3

    # The hub store holds the sentinels; no span does.
    assert [x for x in sentinel_estate.SENTINELS if any(x.encode() in p.body for p in collector.posts)] == []
    assert [x for x in sentinel_estate.SENTINELS if x in json.dumps(received)] == []


def test_a_failed_run_ends_its_span_in_error(tmp_path: Path):
    import sqlite3

    with receiver() as collector:
        folder = estate(tmp_path / "estate", {"endpoint": collector.url})
        with sqlite3.connect(folder / "data" / "hr.db") as db:
            db.execute("ALTER TABLE employees RENAME TO employees_old")
        (result,) = sync(load_project(folder), ["hr_employees_in"])
        received = spans(collector)
    assert result.status == "failed"
    (run,) = [s for s in received if s["parent"] == ""]
    assert run["status"] == 2  # STATUS_CODE_ERROR
    assert run["attributes"]["officehub.status"] == "failed"


def test_the_standard_variable_points_runs_at_a_collector(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with receiver() as collector:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
        folder = estate(tmp_path / "estate", None)
        (result,) = sync(load_project(folder), ["hr_employees_in"])
        received = spans(collector)
    assert result.status == "succeeded"
    assert {s["name"] for s in received} == {"ingest hr_employees_in", *INGEST_STAGES}


NO_SDK = """
import sys
from officehub.config import load_project
from officehub.engine import sync
(result,) = sync(load_project(sys.argv[1]), ["hr_employees_in"])
print(result.status, "opentelemetry.sdk.trace" in sys.modules, "opentelemetry" in sys.modules)
"""


def test_without_a_collector_the_sdk_is_not_even_imported(tmp_path: Path):
    folder = estate(tmp_path / "estate", None)
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run([sys.executable, "-c", NO_SDK, str(folder)], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["succeeded", "False", "False"]
