"""Project configuration: officehub.yaml and its includes, validated with file and line.

The names below are imported from their submodules on first use (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from officehub.config.models import HubSettings, PipelineConfig, ProjectConfig, SystemConfig
    from officehub.config.project import CONFIG_FILE, ConfigError, ConfigIssue, Project, load_project

__all__ = ["CONFIG_FILE", "ConfigError", "ConfigIssue", "HubSettings", "PipelineConfig", "Project", "ProjectConfig",
           "SystemConfig", "load_project"]

#: The submodule defining each public name.
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("HubSettings", "PipelineConfig", "ProjectConfig", "SystemConfig"), "officehub.config.models"),
    **dict.fromkeys(("CONFIG_FILE", "ConfigError", "ConfigIssue", "Project", "load_project"),
                    "officehub.config.project"),
}


def __getattr__(name: str) -> Any:
    """Import a public name from its submodule the first time it is asked for (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    """The package's names, the ones not imported yet included."""
    return sorted({*globals(), *__all__})
