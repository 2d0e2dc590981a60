"""`client.workspaces`: workspaces I belong to, their settings and deletion (api.md 2.2); members and
invitations in workspace_members.py."""

from __future__ import annotations

from typing import Any, Optional

from s4e._operations import operation
from s4e._types import NOT_GIVEN, NotGiven, given, path_segment, query
from s4e.models.workspace import Workspace, WorkspaceCreate, WorkspaceUpdate
from s4e.pagination import AsyncPage, SyncPage
from s4e.resources._base import AsyncResource, SyncResource
from s4e.resources.workspace_members import AsyncInvitations, AsyncMembers, Invitations, Members


def _path(workspace_id: str) -> str:
    return f"/workspaces/{path_segment(workspace_id, 'workspace_id')}"


def update_body(**fields: Any) -> dict[str, Any]:
    body = WorkspaceUpdate(**given(fields)).body()
    if not body:
        raise ValueError("update needs at least one field to change")
    return body


class Workspaces(SyncResource):
    """Workspaces (tenants)."""

    def __init__(self, transport: Any) -> None:
        super().__init__(transport)
        self.members = Members(transport)
        """Members of a workspace."""
        self.invitations = Invitations(transport)
        """Pending invitations of a workspace."""

    @operation("list_workspaces")
    def list(self, *, sort_by: str | NotGiven = NOT_GIVEN, sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
             per_page: int | NotGiven = NOT_GIVEN) -> SyncPage[Workspace]:
        """Workspaces I belong to, with my role, lazily across pages (`sort_by`: `created_at` or `name`)."""
        params = query(sort_by=sort_by, sort_order=sort_order, per_page=per_page)
        return self._page("/workspaces", Workspace, params, page)

    @operation("get_workspace")
    def get(self, workspace_id: str) -> Workspace:
        """One workspace including its settings."""
        return self._get(_path(workspace_id), Workspace)

    @operation("create_workspace")
    def create(self, *, name: str, idempotency_key: Optional[str] = None) -> Workspace:
        """Create a workspace (superuser, unless the server allows everyone); you become its admin."""
        body = WorkspaceCreate(name=name).body()
        return self._send("POST", "/workspaces", Workspace, json=body, idempotency_key=idempotency_key)

    @operation("update_workspace")
    def update(self, workspace_id: str, *, name: str | NotGiven = NOT_GIVEN,
               settings: dict[str, Any] | NotGiven = NOT_GIVEN) -> Workspace:
        """Rename, or change settings (keys sent merge; `severity_rules` is replaced whole). Admin."""
        return self._send("PATCH", _path(workspace_id), Workspace, json=update_body(name=name, settings=settings))

    @operation("delete_workspace")
    def delete(self, workspace_id: str, *, confirm: str) -> None:
        """Delete a workspace and all its data (admin); `confirm` must be its exact name."""
        self._send("DELETE", _path(workspace_id), None, params=query(confirm=confirm))


class AsyncWorkspaces(AsyncResource):
    """Workspaces (tenants), asyncio."""

    def __init__(self, transport: Any) -> None:
        super().__init__(transport)
        self.members = AsyncMembers(transport)
        """Members of a workspace."""
        self.invitations = AsyncInvitations(transport)
        """Pending invitations of a workspace."""

    @operation("list_workspaces")
    def list(self, *, sort_by: str | NotGiven = NOT_GIVEN, sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
             per_page: int | NotGiven = NOT_GIVEN) -> AsyncPage[Workspace]:
        """Workspaces I belong to, with my role, lazily across pages (`sort_by`: `created_at` or `name`)."""
        params = query(sort_by=sort_by, sort_order=sort_order, per_page=per_page)
        return self._page("/workspaces", Workspace, params, page)

    @operation("get_workspace")
    async def get(self, workspace_id: str) -> Workspace:
        """One workspace including its settings."""
        return await self._get(_path(workspace_id), Workspace)

    @operation("create_workspace")
    async def create(self, *, name: str, idempotency_key: Optional[str] = None) -> Workspace:
        """Create a workspace; you become its admin."""
        body = WorkspaceCreate(name=name).body()
        return await self._send("POST", "/workspaces", Workspace, json=body, idempotency_key=idempotency_key)

    @operation("update_workspace")
    async def update(self, workspace_id: str, *, name: str | NotGiven = NOT_GIVEN,
                     settings: dict[str, Any] | NotGiven = NOT_GIVEN) -> Workspace:
        """Rename, or change settings. Admin."""
        return await self._send("PATCH", _path(workspace_id), Workspace,
                                json=update_body(name=name, settings=settings))

    @operation("delete_workspace")
    async def delete(self, workspace_id: str, *, confirm: str) -> None:
        """Delete a workspace and all its data (admin); `confirm` must be its exact name."""
        await self._send("DELETE", _path(workspace_id), None, params=query(confirm=confirm))
