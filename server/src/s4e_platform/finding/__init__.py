"""Findings: storage, fingerprints, deduplicating ingestion, lifecycle and scores (scanning.md 6-7)."""
