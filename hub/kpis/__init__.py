"""The commissioner's key performance indicators, computed from the registry."""
