"""User endpoints (api.md 2.2): own profile, instance user administration."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Response

from s4e_platform.auth.dependencies import AnyPrincipal, DbSession, SuperPrincipal
from s4e_platform.auth.models import User
from s4e_platform.kit.pagination import PageParams, order, page_params, paginate
from s4e_platform.kit.router import api_router, conflict
from s4e_platform.kit.schemas import Envelope, ListEnvelope
from s4e_platform.user import service
from s4e_platform.user.schemas import UserCreate, UserMeUpdate, UserRead, UserUpdate

router = api_router(tags=["users"])
UserId = Annotated[str, Path(description="User id (usr_...)", max_length=64)]
BoolParam = Annotated[str | None, Query(pattern="^(true|false)$", description="true or false")]


def _bool(value: str | None) -> bool | None:
    return None if value is None else value == "true"


@router.get("/users/me", response_model=Envelope[UserRead], operation_id="get_own_profile")
def get_own_profile(principal: AnyPrincipal, session: DbSession):
    """Your own user profile."""
    return {"data": service.to_read(service.current(session, principal)), "meta": {}}


@router.patch("/users/me", response_model=Envelope[UserRead], operation_id="update_own_profile")
def update_own_profile(body: UserMeUpdate, principal: AnyPrincipal, session: DbSession):
    """Change your name or time zone."""
    user = service.update_profile(service.current(session, principal), body)
    return {"data": service.to_read(user), "meta": {}}


@router.get("/users", response_model=ListEnvelope[UserRead], operation_id="list_users")
def list_users(
    principal: SuperPrincipal,
    session: DbSession,
    paging: Annotated[PageParams, Depends(page_params)],
    search: Annotated[str | None, Query(max_length=256, pattern=r"^[^\x00-\x1f\x7f]*$",
                                        description="Email or name contains")] = None,
    is_active: BoolParam = None,
    is_superuser: BoolParam = None,
):
    """List every user of the instance."""
    stmt = service.list_statement(search=search, is_active=_bool(is_active), is_superuser=_bool(is_superuser))
    rows, meta = paginate(session, order(stmt, paging, service.SORTS, "created_at", User.id), paging)
    return {"data": [service.to_read(u) for u in rows], "meta": meta}


@router.post("/users", response_model=Envelope[UserRead], status_code=201, operation_id="create_user",
             responses=conflict("A user with this email exists"))
def create_user(body: UserCreate, principal: SuperPrincipal, session: DbSession, response: Response):
    """Create a user (without a password the user cannot sign in until one is set)."""
    user = service.create(session, body)
    response.headers["Location"] = f"/api/v1/users/{user.id}"
    return {"data": service.to_read(user), "meta": {}}


@router.get("/users/{user_id}", response_model=Envelope[UserRead], operation_id="get_user")
def get_user(user_id: UserId, principal: AnyPrincipal, session: DbSession):
    """Get a user (superuser, or yourself)."""
    return {"data": service.to_read(service.visible_to(session, principal, user_id)), "meta": {}}


@router.patch("/users/{user_id}", response_model=Envelope[UserRead], operation_id="update_user",
              responses=conflict("Would leave the instance without an active superuser"))
def update_user(user_id: UserId, body: UserUpdate, principal: AnyPrincipal, session: DbSession):
    """Update a user; only a superuser may set is_active and is_superuser."""
    user = service.update(session, principal, service.visible_to(session, principal, user_id), body)
    return {"data": service.to_read(user), "meta": {}}


@router.delete("/users/{user_id}", status_code=204, operation_id="deactivate_user",
               responses=conflict("Would leave the instance without an active superuser"))
def deactivate_user(user_id: UserId, principal: SuperPrincipal, session: DbSession):
    """Deactivate a user: sessions ended, API keys and OAuth clients revoked, history kept."""
    service.deactivate(session, service.get(session, user_id))
    return Response(status_code=204)
