"""Identity tables: users, sessions, MFA, API keys, OAuth clients."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from s4e_platform.db.base import Base, JSONDoc, Timestamps
from s4e_platform.kit.clock import utcnow


class User(Timestamps, Base):
    __tablename__ = "user"
    id: Mapped[str] = mapped_column(String(30), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_superuser: Mapped[bool] = mapped_column(Boolean, default=False)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # TOTP secret encrypted with the server key; pending until confirmed by a code.
    totp_secret_enc: Mapped[str | None] = mapped_column(Text)
    totp_pending_enc: Mapped[str | None] = mapped_column(Text)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)  # replay protection
    failed_login_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_login_window_start: Mapped[datetime | None] = mapped_column()
    locked_until: Mapped[datetime | None] = mapped_column()
    password_changed_at: Mapped[datetime | None] = mapped_column()
    last_login_at: Mapped[datetime | None] = mapped_column()


class UserSession(Base):
    __tablename__ = "user_session"
    id: Mapped[str] = mapped_column(String(30), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    absolute_expires_at: Mapped[datetime] = mapped_column()
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))


class MfaChallenge(Base):
    __tablename__ = "mfa_challenge"
    id: Mapped[str] = mapped_column(String(30), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()


class RecoveryCode(Base):
    __tablename__ = "recovery_code"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column()


class ApiKey(Timestamps, Base):
    __tablename__ = "api_key"
    id: Mapped[str] = mapped_column(String(30), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    prefix: Mapped[str] = mapped_column(String(8))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list] = mapped_column(JSONDoc, default=list)
    tier: Mapped[str] = mapped_column(String(16), default="standard")
    expires_at: Mapped[datetime | None] = mapped_column()
    asset_restriction: Mapped[dict] = mapped_column(JSONDoc, default=dict)
    last_used_at: Mapped[datetime | None] = mapped_column()
    last_used_ip: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column()


class OAuthClient(Timestamps, Base):
    __tablename__ = "oauth_client"
    id: Mapped[str] = mapped_column(String(30), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list] = mapped_column(JSONDoc, default=list)
    tier: Mapped[str] = mapped_column(String(16), default="standard")
    expires_at: Mapped[datetime | None] = mapped_column()
    asset_restriction: Mapped[dict] = mapped_column(JSONDoc, default=dict)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()


Index("ix_api_key_ws_user", ApiKey.workspace_id, ApiKey.user_id)
