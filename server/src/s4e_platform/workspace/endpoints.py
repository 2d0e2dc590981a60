"""Workspace endpoints (api.md 2.2): workspaces, members, invitations, and accepting an invitation."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request, Response

from s4e_platform.auth.dependencies import DbSession, _mark, any_principal, authenticate, public
from s4e_platform.auth.principal import Principal
from s4e_platform.errors import validation_error
from s4e_platform.kit.pagination import PageParams, order, page_params, paginate
from s4e_platform.kit.router import api_router, conflict
from s4e_platform.kit.schemas import Envelope, ListEnvelope
from s4e_platform.workspace import members, service
from s4e_platform.workspace.dependencies import WorkspaceAdmin, WorkspaceMember
from s4e_platform.workspace.models import Invitation, Membership, Workspace
from s4e_platform.workspace.schemas import (
    InvitationAccept,
    InvitationAccepted,
    InvitationCreated,
    InvitationRead,
    MemberAdd,
    MemberRead,
    MemberUpdate,
    WorkspaceCreate,
    WorkspaceRead,
    WorkspaceSummary,
    WorkspaceUpdate,
)

router = api_router(tags=["workspaces"])
AnyPrincipal = Annotated[Principal, Depends(any_principal)]
UserId = Annotated[str, Path(description="User id (usr_...)", max_length=64)]
InvitationId = Annotated[str, Path(description="Invitation id (inv_...)", max_length=64)]


def _creator(request: Request, session: DbSession) -> Principal:
    """A superuser, or any user when the instance allows everyone to create workspaces."""
    principal = authenticate(request, session)
    service.check_may_create(principal)
    return principal


Creator = Annotated[Principal, Depends(_mark(_creator, "superuser"))]


@router.get("/workspaces", response_model=ListEnvelope[WorkspaceSummary], operation_id="list_workspaces")
def list_workspaces(principal: AnyPrincipal, session: DbSession,
                    paging: Annotated[PageParams, Depends(page_params)]):
    """List the workspaces I belong to, with my role in each."""
    stmt = order(service.list_stmt(principal), paging, service.SORTS, "created_at", Workspace.id)
    rows, meta = paginate(session, stmt, paging)
    roles = service.roles(session, principal.user_id, [w.id for w in rows])
    return {"data": [service.to_summary(w, roles[w.id]) for w in rows], "meta": meta}


@router.post("/workspaces", response_model=Envelope[WorkspaceRead], status_code=201,
             operation_id="create_workspace")
def create_workspace(body: WorkspaceCreate, principal: Creator, session: DbSession, response: Response):
    """Create a workspace; I become its admin."""
    ws = service.create_workspace(session, name=body.name, creator_id=principal.user_id)
    response.headers["Location"] = f"/api/v1/workspaces/{ws.id}"
    return {"data": service.to_read(ws, "admin"), "meta": {}}


@router.get("/workspaces/{workspace_id}", response_model=Envelope[WorkspaceRead], operation_id="get_workspace")
def get_workspace(access: WorkspaceMember):
    """Get a workspace with its settings."""
    return {"data": service.to_read(access.workspace, access.principal.role), "meta": {}}


@router.patch("/workspaces/{workspace_id}", response_model=Envelope[WorkspaceRead], operation_id="update_workspace")
def update_workspace(body: WorkspaceUpdate, access: WorkspaceAdmin, session: DbSession):
    """Rename a workspace or change its settings (only the settings sent change)."""
    ws = service.update_workspace(session, access.principal, access.workspace, body)
    return {"data": service.to_read(ws, access.principal.role), "meta": {}}


@router.delete("/workspaces/{workspace_id}", status_code=204, operation_id="delete_workspace")
def delete_workspace(access: WorkspaceAdmin, session: DbSession,
                     confirm: Annotated[str, Query(max_length=256, description="The exact workspace name")]):
    """Delete a workspace and all its data; `confirm` must repeat its name."""
    if confirm != access.workspace.name:
        raise validation_error("query.confirm", "confirm must equal the workspace name exactly", "mismatch")
    service.delete_workspace(session, access.workspace)
    return Response(status_code=204)


# Members ----------------------------------------------------------------------------------------------------

@router.get("/workspaces/{workspace_id}/members", response_model=ListEnvelope[MemberRead],
            operation_id="list_members")
def list_members(access: WorkspaceMember, session: DbSession, paging: Annotated[PageParams, Depends(page_params)]):
    """List members with role, join date and MFA status."""
    stmt = order(members.members_stmt(access.workspace.id), paging, members.MEMBER_SORTS, "joined_at",
                 Membership.id)
    rows, meta = paginate(session, stmt, paging)
    users = members.users_by_id(session, [m.user_id for m in rows])
    return {"data": [members.member_read(m, users[m.user_id]) for m in rows], "meta": meta}


@router.post("/workspaces/{workspace_id}/members", response_model=Envelope[MemberRead | InvitationCreated],
             status_code=201, operation_id="add_member", responses=conflict("Already a member"))
def add_member(body: MemberAdd, access: WorkspaceAdmin, session: DbSession, response: Response):
    """Add an existing user as a member, or invite an unknown email (the 7-day token is returned once)."""
    kind, data = members.add(session, access.principal, access.workspace.id, body)
    base = f"/api/v1/workspaces/{access.workspace.id}"
    response.headers["Location"] = (f"{base}/members/{data['user_id']}" if kind == "member"
                                    else f"{base}/invitations/{data['id']}")
    return {"data": data, "meta": {}}


@router.patch("/workspaces/{workspace_id}/members/{user_id}", response_model=Envelope[MemberRead],
              operation_id="update_member", responses=conflict("The last admin cannot be demoted"))
def update_member(user_id: UserId, body: MemberUpdate, access: WorkspaceAdmin, session: DbSession):
    """Change a member's role."""
    m, user = members.change_role(session, access.principal, access.workspace.id, user_id, body.role)
    return {"data": members.member_read(m, user), "meta": {}}


