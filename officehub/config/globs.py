"""File patterns a project names (includes, policy files), matched inside the project folder.

pathlib refuses an absolute pattern and fails on one with no parts ('.', './'): both are
reported as a problem of the configuration instead.
"""

from __future__ import annotations

from pathlib import Path, PurePath


def glob_project(base_dir: Path, pattern: str) -> list[Path]:
    """The files matching ``pattern`` under ``base_dir``, sorted; ValueError naming the problem."""
    parts = PurePath(pattern).parts
    if PurePath(pattern).is_absolute() or pattern.startswith(("/", "\\")):
        raise ValueError(f"'{pattern}' is relative to the project folder; an absolute path is not allowed")
    if not parts:
        raise ValueError(f"'{pattern}' names no file; write a pattern such as policies/*.yaml")
    return sorted(base_dir.glob(pattern))
