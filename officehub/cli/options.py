"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

PROJECT_HELP = "Project folder (holding officehub.yaml); default: the current folder."
ProjectOption = Annotated[Optional[Path], typer.Option("--project", "-p", help=PROJECT_HELP)]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]

#: Set by the top-level ``--project`` option (or OFFICEHUB_PROJECT), so both
#: ``officehub -p DIR sync`` and ``officehub sync -p DIR`` work.
global_project: dict[str, Path] = {"path": Path(".")}


def project_dir(option: Path | None) -> Path:
    """The project folder: the command's own option, else the global one."""
    return option if option is not None else global_project["path"]
