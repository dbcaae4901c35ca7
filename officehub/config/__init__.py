"""Project configuration: officehub.yaml and its includes, validated with file and line."""

from officehub.config.models import HubSettings, PipelineConfig, ProjectConfig, SystemConfig
from officehub.config.project import CONFIG_FILE, ConfigError, ConfigIssue, Project, load_project

__all__ = ["CONFIG_FILE", "ConfigError", "ConfigIssue", "HubSettings", "PipelineConfig", "Project", "ProjectConfig",
           "SystemConfig", "load_project"]
