"""`s4e assets ...`: list, get, create, update, delete, CSV import and ownership verification."""

# No `from __future__ import annotations` here: on Python 3.9 Typer reads option declarations from the
# evaluated signature, so these annotations must be real objects (hence Optional[...] rather than `X | None`).

from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from s4e._operations import operation
from s4e.cli.asset_bulk import bulk_assets
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
from s4e.cli.services import asset_services
from s4e.models.asset import AssetType, Criticality, VerificationMethod

app = typer.Typer(help="Domains, IPs, networks and URLs under management.", no_args_is_help=True)

COLUMNS = ["id", "name", "type", "status", "verified", "criticality", "tags", "risk_score", "grade"]
DETAIL = ["id", "name", "type", "status", "verified", "verification", "criticality", "tags", "description",
          "owner_id", "parent_id", "source", "network_zone", "scan_route", "risk_score", "security_score", "grade",
          "finding_summary", "service_count", "endpoint_count", "child_count", "last_scan_at", "created_at",
          "updated_at"]

TagOpt = Annotated[Optional[list[str]], typer.Option("--tag", help="Tag (repeat for several).")]
IdArg = Annotated[str, typer.Argument(help="Asset id (ast_...).")]
TimeOpt = Optional[datetime]


@app.command("list")
@handle_errors
@operation("list_assets")
def list_assets(
    type: Annotated[Optional[str], typer.Option("--type", help="Comma list: domain, ip, network, url.")] = None,
    status: Annotated[Optional[str], typer.Option("--status", help="Comma list of statuses.")] = None,
    tag: Annotated[Optional[str], typer.Option("--tag", help="Comma list; any tag matches.")] = None,
    criticality: Annotated[Optional[str], typer.Option("--criticality", help="Comma list.")] = None,
    verified: Annotated[Optional[bool], typer.Option("--verified/--unverified", help="Verification state.")]
    = None,
    parent_id: Annotated[Optional[str], typer.Option("--parent-id", help="Children of this asset.")] = None,
    owner_id: Annotated[Optional[str], typer.Option("--owner-id", help="Owned by this member (usr_...).")] = None,
    source: Annotated[Optional[str], typer.Option("--source", help="Comma list: manual, bulk, csv, discovery ...")]
    = None,
    network_zone: Annotated[Optional[str], typer.Option("--network-zone", help="Comma list of zones.")] = None,
    from_: Annotated[TimeOpt, typer.Option("--from", help="Created at or after (ISO 8601, UTC).")] = None,
    to: Annotated[TimeOpt, typer.Option("--to", help="Created before (ISO 8601, UTC).")] = None,
    search: Annotated[Optional[str], typer.Option("--search", help="Name, description or metadata contains.")]
    = None,
    sort_by: Annotated[Optional[str], typer.Option("--sort-by", help="name, type, created_at, risk_score ...")]
    = None,
    sort_order: SortOrderOption = None,
    page: PageOption = 1,
    per_page: PerPageOption = None,
    all_pages: AllOption = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """List assets (one page unless --all)."""
    with client() as c:
        pager = c.assets.list(type=given(type), status=given(status), tag=given(tag), criticality=given(criticality),
                              verified=given(verified), parent_id=given(parent_id), owner_id=given(owner_id),
                              source=given(source), network_zone=given(network_zone), from_=given(from_),
                              to=given(to), search=given(search), sort_by=given(sort_by),
                              sort_order=given(sort_order), page=page, per_page=given(per_page))
        items, caption = collect(pager, all_pages)
    Output(json_output, quiet).items(items, COLUMNS, caption)


@app.command("get")
@handle_errors
@operation("get_asset")
def get_asset(asset_id: IdArg, json_output: JsonOption = False,
              quiet: QuietOption = False) -> None:
    """Show one asset."""
    with client() as c:
        asset = c.assets.get(asset_id)
    Output(json_output, quiet).item(asset, DETAIL)


@app.command("create")
@handle_errors
@operation("create_asset")
def create_asset(
    name: Annotated[str, typer.Argument(help="Domain, IP, CIDR network or http(s) URL.")],
    type: Annotated[AssetType, typer.Option("--type", "-t", help="domain, ip, network or url.")],
    criticality: Annotated[Optional[Criticality], typer.Option("--criticality", help="low ... critical.")] = None,
    tag: TagOpt = None,
    description: Annotated[Optional[str], typer.Option("--description", help="Free text.")] = None,
    owner_id: Annotated[Optional[str], typer.Option("--owner-id", help="Owning member (usr_...).")] = None,
    parent_id: Annotated[Optional[str], typer.Option("--parent-id", help="Parent asset (ast_...).")] = None,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Create an asset."""
    with client() as c:
        asset = c.assets.create(name=name, type=type, criticality=given(criticality), tags=given(tag),
                                description=given(description), owner_id=given(owner_id),
                                parent_id=given(parent_id))
    Output(json_output, quiet).item(asset, DETAIL)


@app.command("update")
@handle_errors
@operation("update_asset")
def update_asset(
    asset_id: IdArg,
    criticality: Annotated[Optional[Criticality], typer.Option("--criticality", help="low ... critical.")] = None,
    tag: Annotated[Optional[list[str]], typer.Option("--tag", help="Replace the tags (repeat for several).")]
    = None,
    clear_tags: Annotated[bool, typer.Option("--clear-tags", help="Remove every tag.")] = False,
    description: Annotated[Optional[str], typer.Option("--description", help="New description.")] = None,
    owner_id: Annotated[Optional[str], typer.Option("--owner-id", help="New owner (usr_...).")] = None,
    clear_owner: Annotated[bool, typer.Option("--clear-owner", help="Remove the owner.")] = False,
    status: Annotated[Optional[str], typer.Option("--status", help="active or inactive.")] = None,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Change tags, criticality, description, owner or status."""
    if tag and clear_tags or owner_id and clear_owner:
        raise typer.BadParameter("--tag/--owner-id cannot be combined with --clear-tags/--clear-owner")
    tags = [] if clear_tags else given(tag)
    owner = None if clear_owner else given(owner_id)
    with client() as c:
        asset = c.assets.update(asset_id, tags=tags, criticality=given(criticality),
                                description=given(description), owner_id=owner, status=given(status))
    Output(json_output, quiet).item(asset, DETAIL)


@app.command("delete")
@handle_errors
@operation("delete_asset")
def delete_asset(
    asset_id: IdArg,
    cascade: Annotated[bool, typer.Option("--cascade", help="Also delete children, services and findings.")]
    = False,
    yes: YesOption = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Delete an asset."""
    confirm(f"Delete asset {asset_id}{' and everything under it' if cascade else ''}?", yes)
    with client() as c:
        c.assets.delete(asset_id, cascade=cascade)
    Output(json_output, quiet).done(f"Deleted {asset_id}", id=asset_id, deleted=True)


@app.command("import")
@handle_errors
@operation("import_assets")
def import_assets(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV file (UTF-8).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate only; write nothing.")] = False,
    partial: Annotated[bool, typer.Option("--partial", help="Import the valid rows even if others fail.")]
    = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Import assets from a CSV (header name,type,tags,criticality,description,owner_email), with progress."""
    out = Output(json_output, quiet)
    columns = [TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn()]
    with client() as c, Progress(*columns, console=out.err, transient=True, disable=out.quiet or out.json) as bar:
        task = bar.add_task(f"Uploading {file.name}", total=None)

        def progress(sent: int, total: int) -> None:
            bar.update(task, completed=sent, total=total,
                       description=f"Uploading {file.name}" if sent < total else "Importing (server side)")

        result = c.assets.import_csv(file, dry_run=dry_run, partial=partial, progress=progress)
    if out.json:
        return out._print_json(result.model_dump(mode="json"))
    if out.quiet:
        for row in result.results:
            if row.id and row.status == "created":
                typer.echo(row.id)
        return
    failed = [r for r in result.results if r.status == "error"]
    if failed:
        out.items(failed, ["line", "error.column", "error.code", "error.message"], id_field="line")
    counts = result.counts
    verb = "would create" if dry_run else "created"
    out.err.print(f"{verb} {counts.valid if dry_run else counts.created}, existing {counts.exists}, "
                  f"errors {counts.error}")


@app.command("import-nmap")
@handle_errors
@operation("import_asset_services")
def import_nmap(
    asset_id: IdArg,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="nmap -oX output.")],
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Record nmap XML output as a completed port scan of the asset (services and exposure findings)."""
    out = Output(json_output, quiet)
    with client() as c:
        result = c.assets.import_nmap(asset_id, file)
    if out.json:
        return out._print_json(result.model_dump(mode="json"))
    if out.quiet:
        return typer.echo(result.scan.id)
    counts = result.finding_counts
    out.err.print(f"scan {result.scan.id}: {result.hosts} host(s), {result.open_services} open of "
                  f"{result.services} port(s); findings new {counts.new}, reopened {counts.reopened}, "
                  f"seen {counts.seen}")
    if result.skipped_hosts:
        out.err.print(f"skipped (not part of the asset): {', '.join(result.skipped_hosts[:20])}")


@app.command("verification")
@handle_errors
@operation("get_asset_verification")
def show_verification(asset_id: IdArg,
                      json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Show the verification token and what to publish for each method."""
    out = Output(json_output, quiet)
    with client() as c:
        info = c.assets.verification.get(asset_id)
    if out.json or out.quiet:
        return out.item(info) if out.json else typer.echo(info.token)
    out.item(info, ["asset_id", "status", "token", "verification"])
    out.items(info.methods, ["method", "available", "record_name", "value", "urls", "instructions"],
              id_field="method")


@app.command("verify")
@handle_errors
@operation("verify_asset")
def verify_asset(
    asset_id: IdArg,
    method: Annotated[VerificationMethod, typer.Option("--method", "-m", help="dns_txt, http_file or html_meta.")],
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Check ownership now with one method."""
    with client() as c:
        asset = c.assets.verification.check(asset_id, method=method)
    Output(json_output, quiet).item(asset, ["id", "name", "status", "verified", "verification"])


@app.command("override-verification")
@handle_errors
@operation("override_asset_verification")
def override_verification(
    asset_id: IdArg,
    reason: Annotated[str, typer.Option("--reason", help="Why ownership is vouched for (10-1024 characters).")],
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Mark an asset verified without a check (admin, audited)."""
    with client() as c:
        asset = c.assets.verification.override(asset_id, reason=reason)
    Output(json_output, quiet).item(asset, ["id", "name", "status", "verified", "verification"])


@app.command("revoke-verification")
@handle_errors
@operation("revoke_asset_verification")
def revoke_verification(asset_id: IdArg,
                        json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Revoke verification (the asset returns to pending_verification)."""
    with client() as c:
        c.assets.verification.revoke(asset_id)
    Output(json_output, quiet).done(f"Revoked verification of {asset_id}", id=asset_id, verified=False)


app.command("bulk")(handle_errors(bulk_assets))
app.command("services")(handle_errors(asset_services))
