"""`s4e keys ...`: API keys."""

# No `from __future__ import annotations` here: on Python 3.9 Typer reads option declarations from the
# evaluated signature, so these annotations must be real objects (hence Optional[...] rather than `X | None`).

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

app = typer.Typer(help="API keys.", no_args_is_help=True)

COLUMNS = ["id", "name", "prefix", "scopes", "tier", "expires_at", "last_used_at", "revoked_at"]


@app.command("list")
@handle_errors
@operation("list_api_keys")
def list_keys(
    all_keys: Annotated[bool, typer.Option("--all-users", help="Every key of the workspace (admin).")] = False,
    sort_by: Annotated[Optional[str], typer.Option("--sort-by", help="created_at, name or last_used_at.")] = None,
    sort_order: SortOrderOption = None,
    page: PageOption = 1,
    per_page: PerPageOption = None,
    all_pages: AllOption = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """List my API keys (or the workspace's with --all-users)."""
    with client() as c:
        pager = c.keys.list(all=all_keys, sort_by=given(sort_by), sort_order=given(sort_order), page=page,
                            per_page=given(per_page))
        items, caption = collect(pager, all_pages)
    Output(json_output, quiet).items(items, COLUMNS, caption)


@app.command("get")
@handle_errors
@operation("get_api_key")
def get_key(key_id: Annotated[str, typer.Argument(help="Key id (key_...).")], json_output: JsonOption = False,
            quiet: QuietOption = False) -> None:
    """Show one API key."""
    with client() as c:
        key = c.keys.get(key_id)
    Output(json_output, quiet).item(key)


@app.command("create")
@handle_errors
@operation("create_api_key")
def create_key(
    name: Annotated[str, typer.Argument(help="Display name.")],
    scope: Annotated[list[str], typer.Option("--scope", "-s", help="Scope (repeat), e.g. read:assets.")],
    description: Annotated[Optional[str], typer.Option("--description", help="Free text.")] = None,
    expires_at: Annotated[Optional[datetime], typer.Option("--expires-at", help="Expiry (ISO 8601, UTC).")] = None,
    asset_id: Annotated[Optional[list[str]], typer.Option("--asset-id", help="Restrict to asset (repeat).")] = None,
    tag: Annotated[Optional[list[str]], typer.Option("--tag", help="Restrict to assets with tag (repeat).")] = None,
    tier: Annotated[Optional[Tier], typer.Option("--tier", help="standard, premium or enterprise.")] = None,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Create an API key; the full key is printed once (with --quiet: only the key)."""
    restriction = AssetRestrictionInput(asset_ids=asset_id or [], tags=tag or []) if asset_id or tag else NOT_GIVEN
    with client() as c:
        key = c.keys.create(name=name, scopes=scope, description=given(description), expires_at=given(expires_at),
                            asset_restriction=restriction, tier=given(tier))
    out = Output(json_output, quiet)
    if out.quiet:
        typer.echo(key.key)
        return
    out.item(key, ["id", "name", "key", "scopes", "tier", "expires_at", "asset_restriction"])
    if not out.json:
        out.err.print("Store the key now: it is not shown again.")


@app.command("update")
@handle_errors
@operation("update_api_key")
def update_key(
    key_id: Annotated[str, typer.Argument(help="Key id (key_...).")],
    name: Annotated[Optional[str], typer.Option("--name", help="New name.")] = None,
    description: Annotated[Optional[str], typer.Option("--description", help="New description.")] = None,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Rename or describe an API key."""
    with client() as c:
        key = c.keys.update(key_id, name=given(name), description=given(description))
    Output(json_output, quiet).item(key)


@app.command("delete")
@handle_errors
@operation("revoke_api_key")
def delete_key(
    key_id: Annotated[str, typer.Argument(help="Key id (key_...).")],
    yes: YesOption = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Revoke an API key (it stops working at once)."""
    confirm(f"Revoke API key {key_id}?", yes)
    with client() as c:
        c.keys.delete(key_id)
    Output(json_output, quiet).done(f"Revoked {key_id}", id=key_id, revoked=True)
