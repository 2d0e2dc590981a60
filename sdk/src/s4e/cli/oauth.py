"""`s4e oauth clients ...` (admin) and `s4e oauth token`: OAuth 2.0 client credentials."""

# No `from __future__ import annotations` here: on Python 3.9 Typer reads option declarations from the
# evaluated signature, so these annotations must be real objects (hence Optional[...] rather than `X | None`).

import os
from datetime import datetime
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
from s4e.models.key import AssetRestrictionInput, Tier

app = typer.Typer(help="OAuth 2.0 client credentials: clients (admin) and access tokens.", no_args_is_help=True)
clients_app = typer.Typer(help="OAuth clients of the workspace (admin).", no_args_is_help=True)
app.add_typer(clients_app, name="clients")

COLUMNS = ["id", "name", "scopes", "tier", "expires_at", "last_used_at", "revoked_at"]
DETAIL = ["id", "name", "description", "scopes", "tier", "asset_restriction", "expires_at", "last_used_at",
          "revoked_at", "created_at", "created_by"]
IdArg = Annotated[str, typer.Argument(help="OAuth client id (cli_...).")]


def _print_secret(out: Output, created, fields: list[str]) -> None:
    if out.quiet:
        typer.echo(created.client_secret)
        return
    out.item(created, fields)
    if not out.json:
        out.err.print("Store the client secret now: it is not shown again.")


@clients_app.command("list")
@handle_errors
@operation("list_oauth_clients")
def list_clients(
    sort_by: Annotated[Optional[str], typer.Option("--sort-by", help="created_at, name or last_used_at.")] = None,
    sort_order: SortOrderOption = None,
    page: PageOption = 1,
    per_page: PerPageOption = None,
    all_pages: AllOption = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """List the workspace's OAuth clients."""
    with client() as c:
        pager = c.oauth.clients.list(sort_by=given(sort_by), sort_order=given(sort_order), page=page,
                                     per_page=given(per_page))
        items, caption = collect(pager, all_pages)
    Output(json_output, quiet).items(items, COLUMNS, caption)


@clients_app.command("get")
@handle_errors
@operation("get_oauth_client")
def get_client(client_id: IdArg, json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Show one OAuth client (never its secret)."""
    with client() as c:
        found = c.oauth.clients.get(client_id)
    Output(json_output, quiet).item(found, DETAIL)


@clients_app.command("create")
@handle_errors
@operation("create_oauth_client")
def create_client(
    name: Annotated[str, typer.Argument(help="Display name.")],
    scope: Annotated[list[str], typer.Option("--scope", "-s", help="Scope its tokens may carry (repeat).")],
    description: Annotated[Optional[str], typer.Option("--description", help="Free text.")] = None,
    expires_at: Annotated[Optional[datetime], typer.Option("--expires-at", help="Expiry (ISO 8601, UTC).")] = None,
    asset_id: Annotated[Optional[list[str]], typer.Option("--asset-id", help="Restrict to asset (repeat).")] = None,
    tag: Annotated[Optional[list[str]], typer.Option("--tag", help="Restrict to assets with tag (repeat).")] = None,
    tier: Annotated[Optional[Tier], typer.Option("--tier", help="standard, premium or enterprise.")] = None,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Create an OAuth client; its secret is printed once (with --quiet: only the secret)."""
    restriction = AssetRestrictionInput(asset_ids=asset_id or [], tags=tag or []) if asset_id or tag else NOT_GIVEN
    with client() as c:
        created = c.oauth.clients.create(name=name, scopes=scope, description=given(description),
                                         expires_at=given(expires_at), asset_restriction=restriction,
                                         tier=given(tier))
    _print_secret(Output(json_output, quiet), created,
                  ["id", "name", "client_secret", "scopes", "tier", "expires_at", "asset_restriction"])


@clients_app.command("rotate-secret")
@handle_errors
@operation("rotate_oauth_client_secret")
def rotate_secret(client_id: IdArg, yes: YesOption = False, json_output: JsonOption = False,
                  quiet: QuietOption = False) -> None:
    """Issue a new client secret (printed once); the old one stops working at once."""
    confirm(f"Rotate the secret of {client_id}? Programs using the old one stop getting tokens.", yes)
    with client() as c:
        rotated = c.oauth.clients.rotate_secret(client_id)
    _print_secret(Output(json_output, quiet), rotated, ["id", "name", "client_secret"])


@clients_app.command("revoke")
@handle_errors
@operation("revoke_oauth_client")
def revoke_client(client_id: IdArg, yes: YesOption = False, json_output: JsonOption = False,
                  quiet: QuietOption = False) -> None:
    """Revoke an OAuth client: its secret and every token it was issued stop working."""
    confirm(f"Revoke OAuth client {client_id}?", yes)
    with client() as c:
        c.oauth.clients.revoke(client_id)
    Output(json_output, quiet).done(f"Revoked {client_id}", id=client_id, revoked=True)


@app.command("token")
@handle_errors
@operation("create_oauth_token")
def token(
    client_id: Annotated[Optional[str], typer.Option("--client-id", help="cli_... (default: S4E_CLIENT_ID).")]
    = None,
    scope: Annotated[Optional[list[str]], typer.Option("--scope", "-s", help="Ask for fewer scopes (repeat).")]
    = None,
    json_output: JsonOption = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print the access token only.")] = False,
) -> None:
    """Exchange client credentials for a 15-minute access token. The secret comes from S4E_CLIENT_SECRET or a
    prompt, never from the command line (it would end up in the shell history)."""
    cid = client_id or os.environ.get("S4E_CLIENT_ID")
    if not cid:
        raise typer.BadParameter("pass --client-id or set S4E_CLIENT_ID")
    secret = os.environ.get("S4E_CLIENT_SECRET") or typer.prompt("Client secret", hide_input=True, err=True)
    with client(client_id=cid, client_secret=secret) as c:
        issued = c.oauth.token(scope=scope or None)
    out = Output(json_output, quiet)
    if out.quiet:
        typer.echo(issued.access_token)
        return
    out.item(issued, ["access_token", "token_type", "expires_in", "expires_at", "scope"])
