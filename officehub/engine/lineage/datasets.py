"""Datasets named the way OpenLineage names them: the namespace of the system, then the table, stream or file.

``postgres://host:port`` with ``database.schema.table``, ``mysql://host:port`` with ``database.table``,
``sftp://host:port`` and ``file`` with a path, an HTTP API by its address with the stream's path. The hub
store is a dataset like any other: the output of an ingest and the input of a publish. Names come from
the configuration only (no connection is opened), and never carry a password.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from officehub.config import Project

#: OpenLineage's scheme and default port of each SQLAlchemy backend.
_SQL_SCHEMES = {"postgresql": ("postgres", 5432), "mysql": ("mysql", 3306), "mariadb": ("mysql", 3306),
                "mssql": ("sqlserver", 1433), "oracle": ("oracle", 1521)}


def sql_dataset(url: sa.URL, table: str, schema: str | None = None, base_dir: Path | None = None) -> tuple[str, str]:
    """The namespace and name of ``table`` in the database at ``url``."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        path = Path(url.database or "")
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        return f"sqlite://{path.resolve().as_posix()}", table
    scheme, port = _SQL_SCHEMES.get(backend, (backend, None))
    namespace = f"{scheme}://{url.host or 'localhost'}" + (f":{url.port or port}" if url.port or port else "")
    database = url.database or ""
    if scheme == "postgres":
        return namespace, f"{database}.{schema or 'public'}.{table}"
    return namespace, f"{database}.{table}" if database else table


def system_dataset(project: Project, system: str, stream: str) -> tuple[str, str]:
    """The namespace and name of ``stream`` of vendor system ``system``."""
    settings: dict[str, Any] = project.config.systems[system].connector_settings()
    kind = settings["type"]
    stream_settings = (settings.get("streams") or {}).get(stream) or {}
    if kind == "sql":
        return sql_dataset(sa.make_url(settings["url"]), stream, settings.get("schema_name"), project.base_dir)
    if kind == "files":
        folder = Path(settings["path"])
        folder = folder if folder.is_absolute() else project.base_dir / folder
        return "file", (folder.resolve() / stream_settings.get("pattern", stream)).as_posix()
    if kind == "sftp":
        remote = str(settings.get("folder", ".")).rstrip("/")
        return (f"sftp://{settings['host']}:{settings.get('port', 22)}",
                f"{remote}/{stream_settings.get('pattern', stream)}")
    if kind == "rest":
        address = urlsplit(str(settings["base_url"]))
        path = str(stream_settings.get("path", stream))
        return f"{address.scheme}://{address.hostname}" + (f":{address.port}" if address.port else ""), \
            address.path.rstrip("/") + "/" + path.lstrip("/")
    # Systems reached through the hub itself (the API inbox, a peer site): named by the hub and system.
    return f"officehub://{project.config.hub.name}/{system}", stream


def hub_dataset(project: Project, url: sa.URL, entity: str) -> tuple[str, str]:
    """The namespace and name of the hub store's table of ``entity`` (its golden records)."""
    return sql_dataset(url, entity, base_dir=project.base_dir)
