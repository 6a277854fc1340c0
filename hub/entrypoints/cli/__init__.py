"""The `hub` command line (typer)."""
