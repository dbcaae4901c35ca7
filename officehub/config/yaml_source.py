"""YAML that remembers where every value came from (file and line), for error messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


@dataclass
class Positions:
    """Where each value of a merged configuration was written: path → (file, line)."""

    where: dict[Path_, tuple[str, int]] = field(default_factory=dict)

    def locate(self, path: Path_) -> tuple[str, int] | None:
        """The position of ``path`` or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            found = self.where.get(tuple(path[:end]))
            if found:
                return found
        return None


class YamlError(ValueError):
    """A file that is not valid YAML; carries file and line."""

    def __init__(self, file: str, line: int, problem: str) -> None:
        super().__init__(problem)
        self.file, self.line, self.problem = file, line, problem


def _walk(loader: yaml.SafeLoader, node: yaml.Node, path: Path_, file: str, positions: Positions) -> Any:
    positions.where.setdefault(path, (file, node.start_mark.line + 1))
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node)
            positions.where[path + (key,)] = (file, key_node.start_mark.line + 1)
            result[key] = _walk(loader, value_node, path + (key,), file, positions)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_walk(loader, item, path + (i,), file, positions) for i, item in enumerate(node.value)]
    return loader.construct_object(node)


def load_yaml(path: Path, positions: Positions, display: str, root: Path_ = ()) -> Any:
    """Parse one file, recording positions under ``root``; YamlError on bad syntax."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlError(display, 0, f"cannot read file: {getattr(exc, 'strerror', None) or exc}") from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else _walk(loader, node, root, display, positions)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlError(display, (mark.line + 1) if mark else 0, str(exc.problem or exc.context)) from None
    finally:
        loader.dispose()
