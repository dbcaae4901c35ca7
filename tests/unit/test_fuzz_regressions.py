"""Every input the fuzz campaign found a problem with, replayed: the parser now answers it cleanly.

A fuzz target returns when the parser gave rows, rejected rows or one of officehub's own errors
whose message quotes no value, and raises otherwise; a replay that takes longer than the
campaign's hang limit is a hang still there. The named cases below say what each fix does.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from officehub.config import ConfigError, load_project
from officehub.connectors.base import ReadOptions
from officehub.connectors.files import FilesConfig, FilesConnector
from tests.fuzz.campaign import HANG_SECONDS, REGRESSIONS
from tests.fuzz.rest_target import RestPages
from tests.fuzz.targets import TARGETS, target

CASES = sorted(p for p in REGRESSIONS.glob("*/*") if p.is_file() and not p.name.startswith("."))


@pytest.mark.parametrize("case", CASES, ids=[f"{p.parent.name}/{p.name[:20]}" for p in CASES])
def test_a_found_input_gets_a_clean_answer(case: Path) -> None:
    started = time.monotonic()
    target(case.parent.name)(case.read_bytes())
    assert time.monotonic() - started < HANG_SECONDS


def test_every_regression_folder_is_a_target() -> None:
    assert {p.parent.name for p in CASES} <= set(TARGETS)


def _problems(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "officehub.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_project(tmp_path)
    return [str(issue) for issue in caught.value.issues]


@pytest.mark.parametrize(("text", "expected"), [
    ("include: ['/etc/*.yaml']\n", "officehub.yaml:1: include '/etc/*.yaml' is relative to the project folder"),
    ("policies: ['.']\n", "officehub.yaml:1: policy file '.' names no file"),
    ("policies: ['/srv/policies/*.yaml']\n", "policy file '/srv/policies/*.yaml' is relative to the project folder"),
])
def test_a_pattern_outside_the_project_is_a_configuration_problem(tmp_path: Path, text: str, expected: str) -> None:
    assert any(expected in p for p in _problems(tmp_path, text))


@pytest.mark.parametrize("value", ["2026-01-01 10:00:00 +99:00", "2026-02-30"])
def test_a_timestamp_yaml_cannot_hold_is_an_error_with_its_line(tmp_path: Path, value: str) -> None:
    problems = _problems(tmp_path, f"hub:\n  name: x\nwhen: {value}\n")
    assert problems[0] == "officehub.yaml:3: a value is not a valid timestamp"
    assert value not in " ".join(problems)


def test_a_line_nested_too_deeply_is_rejected_alone(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(b'{"id": 1}\n' + b"[" * 5000 + b'\n{"id": 2}\n')
    connector = FilesConnector("vendor", FilesConfig(path=tmp_path, streams={"s": {"pattern": "*.jsonl",
                                                                                  "format": "jsonl"}}), tmp_path)
    batches = list(connector.read("s", None, ReadOptions()))
    assert [r for b in batches for r in b.batch.to_pylist()] == [{"id": 1}, {"id": 2}]
    assert [(r.position, r.reason) for b in batches for r in b.rejects] == [
        ("in.jsonl:2", "the JSON is nested too deeply to read")]


def test_a_vendor_id_past_64_bits_is_read_as_text() -> None:
    pages = RestPages()
    try:
        body = b'{"items": [{"id": 18446744073709551617, "updated_at": 1}, {"id": 7}], "next": null}'
        rows = [r for batch in pages.read(body) for r in batch.batch.to_pylist()]
    finally:
        pages.close()
    assert [r["id"] for r in rows] == ["18446744073709551617", "7"]


@pytest.mark.parametrize("name", ["null", "12", "~"])
def test_a_name_that_is_not_text_is_a_configuration_problem(tmp_path: Path, name: str) -> None:
    problems = _problems(tmp_path, f"systems:\n  {name}:\n    type: sql\n    url: sqlite:///hr.db\n")
    assert any("systems: a name must be text" in p for p in problems)
