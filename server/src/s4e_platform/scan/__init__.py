"""Scans and their tasks (scanning.md 1): one scan = one target asset; tasks are scanner x target."""
