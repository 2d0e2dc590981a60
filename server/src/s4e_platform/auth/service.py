"""Identity rules shared by endpoints, the CLI and tests: users, sessions, API keys."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from s4e_platform.auth.models import ApiKey, User, UserSession
from s4e_platform.auth.passwords import hash_password
from s4e_platform.auth.tokens import new_api_key
from s4e_platform.errors import validation_error
from s4e_platform.kit.clock import utcnow
from s4e_platform.kit.crypto import sha256_hex
from s4e_platform.kit.ids import new_id

SESSION_LIFETIME = timedelta(hours=24)
SESSION_ABSOLUTE = timedelta(days=7)


def check_password_policy(password: str, path: str = "$.password") -> None:
    if not isinstance(password, str) or not 12 <= len(password) <= 256:
        raise validation_error(path, "password must be 12-256 characters", "password_policy")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def user_by_email(session: Session, email: str) -> User | None:
    return session.execute(select(User).where(User.email == normalize_email(email))).scalar_one_or_none()


def create_user(session: Session, *, email: str, password: str | None, name: str = "",
                is_superuser: bool = False) -> User:
    if password is not None:
        check_password_policy(password)
    user = User(id=new_id("usr"), email=normalize_email(email), name=name or "",
                password_hash=hash_password(password) if password else None, is_superuser=is_superuser,
                password_changed_at=utcnow() if password else None)
    session.add(user)
    session.flush()
    return user


def create_session(session: Session, user: User, *, ip: str | None, user_agent: str | None) -> tuple[str, UserSession]:
    """A new console session; returns (cookie value, row). The cookie value is stored only as a hash."""
    token = secrets.token_urlsafe(32)  # 256 bits
    now = utcnow()
    row = UserSession(id=new_id("ses"), token_hash=sha256_hex(token), csrf_token=secrets.token_urlsafe(32),
                      user_id=user.id, created_at=now, expires_at=now + SESSION_LIFETIME,
                      absolute_expires_at=now + SESSION_ABSOLUTE, ip=ip, user_agent=(user_agent or "")[:512])
    session.add(row)
    session.flush()
    return token, row


def revoke_sessions(session: Session, user_id: str, *, keep: str | None = None) -> None:
    stmt = delete(UserSession).where(UserSession.user_id == user_id)
    if keep:
        stmt = stmt.where(UserSession.id != keep)
    session.execute(stmt)


def create_api_key(session: Session, *, workspace_id: str, user_id: str, name: str, scopes: list[str],
                   description: str = "", expires_at: datetime | None = None,
                   asset_restriction: dict | None = None, tier: str = "standard") -> tuple[str, ApiKey]:
    """Store a new key hashed; returns (plaintext key shown once, row)."""
    plaintext, digest, prefix = new_api_key()
    row = ApiKey(id=new_id("key"), workspace_id=workspace_id, user_id=user_id, name=name, description=description,
                 prefix=prefix, key_hash=digest, scopes=list(scopes), tier=tier, expires_at=expires_at,
                 asset_restriction=asset_restriction or {"asset_ids": [], "tags": []})
    session.add(row)
    session.flush()
    return plaintext, row
