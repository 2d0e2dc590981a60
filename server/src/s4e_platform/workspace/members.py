"""Workspace members and invitations (api.md 2.2): add, change role, remove, invite, accept.

A workspace always keeps at least one admin. Changes that could remove the last one lock the workspace row
first (PostgreSQL), so two admins demoting each other concurrently cannot both succeed; SQLite writers are
serialised already.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from s4e_platform.auth import keys, oauth
from s4e_platform.auth import service as auth_service
from s4e_platform.auth.models import User
from s4e_platform.auth.principal import Principal
from s4e_platform.errors import AlreadyExists, Conflict, NotFound, validation_error
from s4e_platform.event.audit import audit
from s4e_platform.kit.clock import utcnow
from s4e_platform.kit.crypto import random_base62, sha256_hex
from s4e_platform.kit.ids import new_id, parse_id
from s4e_platform.workspace import service as workspace_service
from s4e_platform.workspace.models import Invitation, Membership, Workspace
from s4e_platform.workspace.schemas import InvitationAccept, MemberAdd

INVITATION_LIFETIME = timedelta(days=7)
INVITATION_TOKEN_PREFIX = "s4e_inv_"
MEMBER_SORTS = {"joined_at": Membership.joined_at, "email": User.email, "role": Membership.role}
INVITATION_SORTS = {"created_at": Invitation.created_at, "email": Invitation.email,
                    "expires_at": Invitation.expires_at}


def member_read(m: Membership, user: User) -> dict:
    return {"user_id": user.id, "email": user.email, "name": user.name or "", "role": m.role,
            "joined_at": m.joined_at, "mfa_enabled": bool(user.totp_enabled)}


def invitation_read(inv: Invitation) -> dict:
    return {"id": inv.id, "email": inv.email, "role": inv.role, "invited_by": inv.invited_by,
            "created_at": inv.created_at, "expires_at": inv.expires_at}


def members_stmt(workspace_id: str) -> Select:
    return select(Membership).join(User, User.id == Membership.user_id).where(
        Membership.workspace_id == workspace_id)


def users_by_id(session: Session, ids: list[str]) -> dict[str, User]:
    if not ids:
        return {}
    return {u.id: u for u in session.execute(select(User).where(User.id.in_(ids))).scalars()}


def _lock_workspace(session: Session, workspace_id: str) -> None:
    session.execute(select(Workspace.id).where(Workspace.id == workspace_id).with_for_update())


def _admin_count(session: Session, workspace_id: str) -> int:
    return session.execute(select(func.count()).select_from(Membership).where(
        Membership.workspace_id == workspace_id, Membership.role == "admin")).scalar_one()


def get_member(session: Session, workspace_id: str, user_id: str) -> tuple[Membership, User]:
    canon = parse_id(user_id, "usr")
    m = workspace_service.membership(session, workspace_id, canon) if canon else None
    user = session.get(User, canon) if m is not None else None
    if m is None or user is None:
        raise NotFound("Member not found")
    return m, user


def add(session: Session, principal: Principal, workspace_id: str, body: MemberAdd) -> tuple[str, dict]:
    """An existing user joins at once -> ("member", read); an unknown email -> ("invitation", read + token)."""
    user = auth_service.user_by_email(session, body.email)
    if user is None:
        return "invitation", invite(session, principal, workspace_id, body.email, body.role)
    if workspace_service.is_member(session, workspace_id, user.id):
        raise AlreadyExists("This user is already a member", details={"user_id": user.id})
    if not user.is_active:
        raise Conflict("This account is deactivated")
    m = workspace_service.add_member(session, workspace_id, user.id, body.role)
    audit(session, event="audit.member_added", workspace_id=workspace_id, actor=principal.actor(),
          target_type="user", target_id=user.id, details={"email": user.email, "role": m.role})
    return "member", member_read(m, user)


def change_role(session: Session, principal: Principal, workspace_id: str, user_id: str,
                role: str) -> tuple[Membership, User]:
    _lock_workspace(session, workspace_id)
    m, user = get_member(session, workspace_id, user_id)
    if m.role == role:
        return m, user
    if m.role == "admin" and _admin_count(session, workspace_id) <= 1:
        raise Conflict("The last admin of a workspace cannot be demoted; make someone else admin first")
    old = m.role
    m.role = role
    session.flush()
    audit(session, event="audit.role_changed", workspace_id=workspace_id, actor=principal.actor(),
          target_type="user", target_id=user.id, details={"email": user.email, "old_role": old, "new_role": role})
    return m, user


def remove(session: Session, principal: Principal, workspace_id: str, user_id: str) -> None:
    """Remove a member; their API keys and OAuth clients in this workspace are revoked with them."""
    _lock_workspace(session, workspace_id)
    m, user = get_member(session, workspace_id, user_id)
    if m.role == "admin" and _admin_count(session, workspace_id) <= 1:
        raise Conflict("The last admin of a workspace cannot be removed")
    role = m.role
    session.delete(m)
    session.flush()
    revoked = keys.revoke_for_member(session, principal, workspace_id, user.id)
    oauth.revoke_for_member(session, principal, workspace_id, user.id)
    audit(session, event="audit.member_removed", workspace_id=workspace_id, actor=principal.actor(),
          target_type="user", target_id=user.id, details={"email": user.email, "role": role,
                                                          "api_keys_revoked": revoked})


# Invitations ------------------------------------------------------------------------------------------------

def invite(session: Session, principal: Principal, workspace_id: str, email: str, role: str) -> dict:
    """A 7-day invitation; the token is stored hashed and returned once. It replaces a pending one."""
    email = auth_service.normalize_email(email)
    session.execute(delete(Invitation).where(Invitation.workspace_id == workspace_id, Invitation.email == email,
                                             Invitation.accepted_at.is_(None)))
    token = INVITATION_TOKEN_PREFIX + random_base62(40)
    now = utcnow()
    inv = Invitation(id=new_id("inv"), workspace_id=workspace_id, email=email, role=role,
                     token_hash=sha256_hex(token), invited_by=principal.user_id, created_at=now,
                     expires_at=now + INVITATION_LIFETIME)
    session.add(inv)
    session.flush()
    return {**invitation_read(inv), "token": token}


def pending_stmt(workspace_id: str) -> Select:
    return select(Invitation).where(Invitation.workspace_id == workspace_id, Invitation.accepted_at.is_(None),
                                    Invitation.expires_at > utcnow())


def cancel(session: Session, workspace_id: str, invitation_id: str) -> None:
    canon = parse_id(invitation_id, "inv")
    inv = session.execute(pending_stmt(workspace_id).where(Invitation.id == canon)).scalar_one_or_none() \
        if canon else None
    if inv is None:
        raise NotFound("Invitation not found")
    session.delete(inv)
    session.flush()


def accept(session: Session, body: InvitationAccept) -> dict:
    """Create the invitee's account and membership. The token is single use and valid for 7 days."""
    inv = session.execute(select(Invitation).where(Invitation.token_hash == sha256_hex(body.token))
                          .with_for_update()).scalar_one_or_none()
    if inv is None or inv.accepted_at is not None or inv.expires_at <= utcnow():
        raise validation_error("$.token", "invitation invalid or expired", "invalid_or_expired")
    if auth_service.user_by_email(session, inv.email) is not None:
        raise AlreadyExists("An account with this email exists: log in, and ask an admin of the workspace to "
                            "add you as a member")
    auth_service.check_password_policy(body.password)
    user = auth_service.create_user(session, email=inv.email, password=body.password, name=body.name.strip())
    m = workspace_service.add_member(session, inv.workspace_id, user.id, inv.role)
    inv.accepted_at = utcnow()
    ws = session.get(Workspace, inv.workspace_id)
    session.flush()
    audit(session, event="audit.member_added", workspace_id=inv.workspace_id,
          actor={"type": "user", "id": user.id, "name": user.email}, target_type="user", target_id=user.id,
          details={"email": user.email, "role": m.role, "invitation_id": inv.id, "invited_by": inv.invited_by})
    return {"user": {"id": user.id, "email": user.email, "name": user.name},
            "workspace": {"id": ws.id, "name": ws.name, "role": m.role}}
