"""`s4e scan-profiles ...`: profiles from a YAML/JSON file or flags, runs and schedule previews."""

# No `from __future__ import annotations` here: on Python 3.9 Typer reads option declarations from the
# evaluated signature, so these annotations must be real objects (hence Optional[...] rather than `X | None`).

import json
import re
from pathlib import Path
from typing import Annotated, Any, Optional

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
    YesOption,
    collect,
    confirm,
    given,
    handle_errors,
)

app = typer.Typer(help="Scan profiles: scope, scan settings, schedule, post-scan actions.", no_args_is_help=True)

COLUMNS = ["id", "name", "enabled", "scan_type", "schedule.cron", "schedule.timezone", "next_run_at", "last_run_at"]
SCAN_COLUMNS = ["id", "asset.name", "scan_type", "status", "scanners"]
PREVIEW_COLUMNS = ["at_utc", "at_local", "skipped", "deferred", "scheduled_at_utc"]
IdArg = Annotated[str, typer.Argument(help="Scan profile id (prf_...).")]
FileOpt = Annotated[Optional[Path], typer.Option("--file", "-f", exists=True, dir_okay=False, readable=True,
                                                 help="Profile as YAML or JSON (scanning.md 3); flags override it.")]
ScanTypeOpt = Annotated[Optional[str], typer.Option("--scan-type", help="full, quick, custom, port, ssl, dns, web ...")]
ScannerOpt = Annotated[Optional[list[str]], typer.Option("--scanner", help="Scanner id, custom profiles (repeat).")]
AssetOpt = Annotated[Optional[list[str]], typer.Option("--asset-id", help="Asset in scope (repeat).")]
TagOpt = Annotated[Optional[list[str]], typer.Option("--tag", help="Assets with this tag (repeat; any-of).")]
TypeOpt = Annotated[Optional[list[str]], typer.Option("--asset-type", help="domain, ip, network or url (repeat).")]
ChildrenOpt = Annotated[Optional[bool], typer.Option("--include-children/--no-children",
                                                     help="Also child domains of in-scope domains.")]
ExAssetOpt = Annotated[Optional[list[str]], typer.Option("--exclude-asset-id", help="Never this asset (repeat).")]
ExTagOpt = Annotated[Optional[list[str]], typer.Option("--exclude-tag", help="Never assets with this tag (repeat).")]
OptionOpt = Annotated[Optional[list[str]], typer.Option("--option", "-o", help="Scan option KEY=VALUE; VALUE is "
                                                        "JSON when it parses, else a string (repeat).")]
PriorityOpt = Annotated[Optional[str], typer.Option("--priority", help="low, normal or high.")]
CronOpt = Annotated[Optional[str], typer.Option("--cron", help="Schedule: 5-field cron, e.g. '0 2 * * 1'.")]
TzOpt = Annotated[Optional[str], typer.Option("--timezone", help="IANA zone of the cron (default UTC).")]
UntilOpt = Annotated[Optional[str], typer.Option("--until", help="No fire after this time (ISO 8601).")]
WindowOpt = Annotated[Optional[list[str]], typer.Option("--skip-window", help="'CRON;MINUTES': no start within "
                                                        "MINUTES after CRON matches (repeat).")]
OnSkipOpt = Annotated[Optional[str], typer.Option("--on-skip", help="skip or defer.")]
DescOpt = Annotated[Optional[str], typer.Option("--description", help="Free text.")]


