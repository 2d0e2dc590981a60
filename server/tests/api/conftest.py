"""Fixtures of the cross-cutting API tests."""

import pytest
from argon2 import PasswordHasher

from tests.fixtures.objects import world  # noqa: F401  (pytest fixture)


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch):
    """These tests build two workspaces of four members each per operation and never log in by password:
    argon2id at its minimum cost keeps the whole matrix fast on small CI machines."""
    from s4e_platform.auth import passwords

    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
