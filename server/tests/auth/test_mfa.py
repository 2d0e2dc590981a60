"""TOTP: setup/enable/disable, MFA login with TOTP (RFC 6238, replay refused) and single-use recovery codes."""

from __future__ import annotations

import time
from datetime import timedelta

import pyotp
from s4e_platform.auth.models import MfaChallenge
from s4e_platform.db.session import unit_of_work
from s4e_platform.kit.clock import utcnow
from sqlalchemy import update

from tests.auth.console import (
    assert_ten_per_minute,
    audit_events,
    csrf,
    first_limited,
    load_user,
    login,
    new_client,
    signed_in,
)
from tests.fixtures.auth import PASSWORD

VERIFY = "/api/v1/auth/mfa/verify"
MFA_EVENTS = "audit.mfa_enabled,audit.mfa_disabled"


def _code(secret: str, steps_ahead: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def _enable_totp(client, email: str) -> tuple[str, list[str], str]:
    """Sign in, set up and enable TOTP; returns (secret, recovery codes, the code that confirmed it)."""
    signed_in(client, email)
    r = client.post("/api/v1/auth/mfa/totp/setup", headers=csrf(client))
    assert r.status_code == 200, r.text
    secret = r.json()["data"]["secret"]
    used = _code(secret)
    r = client.post("/api/v1/auth/mfa/totp/enable", json={"code": used}, headers=csrf(client))
    assert r.status_code == 200, r.text
    return secret, r.json()["data"]["recovery_codes"], used


def _challenge(app, email: str) -> str:
    r = login(new_client(app), email)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["mfa_required"] is True and data["methods"] == ["totp", "recovery_code"]
    assert "csrf_token" not in data and r.headers.get_list("set-cookie") == []
    return data["mfa_token"]


def test_setup_is_inactive_until_confirmed_and_the_secret_is_encrypted(client, tenant):
    email = tenant.emails["viewer"]
    signed_in(client, email)
    r = client.post("/api/v1/auth/mfa/totp/setup", headers=csrf(client))
    assert r.status_code == 200
    setup = r.json()["data"]
    assert setup["otpauth_uri"].startswith("otpauth://totp/S4E:") and setup["secret"] in setup["otpauth_uri"]
    stored = load_user(tenant.users["viewer"])
    assert stored.totp_pending_enc and setup["secret"] not in stored.totp_pending_enc
    assert stored.totp_enabled is False
    assert "mfa_required" not in login(client, email).json()["data"]  # not active yet

    r = client.post("/api/v1/auth/mfa/totp/enable", json={"code": "000000" if _code(setup["secret"]) != "000000"
                                                          else "111111"}, headers=csrf(client))
    assert r.status_code == 422 and r.json()["error"]["details"][0]["path"] == "$.code"
    assert load_user(tenant.users["viewer"]).totp_enabled is False

    r = client.post("/api/v1/auth/mfa/totp/enable", json={"code": _code(setup["secret"])}, headers=csrf(client))
    assert r.status_code == 200
    codes = r.json()["data"]["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = load_user(tenant.users["viewer"])
    assert stored.totp_enabled and stored.totp_pending_enc is None and setup["secret"] not in stored.totp_secret_enc
    assert client.get("/api/v1/users/me").json()["data"]["mfa_enabled"] is True
    r = client.post("/api/v1/auth/mfa/totp/setup", headers=csrf(client))
    assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_state"
    assert [e["event"] for e in audit_events(client, tenant, MFA_EVENTS)] == ["audit.mfa_enabled"]


def test_totp_login_refuses_replayed_codes(app, client, tenant):
    email = tenant.emails["developer"]
    secret, _, used = _enable_totp(client, email)

    token = _challenge(app, email)
    # The code that enabled TOTP was seen once: it cannot log in.
    r = client.post(VERIFY, json={"mfa_token": token, "code": used})
    assert r.status_code == 401 and r.json()["error"]["code"] == "mfa_invalid"
    browser = new_client(app)
    next_code = _code(secret, 1)  # the next 30 s step is within the +/-1 tolerance
    r = browser.post(VERIFY, json={"mfa_token": token, "code": next_code})
    assert r.status_code == 200, r.text
    assert set(r.json()["data"]) == {"user", "workspaces", "csrf_token", "expires_at"}
    assert browser.get("/api/v1/auth/me").json()["data"]["user"]["email"] == email

    r = client.post(VERIFY, json={"mfa_token": token, "code": next_code})
    assert r.status_code == 401  # the token was single use
    r = client.post(VERIFY, json={"mfa_token": _challenge(app, email), "code": next_code})
    assert r.status_code == 401 and r.json()["error"]["code"] == "mfa_invalid"  # the step was used


def test_recovery_codes_work_once(app, client, tenant):
    email = tenant.emails["analyst"]
    _, codes, _ = _enable_totp(client, email)
    browser = new_client(app)
    r = browser.post(VERIFY, json={"mfa_token": _challenge(app, email), "recovery_code": codes[3].upper()})
    assert r.status_code == 200, r.text
    assert browser.get("/api/v1/auth/me").status_code == 200
    r = client.post(VERIFY, json={"mfa_token": _challenge(app, email), "recovery_code": codes[3]})
    assert r.status_code == 401 and r.json()["error"]["code"] == "mfa_invalid"
    r = client.post(VERIFY, json={"mfa_token": _challenge(app, email), "recovery_code": codes[4]})
    assert r.status_code == 200
    succeeded = audit_events(client, tenant, "audit.login_succeeded")
    assert [e["data"]["details"]["method"] for e in succeeded] == ["password", "recovery_code", "recovery_code"]


def test_bad_tokens_and_bodies(app, client, tenant):
    email = tenant.emails["viewer"]
    secret, _, _ = _enable_totp(client, email)
    token = _challenge(app, email)
    r = client.post(VERIFY, json={"mfa_token": token})
    assert r.status_code == 422  # neither code nor recovery_code
    r = client.post(VERIFY, json={"mfa_token": token, "code": "123456", "recovery_code": "abcde-fghij"})
    assert r.status_code == 422
    r = client.post(VERIFY, json={"mfa_token": token, "code": "\u0661\u0662\u0663\u0664\u0665\u0666"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "mfa_invalid"  # Arabic-Indic digits
    r = client.post(VERIFY, json={"mfa_token": "mfa_" + "x" * 40, "code": _code(secret, 1)})
    assert r.status_code == 401 and r.json()["error"]["code"] == "mfa_invalid"

    with unit_of_work() as s:  # five minutes pass
        s.execute(update(MfaChallenge).values(expires_at=utcnow() - timedelta(seconds=1)))
    r = client.post(VERIFY, json={"mfa_token": token, "code": _code(secret, 1)})
    assert r.status_code == 401
    assert load_user(tenant.users["viewer"]).totp_last_step is not None


def test_wrong_codes_count_towards_the_lockout(app, client, tenant):
    email = tenant.emails["viewer"]
    secret, _, _ = _enable_totp(client, email)
    token = _challenge(app, email)
    wrong = "000000" if _code(secret, 1) != "000000" else "999999"
    for _ in range(10):
        assert client.post(VERIFY, json={"mfa_token": token, "code": wrong}).status_code == 401
    # Locked: neither the password step nor a correct code gets through now.
    assert login(new_client(app), email).status_code == 401
    assert client.post(VERIFY, json={"mfa_token": token, "code": _code(secret, 1)}).status_code == 401
    failed = audit_events(client, tenant, "audit.login_failed")
    assert [e["data"]["details"]["reason"] for e in failed][:10] == ["mfa_invalid"] * 10


def test_mfa_verify_rate_limit(app, client, tenant, settings):
    email = tenant.emails["viewer"]
    _enable_totp(client, email)
    token = _challenge(app, email)
    settings.rate_limit_enabled = True
    attempt, r, elapsed = first_limited(
        lambda _: client.post(VERIFY, json={"mfa_token": token, "recovery_code": "aaaaa-aaaaa"}))
    assert_ten_per_minute(attempt, elapsed)
    assert int(r.headers["Retry-After"]) >= 1


def test_disable_needs_password_and_a_code(app, client, tenant):
    email = tenant.emails["admin"]
    secret, codes, used = _enable_totp(client, email)
    body = {"password": "wrong-password-1", "recovery_code": codes[0]}
    r = client.post("/api/v1/auth/mfa/totp/disable", json=body, headers=csrf(client))
    assert r.status_code == 422 and r.json()["error"]["details"][0]["path"] == "$.password"
    r = client.post("/api/v1/auth/mfa/totp/disable", json={"password": PASSWORD, "code": used},
                    headers=csrf(client))
    assert r.status_code == 422 and r.json()["error"]["details"][0]["path"] == "$.code"  # spent step
    assert load_user(tenant.users["admin"]).totp_enabled is True

    r = client.post("/api/v1/auth/mfa/totp/disable", json={"password": PASSWORD, "code": _code(secret, 1)},
                    headers=csrf(client))
    assert r.status_code == 204
    stored = load_user(tenant.users["admin"])
    assert not stored.totp_enabled and stored.totp_secret_enc is None
    assert "mfa_required" not in login(new_client(app), email).json()["data"]
    r = client.post("/api/v1/auth/mfa/totp/disable", json={"password": PASSWORD, "code": "123456"},
                    headers=csrf(client))
    assert r.status_code == 409
    assert [e["event"] for e in audit_events(client, tenant, MFA_EVENTS)] == [
        "audit.mfa_enabled", "audit.mfa_disabled"]
