"""Authentication and authorization dependencies.

Every endpoint declares its access rule with one of `require(scope)`, `any_principal`, `session_only`,
`superuser` or `public`; the rule is also published in OpenAPI as `x-s4e-auth` so tests can walk every route.

Order of checks (api.md 1.6): credential (401) -> object visibility (404) -> scope (403). An object of another
workspace is therefore a 404 even for a caller that also lacks the scope.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import jwt
from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from s4e_platform.auth import scopes as scope_rules
from s4e_platform.auth.models import ApiKey, OAuthClient, User, UserSession
from s4e_platform.auth.principal import Principal
from s4e_platform.auth.tokens import API_KEY_PREFIX, decode_jwt, looks_like_jwt
from s4e_platform.db import scoping
from s4e_platform.db.session import request_session, unit_of_work
from s4e_platform.errors import (
    APIError,
    BadRequest,
    Forbidden,
    InsufficientScope,
    NotFound,
    RateLimited,
    Unauthenticated,
)
from s4e_platform.kit.clock import utcnow
from s4e_platform.kit.crypto import constant_time_equals, sha256_hex
from s4e_platform.kit.ids import parse_id
from s4e_platform.kit.ratelimit import TIERS, limiter
from s4e_platform.workspace.models import Membership

DbSession = Annotated[Session, Depends(request_session, scope="function")]

SESSION_COOKIE = "s4e_session"
CSRF_COOKIE = "s4e_csrf"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_LAST_USED_GRANULARITY = timedelta(seconds=60)


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthenticated("Authorization header must be 'Bearer <token>'", code="invalid_token")
        return value.strip()
    key = request.headers.get("x-api-key")
    if key:
        return key.strip()
    if request.url.path.endswith("/events/stream"):
        return request.query_params.get("token")
    return None


def _membership(session: Session, workspace_id: str, user_id: str) -> Membership | None:
    return session.execute(select(Membership).where(
        Membership.workspace_id == workspace_id, Membership.user_id == user_id)).scalar_one_or_none()


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _check_workspace_header(request: Request, bound: str) -> None:
    header = request.headers.get("x-s4e-workspace")
    if header and parse_id(header, "wsp") != bound:
        raise BadRequest("This credential is bound to another workspace", code="workspace_mismatch")


def _from_api_key(request: Request, session: Session, token: str) -> Principal:
    key = session.execute(select(ApiKey).where(ApiKey.key_hash == sha256_hex(token))).scalar_one_or_none()
    if key is None:
        raise Unauthenticated("Invalid API key", code="invalid_token")
    if key.revoked_at is not None:
        raise Unauthenticated("API key revoked", code="key_revoked")
    now = utcnow()
    if key.expires_at is not None and key.expires_at <= now:
        raise Unauthenticated("API key expired", code="token_expired")
    user = session.get(User, key.user_id)
    member = _membership(session, key.workspace_id, key.user_id)
    if user is None or not user.is_active or member is None:
        raise Unauthenticated("API key owner is no longer a member", code="key_revoked")
    _check_workspace_header(request, key.workspace_id)
    ip = _client_ip(request)
    if key.last_used_at is None or now - key.last_used_at > _LAST_USED_GRANULARITY or key.last_used_ip != ip:
        stmt = ApiKey.__table__.update().where(ApiKey.id == key.id).values(last_used_at=now, last_used_ip=ip)
        if session.info.get("readonly"):
            # Its own short transaction, so read requests stay read-only (and never wait on themselves).
            with unit_of_work() as w:
                w.execute(stmt)
        else:
            session.execute(stmt)
    return Principal(type="api_key", user_id=user.id, name=key.name, workspace_id=key.workspace_id,
                     role=member.role, scopes=scope_rules.effective(key.scopes, member.role),
                     is_superuser=user.is_superuser, key_id=key.id,
                     asset_restriction=key.asset_restriction or {}, tier=key.tier)


def _from_jwt(request: Request, session: Session, token: str) -> Principal:
    try:
        claims = decode_jwt(token)
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("Access token expired", code="token_expired") from None
    except jwt.InvalidTokenError:
        raise Unauthenticated("Invalid access token", code="invalid_token") from None
    client = session.get(OAuthClient, claims["sub"])
    now = utcnow()
    if client is None or client.revoked_at is not None or client.workspace_id != claims.get("wsp"):
        raise Unauthenticated("OAuth client revoked", code="key_revoked")
    if client.expires_at is not None and client.expires_at <= now:
        raise Unauthenticated("OAuth client expired", code="token_expired")
    member = _membership(session, client.workspace_id, client.created_by)
    if member is None:
        raise Unauthenticated("OAuth client owner is no longer a member", code="key_revoked")
    _check_workspace_header(request, client.workspace_id)
    token_scopes = [s for s in str(claims.get("scope", "")).split() if s]
    granted = scope_rules.expand(token_scopes) & scope_rules.expand(client.scopes)
    return Principal(type="oauth_client", user_id=client.created_by, name=client.name,
                     workspace_id=client.workspace_id, role=member.role,
                     scopes=scope_rules.effective(sorted(granted), member.role), client_id=client.id,
                     asset_restriction=client.asset_restriction or {}, tier=client.tier)


def _from_session(request: Request, session: Session, cookie: str) -> Principal:
    row = session.execute(select(UserSession).where(
        UserSession.token_hash == sha256_hex(cookie))).scalar_one_or_none()
    now = utcnow()
    if row is None or row.expires_at <= now or row.absolute_expires_at <= now:
        raise Unauthenticated("Session expired or invalid", code="invalid_token")
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise Unauthenticated("Account disabled", code="invalid_token")
    if request.method in UNSAFE:
        sent = request.headers.get("x-csrf-token") or ""
        if not sent or not constant_time_equals(sent, row.csrf_token):
            raise Forbidden("Missing or wrong X-CSRF-Token header", code="csrf_failed")
    header = request.headers.get("x-s4e-workspace")
    member = None
    if header:
        wsp = parse_id(header, "wsp")
        if wsp is None:
            raise BadRequest("X-S4E-Workspace must be a workspace id", code="invalid_parameter")
        member = _membership(session, wsp, user.id)
        if member is None:
            raise NotFound("Workspace not found")
    else:
        member = session.execute(select(Membership).where(Membership.user_id == user.id)
                                 .order_by(Membership.joined_at, Membership.id).limit(1)).scalar_one_or_none()
    role = member.role if member else None
    return Principal(type="user", user_id=user.id, name=user.email,
                     workspace_id=member.workspace_id if member else None, role=role,
                     scopes=scope_rules.effective(None, role) if role else frozenset(),
                     is_superuser=user.is_superuser, session_id=row.id, tier="premium")


def resolve_principal(request: Request, session: Session) -> Principal | None:
    token = _bearer(request)
    if token:
        if token.startswith(API_KEY_PREFIX):
            return _from_api_key(request, session, token)
        if looks_like_jwt(token):
            return _from_jwt(request, session, token)
        raise Unauthenticated("Unrecognised credential", code="invalid_token")
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return _from_session(request, session, cookie)
    return None


def apply_rate_limit(request: Request, key: str, tier: str | tuple[int, int]) -> None:
    from s4e_platform.config import get_settings

    if not get_settings().rate_limit_enabled:
        return
    per_minute, burst = TIERS[tier] if isinstance(tier, str) else tier
    decision = limiter().hit(key, per_minute, burst)
    request.state.ratelimit = decision.headers()
    if not decision.allowed:
        raise RateLimited(f"Rate limit exceeded; retry in {decision.retry_after} s",
                          details={"retry_after": decision.retry_after},
                          headers={"Retry-After": str(decision.retry_after), **decision.headers()})


def authenticate(request: Request, session: DbSession) -> Principal:
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    principal = resolve_principal(request, session)
    if principal is None:
        raise Unauthenticated("Authentication required: send an API key, a bearer token or a session cookie")
    request.state.principal = principal
    apply_rate_limit(request, principal.rate_key(), principal.tier)
    return principal


def _hide_invisible_objects(request: Request, session: Session, principal: Principal) -> None:
    """404 for any path id that is not in the caller's workspace (checked before scopes)."""
    for name, value in request.path_params.items():
        if not isinstance(value, str) or "_" not in value:
            continue
        if not scoping.visible(session, value, principal.workspace_id, principal.asset_restriction):
            raise NotFound(f"{name} not found")


