"""`s4e webhooks ...`: endpoints, test pings, secret rotation, deliveries and redelivery."""

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
from s4e.models.webhook import WebhookFiltersInput

app = typer.Typer(help="Webhook endpoints (Standard Webhooks signatures).", no_args_is_help=True)

COLUMNS = ["id", "name", "url", "events", "active", "status", "disabled_reason", "last_success_at"]
DELIVERY_COLUMNS = ["id", "event", "event_id", "status", "attempt_count", "next_attempt_at", "created_at"]
IdArg = Annotated[str, typer.Argument(help="Webhook id (whk_...).")]
DeliveryArg = Annotated[str, typer.Argument(help="Delivery id (dlv_...).")]


def _headers(values: Optional[list[str]]):
    if values is None:
        return NOT_GIVEN
    headers = {}
    for raw in values:
        name, sep, value = raw.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"--header takes NAME=VALUE, not {raw!r}")
        headers[name.strip()] = value
    return headers


def _filters(min_severity: Optional[str], asset_ids: Optional[list[str]], tags: Optional[list[str]]):
    if min_severity is None and not asset_ids and not tags:
        return NOT_GIVEN
    fields = {"min_severity": min_severity, "asset_ids": asset_ids or None, "asset_tags": tags or None}
    return WebhookFiltersInput(**{k: v for k, v in fields.items() if v is not None})


HeaderOpt = Annotated[Optional[list[str]], typer.Option("--header", help="Extra header NAME=VALUE (repeat).")]
SeverityOpt = Annotated[Optional[str], typer.Option("--min-severity", help="Lowest finding severity sent.")]
AssetOpt = Annotated[Optional[list[str]], typer.Option("--asset-id", help="Only this asset (repeat).")]
TagOpt = Annotated[Optional[list[str]], typer.Option("--asset-tag", help="Only assets with this tag (repeat).")]


