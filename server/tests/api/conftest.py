"""Fixtures of the cross-cutting API tests."""

from tests.fixtures.objects import world  # noqa: F401  (pytest fixture)
