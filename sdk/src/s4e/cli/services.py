"""`s4e services ...` (and `s4e assets services`): open ports and what answers on them, as scans saw them."""

# No `from __future__ import annotations` here: on Python 3.9 Typer reads option declarations from the
# evaluated signature, so these annotations must be real objects (hence Optional[...] rather than `X | None`).

from typing import Annotated, Optional

import typer

from s4e._operations import operation
from s4e.cli.config import client
from s4e.cli.output import (
    AllOption,
    JsonOption,
    Output,
    PageOption,
    PerPageOption,
    QuietOption,
    SortOrderOption,
    collect,
    given,
    handle_errors,
)

app = typer.Typer(help="Services (open ports) observed on assets by scans.", no_args_is_help=True)

COLUMNS = ["id", "asset_id", "ip", "port", "protocol", "state", "service", "product", "version", "tls",
           "last_seen_at"]
ASSET_COLUMNS = ["id", "ip", "port", "protocol", "state", "service", "product", "version", "tls", "last_seen_at"]
DETAIL = ["id", "asset_id", "ip", "host", "port", "protocol", "state", "service", "product", "version", "cpe",
          "tls", "tls_summary", "banner", "details", "source", "first_seen_at", "last_seen_at", "last_scan_id"]

PortOpt = Annotated[Optional[str], typer.Option("--port", help="Comma list of ports, e.g. 80,443.")]
ProtocolOpt = Annotated[Optional[str], typer.Option("--protocol", help="Comma list: tcp, udp.")]
ServiceOpt = Annotated[Optional[str], typer.Option("--service", help="Comma list of service names (http, ssh ...).")]
ProductOpt = Annotated[Optional[str], typer.Option("--product", help="Product contains (case-insensitive).")]
TlsOpt = Annotated[Optional[bool], typer.Option("--tls/--no-tls", help="Services speaking TLS, or not.")]
StateOpt = Annotated[Optional[str], typer.Option("--state", help="Comma list: open, closed, filtered.")]
SortOpt = Annotated[Optional[str], typer.Option("--sort-by", help="last_seen_at (default) or port.")]


@app.command("list")
@handle_errors
@operation("list_services")
def list_services(
    asset_id: Annotated[Optional[str], typer.Option("--asset-id", help="Comma list of asset ids (ast_...).")] = None,
    port: PortOpt = None,
    protocol: ProtocolOpt = None,
    service: ServiceOpt = None,
    product: ProductOpt = None,
    tls: TlsOpt = None,
    state: StateOpt = None,
    sort_by: SortOpt = None,
    sort_order: SortOrderOption = None,
    page: PageOption = 1,
    per_page: PerPageOption = None,
    all_pages: AllOption = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """List services across the workspace's assets (one page unless --all)."""
    with client() as c:
        pager = c.services.list(asset_id=given(asset_id), port=given(port), protocol=given(protocol),
                                service=given(service), product=given(product), tls=given(tls), state=given(state),
                                sort_by=given(sort_by), sort_order=given(sort_order), page=page,
                                per_page=given(per_page))
        items, caption = collect(pager, all_pages)
    Output(json_output, quiet).items(items, COLUMNS, caption)


@app.command("get")
@handle_errors
@operation("get_service")
def get_service(service_id: Annotated[str, typer.Argument(help="Service id (svc_...).")],
                json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Show one service with banner, CPEs and TLS summary."""
    with client() as c:
        found = c.services.get(service_id)
    Output(json_output, quiet).item(found, DETAIL)


@operation("list_asset_services")
def asset_services(
    asset_id: Annotated[str, typer.Argument(help="Asset id (ast_...).")],
    port: PortOpt = None,
    protocol: ProtocolOpt = None,
    service: ServiceOpt = None,
    product: ProductOpt = None,
    tls: TlsOpt = None,
    state: StateOpt = None,
    sort_by: SortOpt = None,
    sort_order: SortOrderOption = None,
    page: PageOption = 1,
    per_page: PerPageOption = None,
    all_pages: AllOption = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """List the services (open ports) observed on one asset (one page unless --all)."""
    with client() as c:
        pager = c.assets.list_services(asset_id, port=given(port), protocol=given(protocol), service=given(service),
                                       product=given(product), tls=given(tls), state=given(state),
                                       sort_by=given(sort_by), sort_order=given(sort_order), page=page,
                                       per_page=given(per_page))
        items, caption = collect(pager, all_pages)
    Output(json_output, quiet).items(items, ASSET_COLUMNS, caption)
