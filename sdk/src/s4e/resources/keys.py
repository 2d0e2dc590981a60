"""`client.keys`: API keys (api.md 1.4, 2.2)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from s4e._operations import operation
from s4e._types import NOT_GIVEN, NotGiven, given, path_segment, query
from s4e.models.key import ApiKey, ApiKeyCreate, ApiKeyUpdate, ApiKeyWithSecret, AssetRestrictionInput, Tier
from s4e.pagination import AsyncPage, SyncPage
from s4e.resources._base import AsyncResource, SyncResource


def _path(key_id: str) -> str:
    return f"/api-keys/{path_segment(key_id, 'key_id')}"


def create_body(**fields: Any) -> dict[str, Any]:
    return ApiKeyCreate(**given(fields)).body()


def update_body(**fields: Any) -> dict[str, Any]:
    body = ApiKeyUpdate(**given(fields)).body()
    if not body:
        raise ValueError("update needs at least one field to change")
    return body


class Keys(SyncResource):
    """API keys."""

    @operation("list_api_keys")
    def list(self, *, all: bool = False, sort_by: str | NotGiven = NOT_GIVEN, sort_order: str | NotGiven = NOT_GIVEN,
             page: int = 1, per_page: int | NotGiven = NOT_GIVEN) -> SyncPage[ApiKey]:
        """My API keys, lazily across pages; `all=True` lists every key of the workspace (admin). `sort_by`:
        `created_at` (default), `name` or `last_used_at`."""
        params = query(all=all or None, sort_by=sort_by, sort_order=sort_order, per_page=per_page)
        return self._page("/api-keys", ApiKey, params, page)

    @operation("get_api_key")
    def get(self, key_id: str) -> ApiKey:
        """Get one key (never the secret)."""
        return self._get(_path(key_id), ApiKey)

    @operation("create_api_key")
    def create(self, *, name: str, scopes: list[str], description: str | NotGiven = NOT_GIVEN,
               expires_at: Optional[datetime] | NotGiven = NOT_GIVEN,
               asset_restriction: AssetRestrictionInput | NotGiven = NOT_GIVEN, tier: Tier | NotGiven = NOT_GIVEN,
               idempotency_key: Optional[str] = None) -> ApiKeyWithSecret:
        """Create a key; the full `key` is in this response only. Scopes beyond your role are refused."""
        body = create_body(name=name, scopes=scopes, description=description, expires_at=expires_at,
                           asset_restriction=asset_restriction, tier=tier)
        return self._send("POST", "/api-keys", ApiKeyWithSecret, json=body, idempotency_key=idempotency_key)

    @operation("update_api_key")
    def update(self, key_id: str, *, name: str | NotGiven = NOT_GIVEN,
               description: str | NotGiven = NOT_GIVEN) -> ApiKey:
        """Rename or describe a key."""
        return self._send("PATCH", _path(key_id), ApiKey, json=update_body(name=name, description=description))

    @operation("revoke_api_key")
    def delete(self, key_id: str) -> None:
        """Revoke a key (it stops working at once)."""
        self._send("DELETE", _path(key_id), None)


class AsyncKeys(AsyncResource):
    """API keys (asyncio)."""

    @operation("list_api_keys")
    def list(self, *, all: bool = False, sort_by: str | NotGiven = NOT_GIVEN, sort_order: str | NotGiven = NOT_GIVEN,
             page: int = 1, per_page: int | NotGiven = NOT_GIVEN) -> AsyncPage[ApiKey]:
        """My API keys, lazily across pages; `all=True` lists every key of the workspace (admin). `sort_by`:
        `created_at` (default), `name` or `last_used_at`."""
        params = query(all=all or None, sort_by=sort_by, sort_order=sort_order, per_page=per_page)
        return self._page("/api-keys", ApiKey, params, page)

    @operation("get_api_key")
    async def get(self, key_id: str) -> ApiKey:
        """Get one key (never the secret)."""
        return await self._get(_path(key_id), ApiKey)

    @operation("create_api_key")
    async def create(self, *, name: str, scopes: list[str], description: str | NotGiven = NOT_GIVEN,
                     expires_at: Optional[datetime] | NotGiven = NOT_GIVEN,
                     asset_restriction: AssetRestrictionInput | NotGiven = NOT_GIVEN,
                     tier: Tier | NotGiven = NOT_GIVEN, idempotency_key: Optional[str] = None) -> ApiKeyWithSecret:
        """Create a key; the full `key` is in this response only."""
        body = create_body(name=name, scopes=scopes, description=description, expires_at=expires_at,
                           asset_restriction=asset_restriction, tier=tier)
        return await self._send("POST", "/api-keys", ApiKeyWithSecret, json=body, idempotency_key=idempotency_key)

    @operation("update_api_key")
    async def update(self, key_id: str, *, name: str | NotGiven = NOT_GIVEN,
                     description: str | NotGiven = NOT_GIVEN) -> ApiKey:
        """Rename or describe a key."""
        return await self._send("PATCH", _path(key_id), ApiKey, json=update_body(name=name, description=description))

    @operation("revoke_api_key")
    async def delete(self, key_id: str) -> None:
        """Revoke a key (it stops working at once)."""
        await self._send("DELETE", _path(key_id), None)
