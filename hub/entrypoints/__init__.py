"""Entrypoints: the command line and the operations console (thin: input → a service call)."""
