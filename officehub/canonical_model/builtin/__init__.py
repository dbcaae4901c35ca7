"""The built-in entities (customer, product, employee) in the same YAML form as a project's own."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from officehub.canonical_model.declaration import ModelFile

FOLDER = Path(__file__).parent


@cache
def builtin_files() -> tuple[ModelFile, ...]:
    """The built-in model files, parsed and checked."""
    return tuple(ModelFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
                 for path in sorted(FOLDER.glob("*.yaml")))
