"""OAuth 2.0 client credentials (api.md 1.3, RFC 6749 sections 2.3.1, 4.4, 5.1, 5.2).

Clients (`cli_`) are managed by workspace admins; the secret `s4e_oc_...` is stored as SHA-256 and shown once.
The token endpoint answers in RFC 6749 shapes, never in the API envelope, so its failures are `OAuthError`s
that the endpoint turns into `{error, error_description}` bodies.
"""

from __future__ import annotations

import base64
import binascii
from datetime import timedelta
from urllib.parse import parse_qsl, unquote_plus

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from s4e_platform.auth import keys
from s4e_platform.auth import scopes as scope_rules
from s4e_platform.auth.models import OAuthClient
from s4e_platform.auth.oauth_schemas import OAuthClientCreate
from s4e_platform.auth.principal import Principal
from s4e_platform.auth.tokens import JWT_LIFETIME, issue_jwt, new_client_secret
from s4e_platform.db.scoping import register
from s4e_platform.errors import InvalidState, NotFound
from s4e_platform.event.audit import audit
from s4e_platform.kit.clock import isoformat, utcnow
from s4e_platform.kit.crypto import constant_time_equals, sha256_hex
from s4e_platform.kit.ids import new_id, parse_id
from s4e_platform.workspace import service as workspace_service

register("cli", OAuthClient)

SORTS = {"created_at": OAuthClient.created_at, "name": OAuthClient.name, "last_used_at": OAuthClient.last_used_at}
FORM_TYPE = "application/x-www-form-urlencoded"
_MAX_FIELDS = 20
_LAST_USED_GRANULARITY = timedelta(seconds=60)


class OAuthError(Exception):
    """An RFC 6749 section 5.2 error response."""

    def __init__(self, error: str, description: str, status: int = 400, *, basic: bool = False) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.basic = basic  # the client tried HTTP Basic: answer with WWW-Authenticate (RFC 6749 5.2)

    def body(self) -> dict:
        return {"error": self.error, "error_description": self.description}

    def headers(self) -> dict[str, str]:
        headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        if self.basic and self.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="s4e", charset="UTF-8"'
        return headers


# Client management ------------------------------------------------------------------------------------------

def to_read(client: OAuthClient) -> dict:
    restriction = client.asset_restriction or {}
    return {"id": client.id, "name": client.name, "description": client.description or "",
            "scopes": list(client.scopes or []), "tier": client.tier, "expires_at": client.expires_at,
            "asset_restriction": {"asset_ids": list(restriction.get("asset_ids") or []),
                                  "tags": list(restriction.get("tags") or [])},
            "last_used_at": client.last_used_at, "revoked_at": client.revoked_at,
            "created_at": client.created_at, "created_by": client.created_by}


def create_client(session: Session, principal: Principal, body: OAuthClientCreate) -> tuple[str, OAuthClient]:
    """Returns (secret shown once, row)."""
    scopes = keys.check_scopes(principal, body.scopes)
    expires_at = keys.check_expiry(body.expires_at)
    restriction = keys.check_restriction(session, principal, body.asset_restriction)
    tier = keys.check_tier(principal, body.tier)
    secret, digest = new_client_secret()
    client = OAuthClient(id=new_id("cli"), workspace_id=principal.workspace_id, created_by=principal.user_id,
                         name=body.name, description=body.description, secret_hash=digest, scopes=scopes,
                         tier=tier, expires_at=expires_at, asset_restriction=restriction)
    session.add(client)
    session.flush()
    audit(session, event="audit.oauth_client_created", workspace_id=client.workspace_id, actor=principal.actor(),
          target_type="oauth_client", target_id=client.id,
          details={"name": client.name, "scopes": scopes, "tier": tier, "expires_at": isoformat(expires_at)})
    return secret, client


def list_stmt(principal: Principal) -> Select:
    return select(OAuthClient).where(OAuthClient.workspace_id == principal.workspace_id)


def get(session: Session, principal: Principal, client_id: str) -> OAuthClient:
    client = session.execute(select(OAuthClient).where(
        OAuthClient.id == parse_id(client_id, "cli"),
        OAuthClient.workspace_id == principal.workspace_id)).scalar_one_or_none()
    if client is None:
        raise NotFound("OAuth client not found")
    return client


def rotate_secret(session: Session, client: OAuthClient) -> str:
    """A new secret; the old one stops authenticating at once (tokens already issued live out their 900 s)."""
    if client.revoked_at is not None:
        raise InvalidState("This OAuth client is revoked")
    secret, digest = new_client_secret()
    client.secret_hash = digest
    session.flush()
    return secret


