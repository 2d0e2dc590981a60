"""`s4e findings ...`: list, get, summary, update, set-status, bulk-status, assign, bulk-assign, sightings, history,
export; `s4e findings comments ...` lives in finding_comments.py."""

# No `from __future__ import annotations` here: on Python 3.9 Typer reads option declarations from the
# evaluated signature, so these annotations must be real objects (hence Optional[...] rather than `X | None`).

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from s4e._operations import operation
from s4e.cli import finding_comments
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
from s4e.models.finding import ExportFormat, FindingFilter, FindingStatus, Severity

app = typer.Typer(help="Findings: triage, assignment, comments, history and export.", no_args_is_help=True)
app.add_typer(finding_comments.app, name="comments")

COLUMNS = ["id", "severity", "status", "title", "asset.name", "scanner", "risk_score", "assignee_id",
           "discovered_at"]
DETAIL = ["id", "title", "severity", "original_severity", "severity_reason", "status", "justification",
          "accepted_until", "resolution", "asset.name", "asset_id", "scanner", "check_id", "category", "location",
          "cvss", "cvss_vector", "cve_ids", "cwe_ids", "kev", "epss", "risk_score", "assignee_id", "due_date",
          "sla_due_at", "sla_breached", "tags", "sighting_count", "reopen_count", "scan_id", "last_scan_id",
          "discovered_at", "last_seen_at", "resolved_at", "description", "remediation", "references", "evidence"]
BRIEF = ["id", "severity", "status", "assignee_id", "due_date", "tags", "updated_at"]

IdArg = Annotated[str, typer.Argument(help="Finding id (fnd_...).")]
Csv = Optional[str]
FilterOpt = Annotated[Optional[list[str]], typer.Option(
    "--filter", "-f", help="Select by a list filter KEY=VALUE (repeat), e.g. -f severity=low -f tag=web.")]
IdsOpt = Annotated[Optional[list[str]], typer.Option("--id", help="Finding id (repeat for several).")]
DueOpt = Annotated[Optional[str], typer.Option("--due-date", help="YYYY-MM-DD, or 'none' to clear.")]
_BOOL_KEYS = {"kev", "sla_breached"}


def parse_filter(pairs: Optional[list[str]]) -> Optional[dict[str, Any]]:
    """`["severity=low,high", "kev=true"]` -> a filter mapping (None when no --filter was given)."""
    if not pairs:
        return None
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise typer.BadParameter(f"--filter takes KEY=VALUE, not {pair!r}")
        if key not in FindingFilter.model_fields and key != "from":
            raise typer.BadParameter(f"unknown filter {key!r}; use the list filter names (severity, tag ...)")
        if key in _BOOL_KEYS:
            if value not in ("true", "false"):
                raise typer.BadParameter(f"{key} must be true or false")
            out[key] = value == "true"
        else:
            out["from_" if key == "from" else key] = value
    return out


def _due(value: Optional[str]) -> Any:
    if value is None:
        return given(None)
    return None if value.lower() == "none" else value


def _selection(ids: Optional[list[str]], pairs: Optional[list[str]]) -> dict[str, Any]:
    selected = parse_filter(pairs)
    if bool(ids) == (selected is not None):
        raise typer.BadParameter("give findings with --id or select them with --filter (not both)")
    return {"ids": list(ids)} if ids else {"filter": selected}


