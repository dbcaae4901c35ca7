"""Demo estate of legacy back-office apps with seeded, realistic data."""
