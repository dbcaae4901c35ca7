"""One fuzz target under atheris, in a process of its own (libFuzzer owns the process it runs in).

``python -m tests.fuzz.one NAME [libFuzzer flags] CORPUS...``: officehub's modules are
instrumented for coverage as the target imports them.
"""

from __future__ import annotations

import sys

import atheris


def main() -> None:
    """Build the named target under instrumentation, then hand the process to libFuzzer."""
    name = sys.argv.pop(1)
    with atheris.instrument_imports(include=["officehub"]):
        from tests.fuzz.targets import target

        run = target(name)
    atheris.Setup(sys.argv, run)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
