"""`s4e events ...`: the cursor feed, one event, and `tail` (live Server-Sent Events)."""

# No `from __future__ import annotations` here: on Python 3.9 Typer reads option declarations from the
# evaluated signature, so these annotations must be real objects (hence Optional[...] rather than `X | None`).

import json
from enum import Enum
from typing import Annotated, Optional

import typer
from rich.markup import escape

from s4e._operations import operation
from s4e.cli.config import client
from s4e.cli.output import JsonOption, Output, QuietOption, given, handle_errors
from s4e.models.event import Event

app = typer.Typer(help="Events: every change in the workspace, in commit order.", no_args_is_help=True)

COLUMNS = ["id", "timestamp", "event", "actor.name", "data"]
EventOpt = Annotated[Optional[str], typer.Option("--event", "-e", help="Comma list of names or `finding.*`.")]
AssetOpt = Annotated[Optional[str], typer.Option("--asset-id", help="Comma list of asset ids.")]
AfterOpt = Annotated[Optional[str], typer.Option("--after", help="Start after this event id (exclusive).")]
LimitOpt = Annotated[Optional[int], typer.Option("--limit", min=1, max=1000, help="Events per page (1-1000).")]


class ExportFormat(str, Enum):
    cef = "cef"
    leef = "leef"
    ecs = "ecs"


def _summary(event: Event) -> str:
    data = event.data
    for key in ("finding", "asset"):
        obj = data.get(key)
        if isinstance(obj, dict):
            label = obj.get("title") or obj.get("name") or obj.get("id")
            return f"{obj.get('severity', '')} {label}".strip()
    return json.dumps(data, separators=(",", ":"), default=str)[:160]


@app.command("list")
@handle_errors
@operation("list_events")
def list_events(
    after: AfterOpt = None,
    limit: LimitOpt = None,
    event: EventOpt = None,
    asset_id: AssetOpt = None,
    all_pages: Annotated[bool, typer.Option("--all", help="Keep fetching until nothing more is available.")] = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """List events from a cursor (one page unless --all); the caption names the cursor to continue from."""
    out = Output(json_output, quiet)
    with client() as c:
        feed = c.events.list(after=after, limit=given(limit), event=given(event), asset_id=given(asset_id))
        items = [*feed] if all_pages else feed.first_page().data
    out.items(items, COLUMNS, caption=f"continue with --after {feed.cursor}" if feed.cursor else None)


@app.command("get")
@handle_errors
@operation("get_event")
def get_event(event_id: Annotated[str, typer.Argument(help="Event id (evt_...).")], json_output: JsonOption = False,
              quiet: QuietOption = False) -> None:
    """Show one event."""
    with client() as c:
        event = c.events.get(event_id)
    Output(json_output, quiet).item(event)


@app.command("tail")
@handle_errors
@operation("stream_events")
def tail(
    event: EventOpt = None,
    asset_id: AssetOpt = None,
    last_event_id: Annotated[Optional[str], typer.Option("--last-event-id", help="Resume after this event id.")]
    = None,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON event per line (JSON Lines).")] = False,
    quiet: QuietOption = False,
) -> None:
    """Follow live events (Server-Sent Events) until interrupted; reconnects and resumes by itself."""
    out = Output(json_output, quiet)
    with client() as c, c.events.stream(events=given(event), asset_id=given(asset_id),
                                        last_event_id=last_event_id) as stream:
        try:
            for item in stream:
                if out.json:
                    typer.echo(json.dumps(item.model_dump(mode="json"), separators=(",", ":")))
                elif out.quiet:
                    if item.id:
                        typer.echo(item.id)
                else:
                    when = item.timestamp.strftime("%H:%M:%S") if item.timestamp else "--:--:--"
                    out.out.print(f"{when} [bold]{escape(item.event)}[/] {escape(item.id or '')} "
                                  f"{escape(_summary(item))}", highlight=False)
        except KeyboardInterrupt:
            if stream.last_event_id and not out.json:
                out.err.print(f"resume with --last-event-id {stream.last_event_id}")
            raise


@app.command("export")
@handle_errors
@operation("list_events")
def export(
    format: Annotated[ExportFormat, typer.Option("--format", "-f", help="cef, leef (text lines) or ecs (JSON).")],
    after: AfterOpt = None,
    limit: LimitOpt = None,
    event: EventOpt = None,
    asset_id: AssetOpt = None,
    all_pages: Annotated[bool, typer.Option("--all", help="Keep fetching until nothing more is available.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON object: records, next_after, has_more.")]
    = False,
) -> None:
    """Print the feed for a SIEM: CEF or LEEF 2.0 lines, or ECS documents as JSON Lines; the cursor to continue
    from goes to stderr (or into the --json object)."""
    out = Output(json_output)
    with client() as c:
        if format is ExportFormat.ecs:
            feed = c.events.list_ecs(after=after, limit=given(limit), event=given(event), asset_id=given(asset_id))
        else:
            feed = c.events.list_text(format=format.value, after=after, limit=given(limit), event=given(event),
                                      asset_id=given(asset_id))
        pages = [*feed.pages()] if all_pages else [feed.first_page()]
    records = [r.to_dict() if format is ExportFormat.ecs else r for page in pages for r in page.data]
    if out.json:
        return out._print_json({"records": records, "next_after": feed.cursor, "has_more": pages[-1].meta.has_more,
                                "gap": bool(pages[0].meta.gap)})
    for record in records:
        typer.echo(json.dumps(record, separators=(",", ":"), ensure_ascii=False) if isinstance(record, dict)
                   else record)
    if feed.cursor:
        out.err.print(f"continue with --after {feed.cursor}", highlight=False)
