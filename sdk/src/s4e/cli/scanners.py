"""`s4e scanners ...`: the scanner catalog."""

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

app = typer.Typer(help="Scanner catalog: what a scan can run and the options each scanner reads.",
                  no_args_is_help=True)

COLUMNS = ["id", "name", "category", "target_types", "active", "version"]
DETAIL = ["id", "name", "category", "target_types", "active", "phase", "version", "options_schema"]


@app.command("list")
@handle_errors
@operation("list_scanners")
def list_scanners(
    category: Annotated[Optional[str], typer.Option("--category", help="Comma list: network, tls, web, dns, "
                                                    "discovery, vuln.")] = None,
    active: Annotated[Optional[bool], typer.Option("--active/--passive", help="Active or passive scanners.")]
    = None,
    target_type: Annotated[Optional[str], typer.Option("--target-type", help="Comma list: ip, network, domain, "
                                                       "url.")] = None,
    search: Annotated[Optional[str], typer.Option("--search", help="Part of the id, name or category.")] = None,
    sort_by: Annotated[Optional[str], typer.Option("--sort-by", help="id, name or category.")] = None,
    sort_order: SortOrderOption = None,
    page: PageOption = 1,
    per_page: PerPageOption = None,
    all_pages: AllOption = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """List the scanners a scan can run."""
    with client() as c:
        pager = c.scanners.list(category=given(category), active=given(active), target_type=given(target_type),
                                search=given(search), sort_by=given(sort_by), sort_order=given(sort_order),
                                page=page, per_page=given(per_page))
        items, caption = collect(pager, all_pages)
    Output(json_output, quiet).items(items, COLUMNS, caption)


@app.command("get")
@handle_errors
@operation("get_scanner")
def get_scanner(scanner_id: Annotated[str, typer.Argument(help="Scanner id, e.g. port_scan.")],
                json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Show one scanner with the JSON Schema of its options."""
    with client() as c:
        scanner = c.scanners.get(scanner_id)
    Output(json_output, quiet).item(scanner, DETAIL)