@app.command("list")
@handle_errors
@operation("list_findings")
def list_findings(
    severity: Annotated[Csv, typer.Option("--severity", help="Comma list: critical, high, medium, low, info.")]
    = None,
    status: Annotated[Csv, typer.Option("--status", help="Comma list (default: all but false_positive).")] = None,
    asset_id: Annotated[Csv, typer.Option("--asset-id", help="Comma list of asset ids.")] = None,
    scan_id: Annotated[Csv, typer.Option("--scan-id", help="First or latest detecting scan.")] = None,
    service_id: Annotated[Csv, typer.Option("--service-id", help="Comma list of service ids.")] = None,
    scanner: Annotated[Csv, typer.Option("--scanner", help="Comma list of scanner ids.")] = None,
    check_id: Annotated[Csv, typer.Option("--check-id", help="Comma list of check ids.")] = None,
    category: Annotated[Csv, typer.Option("--category", help="Comma list: tls, http_headers, cve ...")] = None,
    cve: Annotated[Csv, typer.Option("--cve", help="Comma list of CVE ids.")] = None,
    cwe: Annotated[Csv, typer.Option("--cwe", help="Comma list of CWE ids.")] = None,
    tag: Annotated[Csv, typer.Option("--tag", help="Asset tags; any matches.")] = None,
    criticality: Annotated[Csv, typer.Option("--criticality", help="Asset criticality (comma list).")] = None,
    assignee_id: Annotated[Csv, typer.Option("--assignee-id", help="usr_ ids, or 'none' for unassigned.")] = None,
    kev: Annotated[Optional[bool], typer.Option("--kev/--no-kev", help="KEV-listed or not.")] = None,
    epss_min: Annotated[Optional[float], typer.Option("--epss-min", help="Minimum EPSS (0-1).")] = None,
    cvss_min: Annotated[Optional[float], typer.Option("--cvss-min", help="Minimum CVSS.")] = None,
    cvss_max: Annotated[Optional[float], typer.Option("--cvss-max", help="Maximum CVSS.")] = None,
    risk_min: Annotated[Optional[int], typer.Option("--risk-min", help="Minimum risk score.")] = None,
    sla_breached: Annotated[Optional[bool], typer.Option("--sla-breached/--sla-ok", help="SLA state.")] = None,
    from_: Annotated[Optional[datetime], typer.Option("--from", help="Discovered at or after (UTC).")] = None,
    to: Annotated[Optional[datetime], typer.Option("--to", help="Discovered before (UTC).")] = None,
    search: Annotated[Optional[str], typer.Option("--search", help="Title, description or CVE id contains.")]
    = None,
    sort_by: Annotated[Optional[str], typer.Option("--sort-by", help="discovered_at, severity, risk_score ...")]
    = None,
    sort_order: SortOrderOption = None,
    page: PageOption = 1,
    per_page: PerPageOption = None,
    all_pages: AllOption = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """List findings (one page unless --all)."""
    filters = dict(severity=severity, status=status, asset_id=asset_id, scan_id=scan_id, service_id=service_id,
                   scanner=scanner, check_id=check_id, category=category, cve=cve, cwe=cwe, tag=tag,
                   criticality=criticality, assignee_id=assignee_id, kev=kev, epss_min=epss_min,
                   cvss_min=cvss_min, cvss_max=cvss_max, risk_min=risk_min, sla_breached=sla_breached,
                   from_=from_, to=to, search=search)
    with client() as c:
        pager = c.findings.list(**{k: given(v) for k, v in filters.items()}, sort_by=given(sort_by),
                                sort_order=given(sort_order), page=page, per_page=given(per_page))
        items, caption = collect(pager, all_pages)
    Output(json_output, quiet).items(items, COLUMNS, caption)


@app.command("summary")
@handle_errors
@operation("get_finding_summary")
def finding_summary(
    filter: FilterOpt = None,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Counts by severity x status, plus SLA breached, KEV and asset criticality (list filters via -f)."""
    with client() as c:
        summary = c.findings.summary(**(parse_filter(filter) or {}))
    out = Output(json_output, quiet)
    if out.json:
        return out._print_json(summary.model_dump(mode="json"))
    if out.quiet:
        return typer.echo(str(summary.total))
    grid = Table(caption=f"{summary.total} total, {summary.sla_breached} past SLA, {summary.kev} KEV",
                 caption_justify="left")
    statuses = [s for s, n in summary.by_status.items() if n] or list(summary.by_status)[:1]
    grid.add_column("severity")
    for s in statuses:
        grid.add_column(s, justify="right")
    grid.add_column("total", justify="right")
    for severity, row in summary.by_severity_status.items():
        grid.add_row(severity, *(str(row.get(s, 0)) for s in statuses), str(sum(row.values())))
    out.out.print(grid)


@app.command("get")
@handle_errors
@operation("get_finding")
def get_finding(finding_id: IdArg, json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Show one finding with its evidence."""
    with client() as c:
        finding = c.findings.get(finding_id)
    Output(json_output, quiet).item(finding, DETAIL)


@app.command("update")
@handle_errors
@operation("update_finding")
def update_finding(
    finding_id: IdArg,
    severity: Annotated[Optional[Severity], typer.Option("--severity", help="Override the severity.")] = None,
    justification: Annotated[Optional[str], typer.Option("--justification", help="Why (10-2000 characters).")]
    = None,
    clear_override: Annotated[bool, typer.Option("--clear-override", help="Back to rule/scanner severity.")]
    = False,
    tag: Annotated[Optional[list[str]], typer.Option("--tag", help="Replace the tags (repeat).")] = None,
    clear_tags: Annotated[bool, typer.Option("--clear-tags", help="Remove every tag.")] = False,
    due_date: DueOpt = None,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Override the severity, replace tags or set the due date."""
    if severity and clear_override or tag and clear_tags:
        raise typer.BadParameter("--severity/--tag cannot be combined with --clear-override/--clear-tags")
    override = None if clear_override else given(severity)
    with client() as c:
        finding = c.findings.update(finding_id, severity_override=override,
                                    severity_justification=given(justification),
                                    tags=[] if clear_tags else given(tag), due_date=_due(due_date))
    Output(json_output, quiet).item(finding, BRIEF + ["severity_reason"])


@app.command("set-status")
@handle_errors
@operation("set_finding_status")
def set_status(
    finding_id: IdArg,
    status: Annotated[FindingStatus, typer.Argument(help="open, confirmed, in_progress, resolved, reopened, "
                                                         "false_positive or accepted_risk.")],
    justification: Annotated[Optional[str], typer.Option("--justification", "-j", help="Required for "
                                                         "false_positive/accepted_risk.")] = None,
    expires_at: Annotated[Optional[datetime], typer.Option("--expires-at", help="accepted_risk ends (UTC).")]
    = None,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Move a finding to another status."""
    with client() as c:
        finding = c.findings.set_status(finding_id, status=status, justification=justification,
                                        expires_at=expires_at)
    Output(json_output, quiet).item(finding, BRIEF + ["justification", "accepted_until", "resolution"])


@app.command("bulk-status")
@handle_errors
@operation("bulk_set_finding_status")
def bulk_status(
    status: Annotated[FindingStatus, typer.Argument(help="Target status.")],
    ids: IdsOpt = None,
    filter: FilterOpt = None,
    justification: Annotated[Optional[str], typer.Option("--justification", "-j", help="Why.")] = None,
    expires_at: Annotated[Optional[datetime], typer.Option("--expires-at", help="accepted_risk ends.")] = None,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Change the status of many findings (by --id or --filter), all or nothing."""
    with client() as c:
        result = c.findings.bulk_set_status(status=status, justification=justification, expires_at=expires_at,
                                            **_selection(ids, filter))
    _print_counts(Output(json_output, quiet), result)


@app.command("assign")
@handle_errors
@operation("assign_finding")
def assign(
    finding_id: IdArg,
    assignee_id: Annotated[str, typer.Argument(help="Member (usr_...), or 'none' to unassign.")],
    due_date: DueOpt = None,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Assign a finding to a workspace member."""
    who = None if assignee_id.lower() == "none" else assignee_id
    with client() as c:
        finding = c.findings.assign(finding_id, who, due_date=_due(due_date))
    Output(json_output, quiet).item(finding, BRIEF)


@app.command("bulk-assign")
@handle_errors
@operation("bulk_assign_findings")
def bulk_assign(
    assignee_id: Annotated[str, typer.Argument(help="Member (usr_...), or 'none' to unassign.")],
    ids: IdsOpt = None,
    filter: FilterOpt = None,
    due_date: DueOpt = None,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Assign many findings (by --id or --filter)."""
    who = None if assignee_id.lower() == "none" else assignee_id
    with client() as c:
        result = c.findings.bulk_assign(who, due_date=_due(due_date), **_selection(ids, filter))
    _print_counts(Output(json_output, quiet), result)


def _print_counts(out: Output, result: Any) -> None:
    if out.json:
        return out._print_json(result.model_dump(mode="json"))
    if out.quiet:
        return typer.echo(str(result.changed))
    out.err.print(f"matched {result.matched}, changed {result.changed}, unchanged {result.unchanged}")


@app.command("sightings")
@handle_errors
@operation("list_finding_sightings")
def sightings(finding_id: IdArg, page: PageOption = 1, per_page: PerPageOption = None, all_pages: AllOption = False,
              json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Every detection of a finding, newest first."""
    with client() as c:
        items, caption = collect(c.findings.list_sightings(finding_id, page=page, per_page=given(per_page)),
                                 all_pages)
    Output(json_output, quiet).items(items, ["id", "seen_at", "scan_id", "task_id", "evidence"], caption)


@app.command("history")
@handle_errors
@operation("list_finding_history")
def history(finding_id: IdArg, page: PageOption = 1, per_page: PerPageOption = None, all_pages: AllOption = False,
            json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Status, severity, assignment and tag changes, newest first."""
    with client() as c:
        items, caption = collect(c.findings.list_history(finding_id, page=page, per_page=given(per_page)),
                                 all_pages)
    Output(json_output, quiet).items(items, ["at", "field", "from_", "to", "actor.name", "justification"],
                                     caption)


@app.command("export")
@handle_errors
@operation("export_findings")
def export(
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write ('-' for stdout).")],
    format: Annotated[ExportFormat, typer.Option("--format", help="csv or json.")] = "csv",
    filter: FilterOpt = None,
    field: Annotated[Optional[list[str]], typer.Option("--field", help="Column (repeat; default a triage set).")]
    = None,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Export matching findings to a CSV or JSON file, streamed."""
    out = Output(json_output, quiet)
    with client() as c:
        if str(output) == "-":
            stream = typer.get_binary_stream("stdout")
            for chunk in c.findings.export(format=format, filters=parse_filter(filter), fields=field):
                stream.write(chunk)
            stream.flush()
            return
        path = c.findings.export(format=format, filters=parse_filter(filter), fields=field, to=output)
    out.done(f"Wrote {path} ({path.stat().st_size} bytes)", path=str(path), bytes=path.stat().st_size)
