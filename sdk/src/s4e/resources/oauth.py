"""`client.oauth`: OAuth clients (admin) and the client-credentials token exchange (api.md 1.3, 2.1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from s4e._oauth import ClientCredentials, Scope
from s4e._operations import operation
from s4e._types import NOT_GIVEN, NotGiven, given, path_segment, query
from s4e.errors import ConfigurationError
from s4e.models.key import AssetRestrictionInput, Tier
from s4e.models.oauth import AccessToken, OAuthClient, OAuthClientCreate, OAuthClientWithSecret
from s4e.pagination import AsyncPage, SyncPage
from s4e.resources._base import AsyncResource, SyncResource


def _path(client_id: str, suffix: str = "") -> str:
    return f"/oauth/clients/{path_segment(client_id, 'client_id')}{suffix}"


def create_body(**fields: Any) -> dict[str, Any]:
    return OAuthClientCreate(**given(fields)).body()


def credentials_for(transport: Any, client_id: Optional[str], client_secret: Optional[str],
                    scope: Scope) -> ClientCredentials:
    """The credentials to exchange: the ones passed, else the client's own (then the token is kept and used)."""
    if client_id is None and client_secret is None:
        own = transport.credentials
        if own is None:
            raise ConfigurationError("This client uses an API key: pass client_id and client_secret to token()")
        if scope is None or scope == own.scope:
            return own
        return ClientCredentials(own.client_id, own.client_secret, scope)
    if not client_id or not client_secret:
        raise ConfigurationError("token() needs both client_id and client_secret")
    return ClientCredentials(client_id, client_secret, scope)


class OAuthClients(SyncResource):
    """OAuth clients of the workspace (admin)."""

    @operation("list_oauth_clients")
    def list(self, *, sort_by: str | NotGiven = NOT_GIVEN, sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
             per_page: int | NotGiven = NOT_GIVEN) -> SyncPage[OAuthClient]:
        """The workspace's OAuth clients (revoked ones included), lazily across pages."""
        params = query(sort_by=sort_by, sort_order=sort_order, per_page=per_page)
        return self._page("/oauth/clients", OAuthClient, params, page)

    @operation("get_oauth_client")
    def get(self, client_id: str) -> OAuthClient:
        """Get one OAuth client (never its secret)."""
        return self._get(_path(client_id), OAuthClient)

    @operation("create_oauth_client")
    def create(self, *, name: str, scopes: list[str], description: str | NotGiven = NOT_GIVEN,
               expires_at: Optional[datetime] | NotGiven = NOT_GIVEN,
               asset_restriction: AssetRestrictionInput | NotGiven = NOT_GIVEN, tier: Tier | NotGiven = NOT_GIVEN,
               idempotency_key: Optional[str] = None) -> OAuthClientWithSecret:
        """Create an OAuth client; `client_secret` is in this response only. Scopes beyond your role are refused."""
        body = create_body(name=name, scopes=scopes, description=description, expires_at=expires_at,
                           asset_restriction=asset_restriction, tier=tier)
        return self._send("POST", "/oauth/clients", OAuthClientWithSecret, json=body,
                          idempotency_key=idempotency_key)

    @operation("rotate_oauth_client_secret")
    def rotate_secret(self, client_id: str) -> OAuthClientWithSecret:
        """New secret, shown once; the old one stops working at once (tokens already issued run out)."""
        return self._send("POST", _path(client_id, "/rotate-secret"), OAuthClientWithSecret)

    @operation("revoke_oauth_client")
    def revoke(self, client_id: str) -> None:
        """Revoke a client: its secret and every token it was issued stop working."""
        self._send("DELETE", _path(client_id), None)


class OAuth(SyncResource):
    """OAuth 2.0: client management and the token endpoint."""

    def __init__(self, transport: Any) -> None:
        super().__init__(transport)
        self.clients = OAuthClients(transport)
        """OAuth clients of the workspace (admin)."""

    @operation("create_oauth_token")
    def token(self, *, client_id: Optional[str] = None, client_secret: Optional[str] = None,
              scope: Scope = None) -> AccessToken:
        """Exchange client credentials for a 900 s access token (`scope`: a subset of the client's scopes).

        Without arguments it uses this client's own credentials (`S4EClient(client_id=..., client_secret=...)`)
        and the new token replaces the one the client holds; such a client fetches and renews tokens by itself,
        so calling this is only needed to hand a token to another program. Raises AuthenticationError
        (`invalid_client`) or BadRequestError (`invalid_scope`)."""
        creds = credentials_for(self._transport, client_id, client_secret, scope)
        return self._transport.fetch_token(creds)


class AsyncOAuthClients(AsyncResource):
    """OAuth clients of the workspace (admin, asyncio)."""

    @operation("list_oauth_clients")
    def list(self, *, sort_by: str | NotGiven = NOT_GIVEN, sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
             per_page: int | NotGiven = NOT_GIVEN) -> AsyncPage[OAuthClient]:
        """The workspace's OAuth clients (revoked ones included), lazily across pages (`async for`)."""
        params = query(sort_by=sort_by, sort_order=sort_order, per_page=per_page)
        return self._page("/oauth/clients", OAuthClient, params, page)

    @operation("get_oauth_client")
    async def get(self, client_id: str) -> OAuthClient:
        """Get one OAuth client (never its secret)."""
        return await self._get(_path(client_id), OAuthClient)

    @operation("create_oauth_client")
    async def create(self, *, name: str, scopes: list[str], description: str | NotGiven = NOT_GIVEN,
                     expires_at: Optional[datetime] | NotGiven = NOT_GIVEN,
                     asset_restriction: AssetRestrictionInput | NotGiven = NOT_GIVEN,
                     tier: Tier | NotGiven = NOT_GIVEN,
                     idempotency_key: Optional[str] = None) -> OAuthClientWithSecret:
        """Create an OAuth client; `client_secret` is in this response only."""
        body = create_body(name=name, scopes=scopes, description=description, expires_at=expires_at,
                           asset_restriction=asset_restriction, tier=tier)
        return await self._send("POST", "/oauth/clients", OAuthClientWithSecret, json=body,
                                idempotency_key=idempotency_key)

    @operation("rotate_oauth_client_secret")
    async def rotate_secret(self, client_id: str) -> OAuthClientWithSecret:
        """New secret, shown once; the old one stops working at once."""
        return await self._send("POST", _path(client_id, "/rotate-secret"), OAuthClientWithSecret)

    @operation("revoke_oauth_client")
    async def revoke(self, client_id: str) -> None:
        """Revoke a client: its secret and every token it was issued stop working."""
        await self._send("DELETE", _path(client_id), None)


class AsyncOAuth(AsyncResource):
    """OAuth 2.0: client management and the token endpoint (asyncio)."""

    def __init__(self, transport: Any) -> None:
        super().__init__(transport)
        self.clients = AsyncOAuthClients(transport)
        """OAuth clients of the workspace (admin)."""

    @operation("create_oauth_token")
    async def token(self, *, client_id: Optional[str] = None, client_secret: Optional[str] = None,
                    scope: Scope = None) -> AccessToken:
        """Exchange client credentials for a 900 s access token (see the sync client)."""
        creds = credentials_for(self._transport, client_id, client_secret, scope)
        return await self._transport.fetch_token(creds)
