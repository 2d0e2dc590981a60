"""`s4e events ...`: the cursor feed, one event, and `tail` (live Server-Sent Events)."""

# No `from __future__ import annotations` here: on Python 3.9 Typer reads option declarations from the
# evaluated signature, so these annotations must be real objects (hence Optional[...] rather than `X | None`).

import json
from typing import Annotated, Optional

import typer
from rich.markup import escape

from s4e._types import NOT_GIVEN
from s4e.cli.config import client
from s4e.cli.output import JsonOption, Output, QuietOption, handle_errors
from s4e.models.event import Event

app = typer.Typer(help="Events: every change in the workspace, in commit order.", no_args_is_help=True)

COLUMNS = ["id", "timestamp", "event", "actor.name", "data"]
EventOpt = Annotated[Optional[str], typer.Option("--event", "-e", help="Comma list of names or `finding.*`.")]
AssetOpt = Annotated[Optional[str], typer.Option("--asset-id", help="Comma list of asset ids.")]


def _given(value):
    return NOT_GIVEN if value is None else value


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
def list_events(
    after: Annotated[Optional[str], typer.Option("--after", help="Start after this event id (exclusive).")] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, max=1000, help="Events per page (1-1000).")]
    = None,
    event: EventOpt = None,
    asset_id: AssetOpt = None,
    all_pages: Annotated[bool, typer.Option("--all", help="Keep fetching until nothing more is available.")] = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """List events from a cursor (one page unless --all); the caption names the cursor to continue from."""
    out = Output(json_output, quiet)
    with client() as c:
        feed = c.events.list(after=after, limit=_given(limit), event=_given(event), asset_id=_given(asset_id))
        items = [*feed] if all_pages else feed.first_page().data
    out.items(items, COLUMNS, caption=f"continue with --after {feed.cursor}" if feed.cursor else None)


@app.command("get")
@handle_errors
def get_event(event_id: Annotated[str, typer.Argument(help="Event id (evt_...).")], json_output: JsonOption = False,
              quiet: QuietOption = False) -> None:
    """Show one event."""
    with client() as c:
        event = c.events.get(event_id)
    Output(json_output, quiet).item(event)


@app.command("tail")
@handle_errors
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
    with client() as c, c.events.stream(events=_given(event), asset_id=_given(asset_id),
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
