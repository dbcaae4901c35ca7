"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import officehub.canonical_model
from officehub.canonical_model.errors import FatalError
from officehub.services.reasons import MIN_REASON, ReasonRequired
from officehub.services.reasons import stated_reason as rule_of_reason

PROJECT_HELP = "Project folder (holding officehub.yaml); default: the current folder."
ProjectOption = Annotated[Path | None, typer.Option("--project", "-p", help=PROJECT_HELP)]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]

#: Set by the top-level ``--project`` option (or OFFICEHUB_PROJECT), so both
#: ``officehub -p DIR sync`` and ``officehub sync -p DIR`` work.
global_project: dict[str, Path] = {"path": Path(".")}


def project_dir(option: Path | None) -> Path:
    """The project folder: the command's own option, else the global one."""
    return option if option is not None else global_project["path"]


def builtin_entity_names() -> list[str]:
    """The built-in entities' names, in the order the model lists them, for help texts.

    Read from the names of the built-in model files (one entity each, named after its file;
    a unit test holds this) instead of building the models: that needs pydantic, which
    ``--help`` should not wait for.
    """
    folder = Path(officehub.canonical_model.__file__).parent / "builtin"
    return [path.stem for path in sorted(folder.glob("*.yaml"))]


RevealOption = Annotated[bool, typer.Option("--reveal", help="Show the values withheld otherwise "
                                                             "(may be sensitive; needs --reason; audited).")]
ReasonOption = Annotated[str | None, typer.Option("--reason", help=f"Why the values are needed (at least "
                                                                      f"{MIN_REASON} characters; recorded in the "
                                                                      "audit trail).")]


def stated_reason(reason: str | None, what: str) -> str:
    """The reason given for ``what`` (a reveal, a detokenize), stripped; FatalError naming --reason when it says nothing.

    The rule is the services' (:func:`officehub.services.reasons.stated_reason`); the command
    line checks it first only to say which option is missing.
    """
    try:
        return rule_of_reason(reason, what)
    except ReasonRequired:
        raise FatalError(f"{what} needs --reason with at least {MIN_REASON} characters saying why "
                         "(it is recorded in the audit trail)") from None
