"""POST /auth/login: session cookies, uniform failures, lockout, stricter rate limits, audit trail."""

from __future__ import annotations

from datetime import timedelta

from s4e_platform.kit.clock import utcnow

from tests.auth.console import (
    LOGIN,
    assert_ten_per_minute,
    audit_events,
    first_limited,
    load_user,
    login,
    new_client,
    set_cookie_headers,
    signed_in,
    update_user,
)
from tests.fixtures.auth import PASSWORD


def _comparable(response) -> tuple:
    body = response.json()
    body["error"].pop("request_id")
    return response.status_code, body, response.headers.get_list("set-cookie")


def test_login_returns_session_and_sets_cookie_flags(client, tenant):
    r = login(client, tenant.emails["admin"].upper())  # email match ignores case
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert set(data) == {"user", "workspaces", "csrf_token", "expires_at"}
    assert data["user"]["email"] == tenant.emails["admin"] and data["user"]["has_password"] is True
    assert "password_hash" not in data["user"] and "totp_secret_enc" not in data["user"]
    assert data["workspaces"] == [{"id": tenant.workspace_id, "name": "Workspace a", "role": "admin"}]
    assert data["expires_at"].endswith("Z")

    cookies = set_cookie_headers(r)
    session_cookie, csrf_cookie = cookies["s4e_session"].lower(), cookies["s4e_csrf"].lower()
    for raw in (session_cookie, csrf_cookie):
        assert "samesite=lax" in raw and "path=/" in raw and "max-age=86" in raw
        assert "secure" not in raw  # plain http and no override
    assert "httponly" in session_cookie and "httponly" not in csrf_cookie
    assert client.cookies.get("s4e_csrf") == data["csrf_token"]

    me = client.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["data"]["auth_method"] == "session"
    assert me.json()["data"]["workspace"]["id"] == tenant.workspace_id
    assert me.json()["data"]["role"] == "admin" and "admin" in me.json()["data"]["scopes"]
    assert load_user(tenant.users["admin"]).last_login_at is not None


def test_cookies_are_secure_over_https_or_when_configured(app, client, tenant, settings):
    https = new_client(app, base_url="https://testserver")
    r = login(https, tenant.emails["viewer"])
    assert r.status_code == 200
    assert all("; secure" in v.lower() for v in set_cookie_headers(r).values())
    assert https.get("/api/v1/auth/me").status_code == 200

    settings.session_cookie_secure = True
    r = login(client, tenant.emails["viewer"])
    assert all("; secure" in v.lower() for v in set_cookie_headers(r).values())


def test_unknown_email_bad_password_and_unusable_accounts_fail_alike(client, tenant):
    unknown = client.post(LOGIN, json={"email": "nobody@example.com", "password": PASSWORD})
    wrong = client.post(LOGIN, json={"email": tenant.emails["viewer"], "password": "not-the-password"})
    assert unknown.status_code == 401 and unknown.json()["error"]["code"] == "invalid_credentials"
    assert _comparable(unknown) == _comparable(wrong)
    assert unknown.headers.get_list("set-cookie") == []

    r = client.post("/api/v1/users", json={"email": "nopass@example.com", "name": "No Pass"},
                    headers=tenant.headers())
    assert r.status_code == 201 and r.json()["data"]["has_password"] is False
    no_password = client.post(LOGIN, json={"email": "nopass@example.com", "password": PASSWORD})
    assert _comparable(no_password) == _comparable(unknown)

    update_user(tenant.users["analyst"], is_active=False)
    inactive = client.post(LOGIN, json={"email": tenant.emails["analyst"], "password": PASSWORD})
    assert _comparable(inactive) == _comparable(unknown)
    assert client.get("/api/v1/auth/me").status_code == 401  # no cookie was ever set


