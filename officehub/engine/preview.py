"""Policy preview: real golden records before and after a destination's plan, originals abbreviated.

Every preview is written to the audit trail (who looked, at which destination, how many
records), because it shows real records to a person. Medical, criminal and legal values
are never shown, not even in part: only their class and whether a value exists.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from officehub.canonical_model import Sensitivity, layout
from officehub.canonical_model.errors import FatalError
from officehub.config import Project
from officehub.engine.publish import Publish
from officehub.policies.plan import PolicyPlan
from officehub.store import audit, golden
from officehub.store.hub import HubStore

WITHHELD = "(withheld)"


def abbreviate(value: Any) -> str | None:
    """Enough of an original to recognise the field, never the whole value."""
    if value is None:
        return None
    text = str(value)
    return f"{text[:2]}… ({len(text)} chars)" if len(text) > 2 else f"… ({len(text)} chars)"


def presence(value: Any, sensitivity: Sensitivity) -> str | None:
    """A special-category value as its class and the fact that it exists ("medical · present")."""
    return None if value is None else f"{sensitivity.value} · present"


def _publishers(project: Project, destination: str) -> list[str]:
    config = project.config
    return [name for name, p in config.pipelines.items()
            if p.kind == "publish" and config.mappings[p.mapping].system == destination]


def preview_records(project: Project, store: HubStore, destination: str, sample: int,
                    actor: str) -> list[dict[str, Any]]:
    """For each publish pipeline to ``destination``: ``sample`` recent records, field by field (audited)."""
    pipelines = _publishers(project, destination)
    if not pipelines:
        raise FatalError(f"no publish pipeline sends to '{destination}'")
    previews = []
    # The audit entry commits with the reads it records (ADR 0019): no preview is shown unaudited.
    with store.begin() as conn:
        for name in pipelines:
            step = Publish(project, store, name, project.config.pipelines[name])
            recent = golden.recent(conn, step.spec.entity, sample)
            policed = step.plan.apply(recent.select(step.columns))
            previews += [_record(step.spec.entity, recent, policed.columns, step.plan, row, step.columns)
                         for row in range(recent.num_rows)]
        audit.append(conn, actor=actor, action="policy.preview", subject=destination,
                     detail={"pipelines": pipelines, "records": len(previews),
                             "canonical_ids": len({p["canonical_id"] for p in previews})})
    return previews


def _record(entity: str, original: pa.Table, after: dict[str, pa.Array], plan: PolicyPlan, row: int,
            columns: list[str]) -> dict[str, Any]:
    leaves = {leaf.column: leaf for leaf in layout(entity).fields}
    fields = []
    for column in columns:
        if column not in leaves:
            continue
        leaf = leaves[column]
        decision = plan.decision(leaf.path)
        # The class the plan decided under: a derived field fed from a medical column counts as medical.
        # An unclassified field (never published: policies fail closed) is shown as the strictest class.
        sensitivity = decision.sensitivity or leaf.sensitivity or Sensitivity.MEDICAL
        before = original.column(column)[row].as_py()
        received = after[column][row].as_py() if column in after else WITHHELD
        if sensitivity.is_special_category:
            shown_before = presence(before, sensitivity)
            shown_after = received if received in (None, WITHHELD) else presence(received, sensitivity)
        else:
            shown_before, shown_after = abbreviate(before), None if received is None else str(received)
        fields.append({"field": leaf.path, "class": sensitivity.value, "before": shown_before,
                       "action": decision.action, "after": shown_after})
    return {"entity": entity, "canonical_id": original.column("canonical_id")[row].as_py(), "fields": fields}
