"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ProjectOption = Annotated[Path, typer.Option("--project", "-p", envvar="OFFICEHUB_PROJECT",
                                             help="Project folder (holding officehub.yaml).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
