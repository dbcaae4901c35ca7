"""The officehub command line (typer + rich)."""
