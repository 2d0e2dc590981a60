"""API keys (api.md 1.4): create (plaintext shown once), list, rename, revoke.

The validation of what a credential may carry (scopes, asset restriction, expiry, tier) is shared with OAuth
clients, which carry the same fields.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from s4e_platform.auth import scopes as scope_rules
from s4e_platform.auth import service as auth_service
from s4e_platform.auth.key_schemas import ApiKeyCreate, ApiKeyUpdate, AssetRestriction
from s4e_platform.auth.models import ApiKey
from s4e_platform.auth.principal import Principal
from s4e_platform.db.scoping import register
from s4e_platform.errors import Forbidden, InsufficientScope, NotFound, validation_error
from s4e_platform.event.audit import audit
from s4e_platform.kit.clock import as_utc, isoformat, utcnow
from s4e_platform.kit.ids import parse_id

register("key", ApiKey)

SORTS = {"created_at": ApiKey.created_at, "name": ApiKey.name, "last_used_at": ApiKey.last_used_at}


def check_scopes(principal: Principal, scopes: list[str]) -> list[str]:
    """Known scopes only (422 at the offending index); a session grants only what its role holds (403)."""
    out: list[str] = []
    for i, scope in enumerate(scopes):
        if scope not in scope_rules.SCOPES:
            raise validation_error(f"$.scopes[{i}]", f"unknown scope {scope!r}", "unknown_scope")
        if scope not in out:
            out.append(scope)
    # A session grants within its role; a key or OAuth token got here only with `admin`.
    grantable = scope_rules.grantable(principal.role or "") if principal.via_session else principal.scopes
    beyond = [s for s in out if s not in grantable]
    if beyond:
        raise Forbidden(f"You cannot grant {', '.join(beyond)}: it exceeds your own role",
                        code="insufficient_scope", details={"required": beyond})
    return out


def check_expiry(expires_at: datetime | None) -> datetime | None:
    if expires_at is None:
        return None
    try:
        value = as_utc(expires_at)
    except OverflowError:  # e.g. year 1 with a positive offset has no UTC equivalent
        raise validation_error("$.expires_at", "expires_at is out of range", "out_of_range") from None
    if value <= utcnow():
        raise validation_error("$.expires_at", "expires_at must be in the future", "in_the_past")
    return value


def check_tier(principal: Principal, tier: str) -> str:
    if tier != "standard" and not principal.is_admin:
        raise InsufficientScope(["admin"])
    return tier


def check_restriction(session: Session, principal: Principal, restriction: AssetRestriction) -> dict:
    """Canonical `{asset_ids, tags}`: ids must name assets of the workspace, tags follow the asset tag rules."""
    from s4e_platform.asset import service as asset_service
    from s4e_platform.asset.schemas import clean_tags

    if principal.restricted:
        # A restricted credential could otherwise mint one that sees more than it does.
        raise Forbidden("A credential restricted to some assets cannot create credentials", code="forbidden")
    ids: list[str] = []
    repo = asset_service.repo(session, principal)
    for i, raw in enumerate(restriction.asset_ids):
        canon = parse_id(raw, "ast") if isinstance(raw, str) else None
        if canon is None or repo.get(canon) is None:
            raise validation_error(f"$.asset_restriction.asset_ids[{i}]", "not an asset of this workspace",
                                   "not_found")
        if canon not in ids:
            ids.append(canon)
    try:
        tags = clean_tags(restriction.tags) or []
    except ValueError as exc:
        raise validation_error("$.asset_restriction.tags", str(exc), "invalid_tag") from None
    return {"asset_ids": ids, "tags": tags}


def to_read(key: ApiKey) -> dict:
    restriction = key.asset_restriction or {}
    return {"id": key.id, "name": key.name, "description": key.description or "", "prefix": key.prefix,
            "scopes": list(key.scopes or []), "tier": key.tier, "expires_at": key.expires_at,
            "asset_restriction": {"asset_ids": list(restriction.get("asset_ids") or []),
                                  "tags": list(restriction.get("tags") or [])},
            "last_used_at": key.last_used_at, "last_used_ip": key.last_used_ip, "revoked_at": key.revoked_at,
            "created_at": key.created_at, "user_id": key.user_id}


def create(session: Session, principal: Principal, body: ApiKeyCreate) -> tuple[str, ApiKey]:
    """A key of the caller, in the caller's workspace; returns (plaintext shown once, row)."""
    scopes = check_scopes(principal, body.scopes)
    expires_at = check_expiry(body.expires_at)
    restriction = check_restriction(session, principal, body.asset_restriction)
    tier = check_tier(principal, body.tier)
    plaintext, key = auth_service.create_api_key(
        session, workspace_id=principal.workspace_id, user_id=principal.user_id, name=body.name,
        description=body.description, scopes=scopes, expires_at=expires_at, asset_restriction=restriction,
        tier=tier)
    audit(session, event="audit.api_key_created", workspace_id=key.workspace_id, actor=principal.actor(),
          target_type="api_key", target_id=key.id,
          details={"name": key.name, "prefix": key.prefix, "scopes": scopes, "user_id": key.user_id,
                   "tier": tier, "expires_at": isoformat(expires_at)})
    return plaintext, key


def list_stmt(principal: Principal, *, all_users: bool) -> Select:
    stmt = select(ApiKey).where(ApiKey.workspace_id == principal.workspace_id)
    if all_users:
        if not principal.is_admin:
            raise InsufficientScope(["admin"])
        return stmt
    return stmt.where(ApiKey.user_id == principal.user_id)


def get(session: Session, principal: Principal, key_id: str) -> ApiKey:
    """The key if the caller owns it or is an admin; anything else is indistinguishable from absent."""
    key = session.execute(select(ApiKey).where(ApiKey.id == parse_id(key_id, "key"),
                                               ApiKey.workspace_id == principal.workspace_id)).scalar_one_or_none()
    if key is None or (key.user_id != principal.user_id and not principal.is_admin):
        raise NotFound("API key not found")
    return key


def update_key(session: Session, key: ApiKey, body: ApiKeyUpdate) -> ApiKey:
    fields = body.model_fields_set
    if "name" in fields:
        if body.name is None:
            raise validation_error("$.name", "name cannot be null", "required")
        key.name = body.name
    if "description" in fields:
        key.description = body.description or ""
    session.flush()
    return key


def revoke(session: Session, principal: Principal, key: ApiKey) -> None:
    """Idempotent: revoking a revoked key changes nothing and records nothing."""
    if key.revoked_at is not None:
        return
    key.revoked_at = utcnow()
    session.flush()
    audit(session, event="audit.api_key_revoked", workspace_id=key.workspace_id, actor=principal.actor(),
          target_type="api_key", target_id=key.id, details={"name": key.name, "user_id": key.user_id})


def revoke_for_member(session: Session, principal: Principal, workspace_id: str, user_id: str) -> int:
    """Revoke every live key of a member leaving the workspace (so re-adding them revives nothing)."""
    keys = session.execute(select(ApiKey).where(ApiKey.workspace_id == workspace_id, ApiKey.user_id == user_id,
                                                ApiKey.revoked_at.is_(None))).scalars().all()
    for key in keys:
        revoke(session, principal, key)
    return len(keys)
