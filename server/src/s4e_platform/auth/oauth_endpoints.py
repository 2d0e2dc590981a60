"""OAuth 2.0 endpoints (api.md 2.1): client management for admins and the client-credentials token endpoint."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request, Response
from fastapi.responses import JSONResponse

from s4e_platform.auth import oauth
from s4e_platform.auth.dependencies import DbSession, apply_rate_limit, public, require
from s4e_platform.auth.models import OAuthClient
from s4e_platform.auth.oauth_schemas import (
    TOKEN_REQUEST_SCHEMA,
    OAuthClientCreate,
    OAuthClientCreated,
    OAuthClientRead,
    OAuthErrorResponse,
    TokenResponse,
)
from s4e_platform.auth.principal import Principal
from s4e_platform.kit.pagination import PageParams, order, page_params, paginate
from s4e_platform.kit.router import api_router, conflict
from s4e_platform.kit.schemas import Envelope, ListEnvelope

router = api_router(tags=["oauth"])
Admin = Annotated[Principal, Depends(require("admin"))]
ClientId = Annotated[str, Path(description="OAuth client id (cli_...)", max_length=64)]

# api.md 1.9: the token endpoint allows 10/min per IP and 30/min per client, without burst.
IP_LIMIT = (10, 0)
CLIENT_LIMIT = (30, 0)


def _client(client_id: ClientId, principal: Admin, session: DbSession) -> OAuthClient:
    return oauth.get(session, principal, client_id)


AdminClient = Annotated[OAuthClient, Depends(_client)]


@router.get("/oauth/clients", response_model=ListEnvelope[OAuthClientRead], operation_id="list_oauth_clients")
def list_oauth_clients(principal: Admin, session: DbSession, paging: Annotated[PageParams, Depends(page_params)]):
    """List the workspace's OAuth clients."""
    stmt = order(oauth.list_stmt(principal), paging, oauth.SORTS, "created_at", OAuthClient.id)
    rows, meta = paginate(session, stmt, paging)
    return {"data": [oauth.to_read(c) for c in rows], "meta": meta}


@router.post("/oauth/clients", response_model=Envelope[OAuthClientCreated], status_code=201,
             operation_id="create_oauth_client")
def create_oauth_client(body: OAuthClientCreate, principal: Admin, session: DbSession, response: Response):
    """Create an OAuth client; its secret is returned only in this response."""
    secret, client = oauth.create_client(session, principal, body)
    response.headers["Location"] = f"/api/v1/oauth/clients/{client.id}"
    return {"data": {**oauth.to_read(client), "client_secret": secret}, "meta": {}}


@router.get("/oauth/clients/{client_id}", response_model=Envelope[OAuthClientRead], operation_id="get_oauth_client")
def get_oauth_client(client: AdminClient):
    """Get one OAuth client (never its secret)."""
    return {"data": oauth.to_read(client), "meta": {}}


@router.post("/oauth/clients/{client_id}/rotate-secret", response_model=Envelope[OAuthClientCreated],
             operation_id="rotate_oauth_client_secret", responses=conflict("The client is revoked"))
def rotate_oauth_client_secret(client: AdminClient, session: DbSession):
    """Issue a new client secret (shown once); the old one stops working immediately."""
    secret = oauth.rotate_secret(session, client)
    return {"data": {**oauth.to_read(client), "client_secret": secret}, "meta": {}}


@router.delete("/oauth/clients/{client_id}", status_code=204, operation_id="revoke_oauth_client")
def revoke_oauth_client(client: AdminClient, principal: Admin, session: DbSession):
    """Revoke an OAuth client; its secret and every token it was issued stop working."""
    oauth.revoke(session, principal, client)
    return Response(status_code=204)


async def _raw_body(request: Request) -> bytes:
    return await request.body()


_RFC_ERRORS = {"model": OAuthErrorResponse}


@router.post(
    "/oauth/token", response_model=TokenResponse, operation_id="create_oauth_token", dependencies=[Depends(public)],
    responses={
        400: {**_RFC_ERRORS, "description": "RFC 6749 5.2: invalid_request, invalid_scope, unsupported_grant_type"},
        401: {**_RFC_ERRORS, "description": "RFC 6749 5.2: invalid_client (WWW-Authenticate: Basic when Basic "
                                            "was used)"},
    },
    openapi_extra={"requestBody": {"required": True, "content": {
        oauth.FORM_TYPE: {"schema": TOKEN_REQUEST_SCHEMA}}}},
)
def create_oauth_token(request: Request, session: DbSession, body: Annotated[bytes, Depends(_raw_body)]):
    """Exchange client credentials for a 15-minute access token (RFC 6749 client_credentials)."""
    ip = request.client.host if request.client else "unknown"
    apply_rate_limit(request, f"oauth_token_ip:{ip}", IP_LIMIT)
    try:
        form = oauth.parse_form(body, request.headers.get("content-type"))
        client_id, secret, basic = oauth.client_credentials(request.headers.get("authorization"), form)
        canon = oauth.canonical_client_id(client_id)
        if canon is not None:  # throttles secret guessing against one client from many addresses
            apply_rate_limit(request, f"oauth_token_client:{canon}", CLIENT_LIMIT)
        client = oauth.authenticate_client(session, client_id, secret, basic)
        token = oauth.grant(session, client, form)
    except oauth.OAuthError as exc:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers())
    return JSONResponse(token, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
