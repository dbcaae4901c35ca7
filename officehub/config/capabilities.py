"""Pipelines held to what their systems' connectors declare they can do (docs/adr/0017).

A publish whose write mode its destination cannot take, or an ingest from a system that
cannot be read, would fail at its first batch; ``officehub check`` (and every command that
loads the project) refuses it before any run, in one line naming the pipeline, the system
and what is missing. Nothing is connected to: only the declarations are compared.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import ValidationError

from officehub.canonical_model.errors import FatalError
from officehub.config.models import PipelineConfig, ProjectConfig
from officehub.connectors.base import Capabilities
from officehub.connectors.registry import connector_class

#: Reports one problem: the path of the item in the configuration, and the message.
Report = Callable[[tuple, str], None]


def check_capabilities(config: ProjectConfig, report: Report) -> None:
    """Report every pipeline whose system's connector does not declare what the pipeline needs."""
    for name, pipeline in config.pipelines.items():
        mapping = config.mappings.get(pipeline.mapping)
        system = config.systems.get(mapping.system) if mapping is not None else None
        if mapping is None or system is None:
            continue  # an unknown mapping or system is reported by the reference checks
        declared = _declared(system.type, system.connector_settings(), mapping.stream)
        if declared is None:
            continue
        missing = _missing(pipeline, declared, mapping.stream)
        if missing:
            report(("pipelines", name, "write_mode" if pipeline.kind == "publish" else "kind"),
                   f"pipelines.{name}: system '{mapping.system}' (type {system.type}) {missing}")


def _declared(type_name: str, settings: dict, stream: str) -> Capabilities | None:
    """What the connector declares for ``stream`` as configured; None when it cannot be known here.

    A type that is not installed or settings that do not validate are reported by the reference
    checks; a plugin that declares nothing is found out at its first run, as before.
    """
    try:
        cls = connector_class(type_name)
        return cls.stream_capabilities(cls.Config.model_validate(settings), stream)
    except (FatalError, ValidationError, LookupError):
        return None


def _missing(pipeline: PipelineConfig, declared: Capabilities, stream: str) -> str | None:
    """What ``pipeline`` needs that ``declared`` lacks, as the end of a sentence; None if nothing."""
    if pipeline.kind == "ingest":
        return None if declared.reads else f"cannot be read (stream '{stream}'): its connector declares no reads"
    if declared.accepts(pipeline.write_mode):
        return None
    return (f"cannot take write_mode '{pipeline.write_mode.value}' on stream '{stream}': it declares "
            f"{declared.describe_writes()}")
