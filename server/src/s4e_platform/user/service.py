"""User rules: profiles, instance administration, deactivation (api.md 2.2)."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from s4e_platform.auth import service as auth_service
from s4e_platform.auth.models import ApiKey, OAuthClient, User
from s4e_platform.auth.principal import Principal
from s4e_platform.errors import AlreadyExists, Forbidden, InvalidState, NotFound
from s4e_platform.kit.clock import utcnow
from s4e_platform.kit.ids import parse_id
from s4e_platform.kit.text import like_escape
from s4e_platform.user.schemas import UserCreate, UserMeUpdate, UserUpdate
from s4e_platform.workspace.models import Membership, Workspace

SORTS = {"created_at": User.created_at, "email": User.email, "name": User.name,
         "last_login_at": User.last_login_at}


def to_read(user: User) -> dict:
    return {"id": user.id, "email": user.email, "name": user.name or "", "timezone": user.timezone or "UTC",
            "is_active": user.is_active, "is_superuser": user.is_superuser, "mfa_enabled": bool(user.totp_enabled),
            "has_password": user.password_hash is not None, "created_at": user.created_at,
            "last_login_at": user.last_login_at}


def workspaces(session: Session, user_id: str) -> list[dict]:
    """The user's workspaces with their role, first joined first (the default workspace leads)."""
    rows = session.execute(
        select(Workspace.id, Workspace.name, Membership.role)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == user_id)
        .order_by(Membership.joined_at, Membership.id)).all()
    return [{"id": r.id, "name": r.name, "role": r.role} for r in rows]


def get(session: Session, user_id: str) -> User:
    canon = parse_id(user_id, "usr")
    user = session.get(User, canon) if canon else None
    if user is None:
        raise NotFound("User not found")
    return user


def current(session: Session, principal: Principal) -> User:
    user = session.get(User, principal.user_id) if principal.user_id else None
    if user is None:
        raise NotFound("User not found")
    return user


def visible_to(session: Session, principal: Principal, user_id: str) -> User:
    """Superusers see everyone; others only themselves (403 otherwise, whether or not the id exists)."""
    canon = parse_id(user_id, "usr")
    if not principal.is_superuser and canon != principal.user_id:
        raise Forbidden("Only an instance superuser can access other users", code="forbidden")
    return get(session, user_id)


def list_statement(*, search: str | None, is_active: bool | None, is_superuser: bool | None):
    stmt = select(User)
    if search:
        pattern = f"%{like_escape(search.lower())}%"
        stmt = stmt.where(or_(func.lower(User.email).like(pattern, escape="\\"),
                              func.lower(User.name).like(pattern, escape="\\")))
    if is_active is not None:
        stmt = stmt.where(User.is_active.is_(is_active))
    if is_superuser is not None:
        stmt = stmt.where(User.is_superuser.is_(is_superuser))
    return stmt


def create(session: Session, body: UserCreate) -> User:
    if auth_service.user_by_email(session, body.email) is not None:
        raise AlreadyExists("A user with this email exists", details={"email": body.email})
    if body.password is not None:
        auth_service.check_password_policy(body.password)
    return auth_service.create_user(session, email=body.email, password=body.password, name=body.name)


def update_profile(user: User, body: UserMeUpdate) -> User:
    fields = body.model_fields_set
    if "name" in fields:
        user.name = body.name or ""
    if "timezone" in fields:
        user.timezone = body.timezone
    return user


def _other_active_superusers(session: Session, user_id: str) -> int:
    return session.execute(select(func.count()).select_from(User).where(
        User.is_superuser.is_(True), User.is_active.is_(True), User.id != user_id)).scalar_one()


def _keep_a_superuser(session: Session, user: User) -> None:
    # The instance must keep one active superuser, or nobody could ever manage users again.
    if user.is_superuser and user.is_active and _other_active_superusers(session, user.id) == 0:
        raise InvalidState("This is the last active superuser; make another user superuser first")


def update(session: Session, principal: Principal, user: User, body: UserUpdate) -> User:
    fields = body.model_fields_set
    admin_fields = sorted(fields & {"is_active", "is_superuser"})
    if admin_fields and not principal.is_superuser:
        raise Forbidden(f"Only an instance superuser can set {', '.join(admin_fields)}", code="forbidden")
    if ("is_superuser" in fields and body.is_superuser is False) or ("is_active" in fields and not body.is_active):
        _keep_a_superuser(session, user)
    update_profile(user, body)
    if "is_superuser" in fields:
        user.is_superuser = bool(body.is_superuser)
    if "is_active" in fields and body.is_active != user.is_active:
        user.is_active = bool(body.is_active)
        if not user.is_active:
            auth_service.revoke_sessions(session, user.id)
    return user


def deactivate(session: Session, user: User) -> None:
    """Deactivate: sessions deleted, API keys and OAuth clients revoked; rows and history stay."""
    _keep_a_superuser(session, user)
    now = utcnow()
    user.is_active = False
    auth_service.revoke_sessions(session, user.id)
    session.execute(sql_update(ApiKey).where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))
                    .values(revoked_at=now))
    session.execute(sql_update(OAuthClient).where(OAuthClient.created_by == user.id, OAuthClient.revoked_at.is_(None))
                    .values(revoked_at=now))



def describe(session: Session, principal: Principal) -> dict:
    """GET /auth/me: who is calling, in which workspace, with what."""
    workspace = session.get(Workspace, principal.workspace_id) if principal.workspace_id else None
    return {"user": to_read(current(session, principal)),
            "workspace": {"id": workspace.id, "name": workspace.name} if workspace else None,
            "role": principal.role, "scopes": sorted(principal.scopes),
            "auth_method": "session" if principal.via_session else principal.type,
            "key_id": principal.key_id, "client_id": principal.client_id}
