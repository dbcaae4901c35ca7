"""Policy test cases: given this record to this destination, expect these fields and values."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from officehub.canonical_model import layout
from officehub.canonical_model.checks import coerce
from officehub.policies.compiler import CompileContext, Destination, compile_plan
from officehub.policies.keys import KeyRing


class Expectation(BaseModel):
    """What the destination must (not) receive."""

    model_config = ConfigDict(extra="forbid")

    absent: list[str] = []
    present: list[str] = []
    equals: dict[str, Any] = {}
    matches: dict[str, str] = {}


class Case(BaseModel):
    """One test case."""

    model_config = ConfigDict(extra="forbid")

    name: str
    destination: str
    entity: str
    purpose: str | None = None
    country: str | None = None
    record: dict[str, Any]
    expect: Expectation


class TestFile(BaseModel):
    """A file of policy test cases, with test-only keys and a fixed date if needed."""

    model_config = ConfigDict(extra="forbid")

    keys: dict[str, str] = Field({}, description="test keys by id (never production keys)")
    active_key: str | None = None
    today: date | None = None
    cases: list[Case]


@dataclass(frozen=True)
class Outcome:
    """The result of one case."""

    name: str
    passed: bool
    failures: tuple[str, ...]


def _flat(entity: str, record: dict[str, Any]) -> pa.Table:
    columns = {}
    for leaf in layout(entity).fields:
        value: Any = record
        for part in leaf.path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        columns[leaf.column] = coerce(pa.array([value]), leaf.arrow_type)[0]
    return pa.table(columns)


def _received(result_columns: dict[str, pa.Array], entity: str) -> dict[str, Any]:
    by_column = {leaf.column: leaf.path for leaf in layout(entity).fields}
    return {by_column[c]: v[0].as_py() for c, v in result_columns.items() if c in by_column}


def _judge(expect: Expectation, got: dict[str, Any]) -> list[str]:
    failures = [f"{p} was received" for p in expect.absent if got.get(p) is not None]
    failures += [f"{p} was not received" for p in expect.present if got.get(p) is None]
    failures += [f"{p} is {got.get(p)!r}, expected {v!r}" for p, v in expect.equals.items() if got.get(p) != v]
    failures += [f"{p} does not match {rx}" for p, rx in expect.matches.items()
                 if not re.fullmatch(rx, str(got.get(p)))]
    return failures


def run_case(case: Case, ctx: CompileContext) -> Outcome:
    """Compile the plan for the case's destination and check what the record becomes."""
    try:
        plan = compile_plan(case.entity, Destination(case.destination, case.country, case.purpose), ctx)
    except Exception as exc:  # noqa: BLE001 - an error is a failed case, reported by its message
        return Outcome(case.name, False, (str(exc),))
    policed = plan.apply(_flat(case.entity, case.record))
    failures = _judge(case.expect, _received(policed.columns, case.entity))
    return Outcome(case.name, not failures, tuple(failures))


def run_file(tests: TestFile, ctx: CompileContext) -> list[Outcome]:
    """Every case of a file; test keys and date, when given, replace the project's."""
    if tests.keys:
        # replace, not a new context: the project's declared classes for derived fields still hold
        ctx = replace(ctx, keys=KeyRing({k: v.encode() for k, v in tests.keys.items()},
                                        tests.active_key or next(iter(tests.keys))))
    if tests.today:
        ctx = replace(ctx, today=tests.today)
    return [run_case(case, ctx) for case in tests.cases]
