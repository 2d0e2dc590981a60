"""Test setup: one migrated database per session (SQLite by default, PostgreSQL with S4E_TEST_DATABASE_URL),
emptied after each test. The app runs in-process through Starlette's TestClient."""

from __future__ import annotations

import os
import tempfile

_TMP = tempfile.mkdtemp(prefix="s4e-test-")
os.environ["S4E_DATA_DIR"] = _TMP
os.environ["S4E_SECRET_KEY"] = "test-secret-key-not-for-production-0123456789"
os.environ["S4E_RATE_LIMIT_ENABLED"] = "false"
os.environ["S4E_LOG_LEVEL"] = "WARNING"
os.environ["S4E_DATABASE_URL"] = os.environ.get("S4E_TEST_DATABASE_URL") or f"sqlite:///{_TMP}/test.db"
if os.environ.get("S4E_TEST_REDIS_URL"):
    os.environ["S4E_REDIS_URL"] = os.environ["S4E_TEST_REDIS_URL"]
else:
    os.environ.pop("S4E_REDIS_URL", None)
for _var in ("S4E_BROKER_URL", "S4E_OUTBOUND_ALLOWLIST", "S4E_ADMIN_EMAIL", "S4E_ADMIN_PASSWORD"):
    os.environ.pop(_var, None)

import pytest  # noqa: E402
from s4e_platform.config import reset_settings  # noqa: E402
from sqlalchemy import text  # noqa: E402

pytest_plugins = ["tests.fixtures.auth", "tests.fixtures.asset"]


def _reset_process_state() -> None:
    from s4e_platform.event import publisher
    from s4e_platform.kit import ratelimit

    publisher._last_id = None
    ratelimit.reset_limiter()


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing():
    """Tests build many users per test and never measure hashing cost: argon2id at its minimum cost keeps the
    suite fast on a 2-core CI machine (hashes still verify with the production hasher)."""
    from argon2 import PasswordHasher
    from s4e_platform.auth import passwords

    original = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    passwords._hasher = original


@pytest.fixture(scope="session")
def database_url() -> str:
    reset_settings()
    url = os.environ["S4E_DATABASE_URL"]
    from s4e_platform.db.migrate import upgrade
    from s4e_platform.db.session import dispose_engine, get_engine

    if url.startswith("postgresql"):
        with get_engine().begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        dispose_engine()
    upgrade(url)
    return url


def _empty_tables() -> None:
    from s4e_platform.db.models import metadata
    from s4e_platform.db.session import get_engine

    engine = get_engine()
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())
    if os.environ.get("S4E_REDIS_URL"):
        import redis

        r = redis.Redis.from_url(os.environ["S4E_REDIS_URL"])
        keys = list(r.scan_iter("s4e:*"))
        if keys:
            r.delete(*keys)


@pytest.fixture(autouse=True)
def _clean_database(database_url):
    _reset_process_state()
    yield
    _empty_tables()
    _reset_process_state()


@pytest.fixture(scope="session")
def app(database_url):
    from s4e_platform.main import create_app

    return create_app()


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def settings(monkeypatch):
    """Settings object tests may tweak (restored after the test)."""
    from s4e_platform.config import get_settings

    s = get_settings()
    snapshot = s.model_dump()
    yield s
    for key, value in snapshot.items():
        try:
            setattr(s, key, value)
        except Exception:
            pass
