"""``officehub runs`` on an existing project reads the store without the libraries it does not use.

Listing runs loads and validates the project and opens its hub store, but neither migrates
a store that is current (Alembic), nor signs or verifies anything (the Ed25519 parts of
cryptography), nor runs a pipeline (the sync engine). What a command imports is checked in
a fresh interpreter; how long it takes is measured by ``python -m bench.startup``, not here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import copy_demo_config

#: Modules ``runs`` has no use for once the store is current.
UNUSED_BY_RUNS = ("alembic", "cryptography.hazmat.primitives.asymmetric.ed25519",
                  "cryptography.hazmat.primitives.serialization", "officehub.engine.runner", "officehub.engine.ingest",
                  "officehub.engine.publish")

#: Runs ``officehub -p {project} runs`` in this interpreter, then prints which of ``{watched}`` it imported.
_RUNS = """
import json, sys
from officehub.cli.app import main
try:
    main(["-p", {project!r}, "runs"])
except SystemExit as exc:
    assert exc.code in (0, None), exc.code
print(json.dumps(sorted(set(sys.modules) & set({watched!r}))))
"""


def runs_imports(project: Path) -> list[str]:
    """The modules of :data:`UNUSED_BY_RUNS` that ``officehub runs`` imported in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", _RUNS.format(project=str(project), watched=UNUSED_BY_RUNS)],
                          capture_output=True, text=True, timeout=300, env=_environment())
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def _environment() -> dict[str, str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("OFFICEHUB_PROJECT", None)
    return env


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_demo_config(tmp_path_factory.mktemp("runs") / "demo")


def test_runs_on_a_new_store_migrates_it(project: Path):
    # The first command on a project creates its store: that one needs Alembic.
    assert "alembic" in runs_imports(project)
    assert (project / ".officehub" / "hub.db").is_file()


def test_runs_on_a_current_store_imports_neither_alembic_nor_signing_nor_the_engine(project: Path):
    runs_imports(project)  # the store exists and is current from here on
    assert runs_imports(project) == []
