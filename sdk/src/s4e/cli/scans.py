"""`s4e scans ...`: run (optionally --wait with a progress bar), list, get, status, cancel, rerun, tasks, output,
wait."""

# No `from __future__ import annotations` here: on Python 3.9 Typer reads option declarations from the
# evaluated signature, so these annotations must be real objects (hence Optional[...] rather than `X | None`).

import json
from datetime import datetime
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from s4e._operations import operation
from s4e.cli.config import client
from s4e.cli.output import (
    EXIT_API_ERROR,
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
from s4e.errors import WaitTimeoutError
from s4e.models.scan import Priority, Scan, ScanStatus, ScanType

app = typer.Typer(help="Scans: start one (and follow it), list, cancel, rerun, tasks and raw output.",
                  no_args_is_help=True)

COLUMNS = ["id", "asset.name", "scan_type", "status", "progress", "priority", "created_at"]
DETAIL = ["id", "asset_id", "asset.name", "asset.type", "scan_type", "scanners", "options", "priority", "status",
          "progress", "current_phase", "task_summary", "finding_counts", "triggered_by", "rerun_of", "profile_id",
          "callback_url", "estimated_duration_minutes", "error", "created_at", "started_at", "finished_at",
          "duration_seconds"]
TASK_COLUMNS = ["id", "scanner", "target.value", "status", "route", "attempts", "progress", "phase", "error"]
STATUS_FIELDS = ["scan_id", "status", "progress", "current_phase", "task_summary"]

ScanIdArg = Annotated[str, typer.Argument(help="Scan id (scn_...).")]
TimeoutOpt = Annotated[Optional[float], typer.Option("--timeout", min=0, help="Give up waiting after this many "
                                                     "seconds (the scan keeps running).")]
IntervalOpt = Annotated[float, typer.Option("--poll-interval", min=0.05, help="Seconds between status polls.")]
TimeOpt = Optional[datetime]


def parse_options(pairs: Optional[list[str]]) -> Optional[dict[str, Any]]:
    """`--option k=v`: the value is read as JSON when it parses (numbers, true/false, lists), else as a string."""
    if not pairs:
        return None
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"--option expects key=value, got {pair!r}")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        out[key.strip()] = value
    return out


def follow(c: Any, scan_id: str, timeout: Optional[float], poll_interval: float, out: Output) -> Scan:
    """Wait for the scan to end (see `_follow`). Running out of --timeout exits 1: the generic exit-code table
    would call a TimeoutError (an OSError) a usage error."""
    try:
        return _follow(c, scan_id, timeout, poll_interval, show=not out.json and not out.quiet)
    except WaitTimeoutError as exc:
        out.error(exc)
        raise typer.Exit(EXIT_API_ERROR) from None


def _follow(c: Any, scan_id: str, timeout: Optional[float], poll_interval: float, show: bool) -> Scan:
    """Wait for the scan to end, drawing a progress bar (status progress and current phase) on stderr."""
    if not show:
        return c.scans.wait(scan_id, timeout=timeout, poll_interval=poll_interval)
    progress = Progress(TextColumn("[bold]{task.fields[status]}[/]"), BarColumn(), TaskProgressColumn(),
                        TextColumn("{task.fields[phase]}"), TimeElapsedColumn(), console=Console(stderr=True),
                        transient=False)
    bar = progress.add_task(scan_id, total=100, status="queued", phase="")

    def update(status: ScanStatus) -> None:
        progress.update(bar, completed=status.progress, status=status.status, phase=status.current_phase or "")

    with progress:
        return c.scans.wait(scan_id, timeout=timeout, poll_interval=poll_interval, on_progress=update)


def finish(scan: Scan, out: Output) -> None:
    """Print the ended scan; a failed or cancelled scan is a non-zero exit."""
    out.item(scan, DETAIL)
    if scan.status != "completed":
        reason = f": {scan.error.message}" if scan.error else ""
        out.err.print(f"[bold red]Scan {scan.id} {scan.status}[/]{reason}")
        raise typer.Exit(EXIT_API_ERROR)


