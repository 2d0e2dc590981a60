"""`client.auth` (who am I) and `client.meta` (server version and features), api.md 2.1 and 2.13."""

from __future__ import annotations

from s4e._operations import operation
from s4e.models.auth import Me, Meta
from s4e.resources._base import AsyncResource, SyncResource


class Auth(SyncResource):
    """The current credential. (Console login is not part of the SDK: use an API key.)"""

    @operation("get_me")
    def me(self) -> Me:
        """The principal behind the API key: user, workspace, role, effective scopes, key id."""
        return self._get("/auth/me", Me)


class AsyncAuth(AsyncResource):
    """The current credential (asyncio)."""

    @operation("get_me")
    async def me(self) -> Me:
        """The principal behind the API key: user, workspace, role, effective scopes, key id."""
        return await self._get("/auth/me", Me)


class MetaResource(SyncResource):
    """Server metadata."""

    @operation("get_meta")
    def get(self) -> Meta:
        """Server version, mode (`embedded`/`scale_out`) and optional features."""
        return self._get("/meta", Meta)


class AsyncMetaResource(AsyncResource):
    """Server metadata (asyncio)."""

    @operation("get_meta")
    async def get(self) -> Meta:
        """Server version, mode (`embedded`/`scale_out`) and optional features."""
        return await self._get("/meta", Meta)
