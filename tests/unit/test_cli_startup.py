"""The command line starts without the heavy libraries, and the lazy packages still export every name.

What the CLI imports is checked in a fresh interpreter each time: this test process has long
imported pyarrow, SQLAlchemy and pydantic. How long start-up takes is measured by
``python -m bench.startup``, not here.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from officehub.canonical_model.entities import BUILTIN_DECLARATIONS
from officehub.cli.options import builtin_entity_names

HEAVY = ("pyarrow", "sqlalchemy", "pydantic")

#: Packages whose ``__init__`` re-exports names from submodules on first use (PEP 562).
LAZY_PACKAGES = ("canonical_model", "connectors", "policies", "config", "store", "engine", "identity", "mapping",
                 "sites")

#: Prints, as JSON, which heavy packages the interpreter has imported once ``{code}`` ran.
_PROBE = """
import json, sys
{code}
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}} & set({heavy!r}))))
"""

#: Runs the command line as the console script does, and keeps going after it exits.
_RUN_CLI = """
from officehub.cli.app import main
try:
    main({argv!r})
except SystemExit as exc:
    assert exc.code in (0, None), exc.code
"""


def heavy_imports(code: str) -> list[str]:
    """The heavy packages a fresh interpreter has imported after running ``code``."""
    done = subprocess.run([sys.executable, "-c", _PROBE.format(code=code, heavy=HEAVY)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_importing_the_app_imports_no_heavy_library():
    assert heavy_imports("import officehub.cli.app") == []


def test_help_imports_no_heavy_library():
    assert heavy_imports(_RUN_CLI.format(argv=["--help"])) == []


def test_a_sub_command_help_imports_neither_pyarrow_nor_sqlalchemy():
    # typer itself converts the main options' values (--project) with pydantic before a sub-command
    # runs, even for its help: pydantic is typer's, not officehub's, on this path.
    for argv in (["model", "--help"], ["match", "merge", "--help"], ["runs", "--help"]):
        assert set(heavy_imports(_RUN_CLI.format(argv=argv))) <= {"pydantic"}, argv


def test_the_error_vocabulary_imports_no_heavy_library():
    assert heavy_imports("import officehub.canonical_model.errors") == []


def test_the_sensitivity_classes_import_no_heavy_library():
    assert heavy_imports("from officehub.canonical_model import Sensitivity") == []


def test_a_lazy_package_alone_imports_no_heavy_library():
    code = "\n".join(f"import officehub.{name}" for name in LAZY_PACKAGES)
    assert heavy_imports(code) == []


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_every_exported_name_is_the_object_its_submodule_defines(name: str):
    package = importlib.import_module(f"officehub.{name}")
    for exported in package.__all__:
        value = getattr(package, exported)
        source = importlib.import_module(package._EXPORTS[exported])
        assert value is getattr(source, exported), f"officehub.{name}.{exported}"
    assert set(package.__all__) <= set(dir(package))
    assert set(package._EXPORTS) == set(package.__all__)


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_an_unknown_name_is_an_attribute_error(name: str):
    package = importlib.import_module(f"officehub.{name}")
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = package.no_such_name


def test_star_import_gives_every_exported_name():
    namespace: dict[str, object] = {}
    exec("from officehub.canonical_model import *", namespace)
    assert set(importlib.import_module("officehub.canonical_model").__all__) <= set(namespace)


def test_a_submodule_is_still_importable_by_from_import():
    # `from package import submodule` falls back to importing it when __getattr__ does not know the name.
    from officehub.mapping import lineage
    from officehub.store import bookkeeping

    assert lineage.__name__ == "officehub.mapping.lineage"
    assert bookkeeping.__name__ == "officehub.store.bookkeeping"


@pytest.mark.parametrize(("package", "name"), [("officehub.canonical_model", "layout"),
                                               ("officehub.policies", "operators")])
def test_a_function_named_like_its_submodule_stays_the_function(package: str, name: str):
    # The submodule is imported first, which sets it as the package's attribute: the function must win.
    code = (f"import {package}.{name}\nfrom {package} import {name}\n"
            f"import types\nassert not isinstance({name}, types.ModuleType), {name}\nassert callable({name})")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_the_entity_help_names_the_built_in_entities_in_model_order():
    assert builtin_entity_names() == list(BUILTIN_DECLARATIONS)
