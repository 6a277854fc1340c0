"""The operations console: pages over the operator use cases (dead letters, triage, users,
health); `hub dlq` and `hub ops user` are its command-line twin."""
