"""Fuzz target for the configuration loader: each input is a project's officehub.yaml.

``load_project`` reads it as ``officehub check`` and every run do: the bounded YAML loader,
includes, model declarations, validation of every section. A ConfigError (every problem with
file and line) is the correct answer to a bad file. Its messages may quote keys and names,
but never the value of a secret written into the file by mistake.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from officehub.canonical_model import install
from officehub.canonical_model.entities import BUILTIN_DECLARATIONS
from officehub.canonical_model.errors import OfficehubError
from officehub.config import load_project
from tests.fuzz.outcomes import MARKER, ValueInMessage

#: A line that writes a secret's value straight into the file.
#: (A bare ``key`` is a mapping's key column, a name: not a secret.)
_SECRET_LINE = re.compile(rf"(?im)^\s*[\w-]*(password|passphrase|secret|token|api_key|private_key)[\w-]*\s*:[^\n]*{MARKER}")


#: The keys of a YAML mapping line (a key may hold colons, as in ``policies:x:``).
_KEY = re.compile(r"(?m)^\s*(?:-\s*)?([^\s#][^\n]*?)\s*:(?:\s|$)")


def _without(issue: str, keys: list[str]) -> str:
    for key in keys:
        if MARKER in key:
            issue = issue.replace(key, "")
    return issue


class ProjectFile:
    """A project folder whose officehub.yaml is each input in turn."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="officehub-fuzz-")
        self._path = Path(self._folder.name) / "officehub.yaml"

    def __call__(self, data: bytes) -> None:
        """Load the project with ``data`` as its configuration; a finding raises."""
        self._path.write_bytes(data)
        try:
            load_project(self._path.parent)
        except OfficehubError as exc:
            issues = [str(i) for i in getattr(exc, "issues", [])] or [str(exc)]
            text = data.decode("utf-8", "replace")
            if any(MARKER in issue for issue in issues) and _SECRET_LINE.search(text):
                # An error names the keys it is about; only what is left may not carry the marker.
                keys = sorted(set(_KEY.findall(text)), key=len, reverse=True)
                left = [_without(issue, keys) for issue in issues]
                if any(MARKER in issue for issue in left):
                    raise ValueInMessage("a secret written in the file reached a configuration error") from None
        finally:
            # A project installs its declared entities process-wide; the next input starts from the built-ins.
            install(BUILTIN_DECLARATIONS)


def config_target() -> ProjectFile:
    """officehub.yaml."""
    return ProjectFile()