@app.command("run")
@handle_errors
@operation("create_scan")
def run_scan(
    asset_id: Annotated[str, typer.Argument(help="Asset to scan (ast_...).")],
    scan_type: Annotated[ScanType, typer.Option("--type", "-t", help="full, quick, custom, port, ssl, dns, web, "
                                                "crawl or api_discovery.")] = "full",
    scanner: Annotated[Optional[list[str]], typer.Option("--scanner", "-s", help="Scanner id for --type custom "
                                                          "(repeat for several).")] = None,
    option: Annotated[Optional[list[str]], typer.Option("--option", "-o", help="Scan option key=value (value "
                                                         "read as JSON when it parses), repeatable.")] = None,
    priority: Annotated[Optional[Priority], typer.Option("--priority", help="low, normal or high.")] = None,
    callback_url: Annotated[Optional[str], typer.Option("--callback-url", help="https URL receiving the "
                                                        "completion event.")] = None,
    wait: Annotated[bool, typer.Option("--wait", "-w", help="Follow the scan until it ends (progress bar); "
                                       "exit 1 when it fails or is cancelled.")] = False,
    timeout: TimeoutOpt = None,
    poll_interval: IntervalOpt = 2.0,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Start a scan of one asset."""
    out = Output(json_output, quiet)
    with client() as c:
        scan = c.scans.create(asset_id, scan_type=scan_type, scanners=given(scanner),
                              options=given(parse_options(option)), priority=given(priority),
                              callback_url=given(callback_url))
        if not wait:
            return out.item(scan, DETAIL)
        if not json_output and not quiet:
            out.err.print(f"Scan {scan.id} queued: {', '.join(scan.scanners)}")
        scan = follow(c, scan.id, timeout, poll_interval, out)
    finish(scan, out)


@app.command("wait")
@handle_errors
@operation("get_scan_status", "get_scan")
def wait_scan(scan_id: ScanIdArg, timeout: TimeoutOpt = None, poll_interval: IntervalOpt = 2.0,
              json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Follow a scan until it ends (exit 1 when it fails or is cancelled)."""
    out = Output(json_output, quiet)
    with client() as c:
        scan = follow(c, scan_id, timeout, poll_interval, out)
    finish(scan, out)


@app.command("list")
@handle_errors
@operation("list_scans")
def list_scans(
    status: Annotated[Optional[str], typer.Option("--status", help="Comma list: queued, running, completed, "
                                                  "failed, cancelled.")] = None,
    asset_id: Annotated[Optional[str], typer.Option("--asset-id", help="Comma list of asset ids.")] = None,
    scan_type: Annotated[Optional[str], typer.Option("--type", help="Comma list of scan types.")] = None,
    profile_id: Annotated[Optional[str], typer.Option("--profile-id", help="Comma list of profile ids.")] = None,
    priority: Annotated[Optional[str], typer.Option("--priority", help="Comma list: low, normal, high.")] = None,
    from_: Annotated[TimeOpt, typer.Option("--from", help="Created at or after (ISO 8601, UTC).")] = None,
    to: Annotated[TimeOpt, typer.Option("--to", help="Created before (ISO 8601, UTC).")] = None,
    sort_by: Annotated[Optional[str], typer.Option("--sort-by", help="created_at, started_at, finished_at or "
                                                   "priority.")] = None,
    sort_order: SortOrderOption = None,
    page: PageOption = 1,
    per_page: PerPageOption = None,
    all_pages: AllOption = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """List scans (one page unless --all)."""
    with client() as c:
        pager = c.scans.list(status=given(status), asset_id=given(asset_id), scan_type=given(scan_type),
                             profile_id=given(profile_id), priority=given(priority), from_=given(from_),
                             to=given(to), sort_by=given(sort_by), sort_order=given(sort_order), page=page,
                             per_page=given(per_page))
        items, caption = collect(pager, all_pages)
    Output(json_output, quiet).items(items, COLUMNS, caption)


@app.command("get")
@handle_errors
@operation("get_scan")
def get_scan(scan_id: ScanIdArg, json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Show one scan."""
    with client() as c:
        scan = c.scans.get(scan_id)
    Output(json_output, quiet).item(scan, DETAIL)


@app.command("status")
@handle_errors
@operation("get_scan_status")
def scan_status(scan_id: ScanIdArg, json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Show a scan's status, progress and phase (--quiet: the status only)."""
    with client() as c:
        status = c.scans.status(scan_id)
    if quiet and not json_output:
        return typer.echo(status.status)
    Output(json_output, quiet).item(status, STATUS_FIELDS)


@app.command("cancel")
@handle_errors
@operation("cancel_scan")
def cancel_scan(scan_id: ScanIdArg, json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Cancel a scan (running tasks stop within seconds)."""
    with client() as c:
        scan = c.scans.cancel(scan_id)
    Output(json_output, quiet).item(scan, DETAIL)


@app.command("rerun")
@handle_errors
@operation("rerun_scan")
def rerun_scan(scan_id: ScanIdArg, wait: Annotated[bool, typer.Option("--wait", "-w", help="Follow the new scan "
                                                                      "until it ends.")] = False,
               timeout: TimeoutOpt = None, poll_interval: IntervalOpt = 2.0, json_output: JsonOption = False,
               quiet: QuietOption = False) -> None:
    """Start a new scan with the same asset, type, scanners, options and priority."""
    out = Output(json_output, quiet)
    with client() as c:
        scan = c.scans.rerun(scan_id)
        if not wait:
            return out.item(scan, DETAIL)
        scan = follow(c, scan.id, timeout, poll_interval, out)
    finish(scan, out)


@app.command("tasks")
@handle_errors
@operation("list_scan_tasks")
def list_scan_tasks(
    scan_id: ScanIdArg,
    status: Annotated[Optional[str], typer.Option("--status", help="Comma list of task statuses.")] = None,
    scanner: Annotated[Optional[str], typer.Option("--scanner", help="Comma list of scanner ids.")] = None,
    sort_by: Annotated[Optional[str], typer.Option("--sort-by", help="created_at, scanner, status, started_at or "
                                                   "finished_at.")] = None,
    sort_order: SortOrderOption = None,
    page: PageOption = 1,
    per_page: PerPageOption = None,
    all_pages: AllOption = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """List a scan's tasks (scanner x target)."""
    with client() as c:
        pager = c.scans.list_tasks(scan_id, status=given(status), scanner=given(scanner), sort_by=given(sort_by),
                              sort_order=given(sort_order), page=page, per_page=given(per_page))
        items, caption = collect(pager, all_pages)
    Output(json_output, quiet).items(items, TASK_COLUMNS, caption)


@app.command("output")
@handle_errors
@operation("get_scan_output")
def scan_output(scan_id: ScanIdArg, json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Print a scan's raw output: text lines prefixed with scanner and target (--quiet: bare), --json: JSON Lines."""
    with client() as c:
        for line in c.scans.output(scan_id):
            data = line.model_dump(mode="json", exclude_none=True)
            if json_output:
                typer.echo(json.dumps(data, separators=(",", ":"), ensure_ascii=False))
            elif line.output is not None and set(data) <= {"task_id", "scanner", "target", "output"}:
                typer.echo(line.output if quiet else f"[{line.scanner} {line.target}] {line.output}")
            else:
                typer.echo(json.dumps(data, ensure_ascii=False))
