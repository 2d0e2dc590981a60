"""Scan profiles (scanning.md 3): scope, scanners, options, schedule, post-scan actions; the scheduler."""