@router.delete("/workspaces/{workspace_id}/members/{user_id}", status_code=204, operation_id="remove_member",
               responses=conflict("The last admin cannot be removed"))
def remove_member(user_id: UserId, access: WorkspaceAdmin, session: DbSession):
    """Remove a member; their API keys and OAuth clients in this workspace are revoked."""
    members.remove(session, access.principal, access.workspace.id, user_id)
    return Response(status_code=204)


# Invitations ------------------------------------------------------------------------------------------------

@router.get("/workspaces/{workspace_id}/invitations", response_model=ListEnvelope[InvitationRead],
            operation_id="list_invitations")
def list_invitations(access: WorkspaceAdmin, session: DbSession,
                     paging: Annotated[PageParams, Depends(page_params)]):
    """List pending (not accepted, not expired) invitations."""
    stmt = order(members.pending_stmt(access.workspace.id), paging, members.INVITATION_SORTS, "created_at",
                 Invitation.id)
    rows, meta = paginate(session, stmt, paging)
    return {"data": [members.invitation_read(i) for i in rows], "meta": meta}


@router.delete("/workspaces/{workspace_id}/invitations/{invitation_id}", status_code=204,
               operation_id="cancel_invitation")
def cancel_invitation(invitation_id: InvitationId, access: WorkspaceAdmin, session: DbSession):
    """Cancel a pending invitation; its token stops working."""
    members.cancel(session, access.workspace.id, invitation_id)
    return Response(status_code=204)


@router.post("/auth/invitations/accept", response_model=Envelope[InvitationAccepted], status_code=201,
             operation_id="accept_invitation", dependencies=[Depends(public)],
             responses=conflict("An account with this email exists"))
def accept_invitation(body: InvitationAccept, session: DbSession, response: Response):
    """Accept an invitation: create my account and join the inviting workspace."""
    data = members.accept(session, body)
    response.headers["Location"] = f"/api/v1/workspaces/{data['workspace']['id']}/members/{data['user']['id']}"
    return {"data": data, "meta": {}}
