"""`client.users`: own profile, and instance users for superusers (api.md 2.2)."""

from __future__ import annotations

from typing import Any, Optional

from s4e._operations import operation
from s4e._types import NOT_GIVEN, NotGiven, given, path_segment, query
from s4e.models.user import User, UserCreate, UserUpdate
from s4e.pagination import AsyncPage, SyncPage
from s4e.resources._base import AsyncResource, SyncResource


def _path(user_id: str) -> str:
    return f"/users/{path_segment(user_id, 'user_id')}"


def update_body(**fields: Any) -> dict[str, Any]:
    body = UserUpdate(**given(fields)).body()
    if not body:
        raise ValueError("update needs at least one field to change")
    return body


class Users(SyncResource):
    """Users."""

    @operation("get_own_profile")
    def me(self) -> User:
        """My own profile."""
        return self._get("/users/me", User)

    @operation("update_own_profile")
    def update_me(self, *, name: str | NotGiven = NOT_GIVEN, timezone: str | NotGiven = NOT_GIVEN) -> User:
        """Change my display name or time zone."""
        return self._send("PATCH", "/users/me", User, json=update_body(name=name, timezone=timezone))

    @operation("list_users")
    def list(self, *, search: str | NotGiven = NOT_GIVEN, is_active: bool | NotGiven = NOT_GIVEN,
             is_superuser: bool | NotGiven = NOT_GIVEN, sort_by: str | NotGiven = NOT_GIVEN,
             sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
             per_page: int | NotGiven = NOT_GIVEN) -> SyncPage[User]:
        """Every user of the instance (superuser), lazily across pages."""
        params = query(search=search, is_active=is_active, is_superuser=is_superuser, sort_by=sort_by,
                       sort_order=sort_order, per_page=per_page)
        return self._page("/users", User, params, page)

    @operation("get_user")
    def get(self, user_id: str) -> User:
        """One user (superuser, or yourself)."""
        return self._get(_path(user_id), User)

    @operation("create_user")
    def create(self, *, email: str, name: str | NotGiven = NOT_GIVEN, password: Optional[str] | NotGiven = NOT_GIVEN,
               idempotency_key: Optional[str] = None) -> User:
        """Create a user (superuser); without a password the user cannot sign in until one is set."""
        body = UserCreate(**given({"email": email, "name": name, "password": password})).body()
        return self._send("POST", "/users", User, json=body, idempotency_key=idempotency_key)

    @operation("update_user")
    def update(self, user_id: str, *, name: str | NotGiven = NOT_GIVEN, timezone: str | NotGiven = NOT_GIVEN,
               is_active: bool | NotGiven = NOT_GIVEN, is_superuser: bool | NotGiven = NOT_GIVEN) -> User:
        """Change a user; `is_active`/`is_superuser` need a superuser."""
        body = update_body(name=name, timezone=timezone, is_active=is_active, is_superuser=is_superuser)
        return self._send("PATCH", _path(user_id), User, json=body)

    @operation("deactivate_user")
    def deactivate(self, user_id: str) -> None:
        """Deactivate a user (superuser): sessions, keys and OAuth clients are revoked, history kept."""
        self._send("DELETE", _path(user_id), None)


class AsyncUsers(AsyncResource):
    """Users (asyncio)."""

    @operation("get_own_profile")
    async def me(self) -> User:
        """My own profile."""
        return await self._get("/users/me", User)

    @operation("update_own_profile")
    async def update_me(self, *, name: str | NotGiven = NOT_GIVEN, timezone: str | NotGiven = NOT_GIVEN) -> User:
        """Change my display name or time zone."""
        return await self._send("PATCH", "/users/me", User, json=update_body(name=name, timezone=timezone))

    @operation("list_users")
    def list(self, *, search: str | NotGiven = NOT_GIVEN, is_active: bool | NotGiven = NOT_GIVEN,
             is_superuser: bool | NotGiven = NOT_GIVEN, sort_by: str | NotGiven = NOT_GIVEN,
             sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
             per_page: int | NotGiven = NOT_GIVEN) -> AsyncPage[User]:
        """Every user of the instance (superuser), lazily across pages."""
        params = query(search=search, is_active=is_active, is_superuser=is_superuser, sort_by=sort_by,
                       sort_order=sort_order, per_page=per_page)
        return self._page("/users", User, params, page)

    @operation("get_user")
    async def get(self, user_id: str) -> User:
        """One user (superuser, or yourself)."""
        return await self._get(_path(user_id), User)

    @operation("create_user")
    async def create(self, *, email: str, name: str | NotGiven = NOT_GIVEN,
                     password: Optional[str] | NotGiven = NOT_GIVEN, idempotency_key: Optional[str] = None) -> User:
        """Create a user (superuser)."""
        body = UserCreate(**given({"email": email, "name": name, "password": password})).body()
        return await self._send("POST", "/users", User, json=body, idempotency_key=idempotency_key)

    @operation("update_user")
    async def update(self, user_id: str, *, name: str | NotGiven = NOT_GIVEN, timezone: str | NotGiven = NOT_GIVEN,
                     is_active: bool | NotGiven = NOT_GIVEN, is_superuser: bool | NotGiven = NOT_GIVEN) -> User:
        """Change a user; `is_active`/`is_superuser` need a superuser."""
        body = update_body(name=name, timezone=timezone, is_active=is_active, is_superuser=is_superuser)
        return await self._send("PATCH", _path(user_id), User, json=body)

    @operation("deactivate_user")
    async def deactivate(self, user_id: str) -> None:
        """Deactivate a user (superuser)."""
        await self._send("DELETE", _path(user_id), None)
