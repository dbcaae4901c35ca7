"""officehub benchmark: officehub end to end against the raw-copy limit and dlt.

Run with ``make bench`` or ``python -m bench`` (see docs/benchmark.md). Not part of
``make test``: it moves millions of rows through the local MariaDB and PostgreSQL.
"""
