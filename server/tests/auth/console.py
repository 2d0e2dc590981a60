"""Helpers for console-session tests: log in through the API and send the CSRF header like the console does."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from s4e_platform.auth.models import User, UserSession
from s4e_platform.db.session import unit_of_work
from sqlalchemy import update

from tests.fixtures.auth import PASSWORD

LOGIN = "/api/v1/auth/login"


def login(client: TestClient, email: str, password: str = PASSWORD):
    return client.post(LOGIN, json={"email": email, "password": password})


def signed_in(client: TestClient, email: str, password: str = PASSWORD) -> dict:
    """Log in (no MFA) and return the session body; the client's cookie jar now holds the session."""
    r = login(client, email, password)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def csrf(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": client.cookies.get("s4e_csrf")}


def new_client(app, **kwargs) -> TestClient:
    """Another browser: its own cookie jar (and, with client=(ip, port), its own address)."""
    return TestClient(app, base_url=kwargs.pop("base_url", "http://testserver"), **kwargs)


def set_cookie_headers(response) -> dict[str, str]:
    """Set-Cookie headers by cookie name (raw, with attributes)."""
    out = {}
    for value in response.headers.get_list("set-cookie"):
        out[value.split("=", 1)[0]] = value
    return out


def update_sessions(user_id: str, **values) -> None:
    with unit_of_work() as s:
        s.execute(update(UserSession).where(UserSession.user_id == user_id).values(**values))


def load_user(user_id: str) -> User:
    with unit_of_work(readonly=True) as s:
        return s.get(User, user_id)


def update_user(user_id: str, **values) -> None:
    with unit_of_work() as s:
        s.execute(update(User).where(User.id == user_id).values(**values))


def audit_events(client: TestClient, tenant, pattern: str = "audit.*") -> list[dict]:
    """Published audit events of the tenant's workspace, oldest first."""
    from s4e_platform.event import publisher

    publisher.drain()
    r = client.get("/api/v1/events", params={"event": pattern}, headers=tenant.headers())
    assert r.status_code == 200, r.text
    return r.json()["data"]


def first_limited(send, max_attempts: int = 30):
    """Send attempts until one is refused with 429; (attempt number, response, seconds elapsed)."""
    started = time.monotonic()
    for attempt in range(1, max_attempts + 1):
        r = send(attempt)
        if r.status_code == 429:
            return attempt, r, time.monotonic() - started
        assert r.status_code == 401, r.text
    raise AssertionError(f"no 429 after {max_attempts} attempts")


def assert_ten_per_minute(attempt: int, elapsed: float) -> None:
    # A full bucket holds 10; it refills one token per 6 s, so slow (argon2-bound) attempts earn a few more.
    assert 10 < attempt <= 11 + int(elapsed / 6), (attempt, elapsed)
