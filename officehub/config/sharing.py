"""Which publish pipelines send to a destination no data-sharing agreement covers (said by ``check``)."""

from __future__ import annotations

from datetime import date

from officehub.canonical_model.errors import FatalError
from officehub.config.project import Project


def unagreed_publishes(project: Project, today: date | None = None) -> list[str]:
    """One warning per publish pipeline whose destination has no agreement in force today.

    Not an error: without policies, public and internal data still go, which is legitimate;
    with policies, the publish itself refuses to send anything until an agreement is in force.
    """
    today = today or date.today()
    warnings = []
    for name, pipeline in project.config.pipelines.items():
        mapping = project.config.mappings.get(pipeline.mapping)
        if pipeline.kind != "publish" or mapping is None:
            continue
        if not project.policies.configured:
            warnings.append(f"pipeline {name} → {mapping.system}: no data-sharing agreement in force; "
                            f"{mapping.system} receives no personal or financial data")
            continue
        try:
            project.policies.agreement_for(mapping.system, pipeline.purpose, today)
        except FatalError as exc:
            warnings.append(f"pipeline {name} → {mapping.system}: {exc.message}")
    return warnings
