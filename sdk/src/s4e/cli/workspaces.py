"""`s4e workspaces ...`: workspaces, members and invitations."""

# No `from __future__ import annotations` here: on Python 3.9 Typer reads option declarations from the
# evaluated signature, so these annotations must be real objects (hence Optional[...] rather than `X | None`).

import json
from typing import Annotated, Optional

import typer

from s4e._operations import operation
from s4e._types import NOT_GIVEN
from s4e.cli.config import client
from s4e.cli.output import (
    AllOption,
    JsonOption,
    Output,
    PageOption,
    PerPageOption,
    QuietOption,
    SortOrderOption,
    YesOption,
    collect,
    confirm,
    given,
    handle_errors,
)
from s4e.models.workspace import Invitation, Role

app = typer.Typer(help="Workspaces, members and invitations.", no_args_is_help=True)

IdArg = Annotated[str, typer.Argument(help="Workspace id (wsp_...).")]
UserArg = Annotated[str, typer.Argument(help="Member's user id (usr_...).")]


@app.command("list")
@handle_errors
@operation("list_workspaces")
def list_workspaces(
    sort_by: Annotated[Optional[str], typer.Option("--sort-by", help="created_at or name.")] = None,
    sort_order: SortOrderOption = None,
    page: PageOption = 1,
    per_page: PerPageOption = None,
    all_pages: AllOption = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Workspaces I belong to, with my role."""
    with client() as c:
        pager = c.workspaces.list(sort_by=given(sort_by), sort_order=given(sort_order), page=page,
                                  per_page=given(per_page))
        items, caption = collect(pager, all_pages)
    Output(json_output, quiet).items(items, ["id", "name", "role", "created_at"], caption)


@app.command("get")
@handle_errors
@operation("get_workspace")
def get_workspace(workspace_id: IdArg, json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Show one workspace with its settings."""
    with client() as c:
        ws = c.workspaces.get(workspace_id)
    Output(json_output, quiet).item(ws)


@app.command("create")
@handle_errors
@operation("create_workspace")
def create_workspace(name: Annotated[str, typer.Argument(help="Display name.")], json_output: JsonOption = False,
                     quiet: QuietOption = False) -> None:
    """Create a workspace (you become its admin)."""
    with client() as c:
        ws = c.workspaces.create(name=name)
    Output(json_output, quiet).item(ws, ["id", "name", "role", "created_at"])


@app.command("update")
@handle_errors
@operation("update_workspace")
def update_workspace(
    workspace_id: IdArg,
    name: Annotated[Optional[str], typer.Option("--name", help="New name.")] = None,
    settings: Annotated[Optional[str], typer.Option("--settings", help="Settings to change, as a JSON object.")]
    = None,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Rename a workspace or change its settings (admin)."""
    parsed = NOT_GIVEN
    if settings is not None:
        try:
            parsed = json.loads(settings)
        except ValueError:
            raise typer.BadParameter("--settings must be a JSON object") from None
    with client() as c:
        ws = c.workspaces.update(workspace_id, name=NOT_GIVEN if name is None else name, settings=parsed)
    Output(json_output, quiet).item(ws)


@app.command("delete")
@handle_errors
@operation("delete_workspace")
def delete_workspace(
    workspace_id: IdArg,
    confirm_name: Annotated[str, typer.Option("--confirm", help="The workspace's exact name.")],
    yes: YesOption = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Delete a workspace and all its data (admin)."""
    confirm(f"Delete workspace {confirm_name!r} and ALL its data?", yes)
    with client() as c:
        c.workspaces.delete(workspace_id, confirm=confirm_name)
    Output(json_output, quiet).done(f"Deleted {workspace_id}", id=workspace_id, deleted=True)


@app.command("members")
@handle_errors
@operation("list_members")
def members(
    workspace_id: IdArg,
    sort_by: Annotated[Optional[str], typer.Option("--sort-by", help="joined_at, email or role.")] = None,
    sort_order: SortOrderOption = None,
    page: PageOption = 1,
    per_page: PerPageOption = None,
    all_pages: AllOption = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """List members."""
    with client() as c:
        pager = c.workspaces.members.list(workspace_id, sort_by=given(sort_by), sort_order=given(sort_order),
                                          page=page, per_page=given(per_page))
        items, caption = collect(pager, all_pages)
    Output(json_output, quiet).items(items, ["user_id", "email", "name", "role", "joined_at", "mfa_enabled"],
                                     caption, id_field="user_id")


@app.command("add-member")
@handle_errors
@operation("add_member")
def add_member(workspace_id: IdArg, email: Annotated[str, typer.Argument(help="Email of the user to add.")],
               role: Annotated[Role, typer.Option("--role", help="viewer, analyst, developer or admin.")],
               json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Add an existing user, or invite anyone else (the invitation token is printed once)."""
    with client() as c:
        result = c.workspaces.members.add(workspace_id, email=email, role=role)
    out = Output(json_output, quiet)
    if isinstance(result, Invitation):
        if out.quiet:
            typer.echo(result.token or result.id)
            return
        out.item(result)
        if not out.json:
            out.err.print(f"{email} has no account yet: give them the invitation token (valid 7 days).")
    elif out.quiet:
        typer.echo(result.user_id)
    else:
        out.item(result)


@app.command("set-role")
@handle_errors
@operation("update_member")
def set_role(workspace_id: IdArg, user_id: UserArg,
             role: Annotated[Role, typer.Option("--role", help="viewer, analyst, developer or admin.")],
             json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Change a member's role."""
    with client() as c:
        member = c.workspaces.members.update(workspace_id, user_id, role=role)
    out = Output(json_output, quiet)
    typer.echo(member.user_id) if out.quiet else out.item(member)


@app.command("remove-member")
@handle_errors
@operation("remove_member")
def remove_member(workspace_id: IdArg, user_id: UserArg,
                  yes: YesOption = False,
                  json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Remove a member from the workspace."""
    confirm(f"Remove {user_id} from {workspace_id}?", yes)
    with client() as c:
        c.workspaces.members.remove(workspace_id, user_id)
    Output(json_output, quiet).done(f"Removed {user_id}", user_id=user_id, removed=True)


@app.command("invitations")
@handle_errors
@operation("list_invitations")
def invitations(
    workspace_id: IdArg,
    sort_by: Annotated[Optional[str], typer.Option("--sort-by", help="created_at, email or expires_at.")] = None,
    sort_order: SortOrderOption = None,
    page: PageOption = 1,
    per_page: PerPageOption = None,
    all_pages: AllOption = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """List pending invitations (admin)."""
    with client() as c:
        pager = c.workspaces.invitations.list(workspace_id, sort_by=given(sort_by), sort_order=given(sort_order),
                                              page=page, per_page=given(per_page))
        items, caption = collect(pager, all_pages)
    Output(json_output, quiet).items(items, ["id", "email", "role", "invited_by", "expires_at"], caption)


@app.command("cancel-invitation")
@handle_errors
@operation("cancel_invitation")
def cancel_invitation(workspace_id: IdArg,
                      invitation_id: Annotated[str, typer.Argument(help="Invitation id (inv_...).")],
                      json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Cancel a pending invitation."""
    with client() as c:
        c.workspaces.invitations.cancel(workspace_id, invitation_id)
    Output(json_output, quiet).done(f"Cancelled {invitation_id}", id=invitation_id, cancelled=True)


@app.command("accept-invitation")
@handle_errors
@operation("accept_invitation")
def accept_invitation(
    token: Annotated[str, typer.Argument(help="The invitation token (s4e_inv_...) an admin gave you.")],
    name: Annotated[str, typer.Option("--name", help="Your display name.")],
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Accept an invitation: create your account (password prompted) and join the workspace. No API key needed;
    afterwards sign in to the console and create an API key for `s4e login`."""
    password = typer.prompt("Password (12-256 characters)", hide_input=True, confirmation_prompt=True, err=True)
    with client(require_key=False) as c:
        accepted = c.workspaces.invitations.accept(token=token, name=name, password=password)
    out = Output(json_output, quiet)
    if out.quiet:
        typer.echo(accepted.user.id)
        return
    out.item(accepted, ["user.id", "user.email", "user.name", "workspace.id", "workspace.name", "workspace.role"])
