"""Fixtures for kit tests."""

from tests.fixtures.dns import zone  # noqa: F401 (a real loopback DNS server)
