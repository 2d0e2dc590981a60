"""Access to `/workspaces/{workspace_id}/...`: the path names the workspace, not the X-S4E-Workspace header.

Checks, in order (api.md 1.6): credential (401); membership of the path workspace, else 404 (a key or OAuth
token must be bound to that very workspace); the role the caller holds there (403).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import Depends, Path, Request

from s4e_platform.auth import scopes as scope_rules
from s4e_platform.auth.dependencies import DbSession, _mark, authenticate
from s4e_platform.auth.principal import Principal
from s4e_platform.errors import InsufficientScope, NotFound
from s4e_platform.kit.ids import parse_id
from s4e_platform.workspace import service
from s4e_platform.workspace.models import Workspace

WorkspaceId = Annotated[str, Path(description="Workspace id (wsp_...)", max_length=64)]


@dataclass
class WorkspaceAccess:
    workspace: Workspace
    principal: Principal  # role and scopes as held in this workspace


def _access(request: Request, session, workspace_id: str, *, need_admin: bool) -> WorkspaceAccess:
    principal = authenticate(request, session)
    canon = parse_id(workspace_id, "wsp")
    ws = session.get(Workspace, canon) if canon else None
    if ws is None:
        raise NotFound("Workspace not found")
    if principal.via_session:
        member = service.membership(session, ws.id, principal.user_id)
        if member is None:
            raise NotFound("Workspace not found")
        principal = replace(principal, workspace_id=ws.id, role=member.role,
                            scopes=scope_rules.effective(None, member.role))
    elif principal.workspace_id != ws.id:
        raise NotFound("Workspace not found")
    if need_admin and not principal.is_admin:
        raise InsufficientScope(["admin"])
    return WorkspaceAccess(workspace=ws, principal=principal)


def _member(request: Request, session: DbSession, workspace_id: WorkspaceId) -> WorkspaceAccess:
    return _access(request, session, workspace_id, need_admin=False)


def _admin(request: Request, session: DbSession, workspace_id: WorkspaceId) -> WorkspaceAccess:
    return _access(request, session, workspace_id, need_admin=True)


WorkspaceMember = Annotated[WorkspaceAccess, Depends(_mark(_member, "member"))]
WorkspaceAdmin = Annotated[WorkspaceAccess, Depends(_mark(_admin, "admin"))]
