"""Coverage-guided fuzzing of the parsers that read bytes from outside (see docs/operations.md, "Fuzzing the parsers").

``python -m tests.fuzz`` runs every target of :mod:`tests.fuzz.targets` for a bounded time,
one process each; a crash lands in ``tests/fuzz/regressions/<target>/``, which the unit
suite replays.
"""
