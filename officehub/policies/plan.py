"""A policy compiled for one (entity, destination): field → operator, applied to whole columns.

The plan is the only producer of :class:`PolicedBatch`, and the publish path
accepts nothing else, so a record cannot reach a destination without going
through a plan.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from officehub.canonical_model import Sensitivity
from officehub.policies.document import Agreement
from officehub.policies.operators import Operator

#: Hub columns every destination may receive: identifiers and versions, no content.
HUB_COLUMNS = ("canonical_id", "vendor_id", "version", "change_seq", "updated_at")

_ISSUED_BY_PLAN = object()


@dataclass(frozen=True)
class FieldDecision:
    """What happens to one field for this destination, which rule decided it, and why."""

    path: str
    column: str
    sensitivity: Sensitivity | None
    operator: Operator
    reason: str
    rule: str | None = None
    consent_column: str | None = None

    @property
    def action(self) -> str:
        """The operator's name."""
        return self.operator.name


class PolicedBatch:
    """Canonical columns after a policy plan; only :meth:`PolicyPlan.apply` makes one."""

    def __init__(self, token: object, plan: PolicyPlan, columns: dict[str, pa.Array], num_rows: int,
                 withheld: dict[str, int], transformed: frozenset[str]) -> None:
        if token is not _ISSUED_BY_PLAN:
            raise TypeError("a PolicedBatch comes only from PolicyPlan.apply")
        self.plan = plan
        self.columns = columns
        self.num_rows = num_rows
        self.withheld = withheld
        #: Columns an operator changed (hashed, masked, generalised…): written as the policy made them.
        self.transformed = transformed

    @property
    def values_withheld(self) -> int:
        """Non-null values the destination did not receive as they were."""
        return sum(self.withheld.values())

    def counts_by_action(self) -> dict[str, dict[str, int]]:
        """Per field: the action taken and how many values it touched (for the audit trail)."""
        return {d.path: {d.action: self.withheld[d.path]} for d in self.plan.decisions if d.path in self.withheld}


@dataclass(frozen=True)
class PolicyPlan:
    """Field → operator for one entity and destination, with the agreement that allows sharing."""

    entity: str
    destination: str
    decisions: tuple[FieldDecision, ...]
    agreement: Agreement | None = None
    policy_version: str = "defaults"
    #: The key ring's active key: pseudonyms and tokens made without an explicit key use it.
    key_id: str | None = None

    @property
    def fingerprint(self) -> str:
        """A short hash identifying exactly these decisions and keys (goes into the audit trail)."""
        body = json.dumps([self.key_id, *[(d.path, d.action, d.operator.params.model_dump(mode="json"),
                                           d.consent_column) for d in self.decisions]], sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()[:16]

    def decision(self, path: str) -> FieldDecision:
        """The decision for field ``path``; KeyError if the entity has no such field."""
        for d in self.decisions:
            if d.path == path:
                return d
        raise KeyError(path)

    @property
    def needed_columns(self) -> list[str]:
        """Columns the plan reads besides the ones it decides on (consent flags)."""
        return sorted({d.consent_column for d in self.decisions if d.consent_column})

    def apply(self, table: pa.Table) -> PolicedBatch:
        """The columns of ``table`` as this destination may receive them."""
        columns = {name: table.column(name).combine_chunks() for name in HUB_COLUMNS if name in table.column_names}
        withheld: dict[str, int] = {}
        transformed: set[str] = set()
        for d in self.decisions:
            if d.column not in table.column_names:
                continue
            original = table.column(d.column).combine_chunks()
            result = self._apply_one(d, original, table)
            if d.operator.withholds or d.consent_column:
                count = _changed(original, result)
                if count:
                    withheld[d.path] = count
            if result is not None:
                columns[d.column] = result
                if d.operator.withholds:
                    transformed.add(d.column)
        return PolicedBatch(_ISSUED_BY_PLAN, self, columns, table.num_rows, withheld, frozenset(transformed))

    @staticmethod
    def _apply_one(d: FieldDecision, original: pa.Array, table: pa.Table) -> pa.Array | None:
        result = d.operator.apply(original)
        if result is None or not d.consent_column:
            return result
        # Per-record consent: records without a "yes" get nothing for this field.
        consented = pc.fill_null(pc.equal(table.column(d.consent_column).combine_chunks(), True), False)
        return pc.if_else(consented, result, pa.scalar(None, result.type))


def _changed(original: pa.Array, result: pa.Array | None) -> int:
    """Present values that did not reach the destination unchanged."""
    present: int = len(original) - original.null_count
    if result is None or result.type != original.type:
        return present
    same: int = pc.sum(pc.fill_null(pc.equal(original, result), False)).as_py() or 0
    return present - same
