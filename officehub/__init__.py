"""officehub: an integration hub for back-office systems."""

__version__ = "0.1.0"
