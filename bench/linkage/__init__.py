"""The identity benchmark's data, its peer and its scoring: FEBRL4 (with a Cyrillic variant), Splink, metrics."""
