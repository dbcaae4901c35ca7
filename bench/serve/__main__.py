"""``python -m bench.serve``: the hub API under load (see :mod:`bench.serve.run`)."""

from bench.lock import exclusive
from bench.serve.run import main

if __name__ == "__main__":
    with exclusive():
        raise SystemExit(main())
