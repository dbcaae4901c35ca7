"""The hub API benchmark: ``officehub serve`` answering lookups, searches and the changes feed at scale."""
