"""The operations console and its command-line twin: dead letters, triage, health."""
