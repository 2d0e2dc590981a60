"""Console login (api.md 1.3, 1.9): password check with lockout, session cookies, refresh, login audit trail.

A failed attempt must still be recorded (failure counter, lockout, `audit.login_failed`), so the endpoints
answer failures with a returned error response instead of raising: raising would roll the unit of work back.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from s4e_platform.auth import service as auth_service
from s4e_platform.auth.dependencies import CSRF_COOKIE, SESSION_COOKIE, apply_rate_limit
from s4e_platform.auth.models import User, UserSession
from s4e_platform.auth.passwords import hash_password, needs_rehash, verify_password
from s4e_platform.config import get_settings
from s4e_platform.errors import error_response, validation_error
from s4e_platform.event.audit import audit
from s4e_platform.kit.clock import as_utc, utcnow
from s4e_platform.kit.crypto import sha256_hex
from s4e_platform.kit.ids import new_id
from s4e_platform.user import service as user_service

LOGIN_LIMIT = (10, 0)  # per minute, no burst: 10/min per client IP and per email
LOCK_THRESHOLD = 10
LOCK_WINDOW = timedelta(minutes=15)
LOCK_DURATION = timedelta(minutes=15)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def rate_limit(request: Request, endpoint: str, email: str | None) -> None:
    """The stricter login limits; checked before any password hashing so a flood costs us nothing."""
    apply_rate_limit(request, f"{endpoint}-ip:{client_ip(request)}", LOGIN_LIMIT)
    if email:
        # Hashed: the bucket key must not carry arbitrary client text into Redis key names.
        apply_rate_limit(request, f"{endpoint}-email:{sha256_hex(email)}", LOGIN_LIMIT)


def user_actor(user: User) -> dict:
    return {"type": "user", "id": user.id, "name": user.email}


def audit_user(session: Session, *, event: str, user: User | None, actor: dict, details: dict) -> None:
    """One audit event in every workspace of the user (workspace_id None when there is none)."""
    workspace_ids = [w["id"] for w in user_service.workspaces(session, user.id)] if user else []
    for workspace_id in workspace_ids or [None]:
        audit(session, event=event, workspace_id=workspace_id, actor=actor, target_type="user",
              target_id=user.id if user else None, details=details)


def invalid_credentials(request: Request) -> JSONResponse:
    return error_response(request, 401, "invalid_credentials", "Email or password is wrong")


def is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and as_utc(user.locked_until) > now


def record_failure(session: Session, user: User | None, *, email: str, reason: str) -> None:
    """Count a failed attempt towards the lockout and leave an audit trail."""
    now = utcnow()
    if user is not None and reason in ("bad_password", "mfa_invalid"):
        start = user.failed_login_window_start
        if start is None or now - as_utc(start) >= LOCK_WINDOW:
            user.failed_login_window_start, user.failed_login_count = now, 1
        else:
            user.failed_login_count = (user.failed_login_count or 0) + 1
        if user.failed_login_count >= LOCK_THRESHOLD:
            user.locked_until = now + LOCK_DURATION
            user.failed_login_count, user.failed_login_window_start = 0, None
    actor = user_actor(user) if user else {"type": "user", "id": None, "name": email[:320]}
    audit_user(session, event="audit.login_failed", user=user, actor=actor,
               details={"reason": reason, "email": email[:320]})


def check_password(session: Session, email: str, password: str) -> User | None:
    """The user when the password is right and the account may sign in; None otherwise (already recorded)."""
    user = auth_service.user_by_email(session, email)
    # Always one argon2 verification (a dummy hash for unknown users) so timing reveals nothing.
    correct = verify_password(user.password_hash if user else None, password)
    now = utcnow()
    reason = None
    if user is None:
        reason = "unknown_email"
    elif not user.is_active:
        reason = "inactive"
    elif is_locked(user, now):
        reason = "locked"
    elif not correct:
        reason = "bad_password"
    if reason:
        record_failure(session, user, email=email, reason=reason)
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def cookie_secure(request: Request) -> bool:
    return request.url.scheme == "https" or bool(get_settings().session_cookie_secure)


def set_cookies(request: Request, response: Response, token: str, row: UserSession) -> None:
    secure = cookie_secure(request)
    expires = as_utc(row.expires_at)
    max_age = max(0, int((expires - utcnow()).total_seconds()))
    for name, value, http_only in ((SESSION_COOKIE, token, True), (CSRF_COOKIE, row.csrf_token, False)):
        response.set_cookie(name, value, max_age=max_age, expires=expires, path="/", secure=secure,
                            httponly=http_only, samesite="lax")


def clear_cookies(request: Request, response: Response) -> None:
    secure = cookie_secure(request)
    for name, http_only in ((SESSION_COOKIE, True), (CSRF_COOKIE, False)):
        response.delete_cookie(name, path="/", secure=secure, httponly=http_only, samesite="lax")


def session_body(session: Session, user: User, row: UserSession) -> dict:
    return {"user": user_service.to_read(user), "workspaces": user_service.workspaces(session, user.id),
            "csrf_token": row.csrf_token, "expires_at": row.expires_at}


def start_session(session: Session, request: Request, response: Response, user: User, *, method: str) -> dict:
    """A successful sign-in: new session and cookies, lockout counters cleared, audited."""
    token, row = auth_service.create_session(session, user, ip=client_ip(request),
                                             user_agent=request.headers.get("user-agent"))
    user.last_login_at = row.created_at
    user.failed_login_count, user.failed_login_window_start, user.locked_until = 0, None, None
    audit_user(session, event="audit.login_succeeded", user=user, actor=user_actor(user),
               details={"method": method, "session_id": row.id})
    set_cookies(request, response, token, row)
    return session_body(session, user, row)


def refresh(session: Session, request: Request, response: Response, session_id: str) -> dict:
    """Rotate the session id and extend it by 24 h, never past the absolute limit set at first login."""
    old = session.get(UserSession, session_id)
    user = session.get(User, old.user_id)
    now = utcnow()
    absolute = as_utc(old.absolute_expires_at)
    token = secrets.token_urlsafe(32)  # 256 bits, stored only hashed
    row = UserSession(id=new_id("ses"), token_hash=sha256_hex(token), csrf_token=secrets.token_urlsafe(32),
                      user_id=user.id, created_at=old.created_at,
                      expires_at=min(now + auth_service.SESSION_LIFETIME, absolute), absolute_expires_at=absolute,
                      ip=client_ip(request), user_agent=(request.headers.get("user-agent") or "")[:512])
    session.delete(old)
    session.add(row)
    session.flush()
    set_cookies(request, response, token, row)
    return session_body(session, user, row)


def logout(session: Session, request: Request, response: Response, session_id: str) -> None:
    row = session.get(UserSession, session_id)
    user = session.get(User, row.user_id)
    session.delete(row)
    audit_user(session, event="audit.logout", user=user, actor=user_actor(user), details={"session_id": row.id})
    clear_cookies(request, response)


def reauth_limit(request: Request, user_id: str) -> None:
    """Calls that re-check the password or a code inside a session get the login limit too (no brute force)."""
    apply_rate_limit(request, f"reauth:{user_id}", LOGIN_LIMIT)


def change_password(session: Session, user: User, *, current: str, new: str, keep_session: str | None) -> None:
    if not verify_password(user.password_hash, current):
        raise validation_error("$.current_password", "current password is wrong", "invalid_credentials")
    auth_service.check_password_policy(new, "$.new_password")
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    # Whoever else holds a session (a stolen cookie, a forgotten browser) is signed out.
    auth_service.revoke_sessions(session, user.id, keep=keep_session)
    audit_user(session, event="audit.password_changed", user=user, actor=user_actor(user), details={})
