"""YAML that remembers where every value came from (file and line), for error messages.

Every YAML file a user writes (officehub.yaml, its includes, policy files, policy tests)
is read here, and read defensively: a key written twice in one mapping is an error naming
both lines (a later ``action: allow`` must not silently override ``action: drop``), and
aliases, nesting and the total number of values are bounded, so an alias bomb ("billion
laughs") is a one-line error found in milliseconds rather than a machine out of memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

try:  # libyaml scans and parses several times faster; PyYAML's own parser where it is missing
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml.parser import Parser as _PyParser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, _PyParser):  # type: ignore[no-redef]
        def __init__(self, text: str) -> None:
            Reader.__init__(self, text)
            Scanner.__init__(self)
            _PyParser.__init__(self)

#: Values one file may hold once its aliases are expanded; configurations hold a few thousand.
MAX_VALUES = 100_000
#: Aliases (``*name``) one file may use.
MAX_ALIASES = 1_000
#: How deeply collections may nest.
MAX_DEPTH = 64
#: How much of a key an error message quotes.
_KEY_SHOWN = 60

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


class _BoundedLoader(Composer, _Parser, SafeConstructor, Resolver):
    """The safe loader, refusing too many aliases or too deep nesting while it composes.

    The events come from libyaml (C) when PyYAML has it; the nodes are composed here, in
    Python, so that each one passes the bounds below (libyaml's own composer would not).
    """

    def __init__(self, text: str) -> None:
        _Parser.__init__(self, text)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise yaml.composer.ComposerError(
                    None, None, f"more than {MAX_ALIASES} aliases", event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _check_expansion(root: yaml.Node, file: str) -> None:
    """Refuse a document that, with every alias expanded, nests or holds more than the bounds allow.

    Aliases make the node tree a graph that shares nodes; measuring each node once (memoised)
    costs as much as the file's text, whereas walking the expansion would cost what it expands to.
    """
    measured: dict[int, tuple[int, int]] = {}  # node id → (values, height) once expanded

    def measure(node: yaml.Node, depth: int) -> tuple[int, int]:
        known = measured.get(id(node))
        if known is None:
            if depth > MAX_DEPTH:  # also ends an alias that refers to a collection containing it
                raise YamlError(file, node.start_mark.line + 1, f"nested more than {MAX_DEPTH} levels deep")
            children = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) \
                else list(node.value) if isinstance(node, yaml.SequenceNode) else []
            parts = [measure(child, depth + 1) for child in children]
            known = (1 + sum(p[0] for p in parts), 1 + max((p[1] for p in parts), default=0))
            measured[id(node)] = known
        if known[0] > MAX_VALUES:
            raise YamlError(file, node.start_mark.line + 1,
                            f"expands to more than {MAX_VALUES} values (aliases nested in aliases?)")
        if depth + known[1] - 1 > MAX_DEPTH:
            raise YamlError(file, node.start_mark.line + 1, f"nested more than {MAX_DEPTH} levels deep")
        return known

    measure(root, 1)


def _construct(loader: SafeConstructor, node: yaml.Node, file: str) -> Any:
    """A scalar's value; YamlError if its implicit type cannot hold it (a 30 February, a zone past 24 hours)."""
    try:
        return loader.construct_object(node)
    except (ValueError, OverflowError):
        kind = str(node.tag).rsplit(":", 1)[-1]
        raise YamlError(file, node.start_mark.line + 1, f"a value is not a valid {kind}") from None


def _key(loader: SafeConstructor, key_node: yaml.Node, file: str) -> Any:
    key = _construct(loader, key_node, file)
    try:
        hash(key)
    except TypeError:
        raise YamlError(file, key_node.start_mark.line + 1, "a key must be a plain value, not a list or mapping") \
            from None
    return key


def _shown(key: Any) -> str:
    text = str(key)
    return text if len(text) <= _KEY_SHOWN else text[:_KEY_SHOWN] + "…"


def _walk(loader: SafeConstructor, node: yaml.Node, path: Path_, file: str, positions: Positions) -> Any:
    positions.where.setdefault(path, (file, node.start_mark.line + 1))
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _key(loader, key_node, file)
            line = key_node.start_mark.line + 1
            if key in result:
                first = positions.where[path + (key,)][1]
                raise YamlError(file, line, f"key '{_shown(key)}' is written twice in one mapping "
                                            f"(lines {first} and {line}); keep one")
            positions.where[path + (key,)] = (file, line)
            result[key] = _walk(loader, value_node, path + (key,), file, positions)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_walk(loader, item, path + (i,), file, positions) for i, item in enumerate(node.value)]
    return _construct(loader, node, file)


def load_yaml(path: Path, positions: Positions, display: str, root: Path_ = ()) -> Any:
    """Parse one user file, recording positions under ``root``.

    YamlError (file, line, one-line problem) on bad syntax, a key written twice, or more
    aliases, nesting or values than any configuration needs.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlError(display, 0, f"cannot read file: {getattr(exc, 'strerror', None) or exc}") from None
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node, display)
        return _walk(loader, node, root, display, positions)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlError(display, (mark.line + 1) if mark else 0, str(exc.problem or exc.context)) from None
    except yaml.YAMLError as exc:  # a reader error (e.g. a control character) has no mark
        raise YamlError(display, 0, f"not valid YAML ({type(exc).__name__})") from None
    finally:
        loader.dispose()
