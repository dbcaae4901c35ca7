"""Arrow ↔ SQL: the lower layer that reads tables into Arrow batches and writes batches into tables.

Types between Arrow and SQL, COPY into staging tables and set-based upserts on PostgreSQL,
chunked dialect upserts elsewhere, keyset-ordered reads, the fast Arrow-native readers
(ADBC, connectorx) and the classification of driver errors. Both the SQL connector and the
hub store build on it; it depends on nothing of officehub but the canonical model's errors
(ADR 0016). Import the submodules: this package imports nothing, so its users pay only for
what they use.
"""