@app.command("list")
@handle_errors
@operation("list_webhooks")
def list_webhooks(
    status: Annotated[Optional[str], typer.Option("--status", help="enabled or disabled (comma list).")] = None,
    sort_by: Annotated[Optional[str], typer.Option("--sort-by", help="created_at or name.")] = None,
    sort_order: SortOrderOption = None,
    page: PageOption = 1,
    per_page: PerPageOption = None,
    all_pages: AllOption = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """List webhooks."""
    with client() as c:
        pager = c.webhooks.list(status=given(status), sort_by=given(sort_by), sort_order=given(sort_order),
                                page=page, per_page=given(per_page))
        items, caption = collect(pager, all_pages)
    Output(json_output, quiet).items(items, COLUMNS, caption)


@app.command("get")
@handle_errors
@operation("get_webhook")
def get_webhook(webhook_id: IdArg, json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Show one webhook."""
    with client() as c:
        hook = c.webhooks.get(webhook_id)
    Output(json_output, quiet).item(hook)


@app.command("create")
@handle_errors
@operation("create_webhook")
def create_webhook(
    name: Annotated[str, typer.Argument(help="Display name.")],
    url: Annotated[str, typer.Option("--url", help="Receiver URL (https).")],
    event: Annotated[list[str], typer.Option("--event", "-e", help="Event name, `finding.*` or `*` (repeat).")],
    header: HeaderOpt = None,
    min_severity: SeverityOpt = None,
    asset_id: AssetOpt = None,
    asset_tag: TagOpt = None,
    inactive: Annotated[bool, typer.Option("--inactive", help="Create paused.")] = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Create a webhook; its signing secret is printed once (with --quiet: only the secret)."""
    with client() as c:
        hook = c.webhooks.create(name=name, url=url, events=event, headers=_headers(header),
                                 filters=_filters(min_severity, asset_id, asset_tag),
                                 active=False if inactive else NOT_GIVEN)
    out = Output(json_output, quiet)
    if out.quiet:
        typer.echo(hook.secret)
        return
    out.item(hook, ["id", "name", "url", "events", "filters", "active", "secret"])
    if not out.json:
        out.err.print("Store the secret now: it is not shown again.")


@app.command("update")
@handle_errors
@operation("update_webhook")
def update_webhook(
    webhook_id: IdArg,
    name: Annotated[Optional[str], typer.Option("--name", help="New name.")] = None,
    url: Annotated[Optional[str], typer.Option("--url", help="New URL.")] = None,
    event: Annotated[Optional[list[str]], typer.Option("--event", "-e", help="Replace the events (repeat).")]
    = None,
    header: HeaderOpt = None,
    min_severity: SeverityOpt = None,
    asset_id: AssetOpt = None,
    asset_tag: TagOpt = None,
    active: Annotated[Optional[bool], typer.Option("--active/--inactive", help="Resume or pause.")] = None,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Change a webhook (headers and filters given replace the stored ones)."""
    with client() as c:
        hook = c.webhooks.update(webhook_id, name=given(name), url=given(url), events=given(event),
                                 headers=_headers(header), filters=_filters(min_severity, asset_id, asset_tag),
                                 active=given(active))
    Output(json_output, quiet).item(hook)


@app.command("delete")
@handle_errors
@operation("delete_webhook")
def delete_webhook(webhook_id: IdArg,
                   yes: YesOption = False,
                   json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Delete a webhook."""
    confirm(f"Delete webhook {webhook_id}?", yes)
    with client() as c:
        c.webhooks.delete(webhook_id)
    Output(json_output, quiet).done(f"Deleted {webhook_id}", id=webhook_id, deleted=True)


@app.command("test")
@handle_errors
@operation("test_webhook")
def test_webhook(webhook_id: IdArg, json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Send a signed webhook.test event now and show the receiver's answer (exit 1 when it failed)."""
    with client() as c:
        result = c.webhooks.test(webhook_id)
    out = Output(json_output, quiet)
    if out.quiet:
        typer.echo("ok" if result.success else "failed")
    else:
        out.item(result, ["success", "status_code", "duration_ms", "error_class", "error", "resolved_ip",
                          "response_excerpt", "webhook_id"])
    if not result.success:
        raise typer.Exit(1)


@app.command("rotate-secret")
@handle_errors
@operation("rotate_webhook_secret")
def rotate_secret(webhook_id: IdArg, json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """New signing secret (printed once); the old one keeps signing for 24 h."""
    with client() as c:
        hook = c.webhooks.rotate_secret(webhook_id)
    out = Output(json_output, quiet)
    if out.quiet:
        typer.echo(hook.secret)
    else:
        out.item(hook, ["id", "name", "secret", "previous_secret_expires_at"])


@app.command("enable")
@handle_errors
@operation("enable_webhook")
def enable(webhook_id: IdArg, json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Re-enable an auto-disabled webhook."""
    with client() as c:
        hook = c.webhooks.enable(webhook_id)
    Output(json_output, quiet).item(hook, ["id", "name", "active", "status", "disabled_reason"])


@app.command("deliveries")
@handle_errors
@operation("list_webhook_deliveries")
def deliveries(
    webhook_id: IdArg,
    status: Annotated[Optional[str], typer.Option("--status", help="Comma list: pending, failed ...")] = None,
    event: Annotated[Optional[str], typer.Option("--event", "-e", help="Comma list of event names.")] = None,
    from_: Annotated[Optional[datetime], typer.Option("--from", help="Created at or after (ISO 8601, UTC).")]
    = None,
    to: Annotated[Optional[datetime], typer.Option("--to", help="Created before (ISO 8601, UTC).")] = None,
    sort_by: Annotated[Optional[str], typer.Option("--sort-by", help="created_at, next_attempt_at or finished_at.")]
    = None,
    sort_order: SortOrderOption = None,
    page: PageOption = 1,
    per_page: PerPageOption = None,
    all_pages: AllOption = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """List a webhook's deliveries."""
    with client() as c:
        pager = c.webhooks.deliveries.list(webhook_id, status=given(status), event=given(event), from_=given(from_),
                                           to=given(to), sort_by=given(sort_by), sort_order=given(sort_order),
                                           page=page, per_page=given(per_page))
        items, caption = collect(pager, all_pages)
    Output(json_output, quiet).items(items, DELIVERY_COLUMNS, caption)


@app.command("delivery")
@handle_errors
@operation("get_webhook_delivery")
def delivery(webhook_id: IdArg, delivery_id: DeliveryArg,
             json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Show one delivery with its attempts."""
    with client() as c:
        item = c.webhooks.deliveries.get(webhook_id, delivery_id)
    out = Output(json_output, quiet)
    out.item(item, DELIVERY_COLUMNS + ["finished_at"])
    if not (out.json or out.quiet) and item.attempts:
        out.items(item.attempts, ["number", "started_at", "duration_ms", "status_code", "error_class",
                                  "resolved_ip"], id_field="number")


@app.command("redeliver")
@handle_errors
@operation("redeliver_webhook_delivery")
def redeliver(webhook_id: IdArg, delivery_id: DeliveryArg,
              json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Queue one delivery again now."""
    with client() as c:
        item = c.webhooks.deliveries.redeliver(webhook_id, delivery_id)
    Output(json_output, quiet).item(item, DELIVERY_COLUMNS)


@app.command("redeliver-failed")
@handle_errors
@operation("redeliver_failed_webhook_deliveries")
def redeliver_failed(
    webhook_id: IdArg,
    from_: Annotated[datetime, typer.Option("--from", help="Created at or after (ISO 8601, UTC).")],
    to: Annotated[datetime, typer.Option("--to", help="Created before (ISO 8601, UTC).")],
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Queue again every failed delivery created in [--from, --to)."""
    with client() as c:
        result = c.webhooks.redeliver_failed(webhook_id, from_=from_, to=to)
    Output(json_output, quiet).done(f"Requeued {result.requeued} failed deliveries", requeued=result.requeued)
