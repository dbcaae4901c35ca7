"""``python -m bench``: the whole benchmark (see docs/benchmark.md)."""

from bench.lock import exclusive
from bench.runner import main

with exclusive():
    raise SystemExit(main())