def _mark(fn, rule: str):
    fn._s4e_auth = rule
    return fn


def require(*required: str):
    """Dependency: an authenticated principal holding one of `required` scopes in its workspace."""

    def dependency(request: Request, session: DbSession) -> Principal:
        principal = authenticate(request, session)
        if principal.workspace_id is None:
            raise Forbidden("You are not a member of any workspace", code="forbidden")
        _hide_invisible_objects(request, session, principal)
        if not any(principal.has(s) for s in required):
            raise InsufficientScope(list(required))
        return principal

    return _mark(dependency, " ".join(required))


def _any(request: Request, session: DbSession) -> Principal:
    return authenticate(request, session)


def _session_only(request: Request, session: DbSession) -> Principal:
    principal = authenticate(request, session)
    if not principal.via_session:
        raise Forbidden("This call needs a console session", code="forbidden")
    return principal


def _superuser(request: Request, session: DbSession) -> Principal:
    principal = authenticate(request, session)
    if not principal.is_superuser:
        raise Forbidden("This call needs an instance superuser", code="forbidden")
    return principal


def _public() -> None:
    return None


any_principal = _mark(_any, "any")
session_only = _mark(_session_only, "session")
superuser = _mark(_superuser, "superuser")
public = _mark(_public, "public")

AnyPrincipal = Annotated[Principal, Depends(any_principal)]
SessionPrincipal = Annotated[Principal, Depends(session_only)]
SuperPrincipal = Annotated[Principal, Depends(superuser)]


def auth_rule(route) -> str | None:
    """The access rule declared by a route's dependencies (for OpenAPI and the access-matrix test)."""
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop(0)
        rule = getattr(dep.call, "_s4e_auth", None)
        if rule:
            return rule
        stack.extend(dep.dependencies)
    return None


__all__ = ["APIError", "AnyPrincipal", "DbSession", "Principal", "SessionPrincipal", "SuperPrincipal",
           "any_principal", "auth_rule", "authenticate", "public", "require", "session_only", "superuser"]
