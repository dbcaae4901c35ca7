"""Project configuration: officehub.yaml and its includes, validated with file and line.

The names below are imported from their submodules on first use (PEP 562).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from officehub.lazy import lazy_exports

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


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