def revoke(session: Session, principal: Principal, client: OAuthClient) -> None:
    """Idempotent. Its tokens stop working too: every JWT use re-checks the client row."""
    if client.revoked_at is not None:
        return
    client.revoked_at = utcnow()
    session.flush()
    audit(session, event="audit.oauth_client_revoked", workspace_id=client.workspace_id, actor=principal.actor(),
          target_type="oauth_client", target_id=client.id, details={"name": client.name})


def revoke_for_member(session: Session, principal: Principal, workspace_id: str, user_id: str) -> None:
    clients = session.execute(select(OAuthClient).where(
        OAuthClient.workspace_id == workspace_id, OAuthClient.created_by == user_id,
        OAuthClient.revoked_at.is_(None))).scalars().all()
    for client in clients:
        revoke(session, principal, client)


# Token endpoint ---------------------------------------------------------------------------------------------

def parse_form(body: bytes, content_type: str | None) -> dict[str, str]:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != FORM_TYPE:
        raise OAuthError("invalid_request", f"The token request must be {FORM_TYPE}")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False,
                          max_num_fields=_MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_request", "The form body cannot be parsed") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:  # RFC 6749 section 3.2: parameters must not repeat
            raise OAuthError("invalid_request", f"Parameter {name!r} is repeated")
        form[name] = value
    return form


def client_credentials(authorization: str | None, form: dict[str, str]) -> tuple[str, str, bool]:
    """(client_id, client_secret, used_basic) from HTTP Basic or the body, never both (RFC 6749 2.3)."""
    in_body = "client_id" in form or "client_secret" in form
    if authorization:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() != "basic":
            raise OAuthError("invalid_client", "Use HTTP Basic or client_id/client_secret in the body", 401,
                             basic=True)
        if in_body:
            raise OAuthError("invalid_request", "Use one client authentication method, not two")
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise OAuthError("invalid_client", "Malformed HTTP Basic credentials", 401, basic=True) from None
        user, sep, password = decoded.partition(":")
        if not sep:
            raise OAuthError("invalid_client", "Malformed HTTP Basic credentials", 401, basic=True)
        # RFC 6749 2.3.1: both parts are form-urlencoded before Basic encoding.
        return unquote_plus(user), unquote_plus(password), True
    if not form.get("client_id") or not form.get("client_secret"):
        raise OAuthError("invalid_client", "Client authentication is required", 401)
    return form["client_id"], form["client_secret"], False


def canonical_client_id(raw: str) -> str | None:
    return parse_id(raw, "cli")


def authenticate_client(session: Session, client_id: str, secret: str, basic: bool) -> OAuthClient:
    canon = canonical_client_id(client_id)
    client = session.get(OAuthClient, canon) if canon else None
    # Hash either way so unknown ids and wrong secrets cost the same.
    ok = constant_time_equals(sha256_hex(secret), client.secret_hash if client else sha256_hex(""))
    if client is None or not ok:
        raise OAuthError("invalid_client", "Unknown client or wrong secret", 401, basic=basic)
    now = utcnow()
    if client.revoked_at is not None:
        raise OAuthError("invalid_client", "This client is revoked", 401, basic=basic)
    if client.expires_at is not None and client.expires_at <= now:
        raise OAuthError("invalid_client", "This client has expired", 401, basic=basic)
    if not workspace_service.is_member(session, client.workspace_id, client.created_by):
        raise OAuthError("invalid_client", "The client's owner is no longer a workspace member", 401, basic=basic)
    return client


def _granted_scopes(client: OAuthClient, requested: str | None) -> list[str]:
    if requested is None or not requested.strip():
        return list(client.scopes or [])
    allowed = scope_rules.expand(client.scopes or [])
    out: list[str] = []
    for scope in requested.split(" "):
        if not scope:
            continue
        if scope not in scope_rules.SCOPES or scope not in allowed:
            raise OAuthError("invalid_scope", f"Scope {scope!r} is not granted to this client")
        if scope not in out:
            out.append(scope)
    return out


def grant(session: Session, client: OAuthClient, form: dict[str, str]) -> dict:
    """RFC 6749 4.4: a client_credentials grant -> the 5.1 token response."""
    grant_type = form.get("grant_type")
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required")
    if grant_type != "client_credentials":
        raise OAuthError("unsupported_grant_type", "Only grant_type=client_credentials is supported")
    scopes = _granted_scopes(client, form.get("scope"))
    now = utcnow()
    if client.last_used_at is None or now - client.last_used_at > _LAST_USED_GRANULARITY:
        client.last_used_at = now
    token = issue_jwt(client.id, client.workspace_id, scopes)
    return {"access_token": token, "token_type": "Bearer", "expires_in": JWT_LIFETIME, "scope": " ".join(scopes)}