def test_bad_input_is_rejected_before_any_check(client, tenant):
    r = client.post(LOGIN, json={"email": tenant.emails["admin"], "password": PASSWORD, "remember": True})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["path"] == "$.remember"
    r = client.post(LOGIN, json={"email": tenant.emails["admin"], "password": "x" * 257})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["path"] == "$.password"
    r = client.post(LOGIN, json={"email": "admin\u0000@example.com", "password": PASSWORD})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["path"] == "$.email"
    r = client.post(LOGIN, content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"
    assert load_user(tenant.users["admin"]).failed_login_count == 0


def test_ten_failures_lock_the_account_for_fifteen_minutes(client, tenant):
    email, user_id = tenant.emails["developer"], tenant.users["developer"]
    for _ in range(9):
        assert login(client, email, "wrong-password-123").status_code == 401
    assert login(client, email).status_code == 200  # success before the 10th failure clears the count
    for _ in range(10):
        assert login(client, email, "wrong-password-123").status_code == 401
    locked = login(client, email)
    assert locked.status_code == 401 and locked.json()["error"]["code"] == "invalid_credentials"
    assert locked.json()["error"]["details"] is None  # the lock is not revealed
    until = load_user(user_id).locked_until
    assert until is not None and timedelta(minutes=14) < until - utcnow() <= timedelta(minutes=15)

    update_user(user_id, locked_until=utcnow() - timedelta(seconds=1))  # the 15 minutes have passed
    assert login(client, email).status_code == 200


def test_failures_outside_the_window_do_not_add_up(client, tenant):
    email, user_id = tenant.emails["viewer"], tenant.users["viewer"]
    for _ in range(9):
        login(client, email, "wrong-password-123")
    update_user(user_id, failed_login_window_start=utcnow() - timedelta(minutes=16))
    login(client, email, "wrong-password-123")  # starts a new window
    assert load_user(user_id).failed_login_count == 1
    assert login(client, email).status_code == 200


def _orphan_failures() -> int:
    from s4e_platform.db.session import unit_of_work
    from s4e_platform.event.models import Event
    from sqlalchemy import func, select

    with unit_of_work(readonly=True) as s:
        return s.execute(select(func.count()).select_from(Event).where(Event.workspace_id.is_(None))).scalar_one()


def test_login_rate_limit_per_ip(client, settings):
    settings.rate_limit_enabled = True
    attempt, r, elapsed = first_limited(lambda i: login(client, f"someone{i}@example.com"))
    assert_ten_per_minute(attempt, elapsed)
    assert r.json()["error"]["code"] == "rate_limited"
    assert int(r.headers["Retry-After"]) >= 1
    assert r.json()["error"]["details"]["retry_after"] == int(r.headers["Retry-After"])
    assert _orphan_failures() == attempt - 1  # the refused attempt was never even checked


def test_login_rate_limit_per_email_across_addresses(app, client, tenant, settings):
    settings.rate_limit_enabled = True
    email = tenant.emails["analyst"]

    def from_new_address(i: int):
        return login(new_client(app, client=(f"192.0.2.{i}", 40000)), email, "wrong-password-123")

    attempt, r, elapsed = first_limited(from_new_address, max_attempts=9 + 20)
    assert_ten_per_minute(attempt, elapsed)
    assert "Retry-After" in r.headers
    # Another account from a fresh address is unaffected.
    assert login(new_client(app, client=("192.0.2.200", 40000)), tenant.emails["viewer"]).status_code == 200


def test_login_success_and_failure_are_audited_in_the_users_workspaces(client, tenant):
    login(client, tenant.emails["viewer"], "wrong-password-123")
    login(client, "ghost@example.com", "wrong-password-123")
    signed_in(client, tenant.emails["viewer"])
    events = audit_events(client, tenant)
    assert [e["event"] for e in events] == ["audit.login_failed", "audit.login_succeeded"]
    failed, ok = events
    assert failed["data"]["target"] == {"type": "user", "id": tenant.users["viewer"]}
    assert failed["data"]["details"]["reason"] == "bad_password"
    assert ok["actor"] == {"type": "user", "id": tenant.users["viewer"], "name": tenant.emails["viewer"]}
    assert ok["data"]["ip"] == "testclient"

    from s4e_platform.db.session import unit_of_work
    from s4e_platform.event.models import Event
    from sqlalchemy import select

    with unit_of_work(readonly=True) as s:
        orphan = s.execute(select(Event).where(Event.workspace_id.is_(None))).scalars().all()
    assert [(e.event, e.data["target"]["id"], e.data["details"]["reason"]) for e in orphan] == [
        ("audit.login_failed", None, "unknown_email")]