def _yaml_load(text: str) -> Any:
    """YAML with YAML 1.2 booleans: `on`, `off`, `yes`, `no` stay strings, so the `on:` key of a post-scan
    action is not read as `true` (PyYAML follows YAML 1.1 there)."""
    try:
        import yaml
    except ImportError:
        raise ValueError("reading YAML needs PyYAML (pip install pyyaml), or give the profile as JSON") from None

    class Loader(yaml.SafeLoader):
        pass

    bool_tag = "tag:yaml.org,2002:bool"
    Loader.yaml_implicit_resolvers = {
        first: [r for r in resolvers if r[0] != bool_tag]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
    Loader.add_implicit_resolver(bool_tag, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
    try:
        return yaml.load(text, Loader=Loader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as exc:
        raise ValueError(f"not valid YAML or JSON: {exc}") from None


def read_file(path: Optional[Path]) -> dict:
    """A profile document from YAML or JSON (by content: JSON first, then YAML)."""
    if path is None:
        return {}
    text = path.read_text(encoding="utf-8")
    try:
        doc = json.loads(text)
    except ValueError:
        doc = _yaml_load(text)
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: the profile must be a mapping of fields")
    return doc


def _option_values(values: Optional[list[str]]) -> dict:
    out: dict[str, Any] = {}
    for raw in values or []:
        key, sep, value = raw.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"--option takes KEY=VALUE, not {raw!r}")
        try:
            out[key.strip()] = json.loads(value)
        except ValueError:
            out[key.strip()] = value
    return out


def _windows(values: Optional[list[str]]) -> Optional[list[dict]]:
    if values is None:
        return None
    out = []
    for raw in values:
        expr, sep, minutes = raw.rpartition(";")
        if not sep or not minutes.strip().isdigit():
            raise typer.BadParameter(f"--skip-window takes 'CRON;MINUTES', not {raw!r}")
        out.append({"cron": expr.strip(), "duration_minutes": int(minutes)})
    return out


def merge_flags(doc: dict, *, scope: dict, schedule: dict, **top: Any) -> dict:
    """Flags given (not None) override the file's keys; scope and schedule flags override single sub-keys."""
    out = dict(doc)
    for key, value in top.items():
        if value is not None:
            out[key] = value
    scope = {k: v for k, v in scope.items() if v is not None}
    if scope:
        out["scope"] = {**(out.get("scope") or {}), **scope}
    schedule = {k: v for k, v in schedule.items() if v is not None}
    if schedule:
        out["schedule"] = {**(out.get("schedule") or {}), **schedule}
    return out


FIELDS = ("name", "description", "enabled", "scope", "scan_type", "scanners", "options", "priority", "schedule",
          "post_scan_actions")


def _known(doc: dict) -> dict:
    unknown = sorted(set(doc) - set(FIELDS))
    if unknown:
        raise ValueError(f"unknown profile field(s): {', '.join(unknown)} (allowed: {', '.join(FIELDS)})")
    return doc


def _flags_doc(file, name, scan_type, scanner, asset_id, tag, asset_type, include_children, exclude_asset_id,
               exclude_tag, option, priority, cron, timezone, until, skip_window, on_skip, description) -> dict:
    doc = read_file(file)
    options = _option_values(option)
    if options:
        doc["options"] = {**(doc.get("options") or {}), **options}
    return merge_flags(
        doc, scope={"asset_ids": asset_id, "tags": tag, "asset_types": asset_type,
                    "include_children": include_children, "exclude_asset_ids": exclude_asset_id,
                    "exclude_tags": exclude_tag},
        schedule={"cron": cron, "timezone": timezone, "until": until, "skip_windows": _windows(skip_window),
                  "on_skip": on_skip},
        name=name, scan_type=scan_type, scanners=scanner, priority=priority, description=description)


@app.command("list")
@handle_errors
@operation("list_scan_profiles")
def list_profiles(
    enabled: Annotated[Optional[bool], typer.Option("--enabled/--disabled", help="Only enabled or disabled.")]
    = None,
    search: Annotated[Optional[str], typer.Option("--search", help="Match on the name.")] = None,
    sort_by: Annotated[Optional[str], typer.Option("--sort-by", help="created_at, name, next_run_at, "
                                                   "last_run_at.")] = None,
    sort_order: SortOrderOption = None,
    page: PageOption = 1,
    per_page: PerPageOption = None,
    all_pages: AllOption = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """List scan profiles."""
    with client() as c:
        pager = c.scan_profiles.list(enabled=given(enabled), search=given(search), sort_by=given(sort_by),
                                     sort_order=given(sort_order), page=page, per_page=given(per_page))
        items, caption = collect(pager, all_pages)
    Output(json_output, quiet).items(items, COLUMNS, caption)


@app.command("get")
@handle_errors
@operation("get_scan_profile")
def get_profile(profile_id: IdArg, json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Show one scan profile."""
    with client() as c:
        profile = c.scan_profiles.get(profile_id)
    Output(json_output, quiet).item(profile)


@app.command("create")
@handle_errors
@operation("create_scan_profile")
def create_profile(
    name: Annotated[Optional[str], typer.Argument(help="Profile name (or `name` in --file).")] = None,
    file: FileOpt = None, scan_type: ScanTypeOpt = None, scanner: ScannerOpt = None, asset_id: AssetOpt = None,
    tag: TagOpt = None, asset_type: TypeOpt = None, include_children: ChildrenOpt = None,
    exclude_asset_id: ExAssetOpt = None, exclude_tag: ExTagOpt = None, option: OptionOpt = None,
    priority: PriorityOpt = None, cron: CronOpt = None, timezone: TzOpt = None, until: UntilOpt = None,
    skip_window: WindowOpt = None, on_skip: OnSkipOpt = None, description: DescOpt = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Create with the schedule paused.")] = False,
    json_output: JsonOption = False, quiet: QuietOption = False,
) -> None:
    """Create a scan profile from --file and/or flags."""
    doc = _flags_doc(file, name, scan_type, scanner, asset_id, tag, asset_type, include_children, exclude_asset_id,
                     exclude_tag, option, priority, cron, timezone, until, skip_window, on_skip, description)
    if disabled:
        doc["enabled"] = False
    for required in ("name", "scan_type", "scope"):
        if required not in doc:
            raise typer.BadParameter(f"the profile needs `{required}` (flag or --file)")
    with client() as c:
        profile = c.scan_profiles.create(**_known(doc))
    Output(json_output, quiet).item(profile)


@app.command("update")
@handle_errors
@operation("update_scan_profile")
def update_profile(
    profile_id: IdArg,
    file: FileOpt = None,
    name: Annotated[Optional[str], typer.Option("--name", help="New name.")] = None,
    scan_type: ScanTypeOpt = None, scanner: ScannerOpt = None, asset_id: AssetOpt = None, tag: TagOpt = None,
    asset_type: TypeOpt = None, include_children: ChildrenOpt = None, exclude_asset_id: ExAssetOpt = None,
    exclude_tag: ExTagOpt = None, option: OptionOpt = None, priority: PriorityOpt = None, cron: CronOpt = None,
    timezone: TzOpt = None, until: UntilOpt = None, skip_window: WindowOpt = None, on_skip: OnSkipOpt = None,
    description: DescOpt = None,
    enabled: Annotated[Optional[bool], typer.Option("--enable/--disable", help="Resume or pause the schedule.")]
    = None,
    no_schedule: Annotated[bool, typer.Option("--no-schedule", help="Remove the schedule.")] = False,
    json_output: JsonOption = False, quiet: QuietOption = False,
) -> None:
    """Change a profile: each top-level key given (file or flag) replaces the stored one. Scope and schedule flags
    without --file start from the stored scope/schedule."""
    doc = _flags_doc(file, name, scan_type, scanner, asset_id, tag, asset_type, include_children, exclude_asset_id,
                     exclude_tag, option, priority, cron, timezone, until, skip_window, on_skip, description)
    if enabled is not None:
        doc["enabled"] = enabled
    with client() as c:
        if file is None and ("scope" in doc or "schedule" in doc):
            current = c.scan_profiles.get(profile_id)
            if "scope" in doc:
                doc["scope"] = {**current.scope.model_dump(mode="json"), **doc["scope"]}
            if "schedule" in doc and current.schedule is not None:
                doc["schedule"] = {**current.schedule.model_dump(mode="json", exclude_none=True), **doc["schedule"]}
        if no_schedule:
            doc["schedule"] = None
        profile = c.scan_profiles.update(profile_id, **_known(doc))
    Output(json_output, quiet).item(profile)


@app.command("delete")
@handle_errors
@operation("delete_scan_profile")
def delete_profile(profile_id: IdArg, yes: YesOption = False, json_output: JsonOption = False,
                   quiet: QuietOption = False) -> None:
    """Delete a scan profile (its scans remain)."""
    confirm(f"Delete scan profile {profile_id}?", yes)
    with client() as c:
        c.scan_profiles.delete(profile_id)
    Output(json_output, quiet).done(f"deleted {profile_id}", id=profile_id, deleted=True)


@app.command("run")
@handle_errors
@operation("run_scan_profile")
def run_profile(profile_id: IdArg, json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Start the profile now: one scan per in-scope asset (skipped assets are listed)."""
    with client() as c:
        run = c.scan_profiles.run(profile_id)
    out = Output(json_output, quiet)
    if out.json:
        out._print_json(run.model_dump(mode="json"))
        return
    out.items(run.scans, SCAN_COLUMNS, f"{len(run.scans)} scans started, {run.in_scope} assets in scope")
    if run.skipped and not out.quiet:
        for item in run.skipped:
            out.err.print(f"skipped {item.asset_id}: {item.reason}" + (f" ({item.message})" if item.message else ""))


@app.command("preview")
@handle_errors
@operation("preview_scan_profile_schedule")
def preview_schedule(
    profile_id: IdArg,
    count: Annotated[int, typer.Option("--count", "-n", min=1, max=100, help="How many starts.")] = 10,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """The next starts after skip windows, in UTC and the profile's time zone."""
    with client() as c:
        preview = c.scan_profiles.schedule_preview(profile_id, count=count)
    out = Output(json_output, quiet)
    if out.json:
        out._print_json(preview.model_dump(mode="json"))
        return
    caption = f"time zone {preview.timezone}, on_skip {preview.on_skip}" + ("" if preview.enabled else ", PAUSED")
    out.items(preview.entries, PREVIEW_COLUMNS, caption, id_field="at_utc")
