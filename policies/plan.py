"""A policy compiled for one (entity, destination): field → operator, applied per batch.

The plan is the only producer of :class:`PolicedBatch`, and the publish path
accepts nothing else, so a record cannot reach a destination without going
through a plan.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pyarrow as pa


from canonical_model import Sensitivity, layout
from policies.operators import Allow, Drop, Operator

#: Hub columns every destination may receive: identifiers and versions, no content.
HUB_COLUMNS = ("canonical_id", "version", "change_seq", "updated_at")

_ISSUED_BY_PLAN = object()


@dataclass(frozen=True)
class FieldDecision:
    """What happens to one field for this destination, and why."""

    path: str
    column: str
    sensitivity: Sensitivity | None
    operator: Operator
    reason: str


class PolicedBatch:
    """Canonical columns after a policy plan; only :meth:`PolicyPlan.apply` makes one."""

    def __init__(self, token: object, plan: PolicyPlan, columns: dict[str, pa.Array], num_rows: int,
                 withheld: dict[str, int]) -> None:
        if token is not _ISSUED_BY_PLAN:
            raise TypeError("a PolicedBatch comes only from PolicyPlan.apply")
        self.plan = plan
        self.columns = columns
        self.num_rows = num_rows
        self.withheld = withheld

    @property
    def values_withheld(self) -> int:
        """Non-null values the destination did not receive as they were."""
        return sum(self.withheld.values())


@dataclass(frozen=True)
class PolicyPlan:
    """Field → operator for one entity and destination."""

    entity: str
    destination: str
    decisions: tuple[FieldDecision, ...]

    @property
    def fingerprint(self) -> str:
        """A short hash identifying exactly these decisions (goes into the audit trail)."""
        body = json.dumps([(d.path, d.operator.name, d.operator.params.model_dump(mode="json"))
                           for d in self.decisions], sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()[:16]

    def apply(self, table: pa.Table) -> PolicedBatch:
        """The columns of ``table`` as this destination may receive them."""
        columns = {name: table.column(name).combine_chunks() for name in HUB_COLUMNS if name in table.column_names}
        withheld: dict[str, int] = {}
        for decision in self.decisions:
            if decision.column not in table.column_names:
                continue
            original = table.column(decision.column).combine_chunks()
            result = decision.operator.apply(original)
            if decision.operator.withholds:
                count = len(original) - original.null_count
                if count:
                    withheld[decision.path] = count
            if result is not None:
                columns[decision.column] = result
        return PolicedBatch(_ISSUED_BY_PLAN, self, columns, table.num_rows, withheld)


def _default_decision(path: str, column: str, sensitivity: Sensitivity | None) -> FieldDecision:
    if sensitivity is None:
        return FieldDecision(path, column, None, Drop(), "unclassified field: withheld until classified")
    if sensitivity.is_special_category:
        return FieldDecision(path, column, sensitivity, Drop(),
                             f"{sensitivity.value} data: denied unless a rule allows it with a legal basis")
    return FieldDecision(path, column, sensitivity, Allow(), f"{sensitivity.value} data: allowed by default")


def compile_plan(entity: str, destination: str) -> PolicyPlan:
    """The plan for sending ``entity`` records to ``destination`` under the built-in defaults.

    Defaults, which hold for every destination: medical, criminal and legal fields
    are dropped; unclassified fields are dropped; other classes pass.
    """
    decisions = tuple(_default_decision(f.path, f.column, f.sensitivity) for f in layout(entity).fields)
    return PolicyPlan(entity, destination, decisions)


