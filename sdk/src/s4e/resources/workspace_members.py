"""`client.workspaces.members` and `.invitations` (api.md 2.2)."""

from __future__ import annotations

from typing import Optional, Union

import httpx

from s4e._operations import operation
from s4e._transport import envelope
from s4e._types import NOT_GIVEN, NotGiven, path_segment, query
from s4e.models.workspace import (
    Invitation,
    InvitationAccept,
    InvitationAccepted,
    Member,
    MemberAdd,
    MemberUpdate,
    Role,
)
from s4e.pagination import AsyncPage, SyncPage
from s4e.resources._base import AsyncResource, SyncResource, parse


def _path(workspace_id: str, suffix: str, item: str | None = None, what: str = "user_id") -> str:
    path = f"/workspaces/{path_segment(workspace_id, 'workspace_id')}/{suffix}"
    return path if item is None else f"{path}/{path_segment(item, what)}"


def member_or_invitation(response: httpx.Response) -> Union[Member, Invitation]:
    """Adding an existing user returns the member; anyone else gets an invitation (with its token)."""
    data = envelope(response)["data"]
    if isinstance(data, dict) and "user_id" in data:
        return parse(Member, data, response)
    return parse(Invitation, data, response)


class Members(SyncResource):
    """Members of a workspace."""

    @operation("list_members")
    def list(self, workspace_id: str, *, sort_by: str | NotGiven = NOT_GIVEN,
             sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
             per_page: int | NotGiven = NOT_GIVEN) -> SyncPage[Member]:
        """Members with role, join date and MFA status, lazily across pages (`sort_by`: `joined_at`, `email`
        or `role`)."""
        params = query(sort_by=sort_by, sort_order=sort_order, per_page=per_page)
        return self._page(_path(workspace_id, "members"), Member, params, page)

    @operation("add_member")
    def add(self, workspace_id: str, *, email: str, role: Role,
            idempotency_key: Optional[str] = None) -> Union[Member, Invitation]:
        """Add an existing user by email, or invite anyone else (7-day token in the returned Invitation)."""
        response = self._transport.request("POST", _path(workspace_id, "members"),
                                           json=MemberAdd(email=email, role=role).body(),
                                           idempotency_key=idempotency_key)
        return member_or_invitation(response)

    @operation("update_member")
    def update(self, workspace_id: str, user_id: str, *, role: Role) -> Member:
        """Change a member's role (the last admin cannot be demoted: ConflictError)."""
        return self._send("PATCH", _path(workspace_id, "members", user_id), Member,
                          json=MemberUpdate(role=role).body())

    @operation("remove_member")
    def remove(self, workspace_id: str, user_id: str) -> None:
        """Remove a member (their keys in this workspace stop working)."""
        self._send("DELETE", _path(workspace_id, "members", user_id), None)


class Invitations(SyncResource):
    """Pending invitations of a workspace (admin)."""

    @operation("list_invitations")
    def list(self, workspace_id: str, *, sort_by: str | NotGiven = NOT_GIVEN,
             sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
             per_page: int | NotGiven = NOT_GIVEN) -> SyncPage[Invitation]:
        """Pending invitations, lazily across pages (`sort_by`: `created_at`, `email` or `expires_at`)."""
        params = query(sort_by=sort_by, sort_order=sort_order, per_page=per_page)
        return self._page(_path(workspace_id, "invitations"), Invitation, params, page)

    @operation("cancel_invitation")
    def cancel(self, workspace_id: str, invitation_id: str) -> None:
        """Cancel an invitation (its token stops working)."""
        self._send("DELETE", _path(workspace_id, "invitations", invitation_id, "invitation_id"), None)

    @operation("accept_invitation")
    def accept(self, *, token: str, name: str, password: str,
               idempotency_key: Optional[str] = None) -> InvitationAccepted:
        """Accept an invitation as the invitee: creates the account (`password` 12-256 characters) and joins the
        workspace. Needs no credential. ConflictError when an account with the invited email exists (ask an admin
        to add it as a member instead); ValidationError at `$.token` when it is unknown, used or expired."""
        body = InvitationAccept(token=token, name=name, password=password).body()
        return self._send("POST", "/auth/invitations/accept", InvitationAccepted, json=body,
                          idempotency_key=idempotency_key)


class AsyncMembers(AsyncResource):
    """Members of a workspace (asyncio)."""

    @operation("list_members")
    def list(self, workspace_id: str, *, sort_by: str | NotGiven = NOT_GIVEN,
             sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
             per_page: int | NotGiven = NOT_GIVEN) -> AsyncPage[Member]:
        """Members with role, join date and MFA status, lazily across pages (`sort_by`: `joined_at`, `email`
        or `role`)."""
        params = query(sort_by=sort_by, sort_order=sort_order, per_page=per_page)
        return self._page(_path(workspace_id, "members"), Member, params, page)

    @operation("add_member")
    async def add(self, workspace_id: str, *, email: str, role: Role,
                  idempotency_key: Optional[str] = None) -> Union[Member, Invitation]:
        """Add an existing user by email, or invite anyone else."""
        response = await self._transport.request("POST", _path(workspace_id, "members"),
                                                 json=MemberAdd(email=email, role=role).body(),
                                                 idempotency_key=idempotency_key)
        return member_or_invitation(response)

    @operation("update_member")
    async def update(self, workspace_id: str, user_id: str, *, role: Role) -> Member:
        """Change a member's role."""
        return await self._send("PATCH", _path(workspace_id, "members", user_id), Member,
                                json=MemberUpdate(role=role).body())

    @operation("remove_member")
    async def remove(self, workspace_id: str, user_id: str) -> None:
        """Remove a member."""
        await self._send("DELETE", _path(workspace_id, "members", user_id), None)


class AsyncInvitations(AsyncResource):
    """Pending invitations of a workspace (asyncio)."""

    @operation("list_invitations")
    def list(self, workspace_id: str, *, sort_by: str | NotGiven = NOT_GIVEN,
             sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
             per_page: int | NotGiven = NOT_GIVEN) -> AsyncPage[Invitation]:
        """Pending invitations, lazily across pages (`sort_by`: `created_at`, `email` or `expires_at`)."""
        params = query(sort_by=sort_by, sort_order=sort_order, per_page=per_page)
        return self._page(_path(workspace_id, "invitations"), Invitation, params, page)

    @operation("cancel_invitation")
    async def cancel(self, workspace_id: str, invitation_id: str) -> None:
        """Cancel an invitation."""
        await self._send("DELETE", _path(workspace_id, "invitations", invitation_id, "invitation_id"), None)

    @operation("accept_invitation")
    async def accept(self, *, token: str, name: str, password: str,
                     idempotency_key: Optional[str] = None) -> InvitationAccepted:
        """Accept an invitation as the invitee: creates the account and joins the workspace (no credential)."""
        body = InvitationAccept(token=token, name=name, password=password).body()
        return await self._send("POST", "/auth/invitations/accept", InvitationAccepted, json=body,
                                idempotency_key=idempotency_key)
