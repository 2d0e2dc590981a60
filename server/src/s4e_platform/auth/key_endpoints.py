"""API key endpoints (api.md 2.2): a console session manages its own keys, `admin` manages everyone's."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Path, Query, Request, Response

from s4e_platform.auth import keys
from s4e_platform.auth.dependencies import DbSession, _hide_invisible_objects, _mark, authenticate
from s4e_platform.auth.key_schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead, ApiKeyUpdate
from s4e_platform.auth.models import ApiKey
from s4e_platform.auth.principal import Principal
from s4e_platform.errors import Forbidden, InsufficientScope
from s4e_platform.kit.pagination import PageParams, order, page_params, paginate
from s4e_platform.kit.router import api_router
from s4e_platform.kit.schemas import Envelope, ListEnvelope

router = api_router(tags=["api-keys"])


def _key_manager(request: Request, session: DbSession) -> Principal:
    """A console session (its own keys) or a key/OAuth token with `admin`; other workspaces' keys are 404."""
    principal = authenticate(request, session)
    if principal.workspace_id is None:
        raise Forbidden("You are not a member of any workspace", code="forbidden")
    _hide_invisible_objects(request, session, principal)
    if not principal.via_session and not principal.is_admin:
        raise InsufficientScope(["admin"])
    return principal


KeyManager = Annotated[Principal, Depends(_mark(_key_manager, "session admin"))]
KeyId = Annotated[str, Path(description="API key id (key_...)", max_length=64)]


def _owned_key(key_id: KeyId, principal: KeyManager, session: DbSession) -> ApiKey:
    return keys.get(session, principal, key_id)


OwnedKey = Annotated[ApiKey, Depends(_owned_key)]


@router.get("/api-keys", response_model=ListEnvelope[ApiKeyRead], operation_id="list_api_keys")
def list_api_keys(
    principal: KeyManager,
    session: DbSession,
    paging: Annotated[PageParams, Depends(page_params)],
    all_: Annotated[Literal["true", "false"], Query(alias="all", description="true: every key of the workspace "
                                                                         "(admin only)")] = "false",
):
    """List my API keys, or every key of the workspace."""
    stmt = order(keys.list_stmt(principal, all_users=all_ == "true"), paging, keys.SORTS, "created_at", ApiKey.id)
    rows, meta = paginate(session, stmt, paging)
    return {"data": [keys.to_read(k) for k in rows], "meta": meta}


@router.post("/api-keys", response_model=Envelope[ApiKeyCreated], status_code=201, operation_id="create_api_key")
def create_api_key(body: ApiKeyCreate, principal: KeyManager, session: DbSession, response: Response):
    """Create an API key; the full key is returned only in this response."""
    plaintext, key = keys.create(session, principal, body)
    response.headers["Location"] = f"/api/v1/api-keys/{key.id}"
    return {"data": {**keys.to_read(key), "key": plaintext}, "meta": {}}


@router.get("/api-keys/{key_id}", response_model=Envelope[ApiKeyRead], operation_id="get_api_key")
def get_api_key(key: OwnedKey):
    """Get one API key (never its secret)."""
    return {"data": keys.to_read(key), "meta": {}}


@router.patch("/api-keys/{key_id}", response_model=Envelope[ApiKeyRead], operation_id="update_api_key")
def update_api_key(body: ApiKeyUpdate, key: OwnedKey, session: DbSession):
    """Rename or re-describe an API key."""
    keys.update_key(session, key, body)
    return {"data": keys.to_read(key), "meta": {}}


@router.delete("/api-keys/{key_id}", status_code=204, operation_id="revoke_api_key")
def revoke_api_key(key: OwnedKey, principal: KeyManager, session: DbSession):
    """Revoke an API key; it stops working at once."""
    keys.revoke(session, principal, key)
    return Response(status_code=204)
